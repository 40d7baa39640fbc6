// Command leadscore-load sends Predict calls to a LeadScoring server on loopback from concurrent workers,
// bounded by a number of calls and a duration, and reports calls per second, latency percentiles and
// errors by code.
//
// It costs the machine less CPU per call than ghz, so on a small machine, where client and server share
// the cores, it measures the server more truly; it marshals and unmarshals with leadscore serve's codec
// (serve/codec, generated code) for the same reason.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"slices"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/encoding/protojson"

	leadscorev1 "github.com/leadscore/leadscore/proto/leadscore/v1"
	"github.com/leadscore/leadscore/serve/codec"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "leadscore-load:", err)
		os.Exit(1)
	}
}

// run executes one command line; tests call it directly.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("leadscore-load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:50051", "loopback address of the server")
	reqFile := fs.String("request", "", "the PredictRequest to send (protojson file; required)")
	var cfg Config
	fs.IntVar(&cfg.Concurrency, "c", 50, "concurrent workers, each with one call in flight")
	fs.IntVar(&cfg.Calls, "n", 20000, "most calls to send")
	fs.DurationVar(&cfg.Duration, "z", 10*time.Second, "most time to spend sending calls")
	fs.DurationVar(&cfg.Timeout, "timeout", 5*time.Second, "deadline of each call")
	warmup := fs.Int("warmup", 200, "calls sent first, with the same concurrency, and not counted")
	jsonOut := fs.Bool("json", false, "print the result as one JSON object")
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch {
	case fs.NArg() > 0:
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	case *reqFile == "":
		return errors.New("--request is required")
	case cfg.Concurrency <= 0 || cfg.Calls <= 0 || cfg.Duration <= 0 || cfg.Timeout <= 0 || *warmup < 0:
		return errors.New("-c, -n, -z and --timeout must be positive, --warmup not negative")
	}
	if err := checkLoopback(*addr); err != nil {
		return err
	}
	b, err := os.ReadFile(*reqFile)
	if err != nil {
		return err
	}
	req := &leadscorev1.PredictRequest{}
	if err := protojson.Unmarshal(b, req); err != nil {
		return fmt.Errorf("%s: %w", *reqFile, err)
	}
	conn, err := grpc.NewClient(*addr, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.ForceCodecV2(codec.Codec{})))
	if err != nil {
		return err
	}
	defer conn.Close()
	client := leadscorev1.NewLeadScoringClient(conn)
	if *warmup > 0 {
		w := Run(ctx, client, req, Config{Concurrency: cfg.Concurrency, Calls: *warmup, Duration: cfg.Duration, Timeout: cfg.Timeout})
		if w.Failed() == w.Calls {
			return fmt.Errorf("every warm-up call failed: %v", w.Errors)
		}
	}
	res := Run(ctx, client, req, cfg)
	if *jsonOut {
		return writeJSON(stdout, cfg, res)
	}
	return writeText(stdout, cfg, res)
}

func writeText(w io.Writer, cfg Config, r Result) error {
	us := func(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
	_, err := fmt.Fprintf(w, "%d calls with %d workers in %.3fs: %.0f calls/s, %d failed\nlatency p50 %.0fus  p90 %.0fus  p99 %.0fus  max %.0fus\n",
		r.Calls, cfg.Concurrency, r.Elapsed.Seconds(), r.Rate(), r.Failed(),
		us(r.Percentile(50)), us(r.Percentile(90)), us(r.Percentile(99)), us(r.Percentile(100)))
	if err != nil {
		return err
	}
	codes := make([]string, 0, len(r.Errors))
	for c, k := range r.Errors {
		codes = append(codes, fmt.Sprintf("  %s: %d", c, k))
	}
	slices.Sort(codes)
	for _, line := range codes {
		if _, err := fmt.Fprintln(w, line); err != nil {
			return err
		}
	}
	return nil
}

// jsonResult is the --json output; latencies are in microseconds.
type jsonResult struct {
	Concurrency int            `json:"concurrency"`
	Calls       int            `json:"calls"`
	Failed      int            `json:"failed"`
	Seconds     float64        `json:"seconds"`
	Rate        float64        `json:"rate"`
	P50         float64        `json:"p50_us"`
	P90         float64        `json:"p90_us"`
	P99         float64        `json:"p99_us"`
	Max         float64        `json:"max_us"`
	Errors      map[string]int `json:"errors"`
}

func writeJSON(w io.Writer, cfg Config, r Result) error {
	us := func(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
	out := jsonResult{
		Concurrency: cfg.Concurrency, Calls: r.Calls, Failed: r.Failed(), Seconds: r.Elapsed.Seconds(), Rate: r.Rate(),
		P50: us(r.Percentile(50)), P90: us(r.Percentile(90)), P99: us(r.Percentile(99)), Max: us(r.Percentile(100)),
		Errors: make(map[string]int, len(r.Errors)),
	}
	for c, k := range r.Errors {
		out.Errors[c.String()] = k
	}
	return json.NewEncoder(w).Encode(out)
}

// checkLoopback refuses an address whose host is not a loopback IP or "localhost".
func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("address %s is not loopback", addr)
	}
	return nil
}
