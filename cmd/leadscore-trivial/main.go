// Command leadscore-trivial serves the LeadScoring service with a Predict that returns one constant
// response, so that a load test run against it and against `leadscore serve` tells what scoring adds to
// the cost of gRPC.
//
// The constant is a real answer of the same size as leadscore's: read from a protojson file
// (--response), or fetched once from a running leadscore server (--copy-from with --request). It listens
// on loopback only. It marshals and unmarshals with leadscore serve's codec (serve/codec), so that the
// difference is scoring and not the codec; --codec stock uses grpc-go's default proto codec instead.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	leadscorev1 "github.com/leadscore/leadscore/proto/leadscore/v1"
	"github.com/leadscore/leadscore/serve/codec"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stderr, nil)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "leadscore-trivial:", err)
		os.Exit(1)
	}
}

// constServer answers every Predict with resp and leaves the other methods unimplemented.
type constServer struct {
	leadscorev1.UnimplementedLeadScoringServer
	resp *leadscorev1.PredictResponse // never mutated
}

func (s *constServer) Predict(context.Context, *leadscorev1.PredictRequest) (*leadscorev1.PredictResponse, error) {
	return s.resp, nil
}

// run serves until ctx ends. When ready is not nil it receives the listening address once serving.
func run(ctx context.Context, args []string, stderr io.Writer, ready chan<- string) error {
	fs := flag.NewFlagSet("leadscore-trivial", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:50052", "loopback address to listen on")
	respFile := fs.String("response", "", "serve this PredictResponse (protojson file)")
	copyFrom := fs.String("copy-from", "", "fetch the response once from the leadscore server at this loopback address, with --request")
	reqFile := fs.String("request", "", "PredictRequest (protojson file) sent to --copy-from")
	codecName := fs.String("codec", "leadscore", "gRPC codec: leadscore (leadscore serve's, generated code) or stock (grpc-go's default)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if (*respFile == "") == (*copyFrom == "") || (*copyFrom != "") != (*reqFile != "") {
		return errors.New("give either --response, or --copy-from with --request")
	}
	if err := checkLoopback(*addr); err != nil {
		return err
	}
	var so []grpc.ServerOption
	switch *codecName {
	case "leadscore":
		so = append(so, grpc.ForceServerCodecV2(codec.Codec{}))
	case "stock":
	default:
		return fmt.Errorf("--codec %q: want leadscore or stock", *codecName)
	}
	var resp *leadscorev1.PredictResponse
	var err error
	if *respFile != "" {
		resp, err = readResponse(*respFile)
	} else {
		resp, err = copyResponse(ctx, *copyFrom, *reqFile)
	}
	if err != nil {
		return err
	}

	lis, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	// The same stream workers as leadscore serve (serve.DefaultStreamWorkers), so the comparison
	// isolates the scoring and not a transport setting.
	srv := grpc.NewServer(append(so, grpc.NumStreamWorkers(64))...)
	leadscorev1.RegisterLeadScoringServer(srv, &constServer{resp: resp})
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(lis) }()
	fmt.Fprintf(stderr, "leadscore-trivial: serving a constant %d-byte PredictResponse (%d rule hits, %d reasons) with the %s codec on %s\n",
		proto.Size(resp), len(resp.GetManual().GetHits()), len(resp.GetReasons()), *codecName, lis.Addr())
	if ready != nil {
		ready <- lis.Addr().String()
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		srv.GracefulStop()
		return nil
	}
}

func readResponse(path string) (*leadscorev1.PredictResponse, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	resp := &leadscorev1.PredictResponse{}
	if err := protojson.Unmarshal(b, resp); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return resp, nil
}

// copyResponse asks the server at addr to score the request in reqFile and returns its answer.
func copyResponse(ctx context.Context, addr, reqFile string) (*leadscorev1.PredictResponse, error) {
	if err := checkLoopback(addr); err != nil {
		return nil, err
	}
	b, err := os.ReadFile(reqFile)
	if err != nil {
		return nil, err
	}
	req := &leadscorev1.PredictRequest{}
	if err := protojson.Unmarshal(b, req); err != nil {
		return nil, fmt.Errorf("%s: %w", reqFile, err)
	}
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	resp, err := leadscorev1.NewLeadScoringClient(conn).Predict(ctx, req, grpc.WaitForReady(true))
	if err != nil {
		return nil, fmt.Errorf("copying the response from %s: %w", addr, err)
	}
	return resp, nil
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
