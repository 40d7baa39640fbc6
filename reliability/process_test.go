package reliability

import (
	"context"
	"errors"
	"io"
	"regexp"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	leadscorev1 "github.com/leadscore/leadscore/proto/leadscore/v1"
	"github.com/leadscore/leadscore/store"
)

// streamEnd is how a stream ended: after n answers, with err (nil when the caller stopped it), at a time.
type streamEnd struct {
	n   int
	err error
	at  time.Time
}

// streamer keeps a PredictStream busy, one message at a time, until the stream breaks or stop closes.
func streamer(client leadscorev1.LeadScoringClient, contact *leadscorev1.Contact, stop <-chan struct{}) streamEnd {
	stream, err := client.PredictStream(context.Background())
	if err != nil {
		return streamEnd{0, err, time.Now()}
	}
	n := 0
	for !stopped(stop) {
		if err := stream.Send(&leadscorev1.PredictRequest{Model: modelName, Contact: contact}); err != nil {
			// Send reports io.EOF when the stream broke; Recv has the status.
			if errors.Is(err, io.EOF) {
				_, err = stream.Recv()
			}
			return streamEnd{n, err, time.Now()}
		}
		if _, err := stream.Recv(); err != nil {
			return streamEnd{n, err, time.Now()}
		}
		n++
	}
	_ = stream.CloseSend()
	return streamEnd{n, nil, time.Now()}
}

// TestShutdownUnderLoad sends SIGTERM to `leadscore serve` while unary calls, batches and streams are
// in flight: every unary call succeeds or fails with Unavailable, streams still open when the drain
// time runs out end with Unavailable, nothing outlasts the drain time, and the process exits 0.
func TestShutdownUnderLoad(t *testing.T) {
	a, contacts := mustTrained(t)
	root := t.TempDir()
	mustPublish(t, store.OpenDir(root), a, 0)
	drain := pick(2*time.Second, 3*time.Second)
	proc := startServe(t, root, nil, "--drain", drain.String())
	conn := mustDial(t, proc.addr)
	client := leadscorev1.NewLeadScoringClient(conn)

	stop := make(chan struct{})
	var wg sync.WaitGroup
	var unary, batch *loadResult
	// SIGTERM goes only after both kinds of call have succeeded once (ordering, not a guess at how long
	// a 1,000-contact batch takes on a loaded machine).
	firstUnary, firstBatch := make(chan struct{}), make(chan struct{})
	var unaryOK, batchOK sync.Once
	wg.Add(2)
	go func() {
		defer wg.Done()
		call := predictCall(client, contacts)
		unary = load{Workers: 8, Calls: 1 << 30, Duration: time.Minute, Stop: stop, Call: func(ctx context.Context, i int) (int64, error) {
			v, err := call(ctx, i)
			if err == nil {
				unaryOK.Do(func() { close(firstUnary) })
			}
			return v, err
		}}.run()
	}()
	go func() {
		defer wg.Done()
		req := &leadscorev1.PredictBatchRequest{Model: modelName}
		for i := range 1000 {
			req.Contacts = append(req.Contacts, contacts[i%len(contacts)])
		}
		batch = load{Workers: 2, Calls: 1 << 30, Duration: time.Minute, Stop: stop, Call: func(ctx context.Context, _ int) (int64, error) {
			resp, err := client.PredictBatch(ctx, req)
			if err != nil {
				return 0, err
			}
			batchOK.Do(func() { close(firstBatch) })
			return resp.GetResponses()[0].GetModelVersion(), nil
		}}.run()
	}()
	// Streams run until the server ends them: stopped with the unary load, a stream whose goroutine was
	// paused past the exit would report a clean stop instead of the Unavailable it is owed. Their own stop
	// only frees them when the test fails before the server exits.
	ends, streamStop := make(chan streamEnd, 2), make(chan struct{})
	t.Cleanup(func() { close(streamStop) })
	for range 2 {
		go func() { ends <- streamer(client, contacts[0], streamStop) }()
	}

	time.Sleep(pick(time.Second, 5*time.Second))
	for _, first := range []chan struct{}{firstUnary, firstBatch} {
		select {
		case <-first:
		case <-time.After(time.Minute):
			close(stop)
			wg.Wait()
			t.Fatalf("no call succeeded within a minute of load: Predict %v; PredictBatch %v", unary, batch)
		}
	}
	sent := time.Now()
	if err := proc.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	exited := proc.wait(drain + 3*time.Second)
	took := time.Since(sent)
	time.Sleep(200 * time.Millisecond) // calls after the exit must fail fast with Unavailable too
	close(stop)
	wg.Wait()
	if !exited {
		t.Fatalf("leadscore serve still running %v after SIGTERM (drain %v)", took, drain)
	}
	t.Logf("exited %v after SIGTERM with code %d (drain %v)", took.Round(time.Millisecond), proc.exitCode(), drain)
	if got := proc.exitCode(); got != 0 {
		t.Errorf("exit code %d, want 0", got)
	}
	for name, r := range map[string]*loadResult{"Predict": unary, "PredictBatch of 1000": batch} {
		t.Logf("%s: %v", name, r)
		for c, n := range r.Codes {
			if c != codes.OK && c != codes.Unavailable {
				t.Errorf("%s: %d calls ended with %v, want only OK or Unavailable: %v", name, n, c, r.Errors)
			}
		}
		if r.OK == 0 {
			t.Errorf("%s: no call succeeded before the shutdown", name)
		}
	}
	for range 2 {
		e := <-ends
		t.Logf("stream: %d answers, ended %v after SIGTERM with %v", e.n, e.at.Sub(sent).Round(time.Millisecond), e.err)
		if status.Code(e.err) != codes.Unavailable {
			t.Errorf("stream ended with %v, want Unavailable", e.err)
		}
	}
}

var portOf = regexp.MustCompile(`:(\d+)$`)

// TestRestartAfterKill kills `leadscore serve` with SIGKILL under load and starts it again on the
// same port: calls meanwhile fail only with Unavailable, or DeadlineExceeded when a call waited for a
// connection attempt to the restarting server longer than its 2 s deadline, and once health says
// SERVING (asked on the client's own connection) the next call succeeds.
func TestRestartAfterKill(t *testing.T) {
	a, contacts := mustTrained(t)
	root := t.TempDir()
	mustPublish(t, store.OpenDir(root), a, 0)
	proc := startServe(t, root, nil)
	port, err := strconv.Atoi(portOf.FindStringSubmatch(proc.addr)[1])
	if err != nil {
		t.Fatal(err)
	}
	conn := mustDial(t, proc.addr)
	client := leadscorev1.NewLeadScoringClient(conn)
	health := healthpb.NewHealthClient(conn)

	stop := make(chan struct{})
	done := make(chan *loadResult, 1)
	go func() {
		done <- load{Workers: 4, Rate: 300, Calls: 1 << 30, Duration: 2 * time.Minute, Timeout: 2 * time.Second,
			Call: predictCall(client, contacts), Stop: stop}.run()
	}()
	defer func() {
		if !stopped(stop) {
			close(stop)
			<-done
		}
	}()
	for cycle := range pick(1, 3) {
		time.Sleep(time.Second)
		if err := proc.cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		if !proc.wait(5 * time.Second) {
			t.Fatal("leadscore serve outlived SIGKILL by 5s")
		}
		killed := time.Now()
		proc = startServe(t, root, nil, "--addr", "127.0.0.1:"+strconv.Itoa(port))
		ready := waitFor(20*time.Second, func() bool {
			st, err := healthStatus(health)
			return err == nil && st == healthpb.HealthCheckResponse_SERVING
		})
		if !ready {
			t.Fatalf("cycle %d: not SERVING within 20s of the restart", cycle)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_, err := client.Predict(ctx, &leadscorev1.PredictRequest{Model: modelName, Contact: contacts[0]})
		cancel()
		t.Logf("cycle %d: SERVING %v after the kill; first call: %v", cycle, time.Since(killed).Round(time.Millisecond), err)
		if err != nil {
			t.Errorf("cycle %d: first call after readiness: %v", cycle, err)
		}
	}
	time.Sleep(time.Second)
	close(stop)
	res := <-done
	t.Logf("load over the restarts: %v", res)
	for c, n := range res.Codes {
		if c != codes.OK && c != codes.Unavailable && c != codes.DeadlineExceeded {
			t.Errorf("%d calls ended with %v, want only OK, Unavailable or DeadlineExceeded: %v", n, c, res.Errors)
		}
	}
}
