package serve

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/timestamppb"

	leadscorev1 "github.com/leadscore/leadscore/proto/leadscore/v1"
	"github.com/leadscore/leadscore/store"
)

// startREST serves srv's REST front on a loopback port and returns its base URL.
func startREST(tb testing.TB, srv *Server) string {
	tb.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	go func() { _ = srv.ServeREST(lis) }()
	tb.Cleanup(func() { srv.Shutdown(time.Second) })
	return "http://" + lis.Addr().String()
}

// restDo sends one request and returns the status and body.
func restDo(t *testing.T, method, url, token, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("%s %s: Content-Type %q, want application/json", method, url, ct)
	}
	return resp.StatusCode, b
}

// restBody is the JSON contact of sampleContact, with employees as a numeric string.
const restBody = `{"contact": {"id": "C1", "properties": {"industry": "Software", "employees": "120",
	"visits": 7, "unsubscribed": false, "webinar": null}}, "as_of": "2025-06-01T00:00:00Z"}`

// TestRESTPredictSameAsGRPC checks that the REST front answers Predict and PredictBatch with the same
// message as the gRPC call for the same contact and as_of.
func TestRESTPredictSameAsGRPC(t *testing.T) {
	fx := newFixture(t, RegistryOptions{})
	srv := mustServer(t, fx.reg, Options{})
	base := startREST(t, srv)
	client := leadscorev1.NewLeadScoringClient(startBufconn(t, srv))
	asOf := timestamppb.New(fixtureAsOf)

	code, body := restDo(t, "POST", base+"/v1/models/lead:predict", "", restBody)
	if code != http.StatusOK {
		t.Fatalf("predict: %d %s", code, body)
	}
	var got leadscorev1.PredictResponse
	if err := protojson.Unmarshal(body, &got); err != nil {
		t.Fatalf("predict answer: %v\n%s", err, body)
	}
	want, err := client.Predict(context.Background(), &leadscorev1.PredictRequest{Model: "lead", Contact: sampleContact(), AsOf: asOf})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, &got, protocmp.Transform()); diff != "" {
		t.Errorf("REST answer differs from gRPC's (-grpc +rest):\n%s", diff)
	}
	if !strings.Contains(string(body), `"model_version":"1"`) || !strings.Contains(string(body), `"contact_id":"C1"`) {
		t.Errorf("answer does not use the .proto field names:\n%s", body)
	}

	batch := `{"contacts": [{"id": "C1", "properties": {"industry": "Software", "employees": 120, "visits": 7, "unsubscribed": false}},
		{"id": "C2", "properties": {"industry": "Retail"}}], "as_of": "2025-06-01T00:00:00Z", "omit_rule_hits": true}`
	code, body = restDo(t, "POST", base+"/v1/models/lead:predictBatch", "", batch)
	if code != http.StatusOK {
		t.Fatalf("predictBatch: %d %s", code, body)
	}
	var gotBatch leadscorev1.PredictBatchResponse
	if err := protojson.Unmarshal(body, &gotBatch); err != nil {
		t.Fatal(err)
	}
	wantBatch, err := client.PredictBatch(context.Background(), &leadscorev1.PredictBatchRequest{Model: "lead", AsOf: asOf, OmitRuleHits: true,
		Contacts: []*leadscorev1.Contact{sampleContact(), {Id: "C2", Properties: map[string]*leadscorev1.Value{"industry": str("Retail")}}}})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(wantBatch, &gotBatch, protocmp.Transform()); diff != "" {
		t.Errorf("REST batch differs from gRPC's (-grpc +rest):\n%s", diff)
	}
}

// TestRESTModels checks GET /v1/models and /v1/models/{model} against ListModels and GetModel.
func TestRESTModels(t *testing.T) {
	fx := newFixture(t, RegistryOptions{})
	srv := mustServer(t, fx.reg, Options{})
	base := startREST(t, srv)
	list, err := srv.ListModels(context.Background(), &leadscorev1.ListModelsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	code, body := restDo(t, "GET", base+"/v1/models", "", "")
	var gotList leadscorev1.ListModelsResponse
	if err := protojson.Unmarshal(body, &gotList); code != http.StatusOK || err != nil {
		t.Fatalf("GET /v1/models: %d %v %s", code, err, body)
	}
	if diff := cmp.Diff(list, &gotList, protocmp.Transform()); diff != "" {
		t.Errorf("GET /v1/models differs from ListModels:\n%s", diff)
	}
	code, body = restDo(t, "GET", base+"/v1/models/lead", "", "")
	var gotModel leadscorev1.GetModelResponse
	if err := protojson.Unmarshal(body, &gotModel); code != http.StatusOK || err != nil {
		t.Fatalf("GET /v1/models/lead: %d %v %s", code, err, body)
	}
	if diff := cmp.Diff(list.GetModels()[0], gotModel.GetModel(), protocmp.Transform()); diff != "" {
		t.Errorf("GET /v1/models/lead differs:\n%s", diff)
	}
}

// restErrorOf decodes an error body.
func restErrorOf(t *testing.T, body []byte) restErrorBody {
	t.Helper()
	var e restError
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatalf("error body is not JSON: %v\n%s", err, body)
	}
	return e.Error
}

// TestRESTErrors checks that each failure answers with the HTTP status of its gRPC code and a JSON
// body that says why and names the property at fault.
func TestRESTErrors(t *testing.T) {
	fx := newFixture(t, RegistryOptions{})
	base := startREST(t, mustServer(t, fx.reg, Options{MaxBatch: 2, MaxMsgBytes: 4096}))
	for _, tt := range []struct {
		name, method, path, body string
		code                     int
		status, property, reason string // reason: a part of the message
	}{
		{"malformed JSON", "POST", "/v1/models/lead:predict", `{"contact": {"properties": {"visits": 7}`, 400, "INVALID_ARGUMENT", "", "not valid JSON"},
		{"not an object", "POST", "/v1/models/lead:predict", `[1, 2]`, 400, "INVALID_ARGUMENT", "", "not valid JSON"},
		{"two values", "POST", "/v1/models/lead:predict", `{"contact": {}} {}`, 400, "INVALID_ARGUMENT", "", "more than one JSON value"},
		{"unknown field", "POST", "/v1/models/lead:predict", `{"contact": {}, "contcts": []}`, 400, "INVALID_ARGUMENT", "", `unknown field "contcts"`},
		{"contacts in predict", "POST", "/v1/models/lead:predict", `{"contacts": []}`, 400, "INVALID_ARGUMENT", "", `unknown field "contacts"`},
		{"no contact", "POST", "/v1/models/lead:predict", `{}`, 400, "INVALID_ARGUMENT", "", "contact is required"},
		{"object value", "POST", "/v1/models/lead:predict", `{"contact": {"properties": {"visits": {"n": 7}}}}`, 400, "INVALID_ARGUMENT", "visits", "string, number, boolean or null"},
		{"array value", "POST", "/v1/models/lead:predictBatch", `{"contacts": [{"properties": {"visits": 1}}, {"properties": {"industry": ["a"]}}]}`, 400, "INVALID_ARGUMENT", "industry", "contacts[1]"},
		{"overflowing number", "POST", "/v1/models/lead:predict", `{"contact": {"properties": {"visits": 1e999}}}`, 400, "INVALID_ARGUMENT", "visits", "NaN or infinite"},
		{"wrong type", "POST", "/v1/models/lead:predict", `{"contact": {"properties": {"employees": "many"}}}`, 400, "INVALID_ARGUMENT", "employees", "employees"},
		{"bad as_of", "POST", "/v1/models/lead:predict", `{"contact": {}, "as_of": "yesterday"}`, 400, "INVALID_ARGUMENT", "", "as_of"},
		{"unknown model", "POST", "/v1/models/nope:predict", `{"contact": {"properties": {"visits": 1}}}`, 404, "NOT_FOUND", "", "nope"},
		{"unknown label", "POST", "/v1/models/lead:predict", `{"contact": {"properties": {"visits": 1}}, "label": "canary"}`, 404, "NOT_FOUND", "", "canary"},
		{"unknown verb", "POST", "/v1/models/lead:explain", `{}`, 404, "NOT_FOUND", "", "no route"},
		{"unknown model GET", "GET", "/v1/models/nope", "", 404, "NOT_FOUND", "", "nope"},
		{"unknown path", "GET", "/v2/things", "", 404, "NOT_FOUND", "", "no route"},
		{"batch too large", "POST", "/v1/models/lead:predictBatch", `{"contacts": [{}, {}, {}]}`, 400, "INVALID_ARGUMENT", "", "the limit is 2"},
		{"body too large", "POST", "/v1/models/lead:predict", `{"contact": {"id": "` + strings.Repeat("x", 5000) + `"}}`, 413, "RESOURCE_EXHAUSTED", "", "over 4096 bytes"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, body := restDo(t, tt.method, base+tt.path, "", tt.body)
			if code != tt.code {
				t.Fatalf("status %d, want %d\n%s", code, tt.code, body)
			}
			e := restErrorOf(t, body)
			if e.Code != tt.code || e.Status != tt.status || e.Property != tt.property || !strings.Contains(e.Message, tt.reason) {
				t.Errorf("got %+v, want code %d, status %s, property %q, a message with %q", e, tt.code, tt.status, tt.property, tt.reason)
			}
		})
	}
}

// TestRESTAuthLimitsMetrics checks that REST calls pass the same bearer token check, concurrency
// limit and request metrics as gRPC calls.
func TestRESTAuthLimitsMetrics(t *testing.T) {
	fx := newFixture(t, RegistryOptions{})
	promReg := prometheus.NewRegistry()
	srv := mustServer(t, fx.reg, Options{AuthToken: "s3cret", Metrics: promReg})
	base := startREST(t, srv)

	for _, path := range []string{"/v1/models", "/v1/models/lead"} {
		if code, body := restDo(t, "GET", base+path, "", ""); code != http.StatusUnauthorized || restErrorOf(t, body).Status != "UNAUTHENTICATED" {
			t.Errorf("GET %s without the token: %d %s", path, code, body)
		}
	}
	// Without the token, even a malformed body is refused for the token.
	if code, body := restDo(t, "POST", base+"/v1/models/lead:predict", "wrong", "{"); code != http.StatusUnauthorized {
		t.Errorf("predict with a wrong token: %d %s", code, body)
	}
	for range 2 {
		if code, body := restDo(t, "POST", base+"/v1/models/lead:predict", "s3cret", restBody); code != http.StatusOK {
			t.Fatalf("predict with the token: %d %s", code, body)
		}
	}
	if code, _ := restDo(t, "GET", base+"/healthz", "", ""); code != http.StatusOK {
		t.Errorf("/healthz needs no token: %d", code)
	}
	if got := metricValue(t, promReg, "grpc_server_handled_total", map[string]string{"grpc_method": "Predict", "grpc_code": "OK"}); got != 2 {
		t.Errorf("grpc_server_handled_total{Predict,OK} = %v after two REST calls, want 2", got)
	}
	if got := metricValue(t, promReg, "grpc_server_handled_total", map[string]string{"grpc_method": "ListModels", "grpc_code": "Unauthenticated"}); got != 1 {
		t.Errorf("grpc_server_handled_total{ListModels,Unauthenticated} = %v, want 1", got)
	}

	// Fill every slot: a REST call is shed like a gRPC call.
	srv.inflight.Store(srv.limit)
	code, body := restDo(t, "POST", base+"/v1/models/lead:predict", "s3cret", restBody)
	srv.inflight.Store(0)
	if code != http.StatusTooManyRequests || restErrorOf(t, body).Status != "RESOURCE_EXHAUSTED" {
		t.Errorf("predict over the limit: %d %s", code, body)
	}
	if got := metricValue(t, promReg, "leadscore_requests_shed_total", map[string]string{"method": fullMethod("Predict")}); got != 1 {
		t.Errorf("leadscore_requests_shed_total{Predict} = %v, want 1", got)
	}
	if n := srv.inflight.Load(); n != 0 {
		t.Errorf("%d slots still taken after the REST calls returned", n)
	}
}

// TestRESTReadyz checks that /readyz answers 503 until a model version is available, 200 while one
// is, and 503 again once shutdown begins; /healthz answers 200 throughout.
func TestRESTReadyz(t *testing.T) {
	st := store.OpenDir(filepath.Join(t.TempDir(), "models"))
	if err := os.MkdirAll(filepath.Join(st.Dir(), "lead"), 0o755); err != nil {
		t.Fatal(err)
	}
	reg, err := NewRegistry(st, RegistryOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := reg.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	srv := mustServer(t, reg, Options{})
	base := startREST(t, srv)
	if code, body := restDo(t, "GET", base+"/readyz", "", ""); code != http.StatusServiceUnavailable {
		t.Errorf("/readyz with no model: %d %s, want 503", code, body)
	}
	if code, _ := restDo(t, "GET", base+"/healthz", "", ""); code != http.StatusOK {
		t.Errorf("/healthz with no model: %d, want 200", code)
	}
	mustPublishCorrupt(t, st, "lead")
	if err := reg.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	if code, _ := restDo(t, "GET", base+"/readyz", "", ""); code != http.StatusServiceUnavailable {
		t.Errorf("/readyz with only a failed version: %d, want 503", code)
	}
	mustPublish(t, st, "lead", mustArtifact(t, -1))
	if err := reg.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	if code, body := restDo(t, "GET", base+"/readyz", "", ""); code != http.StatusOK {
		t.Errorf("/readyz with a model: %d %s, want 200", code, body)
	}
	srv.draining.Store(true) // what Shutdown sets first
	if code, _ := restDo(t, "GET", base+"/readyz", "", ""); code != http.StatusServiceUnavailable {
		t.Errorf("/readyz while shutting down: %d, want 503", code)
	}
}

// TestOpenAPI checks that the served OpenAPI document is the committed one and describes every route.
func TestOpenAPI(t *testing.T) {
	fx := newFixture(t, RegistryOptions{})
	base := startREST(t, mustServer(t, fx.reg, Options{}))
	code, body := restDo(t, "GET", base+"/openapi.json", "", "")
	if code != http.StatusOK || strings.TrimSpace(string(body)) != strings.TrimSpace(string(OpenAPI)) {
		t.Fatalf("/openapi.json: %d, not the committed document", code)
	}
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	var got []string
	for path, ops := range doc.Paths {
		for method := range ops {
			got = append(got, strings.ToUpper(method)+" "+path)
		}
	}
	slices.Sort(got)
	want := []string{
		"GET /healthz", "GET /openapi.json", "GET /readyz", "GET /v1/models", "GET /v1/models/{model}",
		"POST /v1/models/{model}:predict", "POST /v1/models/{model}:predictBatch",
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") || !slices.Equal(got, want) {
		t.Errorf("OpenAPI %s documents %v, want %v", doc.OpenAPI, got, want)
	}
}
