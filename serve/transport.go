package serve

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/semaphore"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/reflection"
	"google.golang.org/grpc/status"

	"github.com/leadscore/leadscore/models"
	leadscorev1 "github.com/leadscore/leadscore/proto/leadscore/v1"
)

// Options configures a Server. The zero value works: plaintext, no auth, no metrics, default limits.
type Options struct {
	// Logger receives unexpected errors and lifecycle events; nil discards them.
	Logger *slog.Logger
	// Metrics, if not nil, receives request counts and latencies by method and code.
	Metrics prometheus.Registerer
	// Strict turns unknown properties from warnings into InvalidArgument.
	Strict bool
	// Lenient scores a contact that has none of the model's properties, with a warning; by default it
	// is InvalidArgument, since such a contact is almost always a field-mapping mistake and would get
	// the same score as every other. A contact missing more than half of them always gets a warning.
	Lenient bool
	// MaxBatch is the most contacts one PredictBatch may carry; 0 means DefaultMaxBatch.
	MaxBatch int
	// MaxConcurrent is the most LeadScoring calls (or stream messages) in the server at once, counted
	// from the moment a call's headers are read, so calls waiting inside the server count; excess
	// calls fail at once with ResourceExhausted. 0 means DefaultMaxConcurrent; negative means no limit.
	MaxConcurrent int
	// MaxMsgBytes is the largest request message accepted; 0 means DefaultMaxMsgBytes. Larger ones are
	// refused by gRPC with ResourceExhausted.
	MaxMsgBytes int
	// MaxBatchContacts bounds the contacts of PredictBatch calls (gRPC or REST) being scored at once,
	// summed over the calls, so that the memory they hold stays predictable; a batch waits for room
	// until its deadline. 0 means DefaultMaxBatchContacts; it is raised to MaxBatch if below.
	MaxBatchContacts int
	// MaxResponseBytes is the largest answer sent; 0 means DefaultMaxResponseBytes. A PredictBatch whose
	// answer would be larger fails with ResourceExhausted as soon as that is known. Clients set their
	// receive limit to it to take the largest answer.
	MaxResponseBytes int
	// AuthToken, if not empty, is a bearer token every call but health checks must carry in its
	// "authorization: Bearer <token>" metadata (or HTTP header).
	AuthToken string
	// AuthTokenFile, if not empty, is a file of bearer tokens, one per line (see ReadTokenFile), any of
	// which a call may carry, with AuthToken. It is reloaded when it changes, so tokens can be added
	// and retired without a restart; New fails when it holds no token.
	AuthTokenFile string
	// TLS, if not nil, serves TLS (see TLSConfig); nil serves plaintext.
	TLS *tls.Config
	// ShutdownDelay is how long Shutdown keeps accepting and answering calls after it has turned health
	// NOT_SERVING (and /readyz 503), before it stops listening and drains: the time load balancers and
	// Kubernetes endpoints need to stop sending new calls. 0 means none.
	ShutdownDelay time.Duration
	// Now is the clock for requests without as_of; nil means models.AsOf's default, the clock.
	Now func() time.Time
	// RequestLog, if not nil, receives one record per logged scoring call (method, model, version,
	// label, code, latency, contact id or contact count): every failed call and a share
	// RequestLogSample of the rest.
	RequestLog *slog.Logger
	// RequestLogSample is the share of successful calls logged, evenly spread; 0 means every call.
	RequestLogSample float64
	// RequestLogProperties adds the contact's property values to the request log of Predict calls.
	// Off by default: they are the CRM's personal data.
	RequestLogProperties bool
	// Interceptors run after the built-in ones (slot release, metrics, recovery, auth), in order.
	Interceptors []grpc.UnaryServerInterceptor
	// StreamWorkers is how many goroutines are kept to run calls; calls beyond them get a goroutine
	// each. A kept goroutine reuses the stack earlier calls grew, where a fresh one grows its own
	// (runtime.morestack was about 7% of server CPU under load). 0 means DefaultStreamWorkers;
	// negative means a fresh goroutine for every call.
	StreamWorkers int
	// MaxConnectionAge, if positive, is how long a client connection may live (plus or minus 10%, as
	// gRPC jitters it) before the server asks the client to reconnect (GOAWAY). Calls in flight run to
	// completion. gRPC balances per connection, so behind a load balancer or a Kubernetes Service this
	// is what spreads long-lived clients over replicas that were added after they connected. 0 means
	// connections live as long as the client keeps them.
	MaxConnectionAge time.Duration
}

// transport is the gRPC plumbing of a Server: the main server, health, and the health-only server.
type transport struct {
	grpc       *grpc.Server
	healthOnly *grpc.Server
	health     *health.Server
	unary      grpc.UnaryServerInterceptor // every unary interceptor, chained; gRPC and REST calls run it
	gm         *grpcMetrics                // nil without metrics
	draining   atomic.Bool                 // set by Shutdown

	mu      sync.Mutex      // guards healthy and https
	healthy map[string]bool // last status set per model name
	https   []*http.Server  // REST servers started by ServeREST
}

// ServiceName is the full name of the LeadScoring service, also a health check service name.
const ServiceName = "leadscore.v1.LeadScoring"

// New returns a server answering from reg, with health and reflection registered. Health follows
// reg: a model name is SERVING while it has an available version; the overall status ("") and
// ServiceName are SERVING while any model is.
func New(reg *Registry, opts Options) (*Server, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = DefaultMaxBatch
	}
	if opts.MaxConcurrent == 0 {
		opts.MaxConcurrent = DefaultMaxConcurrent
	}
	if opts.MaxMsgBytes <= 0 {
		opts.MaxMsgBytes = DefaultMaxMsgBytes
	}
	if opts.MaxBatchContacts <= 0 {
		opts.MaxBatchContacts = DefaultMaxBatchContacts
	}
	opts.MaxBatchContacts = max(opts.MaxBatchContacts, opts.MaxBatch)
	if opts.MaxResponseBytes <= 0 {
		opts.MaxResponseBytes = DefaultMaxResponseBytes
	}
	if opts.Now == nil {
		opts.Now = func() time.Time { return models.AsOf(time.Time{}) }
	}
	if opts.StreamWorkers == 0 {
		opts.StreamWorkers = DefaultStreamWorkers
	}
	s := &Server{reg: reg, opts: opts, log: opts.Logger, now: opts.Now, batchContacts: semaphore.NewWeighted(int64(opts.MaxBatchContacts)), transport: &transport{
		health:  health.NewServer(),
		healthy: make(map[string]bool),
	}}
	if opts.MaxConcurrent > 0 {
		s.limit = int64(opts.MaxConcurrent)
	}
	var err error
	if s.tokens, err = newTokenSet(opts.AuthToken, opts.AuthTokenFile, opts.Logger); err != nil {
		return nil, err
	}

	if opts.RequestLogSample <= 0 || opts.RequestLogSample > 1 {
		opts.RequestLogSample = 1
	}
	s.opts.RequestLogSample = opts.RequestLogSample
	s.reqLog = opts.RequestLog
	// serveUnary runs the built-in unary interceptors (slot release, metrics, request log, recovery)
	// around these.
	var unary []grpc.UnaryServerInterceptor
	stream := []grpc.StreamServerInterceptor{}
	var gm *grpcMetrics
	if opts.Metrics != nil {
		rm, err := newRequestMetrics(opts.Metrics)
		if err != nil {
			return nil, fmt.Errorf("serve: registering metrics: %w", err)
		}
		s.reqMetrics = rm
		gm = newGRPCMetrics(LatencyBuckets)
		if err := opts.Metrics.Register(gm); err != nil {
			return nil, fmt.Errorf("serve: registering metrics: %w", err)
		}
		s.gm = gm
		stream = append(stream, gm.stream)
		// Calls shed at the door never reach the interceptors above.
		s.shed = prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "leadscore_requests_shed_total",
			Help: "LeadScoring calls refused with ResourceExhausted as they arrived, over the concurrency limit, by method.",
		}, []string{"method"})
		if err := opts.Metrics.Register(s.shed); err != nil {
			return nil, fmt.Errorf("serve: registering metrics: %w", err)
		}
	}
	stream = append(stream, s.recoverStream)
	if s.tokens.on() {
		unary = append(unary, s.authUnary)
		stream = append(stream, s.authStream)
	}
	unary = append(unary, opts.Interceptors...)

	s.unary = chainUnary(s.serveUnary, unary)
	so := []grpc.ServerOption{
		grpc.UnaryInterceptor(s.unary),
		grpc.ChainStreamInterceptor(stream...),
		grpc.MaxRecvMsgSize(opts.MaxMsgBytes),
		grpc.MaxSendMsgSize(opts.MaxResponseBytes),
		grpc.InTapHandle(s.admit),
	}
	if opts.StreamWorkers > 0 {
		so = append(so, grpc.NumStreamWorkers(uint32(opts.StreamWorkers)))
	}
	if s.limit > 0 && len(opts.Interceptors) == 0 {
		// Predict answers are pooled (see answerPool): a call's answer needs a slot to be handed
		// over on, and no interceptor of the caller's that may keep it.
		s.answers, s.requests = &answerPool{}, newRequestPool()
	}
	so = append(so, grpc.ForceServerCodecV2(poolingCodec{answers: s.answers, requests: s.requests}))
	if opts.TLS != nil {
		so = append(so, grpc.Creds(credentials.NewTLS(opts.TLS)))
	}
	if opts.MaxConnectionAge > 0 {
		// MaxConnectionAgeGrace stays 0 (no limit): a long PredictStream finishes on its old connection.
		so = append(so, grpc.KeepaliveParams(keepalive.ServerParameters{MaxConnectionAge: opts.MaxConnectionAge}))
	}
	s.grpc = grpc.NewServer(so...)
	leadscorev1.RegisterLeadScoringServer(s.grpc, s)
	healthpb.RegisterHealthServer(s.grpc, s.health)
	reflection.Register(s.grpc)
	if gm != nil {
		gm.initialize(s.grpc)
	}
	s.healthOnly = grpc.NewServer()
	healthpb.RegisterHealthServer(s.healthOnly, s.health)

	reg.OnChange(s.updateHealth)
	reg.OnChange(changeLogger(s.log, reg))
	s.updateHealth()
	return s, nil
}

// chainUnary returns one interceptor that runs first and then ics in order around the handler. The
// gRPC server and the REST front both call it, so a call passes the same interceptors whichever way
// it arrives. Without ics it costs no closure.
func chainUnary(first grpc.UnaryServerInterceptor, ics []grpc.UnaryServerInterceptor) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		return first(ctx, req, info, callFrom(ics, 0, info, h))
	}
}

// callFrom is the handler that runs ics[i:] and then h.
func callFrom(ics []grpc.UnaryServerInterceptor, i int, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) grpc.UnaryHandler {
	if i == len(ics) {
		return h
	}
	return func(ctx context.Context, req any) (any, error) {
		return ics[i](ctx, req, info, callFrom(ics, i+1, info, h))
	}
}

// Ready reports whether the server should get traffic: some model has an available version and the
// server is not shutting down.
func (s *Server) Ready() bool {
	if s.draining.Load() {
		return false
	}
	for _, m := range s.reg.snap.Load().models {
		if m.serving != 0 {
			return true
		}
	}
	return false
}

// Serve answers calls on lis until Shutdown.
func (s *Server) Serve(lis net.Listener) error { return s.grpc.Serve(lis) }

// ServeREST answers the REST/JSON front (see HTTPHandler) on lis until Shutdown, over TLS when the
// server has a TLS configuration. It returns nil after Shutdown.
func (s *Server) ServeREST(lis net.Listener) error {
	hs := &http.Server{
		Handler:           s.HTTPHandler(),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	s.transport.mu.Lock()
	if s.draining.Load() {
		s.transport.mu.Unlock()
		return nil
	}
	s.https = append(s.https, hs)
	s.transport.mu.Unlock()
	var err error
	if s.opts.TLS != nil {
		hs.TLSConfig = s.opts.TLS.Clone()
		err = hs.ServeTLS(lis, "", "")
	} else {
		err = hs.Serve(lis)
	}
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// ServeHealth answers only health checks, in plaintext, on lis until Shutdown (for probes that
// cannot do TLS or carry a token).
func (s *Server) ServeHealth(lis net.Listener) error { return s.healthOnly.Serve(lis) }

// Shutdown reports NOT_SERVING, keeps answering for Options.ShutdownDelay, then stops accepting calls
// and waits up to drain for calls in flight, then cuts the rest.
func (s *Server) Shutdown(drain time.Duration) {
	s.draining.Store(true)
	s.health.Shutdown()
	if d := s.opts.ShutdownDelay; d > 0 {
		s.log.Info("serve: health NOT_SERVING; still answering until the shutdown delay ends", "delay", d)
		time.Sleep(d)
	}
	s.transport.mu.Lock()
	https := s.https
	s.transport.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), drain)
	defer cancel()
	done := make(chan struct{})
	go func() {
		var wg sync.WaitGroup
		for _, hs := range https {
			wg.Go(func() {
				if hs.Shutdown(ctx) != nil {
					hs.Close() // the drain timed out: cut the calls in flight
				}
			})
		}
		s.grpc.GracefulStop()
		s.healthOnly.GracefulStop()
		wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		s.log.Warn("serve: drain timeout, cutting calls in flight", "drain", drain)
		s.grpc.Stop()
		s.healthOnly.Stop()
		<-done
	}
}

// updateHealth sets the health status of every model name from the registry's snapshot.
func (s *Server) updateHealth() {
	snap := s.reg.snap.Load()
	s.transport.mu.Lock()
	defer s.transport.mu.Unlock()
	anyUp := false
	for name, m := range snap.models {
		up := m.serving != 0
		anyUp = anyUp || up
		s.healthy[name] = up
		s.health.SetServingStatus(name, servingStatus(up))
	}
	for name := range s.healthy {
		if snap.models[name] == nil {
			delete(s.healthy, name)
			s.health.SetServingStatus(name, healthpb.HealthCheckResponse_NOT_SERVING)
		}
	}
	s.health.SetServingStatus("", servingStatus(anyUp))
	s.health.SetServingStatus(ServiceName, servingStatus(anyUp))
}

func servingStatus(up bool) healthpb.HealthCheckResponse_ServingStatus {
	if up {
		return healthpb.HealthCheckResponse_SERVING
	}
	return healthpb.HealthCheckResponse_NOT_SERVING
}

// isLeadScoring reports whether a full method name belongs to the LeadScoring service.
func isLeadScoring(method string) bool { return strings.HasPrefix(method, "/"+ServiceName+"/") }

var errUnauthenticated = status.Error(codes.Unauthenticated, "serve: missing or invalid bearer token")

// authorized checks the bearer token in ctx's metadata in constant time.
func (s *Server) authorized(ctx context.Context, method string) error {
	if strings.HasPrefix(method, "/grpc.health.v1.Health/") {
		return nil
	}
	md, _ := metadata.FromIncomingContext(ctx)
	return s.tokenIn(md)
}

func (s *Server) authUnary(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	if err := s.authorized(ctx, info.FullMethod); err != nil {
		return nil, err
	}
	return h(ctx, req)
}

func (s *Server) authStream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
	if err := s.authorized(ss.Context(), info.FullMethod); err != nil {
		return err
	}
	return h(srv, ss)
}

// recoverUnary turns a panic into Internal and logs it, so one bad contact cannot end the process.
func (s *Server) recoverUnary(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (resp any, err error) {
	defer func() {
		if p := recover(); p != nil {
			resp, err = nil, toStatus(s.log, info.FullMethod, fmt.Errorf("serve: panic: %v", p))
		}
	}()
	return h(ctx, req)
}

func (s *Server) recoverStream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = toStatus(s.log, info.FullMethod, fmt.Errorf("serve: panic: %v", p))
		}
	}()
	return h(srv, ss)
}
