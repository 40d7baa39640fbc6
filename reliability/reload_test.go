package reliability

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"google.golang.org/grpc/codes"

	leadscorev1 "github.com/leadscore/leadscore/proto/leadscore/v1"
	"github.com/leadscore/leadscore/serve"
	"github.com/leadscore/leadscore/store"
)

// TestReloadStorm serves a steady load at about 70% of the measured capacity while new versions are
// published one after another, some broken in each way of breakages. It checks that no call fails,
// that only valid versions ever answer, that p99 during the storm stays within 1.5x of the steady p99,
// and that goroutines and the live heap end where they started.
//
// Quiet and storm windows alternate (publishing only in storm windows) and the latencies are pooled
// by kind, so that other work on the two shared cores, which drifts over minutes, weighs on both
// alike. The short run has three pairs of 1 s windows, publishes every 150 ms with every other
// version broken, and only logs the latency comparison: it runs beside other packages' tests, where
// a few seconds of samples say little. `make soak` has eight pairs of 13 s windows, publishes every
// second with one version in ten broken (104 publications, so every breakage occurs), and enforces
// the 1.5x bound.
func TestReloadStorm(t *testing.T) {
	a, contacts := mustTrained(t)
	model := validModelJSON(t, a)
	var (
		poll        = pick(50*time.Millisecond, 250*time.Millisecond)
		every       = pick(150*time.Millisecond, time.Second)
		brokenEvery = pick(2, 10)
		window      = pick(time.Second, 13*time.Second)
		pairs       = pick(3, 8)
		// keep bounds the version directories left in the store, as an operator's retention policy
		// would: the registry keeps every valid version it lists loaded.
		keep    = 10
		workers = 16
	)
	goroutines0, _ := settled()

	st := store.OpenDir(t.TempDir())
	var mu sync.Mutex
	valid := map[int64]bool{int64(mustPublish(t, st, a, 0)): true} // guarded by mu
	broken := map[int64]string{}                                   // guarded by mu
	p := startInproc(t, st, poll, serve.Options{})
	call := predictCall(p.client, contacts)

	capRun := capacity(call, 8, pick(500*time.Millisecond, 3*time.Second))
	rate := 0.7 * float64(capRun.Calls) / capRun.Elapsed.Seconds()
	t.Logf("capacity (8 closed-loop workers, client in the same process): %v; load at 70%%: %.0f calls/s", capRun, rate)
	run := func() *loadResult {
		return load{Workers: workers, Rate: rate, Calls: int(rate*window.Seconds()) + 1, Duration: window, Call: call}.run()
	}
	warm := run() // warms up; its heap is the reference
	goroutinesBefore, heapBefore := settled()

	pub := cloneArtifact(t, a) // only the publisher goroutine touches it
	var storming atomic.Bool
	stop := make(chan struct{})
	published := make(chan int, 1)
	go func() {
		n := 0
		defer func() { published <- n }()
		tick := time.NewTicker(every)
		defer tick.Stop()
		for i := 1; ; {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			if !storming.Load() {
				continue
			}
			if i%brokenEvery == 0 {
				b := breakages()[(i/brokenEvery-1)%len(breakages())]
				v, err := publishBroken(st, b, model)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				broken[int64(v)] = b.name
				mu.Unlock()
			} else {
				// Record the version as valid before it becomes visible.
				next := highestVersion(filepath.Join(st.Dir(), modelName)) + 1
				mu.Lock()
				valid[int64(next)] = true
				mu.Unlock()
				pub.Intercept = a.Intercept + 0.001*float64(i)
				if v, err := st.Publish(context.Background(), modelName, pub); err != nil || v != next {
					t.Errorf("published version %d (%v), want %d", v, err, next)
					return
				}
			}
			i++
			n++
			prune(t, st, keep)
		}
	}()
	storm := &loadResult{Codes: map[codes.Code]int{}, Versions: map[int64]int{}}
	quiet := &loadResult{Codes: map[codes.Code]int{}, Versions: map[int64]int{}}
	for range pairs {
		storming.Store(false)
		time.Sleep(3 * poll) // the registry takes in the last version before the quiet window
		quiet.merge(run())
		storming.Store(true)
		storm.merge(run())
	}
	storming.Store(false)
	close(stop)
	n := <-published
	time.Sleep(3 * poll)
	goroutinesAfter, heapAfter := settled()

	t.Logf("quiet windows: %v", quiet)
	t.Logf("storm windows, %d publications (%d broken): %v", n, len(broken), storm)
	for name, r := range map[string]*loadResult{"quiet": quiet, "storm": storm} {
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

	base := quiet.quantile(0.99)
	ratio := float64(storm.quantile(0.99)) / float64(base)
	t.Logf("p99 during the storm / steady p99 = %v / %v = %.2f (limit 1.5)", storm.quantile(0.99), base, ratio)
	if ratio > 1.5 {
		if soak { // wallclock: soak only
			t.Errorf("p99 during reloads %v is %.2fx the steady p99 %v, over 1.5x", storm.quantile(0.99), ratio, base)
		} else {
			t.Logf("over 1.5x, not enforced in the short run (see the doc comment)")
		}
	}

	// The heap is compared with the server running, the second time with keep versions loaded. The
	// test's own record of every call's latency (8 bytes a call, 13 MB in the soak run) is live at
	// the end and grows with the run's length, so it is left out of both figures.
	heapBefore -= min(heapBefore, latencyBytes(warm))
	heapAfter -= min(heapAfter, latencyBytes(warm)+latencyBytes(quiet)+latencyBytes(storm))
	t.Logf("live heap %.1f MB after the first quiet window, %.1f MB at the end, the test's latency records left out; goroutines %d and %d",
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
func prune(tb testing.TB, st *store.Store, keep int) {
	tb.Helper()
	dir := filepath.Join(st.Dir(), modelName)
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

// latencyBytes is the memory r's latency record holds.
func latencyBytes(r *loadResult) uint64 {
	return uint64(cap(r.Latency)) * uint64(unsafe.Sizeof(time.Duration(0)))
}
