package serve

import (
	"context"
	"io"
	"math"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/tap"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/google/go-cmp/cmp"

	leadscorev1 "github.com/leadscore/leadscore/proto/leadscore/v1"
)

// TestAPI runs the same calls over bufconn and over a loopback port.
func TestAPI(t *testing.T) {
	for _, tr := range []string{"bufconn", "tcp"} {
		t.Run("transport="+tr, func(t *testing.T) {
			fx := newFixture(t, RegistryOptions{})
			srv := mustServer(t, fx.reg, Options{MaxBatch: 10})
			var conn *grpc.ClientConn
			if tr == "bufconn" {
				conn = startBufconn(t, srv)
			} else {
				var err error
				conn, err = grpc.NewClient(startTCP(t, srv), grpc.WithTransportCredentials(insecure.NewCredentials()))
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { conn.Close() })
			}
			client := leadscorev1.NewLeadScoringClient(conn)
			t.Run("Predict", func(t *testing.T) { testPredict(t, fx, client) })
			t.Run("errors", func(t *testing.T) { testPredictErrors(t, client) })
			t.Run("PredictBatch", func(t *testing.T) { testPredictBatch(t, client) })
			t.Run("PredictStream", func(t *testing.T) { testPredictStream(t, client) })
			t.Run("models", func(t *testing.T) { testModels(t, client) })
			t.Run("health", func(t *testing.T) { testHealth(t, healthpb.NewHealthClient(conn)) })
		})
	}
}

func testPredict(t *testing.T, fx *fixture, client leadscorev1.LeadScoringClient) {
	ctx := context.Background()
	pc := sampleContact()
	pc.Properties["webinar"] = str("yes") // read by the rules only: no warning
	pc.Properties["favourite_colour"] = str("blue")
	got, err := client.Predict(ctx, &leadscorev1.PredictRequest{Model: "lead", Contact: pc, AsOf: timestamppb.New(fixtureAsOf)})
	if err != nil {
		t.Fatal(err)
	}
	// The expected answer comes from the artifact itself: serving must not change a probability.
	a, err := fx.st.Load(context.Background(), "lead", 1)
	if err != nil {
		t.Fatal(err)
	}
	c, err := contactFromProto(pc)
	if err != nil {
		t.Fatal(err)
	}
	p, err := a.Predict(c, fixtureAsOf)
	if err != nil {
		t.Fatal(err)
	}
	want, err := predictionToProto("lead", 1, "C1", p)
	if err != nil {
		t.Fatal(err)
	}
	want.Warnings = []*leadscorev1.Warning{{Property: "favourite_colour", Message: "not in the model's spec; ignored"}}
	if diff := cmp.Diff(want, got, protocmp.Transform(), protocmp.IgnoreFields(&leadscorev1.PredictResponse{}, "manual")); diff != "" {
		t.Errorf("Predict (-want +got):\n%s", diff)
	}
	if len(got.GetReasons()) == 0 || got.GetPriority() == leadscorev1.Priority_PRIORITY_UNSPECIFIED {
		t.Errorf("Predict gave no reasons or no priority: %v", got)
	}
	// Rules: Software 30 (fit), 7 visits 40 (engagement), webinar 5 (engagement).
	m := got.GetManual()
	if m.GetScore() != 75 || m.GetStage() != leadscorev1.Stage_SQL {
		t.Errorf("manual score %v stage %v, want 75 SQL", m.GetScore(), m.GetStage())
	}

	// Unset as_of means the server's clock, which the fixture pins to fixtureAsOf.
	now, err := client.Predict(ctx, &leadscorev1.PredictRequest{Model: "lead", Contact: pc})
	if err != nil {
		t.Fatal(err)
	}
	if now.GetProbability() != got.GetProbability() {
		t.Errorf("probability without as_of %v, with as_of = now %v", now.GetProbability(), got.GetProbability())
	}
	// A number sent as a numeric string is read as the number.
	pc.Properties["employees"] = str("120")
	asText, err := client.Predict(ctx, &leadscorev1.PredictRequest{Model: "lead", Contact: pc, AsOf: timestamppb.New(fixtureAsOf)})
	if err != nil {
		t.Fatal(err)
	}
	if asText.GetProbability() != got.GetProbability() {
		t.Errorf("probability with employees \"120\" %v, with 120 %v", asText.GetProbability(), got.GetProbability())
	}
}

func testPredictErrors(t *testing.T, client leadscorev1.LeadScoringClient) {
	with := func(name string, v *leadscorev1.Value) *leadscorev1.Contact {
		c := sampleContact()
		c.Properties[name] = v
		return c
	}
	tests := []struct {
		name     string
		req      *leadscorev1.PredictRequest
		code     codes.Code
		property string // the message must name it
	}{
		{"no model", &leadscorev1.PredictRequest{Contact: sampleContact()}, codes.InvalidArgument, ""},
		{"unknown model", &leadscorev1.PredictRequest{Model: "nope"}, codes.NotFound, ""},
		{"unknown version", &leadscorev1.PredictRequest{Model: "lead", Version: 9}, codes.NotFound, ""},
		{"unknown label", &leadscorev1.PredictRequest{Model: "lead", Label: "canary"}, codes.NotFound, ""},
		{"NaN", &leadscorev1.PredictRequest{Model: "lead", Contact: with("employees", num(math.NaN()))}, codes.InvalidArgument, "employees"},
		{"infinity in an unknown property", &leadscorev1.PredictRequest{Model: "lead", Contact: with("score", num(math.Inf(1)))}, codes.InvalidArgument, "score"},
		{"wrong type", &leadscorev1.PredictRequest{Model: "lead", Contact: with("employees", str("many"))}, codes.InvalidArgument, "employees"},
		{"bad timestamp", &leadscorev1.PredictRequest{Model: "lead", Contact: with("created_at", &leadscorev1.Value{Kind: &leadscorev1.Value_TimestampValue{TimestampValue: &timestamppb.Timestamp{Seconds: math.MaxInt64}}})}, codes.InvalidArgument, "created_at"},
		{"bad as_of", &leadscorev1.PredictRequest{Model: "lead", AsOf: &timestamppb.Timestamp{Nanos: -1}}, codes.InvalidArgument, "as_of"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := client.Predict(context.Background(), tt.req)
			st := status.Convert(err)
			if st.Code() != tt.code || !strings.Contains(st.Message(), tt.property) {
				t.Errorf("got %v %q, want %v naming %q", st.Code(), st.Message(), tt.code, tt.property)
			}
		})
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := client.Predict(ctx, &leadscorev1.PredictRequest{Model: "lead"}); status.Code(err) != codes.Canceled {
		t.Errorf("cancelled call: got %v, want Canceled", err)
	}
}

func testPredictBatch(t *testing.T, client leadscorev1.LeadScoringClient) {
	ctx := context.Background()
	asOf := timestamppb.New(fixtureAsOf)
	contacts := []*leadscorev1.Contact{sampleContact(), {Id: "C2", Properties: map[string]*leadscorev1.Value{"visits": num(2)}}, {Id: "C3", Properties: map[string]*leadscorev1.Value{"industry": str("Retail")}}}
	got, err := client.PredictBatch(ctx, &leadscorev1.PredictBatchRequest{Model: "lead", Contacts: contacts, AsOf: asOf})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.GetResponses()) != len(contacts) {
		t.Fatalf("got %d responses, want %d", len(got.GetResponses()), len(contacts))
	}
	for i, c := range contacts {
		want, err := client.Predict(ctx, &leadscorev1.PredictRequest{Model: "lead", Contact: c, AsOf: asOf})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got.GetResponses()[i], protocmp.Transform()); diff != "" {
			t.Errorf("responses[%d] differs from Predict (-want +got):\n%s", i, diff)
		}
	}

	bad := []*leadscorev1.Contact{sampleContact(), {Properties: map[string]*leadscorev1.Value{"visits": num(math.NaN())}}}
	_, err = client.PredictBatch(ctx, &leadscorev1.PredictBatchRequest{Model: "lead", Contacts: bad})
	if st := status.Convert(err); st.Code() != codes.InvalidArgument || !strings.Contains(st.Message(), "contacts[1]") || !strings.Contains(st.Message(), "visits") {
		t.Errorf("batch with a NaN: got %v %q, want InvalidArgument naming contacts[1] and visits", st.Code(), st.Message())
	}
	big := make([]*leadscorev1.Contact, 11)
	_, err = client.PredictBatch(ctx, &leadscorev1.PredictBatchRequest{Model: "lead", Contacts: big})
	if status.Code(err) != codes.InvalidArgument {
		t.Errorf("batch over MaxBatch: got %v, want InvalidArgument", err)
	}
}

func testPredictStream(t *testing.T, client leadscorev1.LeadScoringClient) {
	stream, err := client.PredictStream(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	reqs := []*leadscorev1.PredictRequest{
		{Model: "lead", Contact: sampleContact()},
		{Model: "lead", Contact: &leadscorev1.Contact{Id: "bad", Properties: map[string]*leadscorev1.Value{"employees": num(math.Inf(-1))}}},
		{Model: "nope", Contact: &leadscorev1.Contact{Id: "C3"}},
		{Model: "lead", Contact: &leadscorev1.Contact{Id: "C4"}},
	}
	for _, r := range reqs {
		if err := stream.Send(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := stream.CloseSend(); err != nil {
		t.Fatal(err)
	}
	// C4 has none of the model's properties: refused, and the stream goes on.
	wantCodes := []codes.Code{codes.OK, codes.InvalidArgument, codes.NotFound, codes.InvalidArgument}
	for i, want := range wantCodes {
		resp, err := stream.Recv()
		if err != nil {
			t.Fatalf("response %d: %v", i, err)
		}
		if got := codes.Code(resp.GetError().GetCode()); got != want || resp.GetContactId() != reqs[i].GetContact().GetId() {
			t.Errorf("response %d: code %v contact %q, want %v %q", i, got, resp.GetContactId(), want, reqs[i].GetContact().GetId())
		}
		if want == codes.OK && (resp.GetModelVersion() != 1 || resp.GetProbability() <= 0) {
			t.Errorf("response %d: %v", i, resp)
		}
	}
	if r, err := stream.Recv(); err != io.EOF {
		t.Errorf("after the last response: got %v, %v; want io.EOF", r, err)
	}
}

func testModels(t *testing.T, client leadscorev1.LeadScoringClient) {
	ctx := context.Background()
	list, err := client.ListModels(ctx, &leadscorev1.ListModelsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.GetModels()) != 1 {
		t.Fatalf("ListModels: %d models, want 1", len(list.GetModels()))
	}
	got, err := client.GetModel(ctx, &leadscorev1.GetModelRequest{Name: "lead"})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(list.GetModels()[0], got.GetModel(), protocmp.Transform()); diff != "" {
		t.Errorf("GetModel differs from ListModels (-list +get):\n%s", diff)
	}
	m := got.GetModel()
	v := m.GetVersions()
	if m.GetServingVersion() != 1 || len(v) != 1 || v[0].GetStatus() != leadscorev1.VersionStatus_AVAILABLE ||
		v[0].GetMetrics().GetAuc() != 0.75 || v[0].GetProvenance().GetRows() != 200 || len(v[0].GetProperties()) == 0 {
		t.Errorf("GetModel: %v", m)
	}
	if _, err := client.GetModel(ctx, &leadscorev1.GetModelRequest{Name: "nope"}); status.Code(err) != codes.NotFound {
		t.Errorf("GetModel of an unknown model: got %v, want NotFound", err)
	}
}

func testHealth(t *testing.T, hc healthpb.HealthClient) {
	tests := []struct {
		service string
		want    healthpb.HealthCheckResponse_ServingStatus
		code    codes.Code
	}{
		{"", healthpb.HealthCheckResponse_SERVING, codes.OK},
		{ServiceName, healthpb.HealthCheckResponse_SERVING, codes.OK},
		{"lead", healthpb.HealthCheckResponse_SERVING, codes.OK},
		{"nope", healthpb.HealthCheckResponse_SERVICE_UNKNOWN, codes.NotFound},
	}
	for _, tt := range tests {
		resp, err := hc.Check(context.Background(), &healthpb.HealthCheckRequest{Service: tt.service})
		if status.Code(err) != tt.code || resp.GetStatus() != tt.want && tt.code == codes.OK {
			t.Errorf("health %q: got %v %v, want %v %v", tt.service, resp.GetStatus(), err, tt.want, tt.code)
		}
	}
}

// TestStrict checks that strict mode refuses unknown properties but not those the rules read.
func TestStrict(t *testing.T) {
	fx := newFixture(t, RegistryOptions{})
	client := leadscorev1.NewLeadScoringClient(startBufconn(t, mustServer(t, fx.reg, Options{Strict: true})))
	tests := []struct {
		name     string
		extra    string
		code     codes.Code
		property string
	}{
		{"model properties only", "", codes.OK, ""},
		{"read by the rules", "webinar", codes.OK, ""},
		{"unknown", "favourite_colour", codes.InvalidArgument, "favourite_colour"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := sampleContact()
			if tt.extra != "" {
				c.Properties[tt.extra] = str("yes")
			}
			resp, err := client.Predict(context.Background(), &leadscorev1.PredictRequest{Model: "lead", Contact: c})
			st := status.Convert(err)
			if st.Code() != tt.code || !strings.Contains(st.Message(), tt.property) {
				t.Errorf("got %v %q, want %v naming %q", st.Code(), st.Message(), tt.code, tt.property)
			}
			if err == nil && len(resp.GetWarnings()) != 0 {
				t.Errorf("warnings %v, want none", resp.GetWarnings())
			}
		})
	}
}

// TestOverload holds every concurrency slot with blocked calls and checks that one more call is shed
// at once with ResourceExhausted, and that the held calls then finish.
func TestOverload(t *testing.T) {
	fx := newFixture(t, RegistryOptions{})
	const slots = 2
	entered, release := make(chan struct{}, slots), make(chan struct{})
	var reached atomic.Int64 // calls that got past the transport's admission
	block := func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		reached.Add(1)
		if pr, ok := req.(*leadscorev1.PredictRequest); ok && pr.GetContact().GetId() == "block" {
			entered <- struct{}{}
			<-release
		}
		return h(ctx, req)
	}
	promReg := prometheus.NewRegistry()
	conn := startBufconn(t, mustServer(t, fx.reg, Options{MaxConcurrent: slots, Metrics: promReg, Interceptors: []grpc.UnaryServerInterceptor{block}}))
	client := leadscorev1.NewLeadScoringClient(conn)
	ctx := context.Background()
	errc := make(chan error, slots)
	for range slots {
		go func() {
			_, err := client.Predict(ctx, &leadscorev1.PredictRequest{Model: "lead", Contact: &leadscorev1.Contact{Id: "block", Properties: sampleContact().Properties}})
			errc <- err
		}()
	}
	for range slots {
		<-entered
	}
	// The two admitted calls are still held here, so an answer at all proves the call did not queue
	// behind them; the deadline only bounds the test (a queued call ends DeadlineExceeded and fails).
	bounded, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	_, err := client.Predict(bounded, &leadscorev1.PredictRequest{Model: "lead", Contact: sampleContact()})
	if status.Code(err) != codes.ResourceExhausted {
		t.Errorf("call over the limit: got %v, want ResourceExhausted", err)
	}
	// The limit covers every LeadScoring call, ListModels too.
	if _, err := client.ListModels(ctx, &leadscorev1.ListModelsRequest{}); status.Code(err) != codes.ResourceExhausted {
		t.Errorf("ListModels over the limit: got %v, want ResourceExhausted", err)
	}
	// Shed as they arrived: neither call reached an interceptor, and both were counted.
	if got := reached.Load(); got != slots {
		t.Errorf("%d calls reached the interceptors, want only the %d admitted", got, slots)
	}
	if got := metricValue(t, promReg, "leadscore_requests_shed_total", map[string]string{"method": "/leadscore.v1.LeadScoring/Predict"}); got != 1 {
		t.Errorf("leadscore_requests_shed_total{Predict} = %v, want 1", got)
	}
	// Health is never shed.
	if resp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{}); err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Errorf("health with every slot taken: %v %v", resp.GetStatus(), err)
	}
	close(release)
	for range slots {
		if err := <-errc; err != nil {
			t.Errorf("held call: %v", err)
		}
	}
	// A slot is free again by the time its caller has the answer: back-to-back calls at the limit are
	// never shed.
	for i := range 200 {
		if _, err := client.Predict(ctx, &leadscorev1.PredictRequest{Model: "lead", Contact: sampleContact()}); err != nil {
			t.Fatalf("call %d after the slots were freed: %v", i, err)
		}
	}
}

// TestDeadline checks that an expired deadline ends a call with DeadlineExceeded: over bufconn (where
// the client library may end it before it is sent), and by calling the handlers themselves with a
// context that expired while the call waited, which only the server's own checks can catch.
func TestDeadline(t *testing.T) {
	fx := newFixture(t, RegistryOptions{})
	srv := mustServer(t, fx.reg, Options{})
	client := leadscorev1.NewLeadScoringClient(startBufconn(t, srv))
	expired, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	req := &leadscorev1.PredictRequest{Model: "lead", Contact: sampleContact()}
	if _, err := client.Predict(expired, req); status.Code(err) != codes.DeadlineExceeded {
		t.Errorf("over bufconn: got %v, want DeadlineExceeded", err)
	}
	if _, err := srv.Predict(context.Background(), req); err != nil {
		t.Fatalf("Predict with time left: %v", err)
	}
	calls := []struct {
		name string
		call func(ctx context.Context) error
	}{
		{"Predict", func(ctx context.Context) error { _, err := srv.Predict(ctx, req); return err }},
		{"PredictBatch", func(ctx context.Context) error {
			_, err := srv.PredictBatch(ctx, &leadscorev1.PredictBatchRequest{Model: "lead", Contacts: []*leadscorev1.Contact{sampleContact(), sampleContact()}})
			return err
		}},
	}
	for _, c := range calls {
		t.Run(c.name, func(t *testing.T) {
			if err := c.call(expired); status.Code(err) != codes.DeadlineExceeded {
				t.Errorf("handler called after the deadline: got %v, want DeadlineExceeded", err)
			}
		})
	}
}

// TestSlotsFreedWithoutHandler sends calls that are admitted but never reach their handler (their
// message is over the size limit): their slots must still be freed, or a limit of one would be
// exhausted for good.
func TestSlotsFreedWithoutHandler(t *testing.T) {
	fx := newFixture(t, RegistryOptions{})
	client := leadscorev1.NewLeadScoringClient(startBufconn(t, mustServer(t, fx.reg, Options{MaxConcurrent: 1, MaxMsgBytes: 1 << 10})))
	ctx := context.Background()
	big := &leadscorev1.PredictRequest{Model: "lead", Contact: &leadscorev1.Contact{Id: strings.Repeat("x", 2<<10)}}
	for range 20 {
		if _, err := client.Predict(ctx, big); status.Code(err) != codes.ResourceExhausted {
			t.Fatalf("oversized call: got %v, want ResourceExhausted", err)
		}
	}
	// Those slots are freed as their streams end, just after the callers got their answers.
	deadline := time.Now().Add(2 * time.Second)
	for {
		_, err := client.Predict(ctx, &leadscorev1.PredictRequest{Model: "lead", Contact: sampleContact()})
		if err == nil {
			break
		}
		if status.Code(err) != codes.ResourceExhausted || time.Now().After(deadline) {
			t.Fatalf("a call after the oversized ones: %v; their slots were not freed", err)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestEndedStreamsNeverRefuse: at the limit, a call is admitted whenever an admitted call's stream
// has ended before its handler ran, however soon after another such slot was freed (the walk that
// frees them once ran at most every 10 ms, so the second of two such calls in a row refused the
// call after it); a slot whose stream has not ended still counts.
func TestEndedStreamsNeverRefuse(t *testing.T) {
	fx := newFixture(t, RegistryOptions{})
	s := mustServer(t, fx.reg, Options{MaxConcurrent: 1})
	info := &tap.Info{FullMethodName: fullMethod("Predict")}
	for i := range 5 {
		ctx, cancel := context.WithCancel(context.Background())
		if _, err := s.admit(ctx, info); err != nil {
			t.Fatalf("call %d: %v; the slots of the streams that ended were not freed", i+1, err)
		}
		cancel() // its stream ends before its handler runs
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if _, err := s.admit(ctx, info); err != nil {
		t.Fatal(err)
	}
	if _, err := s.admit(context.Background(), info); status.Code(err) != codes.ResourceExhausted {
		t.Fatalf("a call while another is admitted: %v, want ResourceExhausted", err)
	}
}

// TestRequestMetrics checks the request counts and latencies by method and code.
func TestRequestMetrics(t *testing.T) {
	fx := newFixture(t, RegistryOptions{})
	promReg := prometheus.NewRegistry()
	client := leadscorev1.NewLeadScoringClient(startBufconn(t, mustServer(t, fx.reg, Options{Metrics: promReg})))
	ctx := context.Background()
	for range 3 {
		if _, err := client.Predict(ctx, &leadscorev1.PredictRequest{Model: "lead", Contact: sampleContact()}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := client.Predict(ctx, &leadscorev1.PredictRequest{Model: "nope"}); status.Code(err) != codes.NotFound {
		t.Fatalf("unknown model: %v", err)
	}
	stream, err := client.PredictStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := stream.Send(&leadscorev1.PredictRequest{Model: "lead", Contact: sampleContact()}); err != nil {
			t.Fatal(err)
		}
		if _, err := stream.Recv(); err != nil {
			t.Fatal(err)
		}
	}
	if err := stream.CloseSend(); err != nil {
		t.Fatal(err)
	}
	if _, err := stream.Recv(); err != io.EOF {
		t.Fatalf("end of stream: %v", err)
	}
	// The gRPC metrics are those of go-grpc-middleware's prometheus provider: a method's series exist
	// (at 0) before its first call, for every code.
	predict := func(labels ...string) map[string]string {
		m := map[string]string{"grpc_type": "unary", "grpc_service": ServiceName, "grpc_method": "Predict"}
		for i := 0; i < len(labels); i += 2 {
			m[labels[i]] = labels[i+1]
		}
		return m
	}
	streamLabels := map[string]string{"grpc_type": "bidi_stream", "grpc_method": "PredictStream"}
	for _, tt := range []struct {
		metric string
		labels map[string]string
		want   float64
	}{
		{"grpc_server_handled_total", predict("grpc_code", "OK"), 3},
		{"grpc_server_handled_total", predict("grpc_code", "NotFound"), 1},
		{"grpc_server_handled_total", predict("grpc_code", "DataLoss"), 0},
		{"grpc_server_handling_seconds", predict(), 4}, // a histogram: its count
		{"grpc_server_started_total", predict(), 4},
		{"grpc_server_msg_received_total", predict(), 4},
		{"grpc_server_msg_sent_total", predict(), 3},
		{"grpc_server_handled_total", map[string]string{"grpc_method": "GetModel", "grpc_code": "Unauthenticated"}, 0},
		{"grpc_server_started_total", map[string]string{"grpc_service": "grpc.health.v1.Health", "grpc_method": "Check", "grpc_type": "unary"}, 0},
		{"grpc_server_started_total", streamLabels, 1},
		{"grpc_server_msg_received_total", streamLabels, 2},
		{"grpc_server_msg_sent_total", streamLabels, 2},
		{"grpc_server_handled_total", map[string]string{"grpc_method": "PredictStream", "grpc_code": "OK"}, 1},
	} {
		if got := metricValue(t, promReg, tt.metric, tt.labels); got != tt.want {
			t.Errorf("%s%v = %v, want %v", tt.metric, tt.labels, got, tt.want)
		}
	}
}

// TestPinnedVersion checks that a request can pin an older valid version, and that an unknown version
// or label is NotFound.
func TestPinnedVersion(t *testing.T) {
	fx := newFixture(t, RegistryOptions{})
	mustPublish(t, fx.st, "lead", mustArtifact(t, 0))
	fx.mustRefresh(t)
	client := leadscorev1.NewLeadScoringClient(startBufconn(t, mustServer(t, fx.reg, Options{})))
	for _, tt := range []struct {
		name    string
		version int64
		label   string
		want    int64 // the answering version; 0: NotFound
	}{
		{"default is the newest", 0, "", 2},
		{"older version pinned", 1, "", 1},
		{"newest pinned", 2, "", 2},
		{"unknown version", 7, "", 0},
		{"unknown label", 0, "canary", 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := client.Predict(context.Background(), &leadscorev1.PredictRequest{Model: "lead", Version: tt.version, Label: tt.label, Contact: sampleContact()})
			if tt.want == 0 {
				if status.Code(err) != codes.NotFound {
					t.Errorf("got %v, want NotFound", err)
				}
				return
			}
			if err != nil || resp.GetModelVersion() != tt.want {
				t.Errorf("answered by version %d (%v), want %d", resp.GetModelVersion(), err, tt.want)
			}
		})
	}
}

// TestAdmissionCountsOnlyServiceCalls fills the only slot with a held call, then checks that calls
// the limit must not count are not shed: without the token (Unauthenticated) and to a method the
// service does not have (Unimplemented, and no series in the shed metric for a name the caller chose).
func TestAdmissionCountsOnlyServiceCalls(t *testing.T) {
	fx := newFixture(t, RegistryOptions{})
	entered, release := make(chan struct{}), make(chan struct{})
	block := func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		if pr, ok := req.(*leadscorev1.PredictRequest); ok && pr.GetContact().GetId() == "block" {
			close(entered)
			<-release
		}
		return h(ctx, req)
	}
	promReg := prometheus.NewRegistry()
	conn := startBufconn(t, mustServer(t, fx.reg, Options{MaxConcurrent: 1, AuthToken: "s3cret", Metrics: promReg, Interceptors: []grpc.UnaryServerInterceptor{block}}))
	client := leadscorev1.NewLeadScoringClient(conn)
	authed := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer s3cret")
	errc := make(chan error, 1)
	go func() {
		_, err := client.Predict(authed, &leadscorev1.PredictRequest{Model: "lead", Contact: &leadscorev1.Contact{Id: "block", Properties: sampleContact().Properties}})
		errc <- err
	}()
	<-entered
	req := &leadscorev1.PredictRequest{Model: "lead", Contact: sampleContact()}
	if _, err := client.Predict(authed, req); status.Code(err) != codes.ResourceExhausted {
		t.Errorf("second call with the token: got %v, want ResourceExhausted", err)
	}
	if _, err := client.Predict(context.Background(), req); status.Code(err) != codes.Unauthenticated {
		t.Errorf("call without the token: got %v, want Unauthenticated", err)
	}
	err := conn.Invoke(authed, "/"+ServiceName+"/NoSuchMethod", req, &leadscorev1.PredictResponse{})
	if status.Code(err) != codes.Unimplemented {
		t.Errorf("unknown method: got %v, want Unimplemented", err)
	}
	if got := metricValue(t, promReg, "leadscore_requests_shed_total", map[string]string{"method": "/" + ServiceName + "/NoSuchMethod"}); got != -1 {
		t.Errorf("the shed metric has a series for an unknown method (%v)", got)
	}
	close(release)
	if err := <-errc; err != nil {
		t.Errorf("held call: %v", err)
	}
}
