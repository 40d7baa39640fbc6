package reliability

import (
	"context"
	"net/http"
	"regexp"
	"syscall"
	"testing"
	"time"

	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	leadscorev1 "github.com/leadscore/leadscore/proto/leadscore/v1"
	"github.com/leadscore/leadscore/store"
)

var restListening = regexp.MustCompile(`msg="serve: REST/JSON" addr=(\S+)`)

// TestShutdownDelay sends SIGTERM to `leadscore serve --shutdown-delay` while a client watches its
// health, and checks the order a load balancer needs: the watcher sees NOT_SERVING (and /readyz turns
// 503) first, then the port still accepts new connections and answers calls over gRPC and REST, and
// only then the process exits 0.
func TestShutdownDelay(t *testing.T) {
	a, contacts := mustTrained(t)
	root := t.TempDir()
	mustPublish(t, store.OpenDir(root), a, 0)
	// The delay bounds how long the checks after NOT_SERVING may take; it is long so that a loaded
	// machine still fits them in, and the test does not wait it out before checking.
	proc := startServe(t, root, nil, "--shutdown-delay", pick(5*time.Second, 20*time.Second).String(), "--drain", "2s", "--http-addr", "127.0.0.1:0")
	restAddr, ok := proc.find(restListening, 20*time.Second)
	if !ok {
		t.Fatalf("no REST listener in the log:\n%s", proc.stderr())
	}
	readyz := func() int {
		resp, err := http.Get("http://" + restAddr + "/readyz")
		if err != nil {
			t.Fatalf("/readyz: %v", err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := readyz(); got != http.StatusOK {
		t.Fatalf("/readyz before SIGTERM: %d, want 200", got)
	}

	watchConn := mustDial(t, proc.addr)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	watch, err := healthpb.NewHealthClient(watchConn).Watch(ctx, &healthpb.HealthCheckRequest{Service: leadscorev1.LeadScoring_ServiceDesc.ServiceName})
	if err != nil {
		t.Fatal(err)
	}
	if st, err := watch.Recv(); err != nil || st.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("first health status: %v %v, want SERVING", st, err)
	}
	if err := proc.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	st, err := watch.Recv()
	if err != nil || st.GetStatus() != healthpb.HealthCheckResponse_NOT_SERVING {
		t.Fatalf("health status after SIGTERM: %v %v, want NOT_SERVING while the port is open", st, err)
	}
	select {
	case <-proc.done:
		t.Fatalf("the process exited as health turned NOT_SERVING, before the shutdown delay:\n%s", proc.stderr())
	default:
	}
	// The port is still open: a new connection gets an answer, and REST answers too.
	fresh := leadscorev1.NewLeadScoringClient(mustDial(t, proc.addr))
	if _, err := fresh.Predict(ctx, &leadscorev1.PredictRequest{Model: modelName, Contact: contacts[0]}); err != nil {
		t.Errorf("Predict on a new connection during the shutdown delay: %v", err)
	}
	if got := readyz(); got != http.StatusServiceUnavailable {
		t.Errorf("/readyz during the shutdown delay: %d, want 503", got)
	}
	if !proc.wait(time.Minute) {
		t.Fatal("leadscore serve still running a minute after SIGTERM")
	}
	if got := proc.exitCode(); got != 0 {
		t.Errorf("exit code %d, want 0", got)
	}
}
