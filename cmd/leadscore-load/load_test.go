package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	leadscorev1 "github.com/leadscore/leadscore/proto/leadscore/v1"
)

// fakePredictor answers with fn.
type fakePredictor struct {
	fn func() error
}

func (f fakePredictor) Predict(context.Context, *leadscorev1.PredictRequest, ...grpc.CallOption) (*leadscorev1.PredictResponse, error) {
	if err := f.fn(); err != nil {
		return nil, err
	}
	return &leadscorev1.PredictResponse{}, nil
}

func TestPercentile(t *testing.T) {
	hundred := make([]time.Duration, 100)
	for i := range hundred {
		hundred[i] = time.Duration(i+1) * time.Millisecond
	}
	// Nearest rank: the smallest latency with at least p% of the calls at or below it (computed by hand).
	tests := []struct {
		name      string
		latencies []time.Duration
		p         float64
		want      time.Duration
	}{
		{"none", nil, 50, 0},
		{"one", []time.Duration{7}, 99, 7},
		{"p50 of 100", hundred, 50, 50 * time.Millisecond},
		{"p99 of 100", hundred, 99, 99 * time.Millisecond},
		{"p99.5 of 100", hundred, 99.5, 100 * time.Millisecond},
		{"max of 100", hundred, 100, 100 * time.Millisecond},
		{"tiny p of 100", hundred, 0.1, time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := (Result{Latencies: tt.latencies}).Percentile(tt.p); got != tt.want {
				t.Errorf("Percentile(%v) = %v, want %v", tt.p, got, tt.want)
			}
		})
	}
}

func TestRun(t *testing.T) {
	tests := []struct {
		name       string
		cfg        Config
		fail       func(n int64) error // the error of the n-th call (from 1)
		sleep      time.Duration       // how long each call takes
		minCalls   int                 // completed calls wanted, at least
		maxCalls   int                 // and at most
		wantErrors map[codes.Code]int
	}{
		{
			name:       "bounded by calls",
			cfg:        Config{Concurrency: 7, Calls: 500, Duration: time.Minute},
			fail:       func(int64) error { return nil },
			minCalls:   500,
			maxCalls:   500,
			wantErrors: map[codes.Code]int{},
		},
		{
			name: "errors counted by code",
			cfg:  Config{Concurrency: 3, Calls: 90, Duration: time.Minute},
			fail: func(n int64) error {
				switch n % 3 {
				case 0:
					return status.Error(codes.NotFound, "no model")
				case 1:
					return status.Error(codes.ResourceExhausted, "busy")
				}
				return nil
			},
			minCalls:   90,
			maxCalls:   90,
			wantErrors: map[codes.Code]int{codes.NotFound: 30, codes.ResourceExhausted: 30},
		},
		{
			name:  "bounded by time",
			cfg:   Config{Concurrency: 4, Calls: 1_000_000, Duration: 100 * time.Millisecond},
			fail:  func(int64) error { return nil },
			sleep: 5 * time.Millisecond,
			// Each worker starts calls until the duration is over: at most 100/5 + 1 each.
			minCalls:   4,
			maxCalls:   4 * (100/5 + 1),
			wantErrors: map[codes.Code]int{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var n atomic.Int64
			p := fakePredictor{fn: func() error {
				time.Sleep(tt.sleep)
				return tt.fail(n.Add(1))
			}}
			got := Run(context.Background(), p, &leadscorev1.PredictRequest{}, tt.cfg)
			if got.Calls < tt.minCalls || got.Calls > tt.maxCalls {
				t.Errorf("%d calls in %v, want %d to %d calls", got.Calls, got.Elapsed, tt.minCalls, tt.maxCalls)
			}
			if len(got.Latencies) != got.Calls {
				t.Errorf("%d latencies for %d calls", len(got.Latencies), got.Calls)
			}
			if len(got.Errors) != len(tt.wantErrors) {
				t.Errorf("errors %v, want %v", got.Errors, tt.wantErrors)
			}
			for c, k := range tt.wantErrors {
				if got.Errors[c] != k {
					t.Errorf("errors %v, want %v", got.Errors, tt.wantErrors)
				}
			}
			if got.Failed() != sum(tt.wantErrors) {
				t.Errorf("Failed() = %d, want %d", got.Failed(), sum(tt.wantErrors))
			}
			for i := 1; i < len(got.Latencies); i++ {
				if got.Latencies[i] < got.Latencies[i-1] {
					t.Fatalf("latencies not sorted at %d", i)
				}
			}
		})
	}
}

func sum(m map[codes.Code]int) int {
	n := 0
	for _, k := range m {
		n += k
	}
	return n
}

// constServer answers every Predict with the same response.
type constServer struct {
	leadscorev1.UnimplementedLeadScoringServer
}

func (constServer) Predict(context.Context, *leadscorev1.PredictRequest) (*leadscorev1.PredictResponse, error) {
	return &leadscorev1.PredictResponse{Model: "m", Probability: 0.5}, nil
}

func TestCommand(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	leadscorev1.RegisterLeadScoringServer(srv, constServer{})
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	req := filepath.Join(t.TempDir(), "request.json")
	if err := os.WriteFile(req, []byte(`{"model": "m", "contact": {"properties": {"visits": {"numberValue": 3}}}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := lis.Addr().String()

	t.Run("json", func(t *testing.T) {
		var out bytes.Buffer
		if err := run(context.Background(), []string{"--addr", addr, "--request", req, "-c", "4", "-n", "300", "-z", "30s", "--warmup", "20", "--json"}, &out, &bytes.Buffer{}); err != nil {
			t.Fatal(err)
		}
		var got jsonResult
		if err := json.Unmarshal(out.Bytes(), &got); err != nil {
			t.Fatalf("%v\n%s", err, out.String())
		}
		if got.Calls != 300 || got.Failed != 0 || got.Concurrency != 4 || !(got.Rate > 0) || !(got.P50 > 0 && got.P50 <= got.P99 && got.P99 <= got.Max) {
			t.Errorf("result %+v, want 300 calls, none failed, 0 < p50 <= p99 <= max", got)
		}
	})
	t.Run("text", func(t *testing.T) {
		var out bytes.Buffer
		if err := run(context.Background(), []string{"--addr", addr, "--request", req, "-c", "2", "-n", "50", "--warmup", "0"}, &out, &bytes.Buffer{}); err != nil {
			t.Fatal(err)
		}
		if got := out.String(); !strings.HasPrefix(got, "50 calls with 2 workers") || !strings.Contains(got, "p99") {
			t.Errorf("output %q", got)
		}
	})

	errs := []struct {
		name string
		args []string
		want string
	}{
		{"not loopback", []string{"--addr", "10.1.2.3:50051", "--request", req}, "not loopback"},
		{"no request", []string{"--addr", addr}, "--request"},
		{"zero calls", []string{"--addr", addr, "--request", req, "-n", "0"}, "positive"},
		{"bad request file", []string{"--addr", addr, "--request", filepath.Join(t.TempDir(), "missing.json")}, "missing.json"},
	}
	for _, tt := range errs {
		t.Run(tt.name, func(t *testing.T) {
			err := run(context.Background(), tt.args, &bytes.Buffer{}, &bytes.Buffer{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("run(%q) = %v, want an error containing %q", tt.args, err, tt.want)
			}
		})
	}
}
