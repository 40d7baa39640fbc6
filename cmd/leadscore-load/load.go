package main

import (
	"context"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	leadscorev1 "github.com/leadscore/leadscore/proto/leadscore/v1"
)

// predictor is the one call the load client makes; leadscorev1.LeadScoringClient fits it.
type predictor interface {
	Predict(ctx context.Context, in *leadscorev1.PredictRequest, opts ...grpc.CallOption) (*leadscorev1.PredictResponse, error)
}

var _ predictor = leadscorev1.LeadScoringClient(nil)

// Config bounds a load run. The zero value makes 1 worker send up to 1000 calls for up to 10 s.
type Config struct {
	// Concurrency is the number of workers, each with one call in flight; 0 means 1.
	Concurrency int
	// Calls is the most calls sent, counted over all workers; 0 means 1000.
	Calls int
	// Duration is how long workers start new calls; calls in flight then finish. 0 means 10 s.
	Duration time.Duration
	// Timeout is each call's deadline; 0 means 5 s.
	Timeout time.Duration
}

func (c Config) withDefaults() Config {
	if c.Concurrency <= 0 {
		c.Concurrency = 1
	}
	if c.Calls <= 0 {
		c.Calls = 1000
	}
	if c.Duration <= 0 {
		c.Duration = 10 * time.Second
	}
	if c.Timeout <= 0 {
		c.Timeout = 5 * time.Second
	}
	return c
}

// Result is what a load run measured.
type Result struct {
	Calls   int           // calls that completed, with or without an error
	Elapsed time.Duration // from the first call sent to the last one completed
	// Latencies of every completed call, sorted ascending.
	Latencies []time.Duration
	// Errors counts failed calls by gRPC code.
	Errors map[codes.Code]int
}

// Rate returns completed calls per second.
func (r Result) Rate() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Calls) / r.Elapsed.Seconds()
}

// Percentile returns the nearest-rank p-th percentile (0 < p <= 100) of the latencies, or 0 without any.
func (r Result) Percentile(p float64) time.Duration {
	n := len(r.Latencies)
	if n == 0 {
		return 0
	}
	i := int(math.Ceil(p/100*float64(n))) - 1
	return r.Latencies[min(max(i, 0), n-1)]
}

// Failed returns the number of calls that ended in an error.
func (r Result) Failed() int {
	n := 0
	for _, k := range r.Errors {
		n += k
	}
	return n
}

// Run sends req through p with cfg.Concurrency workers until cfg.Calls calls have been sent or
// cfg.Duration has passed, whichever comes first, or ctx ends.
func Run(ctx context.Context, p predictor, req *leadscorev1.PredictRequest, cfg Config) Result {
	cfg = cfg.withDefaults()
	var (
		sent     atomic.Int64
		wg       sync.WaitGroup
		mu       sync.Mutex // guards res
		res      = Result{Errors: map[codes.Code]int{}, Latencies: make([]time.Duration, 0, cfg.Calls)}
		start    = time.Now()
		deadline = start.Add(cfg.Duration)
	)
	for range cfg.Concurrency {
		wg.Go(func() {
			lat := make([]time.Duration, 0, cfg.Calls/cfg.Concurrency+1)
			errs := map[codes.Code]int{}
			for sent.Add(1) <= int64(cfg.Calls) && ctx.Err() == nil {
				t0 := time.Now()
				if t0.After(deadline) {
					break
				}
				cctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
				_, err := p.Predict(cctx, req)
				cancel()
				lat = append(lat, time.Since(t0))
				if err != nil {
					errs[status.Code(err)]++
				}
			}
			mu.Lock()
			res.Latencies = append(res.Latencies, lat...)
			for c, k := range errs {
				res.Errors[c] += k
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	res.Elapsed = time.Since(start)
	res.Calls = len(res.Latencies)
	slices.Sort(res.Latencies)
	return res
}
