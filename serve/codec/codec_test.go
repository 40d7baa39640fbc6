package codec

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/timestamppb"

	leadscorev1 "github.com/leadscore/leadscore/proto/leadscore/v1"
)

// benchRequest is the request of scripts/bench/serve-request.json.
func benchRequest(tb testing.TB) *leadscorev1.PredictRequest {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "scripts", "bench", "serve-request.json"))
	if err != nil {
		tb.Fatal(err)
	}
	req := &leadscorev1.PredictRequest{}
	if err := protojson.Unmarshal(b, req); err != nil {
		tb.Fatal(err)
	}
	return req
}

// benchResponse has the shape of leadscore's answer to the bench request (scripts/bench/serve-vs-trivial.sh
// prints it: 23 rule hits, 8 reasons, about 3.7 KB), with made-up words.
func benchResponse() *leadscorev1.PredictResponse {
	r := &leadscorev1.PredictResponse{
		Model: "leads", ModelVersion: 3, Probability: 0.7312, Priority: leadscorev1.Priority_HIGH,
		FitGrade: "A", EngagementLevel: 3, ContactId: "C0000002",
		Manual: &leadscorev1.ManualScore{Score: 85, Stage: leadscorev1.Stage_MQL, FitGrade: "B", EngagementLevel: 2,
			Groups: map[string]float64{"fit": 40, "engagement": 45, "decay": 0}},
		Warnings: []*leadscorev1.Warning{{Property: "careers_page_views", Message: "not a column of the model"}},
	}
	for i := range 23 {
		r.Manual.Hits = append(r.Manual.Hits, &leadscorev1.RuleHit{
			Rule: fmt.Sprintf("rule number %d of the engagement group", i), Group: "engagement", Matched: i%3 != 0,
			Points: float64(5 * i), Detail: fmt.Sprintf("pricing_page_views = %d >= 2 and demo_page_views > 0", i),
		})
	}
	for i := range 8 {
		r.Reasons = append(r.Reasons, &leadscorev1.Reason{
			Property: fmt.Sprintf("property_%d", i), Value: "Manufacturing", Contribution: 0.13 * float64(i),
			ConversionRate: 0.21, Contacts: 1200 + int64(i), Text: "Industry Manufacturing converts 2.1 times as often as the average contact",
		})
	}
	return r
}

func ts(sec int64, nanos int32) *leadscorev1.Value {
	return &leadscorev1.Value{Kind: &leadscorev1.Value_TimestampValue{TimestampValue: &timestamppb.Timestamp{Seconds: sec, Nanos: nanos}}}
}

// withUnknown returns m with unknown fields of every wire type (numbers the schemas do not use).
func withUnknown[M proto.Message](m M) M {
	var b []byte
	b = protowire.AppendTag(b, 1000, protowire.VarintType)
	b = protowire.AppendVarint(b, 1<<40)
	b = protowire.AppendTag(b, 1001, protowire.BytesType)
	b = protowire.AppendString(b, "unknown \xff bytes")
	b = protowire.AppendTag(b, 1002, protowire.Fixed32Type)
	b = protowire.AppendFixed32(b, 7)
	b = protowire.AppendTag(b, 1003, protowire.Fixed64Type)
	b = protowire.AppendFixed64(b, 8)
	b = protowire.AppendTag(b, 1004, protowire.StartGroupType)
	b = protowire.AppendTag(b, 1, protowire.VarintType)
	b = protowire.AppendVarint(b, 1)
	b = protowire.AppendTag(b, 1004, protowire.EndGroupType)
	m.ProtoReflect().SetUnknown(b)
	return m
}

// corpus is every message type the service sends or receives, in the shapes it meets: the bench's
// request and answer, every Value kind, empty and absent maps, unknown fields, a big batch, extremes.
func corpus(tb testing.TB) map[string]proto.Message {
	tb.Helper()
	every := &leadscorev1.Contact{Id: "every kind", Properties: map[string]*leadscorev1.Value{
		"s": {Kind: &leadscorev1.Value_StringValue{StringValue: "héllo, 世界"}}, "empty string": {Kind: &leadscorev1.Value_StringValue{}},
		"n": {Kind: &leadscorev1.Value_NumberValue{NumberValue: -1.5e300}}, "nan": {Kind: &leadscorev1.Value_NumberValue{NumberValue: math.NaN()}},
		"inf": {Kind: &leadscorev1.Value_NumberValue{NumberValue: math.Inf(-1)}}, "zero": {Kind: &leadscorev1.Value_NumberValue{}},
		"true": {Kind: &leadscorev1.Value_BoolValue{BoolValue: true}}, "false": {Kind: &leadscorev1.Value_BoolValue{}},
		"ts": ts(1700000000, 123456789), "ts zero": ts(0, 0), "ts far": ts(-62135596800, 0), "unset": {}, "": {},
	}}
	batch := &leadscorev1.PredictBatchRequest{Model: "leads", Label: "stable", AsOf: timestamppb.New(benchTime)}
	bench := benchRequest(tb)
	for i := range 2000 {
		c := proto.Clone(bench.GetContact()).(*leadscorev1.Contact)
		c.Id = fmt.Sprintf("C%07d", i)
		batch.Contacts = append(batch.Contacts, c)
	}
	batchAnswer := &leadscorev1.PredictBatchResponse{}
	for i := range 500 {
		r := benchResponse()
		if i%7 == 0 {
			r = &leadscorev1.PredictResponse{ContactId: "bad", Error: &leadscorev1.Error{Code: 3, Message: "serve: bad value", Property: "employees"}}
		}
		batchAnswer.Responses = append(batchAnswer.Responses, r)
	}
	model := &leadscorev1.Model{Name: "leads", ServingVersion: 2, Labels: map[string]int64{"stable": 2, "canary": 3}, StoreError: "",
		Versions: []*leadscorev1.ModelVersion{
			{Version: 1, Status: leadscorev1.VersionStatus_FAILED, Reason: "corrupt artifact"},
			{Version: 2, Status: leadscorev1.VersionStatus_AVAILABLE,
				Metrics: &leadscorev1.ModelMetrics{Rows: 10000, Positives: 1200, Auc: 0.81, PrAuc: 0.4, LogLoss: 0.3, Brier: 0.1, Ece: 0.01, Threshold: 0.5, ManualAuc: 0.7},
				Provenance: &leadscorev1.Provenance{DataFile: "contacts.parquet", DataSha256: strings.Repeat("ab", 32), Rows: 10000, Won: 1200, Lost: 7000, Open: 1800,
					Label: "deal_stage", Positive: []string{"closedwon"}, Negative: []string{"closedlost", ""}, TrainedAt: timestamppb.New(benchTime),
					LeadscoreVersion: "v1.2.3", ParentVersion: 1, Seed: math.MaxUint64, Split: "time"},
				Properties: []*leadscorev1.Property{{Name: "industry", Kind: "string", Group: "fit"}, {Name: "visits", Kind: "number"}}},
		}}
	return map[string]proto.Message{
		"bench request":            bench,
		"bench request, unknown":   withUnknown(proto.Clone(bench).(*leadscorev1.PredictRequest)),
		"every value kind":         &leadscorev1.PredictRequest{Model: "leads", Version: -1, Label: "ünïcode", Contact: every, AsOf: timestamppb.New(benchTime), OmitRuleHits: true},
		"unknown in values":        &leadscorev1.PredictRequest{Contact: &leadscorev1.Contact{Properties: map[string]*leadscorev1.Value{"u": withUnknown(&leadscorev1.Value{})}}},
		"empty map":                &leadscorev1.PredictRequest{Model: "leads", Contact: &leadscorev1.Contact{Id: "none", Properties: map[string]*leadscorev1.Value{}}},
		"empty contact":            &leadscorev1.PredictRequest{Model: "leads", Contact: &leadscorev1.Contact{}},
		"empty request":            &leadscorev1.PredictRequest{},
		"extremes":                 &leadscorev1.PredictRequest{Model: strings.Repeat("m", 300), Version: math.MaxInt64, Contact: &leadscorev1.Contact{Properties: map[string]*leadscorev1.Value{strings.Repeat("k", 200): ts(math.MinInt64, -1)}}},
		"batch of 2000":            batch,
		"empty batch":              &leadscorev1.PredictBatchRequest{Model: "leads", Contacts: []*leadscorev1.Contact{{}, {}}},
		"bench answer":             benchResponse(),
		"bench answer, unknown":    withUnknown(benchResponse()),
		"error answer":             &leadscorev1.PredictResponse{Error: &leadscorev1.Error{Code: -1, Message: "x"}},
		"empty answer":             &leadscorev1.PredictResponse{},
		"batch answer":             batchAnswer,
		"list models request":      withUnknown(&leadscorev1.ListModelsRequest{}),
		"list models":              &leadscorev1.ListModelsResponse{Models: []*leadscorev1.Model{model, {Name: "broken", StoreError: "store: unreachable"}}},
		"get model request":        &leadscorev1.GetModelRequest{Name: "leads"},
		"get model":                &leadscorev1.GetModelResponse{Model: model},
		"get model, no model":      &leadscorev1.GetModelResponse{},
		"empty list models answer": &leadscorev1.ListModelsResponse{},
	}
}

var benchTime = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// newOf returns an empty message of m's type.
func newOf(m proto.Message) proto.Message { return m.ProtoReflect().New().Interface() }

// diff is "" when got and want are equal messages (proto.Equal), else a protocmp diff (or a note).
func diff(want, got proto.Message) string {
	if proto.Equal(want, got) {
		return ""
	}
	if d := cmp.Diff(want, got, protocmp.Transform()); d != "" {
		return d
	}
	return "proto.Equal says they differ; protocmp finds no difference"
}

// TestGeneratedMatchesProtobuf checks, for every message of the corpus, that the generated code and the
// codec decode protobuf's encoding into the message protobuf decodes, and that what they encode
// decodes (by protobuf) into the original.
func TestGeneratedMatchesProtobuf(t *testing.T) {
	for name, m := range corpus(t) {
		t.Run(name, func(t *testing.T) {
			b, err := proto.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			want := newOf(m)
			if err := proto.Unmarshal(b, want); err != nil {
				t.Fatal(err)
			}
			vt := newOf(m).(generated)
			if err := vt.UnmarshalVT(b); err != nil {
				t.Fatalf("UnmarshalVT: %v", err)
			}
			if d := diff(want, vt); d != "" {
				t.Errorf("UnmarshalVT differs from proto.Unmarshal (-want +got):\n%s", d)
			}
			got := newOf(m)
			if err := (Codec{}).Unmarshal(mem.BufferSlice{mem.SliceBuffer(b)}, got); err != nil {
				t.Fatalf("Codec.Unmarshal: %v", err)
			}
			if d := diff(want, got); d != "" {
				t.Errorf("Codec.Unmarshal differs from proto.Unmarshal (-want +got):\n%s", d)
			}

			enc, err := m.(interface{ MarshalVT() ([]byte, error) }).MarshalVT()
			if err != nil {
				t.Fatalf("MarshalVT: %v", err)
			}
			back := newOf(m)
			if err := proto.Unmarshal(enc, back); err != nil {
				t.Fatalf("proto.Unmarshal of MarshalVT's bytes: %v", err)
			}
			if d := diff(m, back); d != "" {
				t.Errorf("MarshalVT, then proto.Unmarshal (-want +got):\n%s", d)
			}
			data, err := (Codec{}).Marshal(m)
			if err != nil {
				t.Fatalf("Codec.Marshal: %v", err)
			}
			back = newOf(m)
			if err := proto.Unmarshal(data.Materialize(), back); err != nil {
				t.Fatalf("proto.Unmarshal of Codec.Marshal's bytes: %v", err)
			}
			data.Free()
			if d := diff(m, back); d != "" {
				t.Errorf("Codec.Marshal, then proto.Unmarshal (-want +got):\n%s", d)
			}
		})
	}
}
