package serve

import (
	"context"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/leadscore/leadscore/internal/memo"
	leadscorev1 "github.com/leadscore/leadscore/proto/leadscore/v1"
)

// LatencyBuckets are the upper bounds, in seconds, of the request latency histograms: from one
// contact (tens of microseconds) to the largest batch on a busy machine.
var LatencyBuckets = []float64{.00005, .0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}

// requestMetrics count and time scoring calls by model, version and label. Their label values are
// only names the store knows (a model of the current snapshot, one of its versions, one of its
// labels), "" otherwise, so a caller cannot grow the series by sending made-up names.
type requestMetrics struct {
	requests *prometheus.CounterVec   // method, model, version, label, code
	latency  *prometheus.HistogramVec // method, model, version, label
	contacts *prometheus.CounterVec   // model, version
	// series holds the metrics of the label values seen, so that a call finds its three series with
	// one lookup instead of three hashings of five label values (the first maxSeries; the rest are
	// looked up each time).
	series *memo.Map[seriesKey, *series]
}

// seriesKey is the label values of one call's metrics; version 0 is "".
type seriesKey struct {
	method, model, label string
	version              int64
	code                 codes.Code
}

// series are one call's metrics.
type series struct {
	requests prometheus.Counter
	latency  prometheus.Observer
	contacts prometheus.Counter // nil unless the code is OK
}

// maxSeries bounds requestMetrics.series: 4 methods of a few models, versions and labels, by code.
const maxSeries = 1024

// seriesOf returns the metrics of a call with the label values of k.
func (rm *requestMetrics) seriesOf(k seriesKey) *series {
	if sr, ok := rm.series.Get(k); ok {
		return sr
	}
	version := ""
	if k.version != 0 {
		version = strconv.FormatInt(k.version, 10)
	}
	sr := &series{
		requests: rm.requests.WithLabelValues(k.method, k.model, version, k.label, k.code.String()),
		latency:  rm.latency.WithLabelValues(k.method, k.model, version, k.label),
	}
	if k.code == codes.OK {
		sr.contacts = rm.contacts.WithLabelValues(k.model, version)
	}
	rm.series.Add(k, sr)
	return sr
}

func newRequestMetrics(reg prometheus.Registerer) (*requestMetrics, error) {
	m := &requestMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "leadscore_requests_total",
			Help: "Scoring calls (Predict, PredictBatch, PredictStream messages) by method, model, version, label and gRPC code; names the store does not know count under \"\".",
		}, []string{"method", "model", "version", "label", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "leadscore_request_duration_seconds",
			Help:    "Time to answer a scoring call in the server, by method, model, version and label.",
			Buckets: LatencyBuckets,
		}, []string{"method", "model", "version", "label"}),
		contacts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "leadscore_contacts_scored_total",
			Help: "Contacts scored, by model and version.",
		}, []string{"model", "version"}),
		series: memo.New[seriesKey, *series](maxSeries),
	}
	for _, c := range []prometheus.Collector{m.requests, m.latency, m.contacts} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// callInfo is what the metrics and the request log know of one scoring call.
type callInfo struct {
	method, model, label string
	version              int64 // the version that answered, else the one asked for
	contactID            string
	contacts             int
	req                  any
}

// callOf describes a scoring request and its answer; ok is false for other methods.
func callOf(method string, req, resp any) (ci callInfo, ok bool) {
	switch r := req.(type) {
	case *leadscorev1.PredictRequest:
		ci = callInfo{method: method, model: r.GetModel(), label: r.GetLabel(), version: r.GetVersion(), contactID: r.GetContact().GetId(), contacts: 1, req: r}
		if a, _ := resp.(*leadscorev1.PredictResponse); a != nil {
			ci.version = a.GetModelVersion()
		}
	case *leadscorev1.PredictBatchRequest:
		ci = callInfo{method: method, model: r.GetModel(), label: r.GetLabel(), version: r.GetVersion(), contacts: len(r.GetContacts()), req: r}
		if a, _ := resp.(*leadscorev1.PredictBatchResponse); a != nil && len(a.GetResponses()) > 0 {
			ci.version = a.GetResponses()[0].GetModelVersion()
		}
	default:
		return ci, false
	}
	return ci, true
}

// serveUnary is the one built-in unary interceptor, so that a call costs no chain of closures: it
// frees the call's slot as the handler returns (see admit), counts the call in the gRPC metrics,
// records scoring calls in the request metrics and log, and turns a panic into Internal (see
// recoverUnary), inside all of them; a Predict answer in pooled memory is handed to the pool to take
// back once gRPC has marshaled it (see answerPool). next runs the handler through the other
// interceptors (auth, then Options.Interceptors).
func (s *Server) serveUnary(ctx context.Context, req any, info *grpc.UnaryServerInfo, next grpc.UnaryHandler) (any, error) {
	sl, _ := ctx.Value(slotKey{}).(*slot)
	if sl != nil {
		defer sl.done()
	}
	resp, err := s.observed(ctx, req, info, next)
	if sl != nil && sl.answer != nil {
		// On an error Predict has given the answer back already, or (a panic) the GC takes it.
		if a := sl.answer; err == nil && resp == any(&a.resp) {
			s.answers.pend(a)
		}
		sl.answer = nil
	}
	if r, ok := req.(*leadscorev1.PredictRequest); ok {
		s.served(r)
	}
	return resp, err
}

// observed is serveUnary's part that counts, records and recovers.
func (s *Server) observed(ctx context.Context, req any, info *grpc.UnaryServerInfo, next grpc.UnaryHandler) (any, error) {
	observe := s.reqMetrics != nil || s.reqLog != nil
	if s.gm == nil && !observe {
		return s.recoverUnary(ctx, req, info, next)
	}
	var ms *methodSeries
	if s.gm != nil {
		ms = s.gm.series(info.FullMethod, grpcUnary)
		ms.started.Inc()
		ms.received.Inc()
	}
	start := time.Now()
	resp, err := s.recoverUnary(ctx, req, info, next)
	took := time.Since(start)
	if ms != nil {
		if err == nil {
			ms.sent.Inc()
		}
		ms.done(err, took)
	}
	if !observe {
		return resp, err
	}
	if ci, ok := callOf(methodName(info.FullMethod), req, resp); ok {
		s.observe(ci, status.Code(err), took)
	}
	return resp, err
}

// methodName is the last element of a full method name.
func methodName(full string) string {
	for i := len(full) - 1; i >= 0; i-- {
		if full[i] == '/' {
			return full[i+1:]
		}
	}
	return full
}

// observe records one call: metrics with known names only, and the request log when sampled.
func (s *Server) observe(ci callInfo, code codes.Code, took time.Duration) {
	k := seriesKey{method: ci.method, code: code}
	if m := s.reg.snap.Load().models[ci.model]; m != nil {
		k.model = ci.model
		if ci.version != 0 && m.find(int(ci.version)) != nil {
			k.version = ci.version
		}
		if _, ok := m.labels[ci.label]; ok {
			k.label = ci.label
		}
	}
	if rm := s.reqMetrics; rm != nil {
		sr := rm.seriesOf(k)
		sr.requests.Inc()
		sr.latency.Observe(took.Seconds())
		if sr.contacts != nil {
			sr.contacts.Add(float64(ci.contacts))
		}
	}
	if s.reqLog != nil && (code != codes.OK || s.sampled()) {
		s.logRequest(ci, code, took)
	}
}

// sampled reports whether this successful call is logged: a deterministic share
// Options.RequestLogSample of them, evenly spread (every 100th at 0.01).
func (s *Server) sampled() bool {
	rate := s.opts.RequestLogSample
	if rate >= 1 {
		return true
	}
	n := s.logged.Add(1)
	return int64(float64(n)*rate) != int64(float64(n-1)*rate)
}

// logRequest writes one request log record. Property values appear only with
// Options.RequestLogProperties, and only for single-contact calls.
func (s *Server) logRequest(ci callInfo, code codes.Code, took time.Duration) {
	attrs := make([]slog.Attr, 0, 8)
	attrs = append(attrs,
		slog.String("method", ci.method), slog.String("model", ci.model), slog.Int64("version", ci.version),
		slog.String("label", ci.label), slog.String("code", code.String()),
		slog.Float64("latency_ms", float64(took.Microseconds())/1000))
	if ci.contacts == 1 || ci.contactID != "" {
		attrs = append(attrs, slog.String("contact_id", ci.contactID))
	} else {
		attrs = append(attrs, slog.Int("contacts", ci.contacts))
	}
	if pr, ok := ci.req.(*leadscorev1.PredictRequest); ok && s.opts.RequestLogProperties {
		props := pr.GetContact().GetProperties()
		vals := make([]any, 0, 2*len(props))
		for _, name := range slices.Sorted(maps.Keys(props)) {
			vals = append(vals, slog.Any(name, plainValue(props[name])))
		}
		attrs = append(attrs, slog.Group("properties", vals...))
	}
	s.reqLog.LogAttrs(context.Background(), slog.LevelInfo, "request", attrs...)
}

// plainValue is a wire value as a plain Go value for logs.
func plainValue(v *leadscorev1.Value) any {
	switch k := v.GetKind().(type) {
	case *leadscorev1.Value_StringValue:
		return clip(k.StringValue)
	case *leadscorev1.Value_NumberValue:
		return k.NumberValue
	case *leadscorev1.Value_BoolValue:
		return k.BoolValue
	case *leadscorev1.Value_TimestampValue:
		return k.TimestampValue.AsTime()
	}
	return nil
}

// logChanges logs what changed between two registry snapshots that callers notice: a model that
// appears or goes, its serving version, and its labels (promote, rollback and hand edits alike).
func logChanges(log *slog.Logger, prev, next *snapshot) {
	for _, name := range next.names {
		m, old := next.models[name], prev.models[name]
		if old == nil {
			log.Info("serve: model added", "model", name, "serving_version", m.serving, "labels", m.labels)
			continue
		}
		for _, l := range slices.Sorted(maps.Keys(m.labels)) {
			if v, ok := old.labels[l]; !ok || v != m.labels[l] {
				log.Info("serve: label changed", "model", name, "label", l, "from", v, "to", m.labels[l])
			}
		}
		for _, l := range slices.Sorted(maps.Keys(old.labels)) {
			if _, ok := m.labels[l]; !ok {
				log.Info("serve: label removed", "model", name, "label", l, "was", old.labels[l])
			}
		}
		if m.serving != old.serving {
			log.Info("serve: serving version changed", "model", name, "from", old.serving, "to", m.serving)
		}
	}
	for _, name := range prev.names {
		if next.models[name] == nil {
			log.Info("serve: model no longer served", "model", name, "was_version", prev.models[name].serving)
		}
	}
}

// changeLogger returns a registry listener that logs changes since the snapshot it last saw.
func changeLogger(log *slog.Logger, reg *Registry) func() {
	var last atomic.Pointer[snapshot]
	last.Store(reg.snap.Load())
	return func() {
		next := reg.snap.Load()
		if prev := last.Swap(next); prev != next {
			logChanges(log, prev, next)
		}
	}
}
