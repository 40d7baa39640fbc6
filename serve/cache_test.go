package serve

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/leadscore/leadscore/models"
	leadscorev1 "github.com/leadscore/leadscore/proto/leadscore/v1"
	"github.com/leadscore/leadscore/store"
)

// benchServer returns a new server with opts of the bench model of the given kind (testdata/bench)
// with the rules of testdata/rules.yaml, as `leadscore serve` runs in
// scripts/bench/serve-vs-trivial.sh: its own artifact, rules and caches.
func benchServer(tb testing.TB, kind string, opts Options) *Server {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "bench", kind, store.ModelFile))
	if err != nil {
		tb.Fatal(err)
	}
	a := &models.Artifact{}
	if err := json.Unmarshal(data, a); err != nil {
		tb.Fatal(err)
	}
	st := store.OpenDir(tb.TempDir())
	mustPublish(tb, st, "leads", a)
	reg, err := NewRegistry(st, RegistryOptions{RulesFile: filepath.Join("..", "testdata", "rules.yaml")})
	if err != nil {
		tb.Fatal(err)
	}
	if err := reg.Refresh(context.Background()); err != nil {
		tb.Fatal(err)
	}
	return mustServer(tb, reg, opts)
}

// benchRequest returns the request of scripts/bench/serve-request.json.
func benchRequest(tb testing.TB) *leadscorev1.PredictRequest {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join("..", "scripts", "bench", "serve-request.json"))
	if err != nil {
		tb.Fatal(err)
	}
	req := &leadscorev1.PredictRequest{}
	if err := protojson.Unmarshal(data, req); err != nil {
		tb.Fatal(err)
	}
	return req
}

// TestCachesCarryNothingBetweenContacts checks that what a server keeps from one answer for the next
// (the rules' outcomes and details by value, the rule hit messages shared by detail, the reasons'
// words by value, the pooled rows, buffers and answers) changes no answer: contacts that differ in
// the values those caches are kept by, scored in a row, twice, and from several goroutines at once,
// directly and over gRPC, each get the answer a new server gives them alone. Both kinds of model,
// with testdata/rules.yaml.
func TestCachesCarryNothingBetweenContacts(t *testing.T) {
	base := benchRequest(t)
	type change struct {
		name string
		v    *leadscorev1.Value
	}
	ts := func(s string) *leadscorev1.Value {
		at, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return &leadscorev1.Value{Kind: &leadscorev1.Value_TimestampValue{TimestampValue: timestamppb.New(at)}}
	}
	variants := [][]change{
		nil, // the bench request itself
		{{"job_title", str("Marketing Intern")}, {"email", str("sam@gmail.com")}, {"employees", num(12)}},
		{{"job_title", str("Director of Operations")}, {"email", str("li@uni.edu")}, {"visits", num(1)}, {"forms_bofu", num(2)}},
		{{"industry", str("Computer Software")}, {"last_activity_at", ts("2025-10-01T08:00:00Z")}, {"pricing_page_views", num(1)}},
		{{"source", str("Referrals")}, {"email", str("x@leadscore.io")}}, // excluded
		{{"annual_revenue", num(2e6)}, {"demo_page_views", num(0)}, {"unsubscribed", flag(true)}, {"country", str("Kenya")}},
		{{"email_clicks", num(7)}, {"careers_page_views", num(3)}, {"last_activity_at", ts("2025-12-31T23:00:00Z")}},
		// Properties left out (nil): a contact decoded into the memory of one that had them (see
		// requestPool) must not keep them.
		{{"country", nil}, {"visits", nil}, {"job_title", nil}, {"last_activity_at", nil}},
	}
	reqs := make([]*leadscorev1.PredictRequest, len(variants))
	for i, v := range variants {
		req := proto.Clone(base).(*leadscorev1.PredictRequest)
		for _, c := range v {
			if c.v == nil {
				delete(req.Contact.Properties, c.name)
				continue
			}
			req.Contact.Properties[c.name] = c.v
		}
		reqs[i] = req
	}
	for _, kind := range []string{"onehot", "scorecard"} {
		t.Run(kind, func(t *testing.T) {
			want := make([]*leadscorev1.PredictResponse, len(reqs))
			for i, req := range reqs {
				resp, err := benchServer(t, kind, Options{}).Predict(context.Background(), req)
				if err != nil {
					t.Fatalf("contact %d alone: %v", i, err)
				}
				want[i] = resp
			}
			srv := benchServer(t, kind, Options{})
			// Over gRPC, requests are decoded into pooled memory and answers made in it (see
			// requestPool and answerPool).
			client := leadscorev1.NewLeadScoringClient(startBufconn(t, srv))
			check := func(t *testing.T, i int, viaGRPC bool) {
				var got *leadscorev1.PredictResponse
				var err error
				if viaGRPC {
					got, err = client.Predict(context.Background(), reqs[i])
				} else {
					got, err = srv.Predict(context.Background(), reqs[i])
				}
				if err != nil {
					t.Errorf("contact %d: %v", i, err)
					return
				}
				if diff := cmp.Diff(want[i], got, protocmp.Transform()); diff != "" {
					t.Errorf("contact %d (-alone +after others):\n%s", i, diff)
				}
			}
			for round := range 2 {
				for i := range reqs {
					check(t, (i+round)%len(reqs), round == 1)
				}
			}
			var wg sync.WaitGroup
			for g := range 6 {
				wg.Go(func() {
					for k := range 5 * len(reqs) {
						check(t, (g+k)%len(reqs), g%3 != 0)
					}
				})
			}
			wg.Wait()
		})
	}
}
