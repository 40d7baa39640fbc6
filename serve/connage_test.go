package serve

import (
	"context"
	"io"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	leadscorev1 "github.com/leadscore/leadscore/proto/leadscore/v1"
)

// countingListener counts the connections it accepts.
type countingListener struct {
	net.Listener
	accepted atomic.Int32
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.accepted.Add(1)
	}
	return c, err
}

// TestMaxConnectionAge checks that with MaxConnectionAge a client that keeps calling is moved to a
// new connection (which is what lets a Kubernetes Service spread it over new replicas) without a
// failed call, and that a stream open across the age finishes on its old connection; without the
// option the client keeps its one connection.
func TestMaxConnectionAge(t *testing.T) {
	for _, tt := range []struct {
		name          string
		age           time.Duration
		wantReconnect bool
	}{
		{"off", 0, false},
		{"age=100ms", 100 * time.Millisecond, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			fx := newFixture(t, RegistryOptions{})
			srv := mustServer(t, fx.reg, Options{MaxConnectionAge: tt.age})
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			lis := &countingListener{Listener: l}
			go func() { _ = srv.Serve(lis) }()
			t.Cleanup(func() { srv.Shutdown(time.Second) })
			conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { conn.Close() })
			client := leadscorev1.NewLeadScoringClient(conn)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			req := &leadscorev1.PredictRequest{Model: "lead", Contact: sampleContact()}

			stream, err := client.PredictStream(ctx)
			if err != nil {
				t.Fatal(err)
			}
			roundTrip := func() {
				t.Helper()
				if err := stream.Send(req); err != nil {
					t.Fatalf("stream send: %v", err)
				}
				if _, err := stream.Recv(); err != nil {
					t.Fatalf("stream recv: %v", err)
				}
			}
			roundTrip()
			// At most 40 calls 25 ms apart: at least ten ages, so a second connection is certain
			// when the option is on; the loop stops as soon as one is accepted.
			calls := 0
			for i := 0; i < 40 && lis.accepted.Load() < 2; i++ {
				if _, err := client.Predict(ctx, req); err != nil {
					t.Fatalf("call %d: %v", i, err)
				}
				calls++
				time.Sleep(25 * time.Millisecond)
			}
			roundTrip()
			if err := stream.CloseSend(); err != nil {
				t.Fatal(err)
			}
			if _, err := stream.Recv(); err != io.EOF {
				t.Fatalf("stream end: got %v, want EOF", err)
			}
			if got := lis.accepted.Load() >= 2; got != tt.wantReconnect {
				t.Errorf("%d connections accepted over %d calls; want a reconnect: %v", lis.accepted.Load(), calls, tt.wantReconnect)
			}
		})
	}
}
