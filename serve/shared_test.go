package serve

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/timestamppb"

	leadscorev1 "github.com/leadscore/leadscore/proto/leadscore/v1"
)

// TestSharedRuleHitsConcurrent has many callers score contacts whose rule hits repeat, over gRPC, at
// once: the answers share rule hit messages (see manualToProto), which gRPC sizes and marshals for
// several calls at a time. Every answer must equal the one a fresh server gives for its contact; run
// with -race it also checks that sharing them writes nothing unguarded.
func TestSharedRuleHitsConcurrent(t *testing.T) {
	contacts := make([]*leadscorev1.Contact, 6)
	for i := range contacts {
		pc := sampleContact()
		pc.Properties["visits"] = num(float64(i % 3)) // three outcomes of the Visits rule
		if i%2 == 0 {
			pc.Properties["industry"] = str("Retail")
		}
		contacts[i] = pc
	}
	request := func(pc *leadscorev1.Contact) *leadscorev1.PredictRequest {
		return &leadscorev1.PredictRequest{Model: "lead", Contact: pc, AsOf: timestamppb.New(fixtureAsOf)}
	}
	// What each contact's answer is, from a server that has shared nothing yet.
	want := make([]*leadscorev1.PredictResponse, len(contacts))
	for i, pc := range contacts {
		fx := newFixture(t, RegistryOptions{RulesFile: filepath.Join("..", "testdata", "rules.yaml")})
		resp, err := mustServer(t, fx.reg, Options{}).Predict(context.Background(), request(pc))
		if err != nil {
			t.Fatal(err)
		}
		if len(resp.GetManual().GetHits()) == 0 {
			t.Fatal("no rule hits")
		}
		want[i] = resp
	}

	fx := newFixture(t, RegistryOptions{RulesFile: filepath.Join("..", "testdata", "rules.yaml")})
	client := leadscorev1.NewLeadScoringClient(startBufconn(t, mustServer(t, fx.reg, Options{})))
	const callers, calls = 8, 60
	var wg sync.WaitGroup
	errs := make(chan string, callers)
	for g := range callers {
		wg.Go(func() {
			for n := range calls {
				i := (g + n) % len(contacts)
				got, err := client.Predict(context.Background(), request(contacts[i]))
				if err != nil {
					errs <- err.Error()
					return
				}
				if diff := cmp.Diff(want[i], got, protocmp.Transform()); diff != "" {
					errs <- fmt.Sprintf("contact %d (-want +got):\n%s", i, diff)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}
