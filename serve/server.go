package serve

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/semaphore"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/tap"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/leadscore/leadscore/features"
	"github.com/leadscore/leadscore/models"
	"github.com/leadscore/leadscore/models/rules"
	leadscorev1 "github.com/leadscore/leadscore/proto/leadscore/v1"
)

// Defaults for the zero Options.
const (
	DefaultMaxBatch      = 10000
	DefaultMaxConcurrent = 1024
	DefaultMaxMsgBytes   = 16 << 20
	// DefaultMaxBatchContacts lets one of the largest batches be scored at a time (and many small
	// ones): with 4 batches of 10,000 at once, peak RSS was 281 MiB under --memory-limit 256MiB with
	// this bound and 380 MiB with twice it (scripts/bench/batch-memory.sh).
	DefaultMaxBatchContacts = DefaultMaxBatch
	// DefaultMaxResponseBytes fits the answer to DefaultMaxBatch contacts with every rule hit of
	// testdata/rules.yaml (about 3.9 KB each, 39 MB in all) with room to spare.
	DefaultMaxResponseBytes = 64 << 20
	// DefaultStreamWorkers covers 50 concurrent callers, the load of scripts/bench/serve-vs-trivial.sh,
	// where 64 workers cut server CPU per call more than 2 or 16 did.
	DefaultStreamWorkers = 64
)

// Server implements leadscorev1.LeadScoringServer over a Registry. Build it with New.
type Server struct {
	leadscorev1.UnimplementedLeadScoringServer

	reg  *Registry
	opts Options
	log  *slog.Logger
	// inflight counts LeadScoring unary calls from the moment their headers are read until their
	// handler returns (see admit), and PredictStream messages while they are scored; limit bounds it
	// (0: none).
	inflight atomic.Int64
	limit    int64
	shed     *prometheus.CounterVec // method; nil without metrics
	// reqMetrics (nil without metrics) and reqLog (nil without a request log) record scoring calls;
	// logged counts the successful calls the log has sampled from.
	reqMetrics *requestMetrics
	reqLog     *slog.Logger
	logged     atomic.Int64
	// batchContacts bounds the contacts of PredictBatch calls being scored at once.
	batchContacts *semaphore.Weighted
	admitted      admittedSlots // the slots admit took that are not freed yet
	answers       *answerPool   // nil when answers are not pooled
	requests      *requestPool  // nil when gRPC Predict requests are not decoded into pooled memory (as answers)
	now           func() time.Time
	tokens        *tokenSet
	*transport
}

var _ leadscorev1.LeadScoringServer = (*Server)(nil)

// tryAcquire takes a concurrency slot without waiting; the caller must give it back with
// releaseSlot. At the limit, it first frees the slots of calls whose streams ended before their
// handler ran (see reclaim).
func (s *Server) tryAcquire() error {
	if s.limit <= 0 || s.acquire() {
		return nil
	}
	if s.reclaim() > 0 && s.acquire() {
		return nil
	}
	return ErrOverloaded
}

func (s *Server) acquire() bool {
	for {
		n := s.inflight.Load()
		if n >= s.limit {
			return false
		}
		if s.inflight.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

// releaseSlot gives back a slot tryAcquire took.
func (s *Server) releaseSlot() {
	if s.limit > 0 {
		s.inflight.Add(-1)
	}
}

// admit is the transport's tap: it runs as a call's headers are read, before the call waits for a
// goroutine or its message is decoded, and sheds a LeadScoring unary call beyond the limit with
// ResourceExhausted at once. Counting from there means calls queued inside the server count too, so
// under overload the excess is refused cheaply instead of waiting behind the calls being served.
// serveUnary frees the slot as the handler returns, before the answer is sent, so a caller that
// waits for its answer never finds its own slot still taken; a call that never reaches the handler
// (its message does not arrive, or does not decode) has its slot freed once its stream has ended,
// before any call is refused for want of one (see reclaim). Only the service's own unary methods are
// counted (the method name is the caller's to choose, and labels the shed metric), and with a token
// only calls that carry it: the rest pass untouched, to be answered Unimplemented or
// Unauthenticated. The tap runs only on grpc-go's own HTTP/2 transport (Serve), not when the server
// is mounted with ServeHTTP.
func (s *Server) admit(ctx context.Context, info *tap.Info) (context.Context, error) {
	if s.limit <= 0 || !unaryMethods[info.FullMethodName] {
		return ctx, nil
	}
	if s.tokens.on() && s.tokenIn(info.Header) != nil {
		return ctx, nil
	}
	if err := s.tryAcquire(); err != nil {
		if s.shed != nil {
			s.shed.WithLabelValues(info.FullMethodName).Inc()
		}
		return ctx, status.Error(codes.ResourceExhausted, err.Error())
	}
	sl := &slot{s: s, stream: ctx}
	s.admitted.add(sl)
	return context.WithValue(ctx, slotKey{}, sl), nil
}

// slot is one admitted call's concurrency slot, freed once: by serveUnary as the handler returns,
// by reclaim once the call's stream has ended, or, for a REST call, as it returns.
type slot struct {
	freed atomic.Bool
	s     *Server
	// stream is the context of the call's stream, canceled when it ends; nil for a REST call, whose
	// slot is never in s.admitted.
	stream     context.Context
	prev, next *slot   // in s.admitted; guarded by its mu
	listed     bool    // guarded by s.admitted.mu
	answer     *answer // the pooled memory of the call's answer, set by Predict
}

func (sl *slot) free() {
	if sl.freed.CompareAndSwap(false, true) {
		sl.s.releaseSlot()
	}
}

type slotKey struct{}

// done frees an admitted call's slot as its handler returns.
func (sl *slot) done() {
	if sl.stream != nil {
		sl.s.admitted.remove(sl)
	}
	sl.free()
}

// admittedSlots lists the slots admit took that are not freed yet, so that those whose stream ended
// before their handler ran can be found. A list costs a call two uncontended locks; watching each
// stream's end (context.AfterFunc) cost about 9,000 instructions a call in the server.
type admittedSlots struct {
	mu   sync.Mutex
	head *slot // guarded by mu
}

func (a *admittedSlots) add(sl *slot) {
	a.mu.Lock()
	sl.next, sl.listed = a.head, true
	if a.head != nil {
		a.head.prev = sl
	}
	a.head = sl
	a.mu.Unlock()
}

func (a *admittedSlots) remove(sl *slot) {
	a.mu.Lock()
	a.unlink(sl)
	a.mu.Unlock()
}

// unlink takes sl out of the list if it is there; the caller holds a.mu.
func (a *admittedSlots) unlink(sl *slot) {
	if !sl.listed {
		return
	}
	if sl.prev != nil {
		sl.prev.next = sl.next
	} else {
		a.head = sl.next
	}
	if sl.next != nil {
		sl.next.prev = sl.prev
	}
	sl.prev, sl.next, sl.listed = nil, nil, false
}

// reclaim frees the slots of admitted calls whose streams have ended (those that never reached
// their handler, or whose caller went away while it ran), and returns how many it freed. Every call
// refused at the limit walks the list (at most the limit's length), so a slot whose stream has ended
// never refuses a call; under a sustained overload a refusal costs that walk.
func (s *Server) reclaim() int {
	a := &s.admitted
	n := 0
	a.mu.Lock()
	for sl := a.head; sl != nil; {
		next := sl.next
		if sl.stream.Err() != nil {
			a.unlink(sl)
			if !sl.freed.Load() {
				n++
			}
			sl.free()
		}
		sl = next
	}
	a.mu.Unlock()
	return n
}

// unaryMethods are the full names of the service's unary methods; PredictStream's messages take
// slots one by one instead.
var unaryMethods = func() map[string]bool {
	m := make(map[string]bool)
	for _, md := range leadscorev1.LeadScoring_ServiceDesc.Methods {
		m["/"+leadscorev1.LeadScoring_ServiceDesc.ServiceName+"/"+md.MethodName] = true
	}
	return m
}()

// Predict scores one contact. A call that came over gRPC (admitted with a slot) has its answer in
// pooled memory, returned to the pool once gRPC has marshaled it (see answerPool).
func (s *Server) Predict(ctx context.Context, req *leadscorev1.PredictRequest) (*leadscorev1.PredictResponse, error) {
	var ans *answer
	if s.answers != nil {
		if sl, ok := ctx.Value(slotKey{}).(*slot); ok && sl.stream != nil {
			ans = s.answers.get()
			sl.answer = ans
		}
	}
	resp, err := s.predict(ctx, req, ans)
	if err != nil && ans != nil {
		s.answers.put(ans) // no response refers to it
		ctx.Value(slotKey{}).(*slot).answer = nil
	}
	return resp, toStatus(s.log, "Predict", err)
}

// predict scores the contact of req into ans (nil: a new answer).
func (s *Server) predict(ctx context.Context, req *leadscorev1.PredictRequest, ans *answer) (*leadscorev1.PredictResponse, error) {
	_, vs, err := s.reg.snap.Load().resolve(req.GetModel(), int(req.GetVersion()), req.GetLabel())
	if err != nil {
		return nil, err
	}
	asOf, err := asOfFromProto(req.GetAsOf(), s.now())
	if err != nil {
		return nil, err
	}
	return s.score(ctx, vs, s.reg.rulesFor(req.GetModel()), req.GetContact(), asOf, req.GetOmitRuleHits(), ans)
}

// score runs one contact through a loaded version and the rules into ans (nil: a new answer);
// omitHits leaves the rule hits out.
func (s *Server) score(ctx context.Context, vs *versionState, lr *loadedRules, pc *leadscorev1.Contact, asOf time.Time, omitHits bool, ans *answer) (*leadscorev1.PredictResponse, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	b := vs.bindingFor(lr)
	// The answer keeps nothing of the row past the call but strings.
	r, err := borrowRow(b, pc)
	defer r.release()
	if err != nil {
		return nil, err
	}
	return s.scoreRow(vs, b, pc, r, asOf, omitHits, ans)
}

// scoreRow scores contact pc converted into r by b, into ans (nil: a new answer).
func (s *Server) scoreRow(vs *versionState, b *binding, pc *leadscorev1.Contact, r *row, asOf time.Time, omitHits bool, ans *answer) (*leadscorev1.PredictResponse, error) {
	if s.opts.Strict {
		if err := unknownProperty(pc, vs, r.unknown); err != nil {
			return nil, err
		}
	}
	present := r.present(b)
	if present == 0 && !s.opts.Lenient {
		return nil, fmt.Errorf("%w: contact %q has none of the %d properties model %s reads (%s); check the field mapping (lenient mode scores it anyway)",
			ErrBadRequest, clip(pc.GetId()), len(vs.used), vs.artifact.Name, listSome(vs, b, r))
	}
	p, err := vs.artifact.PredictValues(r.vals[:b.ncols], asOf, r.reasons)
	if err != nil {
		return nil, err
	}
	if cap(p.Reasons) > 0 {
		r.reasons = p.Reasons // their memory serves the next call: the answer copies them
	}
	if len(r.unknown) > 0 {
		// The warnings models.Artifact.Predict gives: properties neither the spec nor the rules know.
		p.Warnings = make([]features.Warning, len(r.unknown))
		slices.Sort(r.unknown)
		for i, name := range r.unknown {
			p.Warnings[i] = features.UnknownWarning(name)
		}
	}
	if 2*present < len(vs.used) {
		p.Warnings = append(p.Warnings, features.Warning{Message: fmt.Sprintf(
			"the contact has %d of the %d properties the model reads; %d are missing (%s): a field mapping may be wrong",
			present, len(vs.used), len(vs.used)-present, listSome(vs, b, r))})
	}
	if ans == nil {
		ans = new(answer)
	}
	resp, err := ans.prediction(vs.artifact.Name, vs.version, pc.GetId(), p)
	if err != nil {
		return nil, err
	}
	if lr := b.rules; lr != nil {
		if omitHits {
			// The same result without Hits, and without wording them.
			resp.Manual, err = lr.manualToProto(lr.rules.SummaryValues(r.rules, asOf), ans)
		} else {
			// The hits are copied into the answer, so their memory serves the next call.
			buf := hitsPool.Get().(*[]rules.Hit)
			res := lr.rules.ScoreValues(*buf, r.rules, asOf)
			resp.Manual, err = lr.manualToProto(res, ans)
			clear(res.Hits) // the pool must not keep the details alive
			*buf = res.Hits[:0]
			hitsPool.Put(buf)
		}
		if err != nil {
			return nil, err
		}
	}
	return resp, nil
}

// hitsPool holds the rule hits of calls being scored (see scoreRow).
var hitsPool = sync.Pool{New: func() any { return new([]rules.Hit) }}

// listSome names up to five of the properties the model reads that the contact has no value for.
func listSome(vs *versionState, b *binding, r *row) string {
	var missing []string
	for k, name := range vs.used {
		if r.vals[b.used[k]].Missing() {
			if len(missing) == 5 {
				missing = append(missing, "...")
				break
			}
			missing = append(missing, name)
		}
	}
	return strings.Join(missing, ", ")
}

// unknownProperty returns a *features.PropertyError for the first (by name) of the contact's unknown
// properties (neither the rules nor the model know them) that the model's spec does not list either.
func unknownProperty(pc *leadscorev1.Contact, vs *versionState, unknown []string) error {
	var name string
	for _, u := range unknown {
		if !vs.columns[u] && (name == "" || u < name) {
			name = u
		}
	}
	if name == "" {
		return nil
	}
	v, _ := valueFromProto(name, pc.GetProperties()[name])
	return &features.PropertyError{Property: name, Row: -1, Value: v.Text(), Kind: v.Kind, Err: ErrUnknownProperty}
}

// PredictBatch scores many contacts with one model version.
func (s *Server) PredictBatch(ctx context.Context, req *leadscorev1.PredictBatchRequest) (*leadscorev1.PredictBatchResponse, error) {
	resp, err := s.predictBatch(ctx, req)
	return resp, toStatus(s.log, "PredictBatch", err)
}

func (s *Server) predictBatch(ctx context.Context, req *leadscorev1.PredictBatchRequest) (*leadscorev1.PredictBatchResponse, error) {
	if n := len(req.GetContacts()); n > s.opts.MaxBatch {
		return nil, fmt.Errorf("%w: %d contacts in one batch, the limit is %d", ErrBadRequest, n, s.opts.MaxBatch)
	}
	_, vs, err := s.reg.snap.Load().resolve(req.GetModel(), int(req.GetVersion()), req.GetLabel())
	if err != nil {
		return nil, err
	}
	asOf, err := asOfFromProto(req.GetAsOf(), s.now())
	if err != nil {
		return nil, err
	}
	// Batches wait for their contacts' turn, so that the memory they hold at once stays bounded.
	n := int64(len(req.GetContacts()))
	if err := s.batchContacts.Acquire(ctx, n); err != nil {
		return nil, err
	}
	defer s.batchContacts.Release(n)
	lr := s.reg.rulesFor(req.GetModel())
	out := &leadscorev1.PredictBatchResponse{Responses: make([]*leadscorev1.PredictResponse, len(req.GetContacts()))}
	size := 0 // the encoded size of out so far, give or take a few bytes of framing per answer
	for i, pc := range req.GetContacts() {
		r, err := s.score(ctx, vs, lr, pc, asOf, req.GetOmitRuleHits(), nil)
		if err != nil {
			return nil, fmt.Errorf("serve: contacts[%d]: %w", i, err)
		}
		// Stop as soon as the answer cannot be sent, rather than build it whole first.
		if size += proto.Size(r) + 4; size > s.opts.MaxResponseBytes {
			return nil, fmt.Errorf("%w: the answer to %d contacts is over %d bytes after %d of them; send fewer contacts per call, or set omit_rule_hits",
				ErrTooLargeAnswer, len(req.GetContacts()), s.opts.MaxResponseBytes, i+1)
		}
		out.Responses[i] = r
	}
	return out, nil
}

// PredictStream scores a stream of contacts; a contact that fails gets a response with only its id and
// the error, and the stream goes on. Each message takes a concurrency slot while it is scored.
func (s *Server) PredictStream(stream leadscorev1.LeadScoring_PredictStreamServer) error {
	ctx := stream.Context()
	for {
		req, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		start := time.Now()
		resp, err := s.streamOne(ctx, req)
		code := codes.OK
		var st *status.Status
		if err != nil {
			if ctx.Err() != nil {
				s.served(req)
				return toStatus(s.log, "PredictStream", ctx.Err())
			}
			st = status.Convert(toStatus(s.log, "PredictStream", err))
			code = st.Code()
		}
		if s.reqMetrics != nil || s.reqLog != nil {
			ci, _ := callOf("PredictStream", req, resp)
			s.observe(ci, code, time.Since(start))
		}
		if err != nil {
			resp = &leadscorev1.PredictResponse{
				ContactId: req.GetContact().GetId(),
				Error:     &leadscorev1.Error{Code: int32(st.Code()), Message: st.Message(), Property: propertyOf(err)},
			}
		}
		s.served(req)
		if err := stream.Send(resp); err != nil {
			return err
		}
	}
}

// served gives back the pooled memory of a gRPC request (see requestPool) once its call has no more
// use for it.
func (s *Server) served(req *leadscorev1.PredictRequest) {
	if s.requests != nil {
		s.requests.release(req)
	}
}

func (s *Server) streamOne(ctx context.Context, req *leadscorev1.PredictRequest) (*leadscorev1.PredictResponse, error) {
	if err := s.tryAcquire(); err != nil {
		return nil, err
	}
	defer s.releaseSlot()
	return s.predict(ctx, req, nil)
}

// ListModels lists every model with its versions, labels and status.
func (s *Server) ListModels(context.Context, *leadscorev1.ListModelsRequest) (*leadscorev1.ListModelsResponse, error) {
	snap := s.reg.snap.Load()
	resp := &leadscorev1.ListModelsResponse{Models: make([]*leadscorev1.Model, 0, len(snap.names))}
	for _, name := range snap.names {
		resp.Models = append(resp.Models, modelToProto(snap.models[name]))
	}
	return resp, nil
}

// GetModel describes one model.
func (s *Server) GetModel(_ context.Context, req *leadscorev1.GetModelRequest) (*leadscorev1.GetModelResponse, error) {
	m := s.reg.snap.Load().models[req.GetName()]
	if m == nil {
		return nil, toStatus(s.log, "GetModel", fmt.Errorf("serve: model %q: %w", req.GetName(), models.ErrNotFound))
	}
	return &leadscorev1.GetModelResponse{Model: modelToProto(m)}, nil
}

func modelToProto(m *modelState) *leadscorev1.Model {
	pm := &leadscorev1.Model{Name: m.name, ServingVersion: int64(m.serving), StoreError: m.storeErr}
	if len(m.labels) > 0 {
		pm.Labels = make(map[string]int64, len(m.labels))
		for l, v := range m.labels {
			pm.Labels[l] = int64(v)
		}
	}
	for _, vs := range m.versions {
		pv := &leadscorev1.ModelVersion{Version: int64(vs.version), Status: leadscorev1.VersionStatus_FAILED, Reason: vs.reason}
		if a := vs.artifact; a != nil {
			pv.Status = leadscorev1.VersionStatus_AVAILABLE
			pv.Metrics = metricsToProto(a)
			pv.Provenance = provenanceToProto(a)
			if a.Spec != nil {
				for _, c := range a.Spec.Columns {
					if c.Use {
						pv.Properties = append(pv.Properties, &leadscorev1.Property{Name: c.Name, Kind: c.Kind.String(), Group: c.Group})
					}
				}
			}
		}
		pm.Versions = append(pm.Versions, pv)
	}
	return pm
}

// timestampOrNil converts t, leaving the zero time unset.
func timestampOrNil(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}
