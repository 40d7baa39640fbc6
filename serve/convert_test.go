package serve

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/leadscore/leadscore/models"
	leadscorev1 "github.com/leadscore/leadscore/proto/leadscore/v1"
)

func TestPriorityToProto(t *testing.T) {
	tests := []struct {
		name string
		p    models.Priority
		want leadscorev1.Priority
	}{
		{"very high", models.PriorityVeryHigh, leadscorev1.Priority_VERY_HIGH},
		{"high", models.PriorityHigh, leadscorev1.Priority_HIGH},
		{"medium", models.PriorityMedium, leadscorev1.Priority_MEDIUM},
		{"low", models.PriorityLow, leadscorev1.Priority_LOW},
		{"out of range", models.Priority(99), leadscorev1.Priority_PRIORITY_UNSPECIFIED},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := priorityToProto(tt.p); got != tt.want {
				t.Errorf("priorityToProto(%v) = %v, want %v", tt.p, got, tt.want)
			}
		})
	}
}

func TestStageToProto(t *testing.T) {
	tests := []struct {
		stage string
		want  leadscorev1.Stage
	}{
		{"LEAD", leadscorev1.Stage_LEAD},
		{"MQL", leadscorev1.Stage_MQL},
		{"SQL", leadscorev1.Stage_SQL},
		{"", leadscorev1.Stage_STAGE_UNSPECIFIED},
		{"sql", leadscorev1.Stage_STAGE_UNSPECIFIED},
	}
	for _, tt := range tests {
		t.Run("stage="+tt.stage, func(t *testing.T) {
			if got := stageToProto(tt.stage); got != tt.want {
				t.Errorf("stageToProto(%q) = %v, want %v", tt.stage, got, tt.want)
			}
		})
	}
}

// TestPredictPooledContacts checks that contacts converted into pooled rows carry nothing from one call
// to the next: contacts with different properties, scored in turn and at once from several goroutines,
// each get the answer they get alone on a new server (run with -race to check the sharing too).
func TestPredictPooledContacts(t *testing.T) {
	fx := newFixture(t, RegistryOptions{})
	srv := mustServer(t, fx.reg, Options{})
	withExtras := sampleContact()
	withExtras.Properties["webinar"] = str("yes")           // a rule hit
	withExtras.Properties["favourite_colour"] = str("blue") // a warning
	bare := &leadscorev1.Contact{Id: "C2", Properties: map[string]*leadscorev1.Value{"industry": str("Retail")}}
	bad := &leadscorev1.Contact{Id: "C3", Properties: map[string]*leadscorev1.Value{"visits": num(3), "employees": str("many")}}
	contacts := []*leadscorev1.Contact{withExtras, bare, bad}
	request := func(c *leadscorev1.Contact) *leadscorev1.PredictRequest {
		return &leadscorev1.PredictRequest{Model: "lead", Contact: c, AsOf: timestamppb.New(fixtureAsOf)}
	}

	// Expected answers: each contact alone, converted into a row of its own, not a pooled one.
	vs := fx.reg.snap.Load().models["lead"].versions[0]
	b := vs.bindingFor(fx.reg.rules.Load())
	want := make([]*leadscorev1.PredictResponse, len(contacts))
	for i, pc := range contacts {
		r := new(row)
		err := r.fill(b, pc)
		if err == nil {
			want[i], err = srv.scoreRow(vs, b, pc, r, fixtureAsOf, false, nil)
		}
		// want stays nil for bad: scoring it must fail every time.
		if (err != nil) != (pc == bad) {
			t.Fatalf("contact %d alone: %v", i, err)
		}
	}
	if m, w := want[1].GetManual(), want[1].GetWarnings(); m.GetScore() != 0 || len(w) != 1 || !strings.Contains(w[0].GetMessage(), "1 of the 5 properties") {
		t.Fatalf("bare contact: manual score %v, warnings %v; want 0 and one saying 4 of 5 properties are missing", m.GetScore(), w)
	}

	check := func(t *testing.T, i int) {
		got, err := srv.Predict(context.Background(), request(contacts[i]))
		if want[i] == nil {
			if err == nil {
				t.Errorf("contact %d: no error, want one", i)
			}
			return
		}
		if err != nil {
			t.Errorf("contact %d: %v", i, err)
			return
		}
		if diff := cmp.Diff(want[i], got, protocmp.Transform()); diff != "" {
			t.Errorf("contact %d (-alone +in turn):\n%s", i, diff)
		}
	}
	t.Run("in turn", func(t *testing.T) {
		for round := range 3 {
			for i := range contacts {
				check(t, (i+round)%len(contacts))
			}
		}
	})
	t.Run("concurrent", func(t *testing.T) {
		var wg sync.WaitGroup
		for g := range 6 {
			wg.Go(func() {
				for k := range 20 {
					check(t, (g+k)%len(contacts))
				}
			})
		}
		wg.Wait()
	})
}

// TestOmitRuleHits checks that omit_rule_hits leaves out exactly manual.hits, in Predict, PredictBatch
// and PredictStream.
func TestOmitRuleHits(t *testing.T) {
	fx := newFixture(t, RegistryOptions{})
	client := leadscorev1.NewLeadScoringClient(startBufconn(t, mustServer(t, fx.reg, Options{})))
	ctx := context.Background()
	pc := sampleContact()
	pc.Properties["webinar"] = str("yes")
	full, err := client.Predict(ctx, &leadscorev1.PredictRequest{Model: "lead", Contact: pc, AsOf: timestamppb.New(fixtureAsOf)})
	if err != nil {
		t.Fatal(err)
	}
	if len(full.GetManual().GetHits()) != 3 {
		t.Fatalf("full response has %d rule hits, want 3 (one per rule of the fixture)", len(full.GetManual().GetHits()))
	}
	want := proto.Clone(full).(*leadscorev1.PredictResponse)
	want.Manual.Hits = nil

	tests := []struct {
		name string
		call func() (*leadscorev1.PredictResponse, error)
	}{
		{"Predict", func() (*leadscorev1.PredictResponse, error) {
			return client.Predict(ctx, &leadscorev1.PredictRequest{Model: "lead", Contact: pc, AsOf: timestamppb.New(fixtureAsOf), OmitRuleHits: true})
		}},
		{"PredictBatch", func() (*leadscorev1.PredictResponse, error) {
			r, err := client.PredictBatch(ctx, &leadscorev1.PredictBatchRequest{Model: "lead", Contacts: []*leadscorev1.Contact{pc}, AsOf: timestamppb.New(fixtureAsOf), OmitRuleHits: true})
			if err != nil {
				return nil, err
			}
			return r.GetResponses()[0], nil
		}},
		{"PredictStream", func() (*leadscorev1.PredictResponse, error) {
			s, err := client.PredictStream(ctx)
			if err != nil {
				return nil, err
			}
			if err := s.Send(&leadscorev1.PredictRequest{Model: "lead", Contact: pc, AsOf: timestamppb.New(fixtureAsOf), OmitRuleHits: true}); err != nil {
				return nil, err
			}
			if err := s.CloseSend(); err != nil {
				return nil, err
			}
			return s.Recv()
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.call()
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got, protocmp.Transform()); diff != "" {
				t.Errorf("with omit_rule_hits (-full without hits +got):\n%s", diff)
			}
		})
	}
}
