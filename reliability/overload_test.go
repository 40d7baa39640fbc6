package reliability

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/leadscore/leadscore/serve"
	"github.com/leadscore/leadscore/store"
)

// TestOverload offers twice the measured capacity of a server limited to 4 concurrent calls: nothing
// fails but with ResourceExhausted and health stays SERVING throughout.
//
// Capacity is what 4 closed-loop callers get; twice that rate is then offered by 64 paced callers.
// The limit counts calls from the moment the transport reads their headers (serve's tap) until they
// are answered, so a call waiting inside the server for a goroutine or the CPU holds a slot, and the
// excess is refused before it costs a decode or a handler. Two handlers: one that holds its slot 5 ms
// (an interceptor sleeps, standing for a heavy model) and a one-contact Predict (about 0.1 ms of
// scoring and 0.06 ms of gRPC). In both the excess must be shed and the admitted p99 must stay within
// 2x the p99 at capacity plus 5 ms. A latency bound is a performance figure, which depends on what
// else the machine runs: it is enforced only in `make soak` (15 s of load, run alone) and logged in the
// short run; the short run asserts what does not depend on speed (the excess shed, only OK or
// ResourceExhausted, health never leaving SERVING).
func TestOverload(t *testing.T) {
	a, contacts := mustTrained(t)
	const limit = 4
	slow := func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		if strings.HasPrefix(info.FullMethod, "/"+serve.ServiceName+"/") {
			time.Sleep(5 * time.Millisecond)
		}
		return h(ctx, req)
	}
	tests := []struct {
		name         string
		interceptors []grpc.UnaryServerInterceptor
		bounded      bool // the p99 bound is enforced (in make soak only)
	}{
		{"handler holds its slot 5 ms", []grpc.UnaryServerInterceptor{slow}, soak},
		{"one-contact Predict", nil, soak},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := store.OpenDir(t.TempDir())
			mustPublish(t, st, a, 0)
			p := startInproc(t, st, time.Hour, serve.Options{MaxConcurrent: limit, Interceptors: tt.interceptors})
			call := predictCall(p.client, contacts)
			capRun := capacity(call, limit, pick(500*time.Millisecond, 3*time.Second))
			rate := float64(capRun.OK) / capRun.Elapsed.Seconds()
			t.Logf("capacity (%d closed-loop callers): %v", limit, capRun)

			stop := make(chan struct{})
			var wg sync.WaitGroup
			var checks, notServing int
			wg.Add(1)
			go func() {
				defer wg.Done()
				for !stopped(stop) {
					st, err := healthStatus(p.health)
					checks++
					if err != nil || st != healthpb.HealthCheckResponse_SERVING {
						notServing++
						t.Errorf("health during overload: %v %v", st, err)
					}
					time.Sleep(100 * time.Millisecond)
				}
			}()
			d := pick(1500*time.Millisecond, 15*time.Second)
			over := load{Workers: 16 * limit, Rate: 2 * rate, Calls: int(2*rate*d.Seconds()) + 1, Duration: d, Call: call}.run()
			close(stop)
			wg.Wait()
			t.Logf("offered %.0f calls/s: %v", 2*rate, over)
			t.Logf("admitted %.0f calls/s, shed %d; health checked %d times, not SERVING %d",
				float64(over.OK)/over.Elapsed.Seconds(), over.Codes[codes.ResourceExhausted], checks, notServing)

			for c, n := range over.Codes {
				if c != codes.OK && c != codes.ResourceExhausted {
					t.Errorf("%d calls ended with %v, want only OK or ResourceExhausted: %v", n, c, over.Errors)
				}
			}
			if over.OK == 0 {
				t.Fatalf("no call was admitted")
			}
			bound := 2*capRun.quantile(0.99) + 5*time.Millisecond
			t.Logf("admitted p99 %v; p99 at capacity %v; bound %v", over.quantile(0.99), capRun.quantile(0.99), bound)
			if over.Codes[codes.ResourceExhausted] == 0 {
				t.Errorf("no call was shed at twice the capacity")
			}
			if !tt.bounded {
				return
			}
			if got := over.quantile(0.99); got > bound { // wallclock: soak only
				t.Errorf("admitted p99 %v, over the bound %v (2x the p99 at capacity %v, plus 5ms)", got, bound, capRun.quantile(0.99))
			}
		})
	}
}
