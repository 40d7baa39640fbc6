package reliability

import (
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/leadscore/leadscore/models"
	leadscorev1 "github.com/leadscore/leadscore/proto/leadscore/v1"
	"github.com/leadscore/leadscore/serve"
)

// TestReloadStorm serves a steady load at about 70% of the measured capacity while new versions are
// published one after another, some broken in each way of breakages. It checks that no call fails,
// that only valid versions ever answer, that p99 during the storm stays within 1.5x of the p99 of the
// steady phases around it, and that goroutines and the live heap end where they started.
//
// The short run publishes every 200 ms for 4 s with every other version broken and only logs the
// latency comparison: it runs beside other packages' tests on two shared cores, where a few seconds
// of samples say little. `make soak` publishes every second for 90 s, one version in ten broken, and
// enforces the 1.5x bound.
func TestReloadStorm(t *testing.T) {
	a, contacts := mustTrained(t)
	model := validModelJSON(t, a)
	var (
		poll        = pick(50*time.Millisecond, 250*time.Millisecond)
		every       = pick(200*time.Millisecond, time.Second)
		brokenEvery = pick(2, 10)
		steadyFor   = pick(2*time.Second, 20*time.Second)
		stormFor    = pick(4*time.Second, 90*time.Second)
		// keep bounds the version directories left in the store, as an operator's retention policy
		// would: the registry keeps every valid version it lists loaded (see the heap figures).
		keep    = 10
		workers = 16
	)
	goroutines0, _ := settled()

	store := &models.Store{Root: t.TempDir()}
	var mu sync.Mutex
	valid := map[int64]bool{int64(mustPublish(t, store, a, 0)): true} // guarded by mu
	broken := map[int64]string{}                                      // guarded by mu
	p := startInproc(t, store, poll, serve.Options{})
	call := predictCall(p.client, contacts)

	capRun := capacity(call, 8, pick(time.Second, 3*time.Second))
	rate := 0.7 * float64(capRun.Calls) / capRun.Elapsed.Seconds()
	t.Logf("capacity (8 closed-loop workers, client in the same process): %v; load at 70%%: %.0f calls/s", capRun, rate)
	steady := func() *loadResult {
		return load{Workers: workers, Rate: rate, Calls: int(rate*steadyFor.Seconds()) + 1, Duration: steadyFor, Call: call}.run()
	}

	before := steady()
	goroutinesBefore, heapBefore := settled()

	pub := cloneArtifact(t, a) // only the publisher goroutine touches it
	stop := make(chan struct{})
	published := make(chan int, 1)
	go func() {
		defer close(published)
		n := 0
		tick := time.NewTicker(every)
		defer tick.Stop()
		for i := 1; ; i++ {
			select {
			case <-stop:
				published <- n
				return
			case <-tick.C:
			}
			if i%brokenEvery == 0 {
				b := breakages()[(i/brokenEvery-1)%len(breakages())]
				v, err := publishBroken(store, b, model)
				if err != nil {
					t.Error(err)
					continue
				}
				mu.Lock()
				broken[int64(v)] = b.name
				mu.Unlock()
			} else {
				// Record the version as valid before it becomes visible.
				next := highestVersion(filepath.Join(store.Root, modelName)) + 1
				mu.Lock()
				valid[int64(next)] = true
				mu.Unlock()
				pub.Intercept = a.Intercept + 0.001*float64(i)
				if v, err := store.Publish(modelName, pub); err != nil || v != next {
					t.Errorf("published version %d (%v), want %d", v, err, next)
				}
			}
			n++
			prune(t, store, keep)
		}
	}()
	storm := load{Workers: workers, Rate: rate, Calls: int(rate*stormFor.Seconds()) + 1, Duration: stormFor, Call: call}.run()
	close(stop)
	n := <-published
	// Let the registry see the last version before the final checks.
	time.Sleep(3 * poll)
	after := steady()
	goroutinesAfter, heapAfter := settled()

	t.Logf("steady before: %v", before)
	t.Logf("during %d publications (%d broken): %v", n, len(broken), storm)
	t.Logf("steady after:  %v", after)
	for name, r := range map[string]*loadResult{"steady before": before, "storm": storm, "steady after": after} {
		if r.failures() > 0 {
			t.Errorf("%s: %d of %d calls failed: %v", name, r.failures(), r.Calls, r.Errors)
		}
		mu.Lock()
		for v := range r.Versions {
			if !valid[v] {
				t.Errorf("%s: version %d answered, but it is not a valid version (broken: %q)", name, v, broken[v])
			}
		}
		mu.Unlock()
	}
	t.Logf("versions that answered during the storm: %d", len(storm.Versions))
	if len(storm.Versions) < 2 {
		t.Errorf("only versions %v answered during the storm: the new versions were not picked up", storm.Versions)
	}

	m := mustGetModel(t, p)
	mu.Lock()
	highestValid := int64(0)
	for v := range valid {
		highestValid = max(highestValid, v)
	}
	for _, mv := range m.GetVersions() {
		v := mv.GetVersion()
		switch {
		case valid[v] && mv.GetStatus() != leadscorev1.VersionStatus_AVAILABLE:
			t.Errorf("valid version %d has status %v (%s)", v, mv.GetStatus(), mv.GetReason())
		case broken[v] != "" && (mv.GetStatus() != leadscorev1.VersionStatus_FAILED || mv.GetReason() == ""):
			t.Errorf("version %d (%s) has status %v reason %q, want FAILED with a reason", v, broken[v], mv.GetStatus(), mv.GetReason())
		}
	}
	mu.Unlock()
	if got := m.GetServingVersion(); got != highestValid {
		t.Errorf("serving version %d, want the highest valid %d", got, highestValid)
	}

	base := max(before.quantile(0.99), after.quantile(0.99))
	ratio := float64(storm.quantile(0.99)) / float64(base)
	t.Logf("p99 during the storm / steady p99 = %v / %v = %.2f (limit 1.5)", storm.quantile(0.99), base, ratio)
	if ratio > 1.5 {
		if soak {
			t.Errorf("p99 during reloads %v is %.2fx the steady p99 %v, over 1.5x", storm.quantile(0.99), ratio, base)
		} else {
			t.Logf("over 1.5x, not enforced in the short run (see the doc comment)")
		}
	}

	// The heap is compared with the server running, both times with keep versions loaded.
	t.Logf("live heap %.1f MB after the steady phase, %.1f MB after the storm; goroutines %d and %d",
		float64(heapBefore)/1e6, float64(heapAfter)/1e6, goroutinesBefore, goroutinesAfter)
	if limit := heapBefore + heapBefore/2 + 8<<20; heapAfter > limit {
		t.Errorf("live heap grew from %d to %d bytes over the storm (limit %d)", heapBefore, heapAfter, limit)
	}
	if goroutinesAfter > goroutinesBefore+5 {
		t.Errorf("goroutines grew from %d to %d over the storm", goroutinesBefore, goroutinesAfter)
	}
	p.close()
	if g, _ := settled(); g > goroutines0+3 {
		t.Errorf("%d goroutines after the server closed, %d before it started", g, goroutines0)
	}
}

// prune removes all but the newest keep version directories of the model.
func prune(tb testing.TB, store *models.Store, keep int) {
	tb.Helper()
	dir := filepath.Join(store.Root, modelName)
	high := highestVersion(dir)
	for v := high - keep; v > 0; v-- {
		path := filepath.Join(dir, strconv.Itoa(v))
		if _, err := os.Lstat(path); err != nil {
			break
		}
		// A version made unreadable is a directory too, so RemoveAll takes it whole.
		if err := os.RemoveAll(path); err != nil {
			tb.Error(err)
		}
	}
}
