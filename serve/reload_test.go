package serve

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	leadscorev1 "github.com/leadscore/leadscore/proto/leadscore/v1"
)

// servedVersion asks for the default version of "lead" and returns the version that answered.
func servedVersion(t *testing.T, client leadscorev1.LeadScoringClient, label string) int64 {
	t.Helper()
	resp, err := client.Predict(context.Background(), &leadscorev1.PredictRequest{Model: "lead", Label: label, Contact: sampleContact()})
	if err != nil {
		t.Fatal(err)
	}
	return resp.GetModelVersion()
}

// versionStatus returns the status and reason GetModel reports for one version of "lead".
func versionStatus(t *testing.T, client leadscorev1.LeadScoringClient, v int64) (leadscorev1.VersionStatus, string) {
	t.Helper()
	resp, err := client.GetModel(context.Background(), &leadscorev1.GetModelRequest{Name: "lead"})
	if err != nil {
		t.Fatal(err)
	}
	for _, mv := range resp.GetModel().GetVersions() {
		if mv.GetVersion() == v {
			return mv.GetStatus(), mv.GetReason()
		}
	}
	return leadscorev1.VersionStatus_VERSION_STATUS_UNSPECIFIED, ""
}

// metricValue returns the value of a metric with the given labels from reg, or -1 when absent.
func metricValue(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metrics:
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if want, ok := labels[lp.GetName()]; ok && want != lp.GetValue() {
					continue metrics
				}
			}
			switch {
			case m.GetGauge() != nil:
				return m.GetGauge().GetValue()
			case m.GetCounter() != nil:
				return m.GetCounter().GetValue()
			case m.GetHistogram() != nil:
				return float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return -1
}

// TestHotReload walks a model through new, corrupt, labelled and removed versions, one Refresh at a
// time, checking what is served, GetModel's status, health and metrics.
func TestHotReload(t *testing.T) {
	promReg := prometheus.NewRegistry()
	fx := newFixture(t, RegistryOptions{Metrics: promReg})
	conn := startBufconn(t, mustServer(t, fx.reg, Options{Metrics: promReg}))
	client := leadscorev1.NewLeadScoringClient(conn)
	health := healthpb.NewHealthClient(conn)

	if got := servedVersion(t, client, ""); got != 1 {
		t.Fatalf("served version %d, want 1", got)
	}
	mustPublish(t, fx.st, "lead", mustArtifact(t, 0))
	if got := servedVersion(t, client, ""); got != 1 {
		t.Errorf("before a refresh: served version %d, want 1", got)
	}
	fx.mustRefresh(t)
	if got := servedVersion(t, client, ""); got != 2 {
		t.Errorf("after publishing 2: served version %d, want 2", got)
	}

	bad := mustPublishCorrupt(t, fx.st, "lead")
	fx.mustRefresh(t)
	if got := servedVersion(t, client, ""); got != 2 {
		t.Errorf("after publishing a corrupt 3: served version %d, want 2", got)
	}
	if st, reason := versionStatus(t, client, int64(bad)); st != leadscorev1.VersionStatus_FAILED || reason == "" {
		t.Errorf("corrupt version: status %v reason %q, want FAILED with a reason", st, reason)
	}
	_, err := client.Predict(context.Background(), &leadscorev1.PredictRequest{Model: "lead", Version: int64(bad)})
	if st := status.Convert(err); st.Code() != codes.NotFound || !strings.Contains(st.Message(), "not available") {
		t.Errorf("pinning the corrupt version: got %v, want NotFound saying it is not available", err)
	}
	if got := metricValue(t, promReg, "leadscore_model_reloads_total", map[string]string{"model": "lead", "result": "failure"}); got != 1 {
		t.Errorf("reload failures %v, want 1", got)
	}
	fx.mustRefresh(t)
	if got := metricValue(t, promReg, "leadscore_model_reloads_total", map[string]string{"model": "lead", "result": "failure"}); got != 1 {
		t.Errorf("reload failures after a second look at the same corrupt version %v, want still 1", got)
	}
	if got := metricValue(t, promReg, "leadscore_model_versions_loaded", map[string]string{"model": "lead"}); got != 2 {
		t.Errorf("versions loaded %v, want 2", got)
	}

	// Labels: stable pins the default, canary is asked for by name.
	if err := fx.st.SetLabel(context.Background(), "lead", "stable", 1); err != nil {
		t.Fatal(err)
	}
	if err := fx.st.SetLabel(context.Background(), "lead", "canary", 2); err != nil {
		t.Fatal(err)
	}
	fx.mustRefresh(t)
	if got := servedVersion(t, client, ""); got != 1 {
		t.Errorf("with stable -> 1: served version %d, want 1", got)
	}
	if got := servedVersion(t, client, "canary"); got != 2 {
		t.Errorf("label canary: served version %d, want 2", got)
	}
	if err := os.Remove(filepath.Join(fx.st.Dir(), "lead", "labels")); err != nil {
		t.Fatal(err)
	}

	// Removing the newest versions falls back to the previous one.
	for _, v := range []int{bad, 2} {
		if err := os.RemoveAll(filepath.Join(fx.st.Dir(), "lead", strconv.Itoa(v))); err != nil {
			t.Fatal(err)
		}
	}
	fx.mustRefresh(t)
	if got := servedVersion(t, client, ""); got != 1 {
		t.Errorf("after removing 2 and 3: served version %d, want 1", got)
	}

	// Without any version left in the store (deleted, or a storage fault), the last good version
	// keeps serving, and the fault is counted and shown in the model's status (issue 7: never go dark
	// on a storage error, and say so).
	storeErrs := max(0, metricValue(t, promReg, "leadscore_store_errors_total", map[string]string{"model": "lead"})) // -1: not counted yet
	if err := os.RemoveAll(filepath.Join(fx.st.Dir(), "lead", "1")); err != nil {
		t.Fatal(err)
	}
	fx.mustRefresh(t)
	if got := servedVersion(t, client, ""); got != 1 {
		t.Errorf("with no version left in the store: served version %d, want the last good, 1", got)
	}
	for _, svc := range []string{"lead", ""} {
		resp, err := health.Check(context.Background(), &healthpb.HealthCheckRequest{Service: svc})
		if err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
			t.Errorf("health %q with the last good version kept: %v %v, want SERVING", svc, resp.GetStatus(), err)
		}
	}
	if got := metricValue(t, promReg, "leadscore_store_errors_total", map[string]string{"model": "lead"}); got != storeErrs+1 {
		t.Errorf("leadscore_store_errors_total{lead} = %v, want %v", got, storeErrs+1)
	}
	gm, err := client.GetModel(context.Background(), &leadscorev1.GetModelRequest{Name: "lead"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(gm.GetModel().GetStoreError(), "no servable version") || gm.GetModel().GetServingVersion() != 1 {
		t.Errorf("GetModel with no version left: store_error %q, serving %d; want the fault named and 1 serving",
			gm.GetModel().GetStoreError(), gm.GetModel().GetServingVersion())
	}
	// When a version comes back, the fault clears.
	mustPublish(t, fx.st, "lead", mustArtifact(t, 0))
	fx.mustRefresh(t)
	gm, err = client.GetModel(context.Background(), &leadscorev1.GetModelRequest{Name: "lead"})
	if err != nil {
		t.Fatal(err)
	}
	if e := gm.GetModel().GetStoreError(); e != "" {
		t.Errorf("store_error %q after a version was published again, want none", e)
	}
}

// TestRulesReload checks that a changed rules file is picked up and that one that does not parse is
// reported while the previous rules keep scoring.
func TestRulesReload(t *testing.T) {
	promReg := prometheus.NewRegistry()
	fx := newFixture(t, RegistryOptions{Metrics: promReg})
	client := leadscorev1.NewLeadScoringClient(startBufconn(t, mustServer(t, fx.reg, Options{})))
	manual := func() float64 {
		t.Helper()
		resp, err := client.Predict(context.Background(), &leadscorev1.PredictRequest{Model: "lead", Contact: sampleContact()})
		if err != nil {
			t.Fatal(err)
		}
		return resp.GetManual().GetScore()
	}
	if got := manual(); got != 70 {
		t.Fatalf("manual score %v, want 70 (Software 30 + visits 40)", got)
	}
	if err := os.WriteFile(fx.rules, []byte("rules: [oops"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := fx.reg.Refresh(context.Background()); err == nil {
		t.Error("Refresh with a broken rules file: no error")
	}
	if got := manual(); got != 70 {
		t.Errorf("after a broken rules file: manual score %v, want the previous rules' 70", got)
	}
	if got := metricValue(t, promReg, "leadscore_rules_reloads_total", map[string]string{"result": "failure"}); got != 1 {
		t.Errorf("rules reload failures %v, want 1", got)
	}
	changed := strings.Replace(fixtureRules, "points: 30", "points: 20", 1)
	if err := os.WriteFile(fx.rules, []byte(changed), 0o644); err != nil {
		t.Fatal(err)
	}
	fx.mustRefresh(t)
	if got := manual(); got != 60 {
		t.Errorf("after editing the rules: manual score %v, want 60", got)
	}
}

// TestRunPolls checks that Run picks up a new version by itself.
func TestRunPolls(t *testing.T) {
	fx := newFixture(t, RegistryOptions{Poll: 10 * time.Millisecond})
	client := leadscorev1.NewLeadScoringClient(startBufconn(t, mustServer(t, fx.reg, Options{})))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go fx.reg.Run(ctx)
	mustPublish(t, fx.st, "lead", mustArtifact(t, 0))
	deadline := time.Now().Add(5 * time.Second)
	for servedVersion(t, client, "") != 2 {
		if time.Now().After(deadline) {
			t.Fatal("version 2 not served 5s after publishing it")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestReloadUnderLoad publishes a new version, a corrupt one and another new one while clients call
// Predict without pause, and checks that no call fails and only valid versions answer.
func TestReloadUnderLoad(t *testing.T) {
	fx := newFixture(t, RegistryOptions{Poll: 5 * time.Millisecond})
	client := leadscorev1.NewLeadScoringClient(startBufconn(t, mustServer(t, fx.reg, Options{})))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go fx.reg.Run(ctx)
	// Artifacts are fitted before the clients start, so that publishing is quick.
	v2, v4 := mustArtifact(t, 0), mustArtifact(t, 0.5)

	// The clients call until the last version has answered (bounded by maxCalls and a minute): a fixed
	// number of calls could all be made before a loaded machine loads the last version.
	const clients, maxCalls = 4, 1_000_000
	var calls, failed atomic.Int64
	var mu sync.Mutex
	seen := map[int64]int{} // guarded by mu
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for calls.Add(1) <= maxCalls {
				select {
				case <-stop:
					return
				default:
				}
				resp, err := client.Predict(ctx, &leadscorev1.PredictRequest{Model: "lead", Contact: sampleContact()})
				if err != nil {
					if failed.Add(1) == 1 {
						t.Errorf("call failed during reload: %v", err)
					}
					continue
				}
				mu.Lock()
				seen[resp.GetModelVersion()]++
				mu.Unlock()
			}
		}()
	}
	time.Sleep(20 * time.Millisecond)
	mustPublish(t, fx.st, "lead", v2)
	time.Sleep(20 * time.Millisecond)
	bad := mustPublishCorrupt(t, fx.st, "lead")
	time.Sleep(20 * time.Millisecond)
	last := mustPublish(t, fx.st, "lead", v4)
	answered := func() bool {
		mu.Lock()
		defer mu.Unlock()
		return seen[int64(last)] >= 10
	}
	for deadline := time.Now().Add(time.Minute); !answered() && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	close(stop)
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	t.Logf("calls by version: %v, failed %d", seen, failed.Load())
	if failed.Load() != 0 {
		t.Errorf("%d calls failed", failed.Load())
	}
	for v := range seen {
		if v != 1 && v != 2 && v != int64(last) {
			t.Errorf("version %d answered; only 1, 2 and %d are valid (%d is corrupt)", v, last, bad)
		}
	}
	if seen[int64(last)] == 0 {
		t.Errorf("version %d never answered", last)
	}
}
