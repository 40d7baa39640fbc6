package serve

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	leadscorev1 "github.com/leadscore/leadscore/proto/leadscore/v1"
	"github.com/leadscore/leadscore/store"
)

// writeLabels replaces the labels file of "lead" by hand, as an operator's editor would.
func writeLabels(t *testing.T, fx *fixture, text string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(fx.st.Dir(), "lead", store.LabelsFile), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// storeError returns GetModel's store_error and serving version for "lead".
func storeError(t *testing.T, client leadscorev1.LeadScoringClient) (string, int64) {
	t.Helper()
	resp, err := client.GetModel(context.Background(), &leadscorev1.GetModelRequest{Name: "lead"})
	if err != nil {
		t.Fatal(err)
	}
	return resp.GetModel().GetStoreError(), resp.GetModel().GetServingVersion()
}

// TestDanglingLabels breaks the stable label in the ways issue 13 found (the version it names
// removed, hand-edited to a corrupt version, naming a version never published): the default never
// moves to another version (the canary), the last good default keeps serving, and the fault shows in
// GetModel's store_error and the metrics until a promote fixes the label.
func TestDanglingLabels(t *testing.T) {
	tests := []struct {
		name   string
		damage func(t *testing.T, fx *fixture, corrupt int)
		want   string // in store_error
	}{
		{"stable's version removed", func(t *testing.T, fx *fixture, _ int) {
			if err := os.RemoveAll(filepath.Join(fx.st.Dir(), "lead", "1")); err != nil {
				t.Fatal(err)
			}
		}, `label "stable" names version 1`},
		{"stable hand-edited to a failed version", func(t *testing.T, fx *fixture, corrupt int) {
			writeLabels(t, fx, "stable "+strconv.Itoa(corrupt)+"\ncanary 2\n")
		}, `label "stable" names version 3`},
		{"stable hand-edited to a version never published", func(t *testing.T, fx *fixture, _ int) {
			writeLabels(t, fx, "stable 9\ncanary 2\n")
		}, `label "stable" names version 9`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			promReg := prometheus.NewRegistry()
			fx := newFixture(t, RegistryOptions{Metrics: promReg})
			client := leadscorev1.NewLeadScoringClient(startBufconn(t, mustServer(t, fx.reg, Options{})))
			mustPublish(t, fx.st, "lead", mustArtifact(t, 0))
			corrupt := mustPublishCorrupt(t, fx.st, "lead")
			for label, v := range map[string]int{"stable": 1, "canary": 2} {
				if err := fx.st.SetLabel(context.Background(), "lead", label, v); err != nil {
					t.Fatal(err)
				}
			}
			fx.mustRefresh(t)
			if got := servedVersion(t, client, ""); got != 1 {
				t.Fatalf("with stable -> 1: served %d", got)
			}

			tt.damage(t, fx, corrupt)
			fx.mustRefresh(t)
			if got := servedVersion(t, client, ""); got != 1 {
				t.Errorf("default served %d after the stable label broke, want the last good, 1 (never the canary)", got)
			}
			if got := servedVersion(t, client, "canary"); got != 2 {
				t.Errorf("label canary served %d, want 2", got)
			}
			if got := servedVersion(t, client, "stable"); got != 1 {
				t.Errorf("label stable asked for by name served %d, want what the default serves, 1", got)
			}
			msg, serving := storeError(t, client)
			if !strings.Contains(msg, tt.want) || serving != 1 {
				t.Errorf("GetModel store_error %q serving %d; want it to say %q, serving 1", msg, serving, tt.want)
			}
			if got := metricValue(t, promReg, "leadscore_model_store_error", map[string]string{"model": "lead"}); got != 1 {
				t.Errorf("leadscore_model_store_error{lead} = %v, want 1", got)
			}
			if got := metricValue(t, promReg, "leadscore_model_serving_version", map[string]string{"model": "lead"}); got != 1 {
				t.Errorf("leadscore_model_serving_version{lead} = %v, want 1", got)
			}
			fx.mustRefresh(t) // a second look changes nothing
			if got := servedVersion(t, client, ""); got != 1 {
				t.Errorf("second refresh: default served %d, want 1", got)
			}

			if err := fx.st.Promote(context.Background(), "lead", 2); err != nil {
				t.Fatal(err)
			}
			fx.mustRefresh(t)
			if got := servedVersion(t, client, ""); got != 2 {
				t.Errorf("after promoting 2: served %d", got)
			}
			if msg, _ := storeError(t, client); msg != "" {
				t.Errorf("store_error %q after the label was fixed, want none", msg)
			}
			if got := metricValue(t, promReg, "leadscore_model_store_error", map[string]string{"model": "lead"}); got != 0 {
				t.Errorf("leadscore_model_store_error{lead} = %v after the fix, want 0", got)
			}
		})
	}
}

// TestDanglingLabelAtStart starts a registry on a store whose stable label names a failed version:
// nothing answers by default (NotFound saying why) rather than the highest version, a version asked
// for by number still answers, and the status says what is wrong.
func TestDanglingLabelAtStart(t *testing.T) {
	fx := newFixture(t, RegistryOptions{})
	mustPublish(t, fx.st, "lead", mustArtifact(t, 0))
	bad := mustPublishCorrupt(t, fx.st, "lead")
	writeLabels(t, fx, "stable "+strconv.Itoa(bad)+"\n")
	reg, err := NewRegistry(fx.st, RegistryOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := reg.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	client := leadscorev1.NewLeadScoringClient(startBufconn(t, mustServer(t, reg, Options{})))
	_, err = client.Predict(context.Background(), &leadscorev1.PredictRequest{Model: "lead", Contact: sampleContact()})
	if st := status.Convert(err); st.Code() != codes.NotFound || !strings.Contains(st.Message(), `label "stable" names version 3`) {
		t.Errorf("default with a dangling stable label: %v, want NotFound naming the label", err)
	}
	resp, err := client.Predict(context.Background(), &leadscorev1.PredictRequest{Model: "lead", Version: 2, Contact: sampleContact()})
	if err != nil || resp.GetModelVersion() != 2 {
		t.Errorf("version 2 by number: %v, %v", resp.GetModelVersion(), err)
	}
	if msg, serving := storeError(t, client); !strings.Contains(msg, "label") || serving != 0 {
		t.Errorf("GetModel store_error %q serving %d; want the label named and nothing serving by default", msg, serving)
	}
}

// TestModelRetired removes a model from the store while it serves: it keeps answering for
// RetireAfter (status and metrics say it is retiring, health still SERVING), then it is dropped:
// NotFound, gone from ListModels, and its health NOT_SERVING. A store that cannot be read at all
// retires nothing (see TestStoreVanishes in reliability).
func TestModelRetired(t *testing.T) {
	var now atomic.Int64
	now.Store(time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC).UnixNano())
	clock := func() time.Time { return time.Unix(0, now.Load()) }
	fx := newFixture(t, RegistryOptions{RetireAfter: time.Minute, Now: clock})
	// A second model keeps the store root non-empty and the server SERVING overall.
	mustPublish(t, fx.st, "other", mustArtifact(t, 0))
	fx.mustRefresh(t)
	conn := startBufconn(t, mustServer(t, fx.reg, Options{}))
	client := leadscorev1.NewLeadScoringClient(conn)
	health := healthpb.NewHealthClient(conn)

	if err := os.RemoveAll(filepath.Join(fx.st.Dir(), "lead")); err != nil {
		t.Fatal(err)
	}
	fx.mustRefresh(t)
	if got := servedVersion(t, client, ""); got != 1 {
		t.Errorf("just removed: served %d, want 1 until the grace period ends", got)
	}
	if msg, _ := storeError(t, client); !strings.Contains(msg, "retiring it") {
		t.Errorf("store_error %q, want it to say the model is retiring", msg)
	}
	now.Add(int64(59 * time.Second))
	fx.mustRefresh(t)
	if got := servedVersion(t, client, ""); got != 1 {
		t.Errorf("59s after removal: served %d, want 1", got)
	}
	if resp, err := health.Check(context.Background(), &healthpb.HealthCheckRequest{Service: "lead"}); err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Errorf("health of lead while retiring: %v %v, want SERVING", resp.GetStatus(), err)
	}

	now.Add(int64(2 * time.Second))
	fx.mustRefresh(t)
	_, err := client.Predict(context.Background(), &leadscorev1.PredictRequest{Model: "lead", Contact: sampleContact()})
	if status.Code(err) != codes.NotFound {
		t.Errorf("after the grace period: Predict %v, want NotFound", err)
	}
	if resp, err := health.Check(context.Background(), &healthpb.HealthCheckRequest{Service: "lead"}); err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_NOT_SERVING {
		t.Errorf("health of lead after retirement: %v %v, want NOT_SERVING", resp.GetStatus(), err)
	}
	list, err := client.ListModels(context.Background(), &leadscorev1.ListModelsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range list.GetModels() {
		if m.GetName() == "lead" {
			t.Errorf("ListModels still lists the retired model: %v", m)
		}
	}
	if _, err := client.Predict(context.Background(), &leadscorev1.PredictRequest{Model: "other", Contact: sampleContact()}); err != nil {
		t.Errorf("the other model: %v", err)
	}

	// Published again, it serves again.
	mustPublish(t, fx.st, "lead", mustArtifact(t, 0))
	fx.mustRefresh(t)
	if got := servedVersion(t, client, ""); got != 1 {
		t.Errorf("published again: served %d, want 1", got)
	}
}
