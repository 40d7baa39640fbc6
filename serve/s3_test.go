package serve

import (
	"context"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/leadscore/leadscore/internal/s3test"
	leadscorev1 "github.com/leadscore/leadscore/proto/leadscore/v1"
	"github.com/leadscore/leadscore/store"
)

// idlePolls refreshes reg n times with nothing changed and returns the S3 requests and response
// bytes per poll, as the counting proxy saw them.
func idlePolls(t *testing.T, reg *Registry, c *s3test.Counter, n int) (requests, bytes float64) {
	t.Helper()
	r0, b0 := c.Requests.Load(), c.Bytes.Load()
	for range n {
		if err := reg.Refresh(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	return float64(c.Requests.Load()-r0) / float64(n), float64(c.Bytes.Load()-b0) / float64(n)
}

// TestS3Serving serves from S3 (versitygw, through a proxy that counts requests): new versions,
// labels and rollback reach the server; an idle poll costs the same small number of requests with
// 1 and with 20 versions; the store going away keeps the last good version serving with the fault in
// store_error and the metrics, and coming back clears it; a restarted server reads the versions it
// had from its cache instead of downloading them.
func TestS3Serving(t *testing.T) {
	ctx := context.Background()
	srv := s3test.Start(t)
	srv.SetEnv(t)
	counter := srv.Count(t)
	url := srv.URL("team/models", counter.Endpoint())
	cache := t.TempDir()
	st, err := store.Open(ctx, url, store.Options{CacheDir: cache})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	mustPublish(t, st, "lead", mustArtifact(t, -1))
	promReg := prometheus.NewRegistry()
	reg, err := NewRegistry(st, RegistryOptions{Metrics: promReg})
	if err != nil {
		t.Fatal(err)
	}
	b0 := counter.Bytes.Load()
	if err := reg.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	firstLoadBytes := counter.Bytes.Load() - b0
	client := leadscorev1.NewLeadScoringClient(startBufconn(t, mustServer(t, reg, Options{})))
	if got := servedVersion(t, client, ""); got != 1 {
		t.Fatalf("served %d, want 1", got)
	}

	req1, bytes1 := idlePolls(t, reg, counter, 5)
	for range 19 {
		mustPublish(t, st, "lead", mustArtifact(t, 0))
	}
	if err := reg.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if got := servedVersion(t, client, ""); got != 20 {
		t.Errorf("after publishing 19 more: served %d, want 20", got)
	}
	req20, bytes20 := idlePolls(t, reg, counter, 5)
	t.Logf("idle poll: %.1f requests, %.0f response bytes with 1 version; %.1f requests, %.0f bytes with 20", req1, bytes1, req20, bytes20)
	// The one request is a HEAD of the generation object (its Content-Length, counted here, is the
	// object's size, a few dozen bytes; no body travels).
	if req1 != 1 || req20 != 1 || bytes1 > 200 || bytes20 > 200 {
		t.Errorf("idle poll costs %.1f requests (%.0f bytes) with 1 version, %.1f (%.0f bytes) with 20; want one small request either way", req1, bytes1, req20, bytes20)
	}

	if err := st.Promote(ctx, "lead", 7); err != nil {
		t.Fatal(err)
	}
	if err := reg.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if got := servedVersion(t, client, ""); got != 7 {
		t.Errorf("after promoting 7: served %d", got)
	}
	if v, err := st.Rollback(ctx, "lead"); err != nil || v != 6 {
		t.Fatalf("Rollback() = %d, %v", v, err)
	}
	if err := reg.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if got := servedVersion(t, client, ""); got != 6 {
		t.Errorf("after rolling back: served %d, want 6", got)
	}

	// The store goes away: the last good version keeps answering and the status says why.
	srv.Stop()
	if err := reg.Refresh(ctx); err == nil {
		t.Error("Refresh with the store down: no error")
	}
	if got := servedVersion(t, client, ""); got != 6 {
		t.Errorf("store down: served %d, want the last good, 6", got)
	}
	if msg, serving := storeError(t, client); msg == "" || serving != 6 {
		t.Errorf("store down: store_error %q serving %d; want the fault shown and 6 serving", msg, serving)
	}
	if got := metricValue(t, promReg, "leadscore_model_store_error", map[string]string{"model": "lead"}); got != 1 {
		t.Errorf("store down: leadscore_model_store_error = %v, want 1", got)
	}
	srv.Restart()
	if err := st.DeleteLabel(ctx, "lead", "stable"); err != nil {
		t.Fatal(err)
	}
	if err := reg.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if msg, serving := storeError(t, client); msg != "" || serving != 20 {
		t.Errorf("store back: store_error %q serving %d; want none and 20", msg, serving)
	}

	// A restarted server (new store, same cache) reads the 20 versions it had from the cache: it
	// downloads far less than one without a cache.
	restart := func(cacheDir string) int64 {
		st2, err := store.Open(ctx, url, store.Options{CacheDir: cacheDir})
		if err != nil {
			t.Fatal(err)
		}
		defer st2.Close()
		reg2, err := NewRegistry(st2, RegistryOptions{})
		if err != nil {
			t.Fatal(err)
		}
		b0 := counter.Bytes.Load()
		if err := reg2.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
		return counter.Bytes.Load() - b0
	}
	cached, uncached := restart(cache), restart("")
	t.Logf("first load of 1 version: %d bytes from S3; restart with 20 versions: %d bytes with the cache, %d without", firstLoadBytes, cached, uncached)
	if cached*2 > uncached {
		t.Errorf("restart with every version cached read %d bytes from S3, without a cache %d; want under half", cached, uncached)
	}
}
