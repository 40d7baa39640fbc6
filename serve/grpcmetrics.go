package serve

import (
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// grpcMetrics are the server metrics of go-grpc-middleware's prometheus provider, which dashboards
// for gRPC servers read: the same names, help, labels (grpc_type, grpc_service, grpc_method,
// grpc_code), series created at start for every method and code, and the same counting (unary calls
// in serveUnary, streams in stream). Each method's series are looked up once, at start, where the
// provider hashed and validated five sets of label values at every call (about 7,000 instructions a
// Predict, a third of what the interceptors cost).
type grpcMetrics struct {
	started, handled, received, sent *prometheus.CounterVec
	seconds                          *prometheus.HistogramVec
	// methods holds the series of every method of the server, by full name; filled by
	// initialize before the server serves, then only read.
	methods map[string]*methodSeries
}

// methodSeries are the series of one method.
type methodSeries struct {
	started, received, sent prometheus.Counter
	seconds                 prometheus.Observer
	handled                 [codes.Unauthenticated + 1]prometheus.Counter // by code; nil: look it up
	labels                  [3]string                                     // type, service, method
	vec                     *prometheus.CounterVec                        // handled, for other codes
}

// gRPC method types, the values of the grpc_type label.
const (
	grpcUnary        = "unary"
	grpcClientStream = "client_stream"
	grpcServerStream = "server_stream"
	grpcBidiStream   = "bidi_stream"
)

// grpcType is the grpc_type of a method that streams from the client, the server, both or neither.
func grpcType(clientStream, serverStream bool) string {
	switch {
	case clientStream && serverStream:
		return grpcBidiStream
	case clientStream:
		return grpcClientStream
	case serverStream:
		return grpcServerStream
	}
	return grpcUnary
}

func newGRPCMetrics(buckets []float64) *grpcMetrics {
	labels := []string{"grpc_type", "grpc_service", "grpc_method"}
	return &grpcMetrics{
		started: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "grpc_server_started_total",
			Help: "Total number of RPCs started on the server.",
		}, labels),
		handled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "grpc_server_handled_total",
			Help: "Total number of RPCs completed on the server, regardless of success or failure.",
		}, append(labels[:3:3], "grpc_code")),
		received: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "grpc_server_msg_received_total",
			Help: "Total number of RPC stream messages received on the server.",
		}, labels),
		sent: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "grpc_server_msg_sent_total",
			Help: "Total number of gRPC stream messages sent by the server.",
		}, labels),
		seconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "grpc_server_handling_seconds",
			Help:    "Histogram of response latency (seconds) of gRPC that had been application-level handled by the server.",
			Buckets: buckets,
		}, labels),
		methods: make(map[string]*methodSeries),
	}
}

// Describe and Collect make grpcMetrics one prometheus.Collector.
func (g *grpcMetrics) Describe(ch chan<- *prometheus.Desc) {
	for _, c := range g.collectors() {
		c.Describe(ch)
	}
}

func (g *grpcMetrics) Collect(ch chan<- prometheus.Metric) {
	for _, c := range g.collectors() {
		c.Collect(ch)
	}
}

func (g *grpcMetrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{g.started, g.handled, g.received, g.sent, g.seconds}
}

// initialize creates the series of every method of srv, with every code: a method shows at 0 before
// its first call.
func (g *grpcMetrics) initialize(srv *grpc.Server) {
	for service, info := range srv.GetServiceInfo() {
		for _, m := range info.Methods {
			typ := grpcType(m.IsClientStream, m.IsServerStream)
			ms := g.newSeries(typ, service, m.Name)
			for c := range ms.handled {
				ms.handled[c] = g.handled.WithLabelValues(typ, service, m.Name, codes.Code(c).String())
			}
			g.methods["/"+service+"/"+m.Name] = ms
		}
	}
}

func (g *grpcMetrics) newSeries(typ, service, method string) *methodSeries {
	return &methodSeries{
		started:  g.started.WithLabelValues(typ, service, method),
		received: g.received.WithLabelValues(typ, service, method),
		sent:     g.sent.WithLabelValues(typ, service, method),
		seconds:  g.seconds.WithLabelValues(typ, service, method),
		labels:   [3]string{typ, service, method},
		vec:      g.handled,
	}
}

// series returns the series of a call of fullMethod; for a method the server does not list, of type
// typ, looked up now, and its handled series only as codes occur.
func (g *grpcMetrics) series(fullMethod, typ string) *methodSeries {
	if ms := g.methods[fullMethod]; ms != nil {
		return ms
	}
	service, method := "unknown", "unknown"
	if name := strings.TrimPrefix(fullMethod, "/"); strings.Contains(name, "/") {
		service, method, _ = strings.Cut(name, "/")
	}
	return g.newSeries(typ, service, method)
}

// done counts a call that ended with err after it took took.
func (ms *methodSeries) done(err error, took time.Duration) {
	code := grpcCode(err)
	if int(code) < len(ms.handled) && ms.handled[code] != nil {
		ms.handled[code].Inc()
	} else {
		ms.vec.WithLabelValues(ms.labels[0], ms.labels[1], ms.labels[2], code.String()).Inc()
	}
	ms.seconds.Observe(took.Seconds())
}

// grpcCode is the code a call that returned err ends with, as the gRPC server sends it: a context's
// error is Canceled or DeadlineExceeded.
func grpcCode(err error) codes.Code {
	s, ok := status.FromError(err)
	if !ok {
		s = status.FromContextError(err)
	}
	return s.Code()
}

// stream counts a streaming call: started, each message received and sent, handled by code, and its
// time.
func (g *grpcMetrics) stream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
	ms := g.series(info.FullMethod, grpcType(info.IsClientStream, info.IsServerStream))
	start := time.Now()
	ms.started.Inc()
	err := h(srv, &countedStream{ServerStream: ss, ms: ms})
	ms.done(err, time.Since(start))
	return err
}

// countedStream counts the messages of a stream that went through.
type countedStream struct {
	grpc.ServerStream
	ms *methodSeries
}

func (s *countedStream) SendMsg(m any) error {
	err := s.ServerStream.SendMsg(m)
	if err == nil {
		s.ms.sent.Inc()
	}
	return err
}

func (s *countedStream) RecvMsg(m any) error {
	err := s.ServerStream.RecvMsg(m)
	if err == nil {
		s.ms.received.Inc()
	}
	return err
}
