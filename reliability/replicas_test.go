package reliability

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/leadscore/leadscore/internal/s3test"
	leadscorev1 "github.com/leadscore/leadscore/proto/leadscore/v1"
	"github.com/leadscore/leadscore/serve"
	"github.com/leadscore/leadscore/store"
	"github.com/leadscore/leadscore/store/bucket"
)

// replicaLoad calls one replica from a few workers, each at a bounded rate, until stop, and records
// what it saw: calls, failures, the newest version answered and whether any worker saw the version
// go back.
type replicaLoad struct {
	mu       sync.Mutex
	calls    int
	failures []error
	newest   int64
	wentBack []string
}

func (r *replicaLoad) run(client leadscorev1.LeadScoringClient, contacts []*leadscorev1.Contact, workers int, stop <-chan struct{}, wg *sync.WaitGroup) {
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			last := int64(0)
			tick := time.NewTicker(10 * time.Millisecond) // 100 calls/s per worker at most
			defer tick.Stop()
			for i := w; ; i += workers {
				select {
				case <-stop:
					return
				case <-tick.C:
				}
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				resp, err := client.Predict(ctx, &leadscorev1.PredictRequest{Model: modelName, Contact: contacts[i%len(contacts)]})
				cancel()
				r.mu.Lock()
				r.calls++
				switch v := resp.GetModelVersion(); {
				case err != nil:
					r.failures = append(r.failures, err)
				case v < last:
					r.wentBack = append(r.wentBack, time.Now().Format("15:04:05.000"))
				default:
					last = v
					r.newest = max(r.newest, v)
				}
				r.mu.Unlock()
			}
		}()
	}
}

func (r *replicaLoad) newestVersion() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.newest
}

// TestReplicasOnS3 runs three `leadscore serve` processes on one s3:// store (versitygw) under a
// bounded load while new versions are published: each time, every replica answers the new version
// one poll interval (with its 20% jitter) plus a second after the publish, no call fails and no
// replica answers an older version after a newer one. Then the S3 server stops and the replicas
// keep answering from the last good version. Under LEADSCORE_SOAK=1 five versions are published
// instead of one.
func TestReplicasOnS3(t *testing.T) {
	a, contacts := mustTrained(t)
	srv := s3test.Start(t)
	srv.SetEnv(t) // inherited by the serve processes
	url := srv.URL("prod/models", "")
	ctx := context.Background()
	st, err := store.Open(ctx, url, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	mustPublish(t, st, a, 0)

	const poll = 500 * time.Millisecond
	converge := poll + poll/5 + time.Second
	loads := make([]*replicaLoad, 3)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := range loads {
		p := startServe(t, url, nil, "--poll", poll.String(), "--cache-dir", t.TempDir())
		loads[i] = &replicaLoad{}
		loads[i].run(leadscorev1.NewLeadScoringClient(mustDial(t, p.addr)), contacts, 2, stop, &wg)
	}
	stopped := false
	stopLoad := func() {
		if !stopped {
			close(stop)
			wg.Wait()
			stopped = true
		}
	}
	defer stopLoad()

	for round := range pick(1, 5) {
		time.Sleep(poll) // some load on the current version first
		v := mustPublish(t, st, a, 0.1*float64(round+1))
		time.Sleep(converge)
		for i, l := range loads {
			if got := l.newestVersion(); got != int64(v) {
				t.Errorf("replica %d answers version %d %v after version %d was published, want it", i, got, converge, v)
			}
		}
	}

	// The store goes away: every replica keeps answering the last good version.
	want := loads[0].newestVersion()
	srv.Stop()
	time.Sleep(3 * poll)
	before := make([]int, len(loads))
	for i, l := range loads {
		l.mu.Lock()
		before[i] = l.calls
		l.mu.Unlock()
	}
	time.Sleep(3 * poll)
	stopLoad()
	for i, l := range loads {
		t.Logf("replica %d: %d calls, %d failed, newest version %d", i, l.calls, len(l.failures), l.newest)
		if len(l.failures) > 0 {
			t.Errorf("replica %d: %d of %d calls failed, first: %v", i, len(l.failures), l.calls, l.failures[0])
		}
		if len(l.wentBack) > 0 {
			t.Errorf("replica %d answered an older version after a newer one %d times (at %v)", i, len(l.wentBack), l.wentBack)
		}
		if l.calls == before[i] {
			t.Errorf("replica %d answered no call with the store down", i)
		}
		if l.newest != want {
			t.Errorf("replica %d: newest version %d with the store down, want %d", i, l.newest, want)
		}
	}
}

// TestReloadStormS3 publishes versions into an s3:// store (versitygw) in quick succession, with an
// upload cut before its MANIFEST after every third, while a server polls it under a steady load: no
// call fails, every answer comes from a published version (never a cut one), and the newest is
// served at the end. The disk's storm with every breakage is TestReloadStorm; `make soak` runs both
// long.
func TestReloadStormS3(t *testing.T) {
	a, contacts := mustTrained(t)
	srv := s3test.Start(t)
	srv.SetEnv(t)
	url := srv.URL("storm", "")
	ctx := context.Background()
	st, err := store.Open(ctx, url, store.Options{CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	raw, err := bucket.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	published := map[int64]bool{int64(mustPublish(t, st, a, 0)): true}
	p := startInproc(t, st, pick(50*time.Millisecond, 250*time.Millisecond), serve.Options{})
	stop := background(t, predictCall(p.client, contacts))
	every := pick(100*time.Millisecond, time.Second)
	last := 0
	for i := 1; i <= pick(20, 100); i++ {
		time.Sleep(every)
		last = mustPublish(t, st, a, 0.001*float64(i))
		published[int64(last)] = true
		if i%3 == 0 { // a trainer dies after uploading model.json of the next number
			if err := raw.Write(ctx, fmt.Sprintf("%s/%d/%s", modelName, last+1, store.ModelFile), []byte(`{"format":1`), false); err != nil {
				t.Fatal(err)
			}
		}
	}
	if !waitFor(5*time.Second, func() bool { return mustGetModel(t, p).GetServingVersion() == int64(last) }) {
		t.Errorf("version %d not served at the end of the storm", last)
	}
	res := stop()
	t.Logf("load: %v; %d versions published", res, len(published))
	if res.failures() > 0 {
		t.Errorf("%d of %d calls failed: %v", res.failures(), res.Calls, res.Errors)
	}
	for v := range res.Versions {
		if !published[v] {
			t.Errorf("version %d answered, which was never published whole", v)
		}
	}
}
