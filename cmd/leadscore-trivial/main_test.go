package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/testing/protocmp"

	leadscorev1 "github.com/leadscore/leadscore/proto/leadscore/v1"
)

// start runs the command with args until the test ends and returns its address.
func start(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- run(ctx, args, &bytes.Buffer{}, ready) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	})
	select {
	case addr := <-ready:
		return addr
	case err := <-done:
		t.Fatalf("run(%q): %v", args, err)
	case <-time.After(10 * time.Second):
		t.Fatal("the server did not start")
	}
	return ""
}

func predict(t *testing.T, addr string) *leadscorev1.PredictResponse {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	resp, err := leadscorev1.NewLeadScoringClient(conn).Predict(context.Background(), &leadscorev1.PredictRequest{Model: "anything"})
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func TestRun(t *testing.T) {
	dir := t.TempDir()
	want := &leadscorev1.PredictResponse{
		Model: "leads", ModelVersion: 3, Probability: 0.42, Priority: leadscorev1.Priority_HIGH,
		Manual:  &leadscorev1.ManualScore{Score: 35, Stage: leadscorev1.Stage_MQL, Hits: []*leadscorev1.RuleHit{{Rule: "Visits", Matched: true, Points: 10}}},
		Reasons: []*leadscorev1.Reason{{Property: "industry", Value: "Software", Contribution: 0.3, Text: "Industry is Software"}},
	}
	b, err := protojson.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	respFile := filepath.Join(dir, "response.json")
	reqFile := filepath.Join(dir, "request.json")
	if err := os.WriteFile(respFile, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(reqFile, []byte(`{"model": "leads"}`), 0o644); err != nil {
		t.Fatal(err)
	}

	fromFile := start(t, "--addr", "127.0.0.1:0", "--response", respFile)
	if diff := cmp.Diff(want, predict(t, fromFile), protocmp.Transform()); diff != "" {
		t.Errorf("--response (-want +got):\n%s", diff)
	}
	copied := start(t, "--addr", "127.0.0.1:0", "--copy-from", fromFile, "--request", reqFile)
	if diff := cmp.Diff(want, predict(t, copied), protocmp.Transform()); diff != "" {
		t.Errorf("--copy-from (-want +got):\n%s", diff)
	}
	for _, c := range []string{"stock", "leadscore"} {
		addr := start(t, "--addr", "127.0.0.1:0", "--response", respFile, "--codec", c)
		if diff := cmp.Diff(want, predict(t, addr), protocmp.Transform()); diff != "" {
			t.Errorf("--codec %s (-want +got):\n%s", c, diff)
		}
	}

	errs := []struct {
		name string
		args []string
		want string
	}{
		{"no response", []string{"--addr", "127.0.0.1:0"}, "either"},
		{"both", []string{"--response", respFile, "--copy-from", fromFile, "--request", reqFile}, "either"},
		{"copy without request", []string{"--copy-from", fromFile}, "either"},
		{"not loopback", []string{"--addr", "0.0.0.0:0", "--response", respFile}, "not loopback"},
		{"copy from elsewhere", []string{"--addr", "127.0.0.1:0", "--copy-from", "192.0.2.1:50051", "--request", reqFile}, "not loopback"},
		{"unknown codec", []string{"--addr", "127.0.0.1:0", "--response", respFile, "--codec", "json"}, "want leadscore or stock"},
		{"bad response file", []string{"--addr", "127.0.0.1:0", "--response", reqFile + ".missing"}, "missing"},
	}
	for _, tt := range errs {
		t.Run(tt.name, func(t *testing.T) {
			err := run(context.Background(), tt.args, &bytes.Buffer{}, nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("run(%q) = %v, want an error containing %q", tt.args, err, tt.want)
			}
		})
	}
}
