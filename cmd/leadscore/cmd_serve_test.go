package main

import (
	"bytes"
	"context"
	"errors"
	"net"
	"regexp"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// lockedBuffer is a bytes.Buffer safe to write from the server's goroutines while the test reads it.
type lockedBuffer struct {
	mu  sync.Mutex // guards buf
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startServe runs `leadscore serve` with args on a loopback port until the test ends and returns
// the address it listens on, read from its log.
func startServe(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var stderr lockedBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...), &bytes.Buffer{}, &stderr)
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	listening := regexp.MustCompile(`msg="serve: listening" addr=(\S+)`)
	for range 500 {
		if m := listening.FindStringSubmatch(stderr.String()); m != nil {
			return m[1]
		}
		select {
		case err := <-done:
			t.Fatalf("serve ended: %v\n%s", err, stderr.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
	t.Fatalf("serve did not log its address:\n%s", stderr.String())
	return ""
}

// TestServeMaxConnectionAge checks that --max-connection-age reaches the server: a client that keeps
// calling is asked to reconnect, which it does without a failed call.
func TestServeMaxConnectionAge(t *testing.T) {
	addr := startServe(t, "--models", t.TempDir(), "--max-connection-age", "100ms")
	var dials atomic.Int32
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithContextDialer(func(ctx context.Context, a string) (net.Conn, error) {
			dials.Add(1)
			return (&net.Dialer{}).DialContext(ctx, "tcp", a)
		}))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	client := healthpb.NewHealthClient(conn)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	// At most 40 calls 25 ms apart, ten ages at least; stop at the first reconnect.
	for i := 0; i < 40 && dials.Load() < 2; i++ {
		if _, err := client.Check(ctx, &healthpb.HealthCheckRequest{}); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
		time.Sleep(25 * time.Millisecond)
	}
	if n := dials.Load(); n < 2 {
		t.Errorf("the client dialled %d times, want a reconnect after the connection's maximum age", n)
	}
}

func TestServeFlagErrors(t *testing.T) {
	for _, tt := range []struct {
		name string
		args []string
	}{
		{"negative max connection age", []string{"--max-connection-age", "-1s"}},
		{"max connection age not a duration", []string{"--max-connection-age", "5"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"serve", "--models", t.TempDir()}, tt.args...)
			err := run(context.Background(), args, &bytes.Buffer{}, &bytes.Buffer{})
			if !errors.As(err, new(usageError)) {
				t.Errorf("got %v, want a usage error", err)
			}
		})
	}
}
