package serve

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	leadscorev1 "github.com/leadscore/leadscore/proto/leadscore/v1"
)

// TestRequestMetricsByModel checks the request counters and latency by model, version and label, and
// that names the store does not know count under "".
func TestRequestMetricsByModel(t *testing.T) {
	fx := newFixture(t, RegistryOptions{})
	mustPublish(t, fx.st, "lead", mustArtifact(t, 0))
	if err := fx.st.SetLabel(context.Background(), "lead", "stable", 1); err != nil {
		t.Fatal(err)
	}
	if err := fx.st.SetLabel(context.Background(), "lead", "canary", 2); err != nil {
		t.Fatal(err)
	}
	fx.mustRefresh(t)
	promReg := prometheus.NewRegistry()
	srv := mustServer(t, fx.reg, Options{Metrics: promReg})
	client := leadscorev1.NewLeadScoringClient(startBufconn(t, srv))
	ctx := context.Background()
	calls := []struct {
		req  *leadscorev1.PredictRequest
		code codes.Code
	}{
		{&leadscorev1.PredictRequest{Model: "lead", Contact: sampleContact()}, codes.OK},
		{&leadscorev1.PredictRequest{Model: "lead", Contact: sampleContact()}, codes.OK},
		{&leadscorev1.PredictRequest{Model: "lead", Label: "canary", Contact: sampleContact()}, codes.OK},
		{&leadscorev1.PredictRequest{Model: "lead", Version: 2, Contact: sampleContact()}, codes.OK},
		{&leadscorev1.PredictRequest{Model: "lead", Label: "made-up", Contact: sampleContact()}, codes.NotFound},
		{&leadscorev1.PredictRequest{Model: "lead", Version: 99, Contact: sampleContact()}, codes.NotFound},
		{&leadscorev1.PredictRequest{Model: "made-up", Contact: sampleContact()}, codes.NotFound},
	}
	for i, c := range calls {
		if _, err := client.Predict(ctx, c.req); status.Code(err) != c.code {
			t.Fatalf("call %d: %v, want %v", i, err, c.code)
		}
	}
	if _, err := client.PredictBatch(ctx, &leadscorev1.PredictBatchRequest{Model: "lead", Label: "canary",
		Contacts: []*leadscorev1.Contact{sampleContact(), sampleContact(), sampleContact()}}); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		metric string
		labels map[string]string
		want   float64
	}{
		{"leadscore_requests_total", map[string]string{"method": "Predict", "model": "lead", "version": "1", "label": "", "code": "OK"}, 2},
		{"leadscore_requests_total", map[string]string{"method": "Predict", "model": "lead", "version": "2", "label": "canary", "code": "OK"}, 1},
		{"leadscore_requests_total", map[string]string{"method": "Predict", "model": "lead", "version": "2", "label": "", "code": "OK"}, 1},
		{"leadscore_requests_total", map[string]string{"method": "Predict", "model": "lead", "version": "", "label": "", "code": "NotFound"}, 2},
		{"leadscore_requests_total", map[string]string{"method": "Predict", "model": "", "version": "", "label": "", "code": "NotFound"}, 1},
		{"leadscore_requests_total", map[string]string{"method": "PredictBatch", "model": "lead", "version": "2", "label": "canary", "code": "OK"}, 1},
		{"leadscore_request_duration_seconds", map[string]string{"method": "Predict", "model": "lead", "version": "1", "label": ""}, 2},
		{"leadscore_contacts_scored_total", map[string]string{"model": "lead", "version": "2"}, 5},
	} {
		if got := metricValue(t, promReg, tt.metric, tt.labels); got != tt.want {
			t.Errorf("%s%v = %v, want %v", tt.metric, tt.labels, got, tt.want)
		}
	}
	// No series carries a name the store does not know.
	mfs, err := promReg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if v := lp.GetValue(); v == "made-up" || v == "99" {
					t.Errorf("%s has a series with %s=%q", mf.GetName(), lp.GetName(), v)
				}
			}
		}
	}
	// The histogram reaches 30 s, above the time of the largest batch.
	if top := LatencyBuckets[len(LatencyBuckets)-1]; top < 30 {
		t.Errorf("top latency bucket %v s, want 30", top)
	}
}

// syncBuffer is a bytes.Buffer safe for concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

// records decodes the JSON lines written so far.
func (b *syncBuffer) records(t *testing.T) []map[string]any {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(b.b.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

// TestRequestLog checks the sampled request log: a share of successful calls and every failed one,
// as JSON with model, version, code, latency and contact id, and property values only when asked.
func TestRequestLog(t *testing.T) {
	fx := newFixture(t, RegistryOptions{})
	for _, withProps := range []bool{false, true} {
		var buf syncBuffer
		srv := mustServer(t, fx.reg, Options{RequestLog: slog.New(slog.NewJSONHandler(&buf, nil)), RequestLogSample: 0.25, RequestLogProperties: withProps})
		client := leadscorev1.NewLeadScoringClient(startBufconn(t, srv))
		for range 8 {
			if _, err := client.Predict(context.Background(), &leadscorev1.PredictRequest{Model: "lead", Contact: sampleContact()}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := client.Predict(context.Background(), &leadscorev1.PredictRequest{Model: "lead", Version: 7, Contact: sampleContact()}); status.Code(err) != codes.NotFound {
			t.Fatal(err)
		}
		recs := buf.records(t)
		if len(recs) != 3 {
			t.Fatalf("properties %v: %d records, want 2 of the 8 successful calls and the failed one:\n%v", withProps, len(recs), recs)
		}
		for i, r := range recs {
			wantCode, wantVersion := "OK", 1.0
			if i == 2 {
				wantCode, wantVersion = "NotFound", 7
			}
			if r["msg"] != "request" || r["method"] != "Predict" || r["model"] != "lead" || r["version"] != wantVersion ||
				r["code"] != wantCode || r["contact_id"] != "C1" || r["latency_ms"] == nil {
				t.Errorf("record %d: %v", i, r)
			}
			props, ok := r["properties"].(map[string]any)
			if ok != withProps || (withProps && props["industry"] != "Software") {
				t.Errorf("record %d with properties %v: properties %v", i, withProps, r["properties"])
			}
		}
	}
}

// TestChangesLogged checks that serving-version and label changes (what promote and rollback do)
// are logged when the registry sees them.
func TestChangesLogged(t *testing.T) {
	var buf syncBuffer
	fx := newFixture(t, RegistryOptions{})
	mustServer(t, fx.reg, Options{Logger: slog.New(slog.NewJSONHandler(&buf, nil))})
	mustPublish(t, fx.st, "lead", mustArtifact(t, 0))
	fx.mustRefresh(t)
	if err := fx.st.SetLabel(context.Background(), "lead", "stable", 1); err != nil { // a rollback to 1
		t.Fatal(err)
	}
	fx.mustRefresh(t)
	var got []string
	for _, r := range buf.records(t) {
		switch r["msg"] {
		case "serve: serving version changed":
			got = append(got, "serving "+jsonNum(r["from"])+"->"+jsonNum(r["to"]))
		case "serve: label changed":
			got = append(got, "label "+r["label"].(string)+" "+jsonNum(r["from"])+"->"+jsonNum(r["to"]))
		}
	}
	want := []string{"serving 1->2", "label stable 0->1", "serving 2->1"}
	if strings.Join(got, "; ") != strings.Join(want, "; ") {
		t.Errorf("logged %q, want %q", got, want)
	}
}

func jsonNum(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
