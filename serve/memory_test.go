package serve

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	leadscorev1 "github.com/leadscore/leadscore/proto/leadscore/v1"
)

func TestReadLimit(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct {
		name, content string
		want          int64
		ok            bool
	}{
		{"v2 limit", "536870912\n", 512 << 20, true},
		{"v2 no limit", "max\n", 0, false},
		{"v1 no limit", "9223372036854771712\n", 0, false},
		{"garbage", "lots", 0, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(dir, tt.name)
			if err := os.WriteFile(p, []byte(tt.content), 0o644); err != nil {
				t.Fatal(err)
			}
			got, ok := readLimit(p)
			if got != tt.want || ok != tt.ok {
				t.Errorf("readLimit(%q) = %d, %v; want %d, %v", tt.content, got, ok, tt.want, tt.ok)
			}
		})
	}
	if _, ok := readLimit(filepath.Join(dir, "absent")); ok {
		t.Error("a missing file reads as a limit")
	}
	if got := DefaultMemoryLimit(1000 << 20); got != 900<<20 {
		t.Errorf("DefaultMemoryLimit(1000 MiB) = %d, want 900 MiB", got)
	}
}

// TestMaxResponseBytes checks that a batch whose answer would be over MaxResponseBytes fails with
// ResourceExhausted saying what to do, and one under it is answered.
func TestMaxResponseBytes(t *testing.T) {
	fx := newFixture(t, RegistryOptions{})
	one, err := mustServer(t, fx.reg, Options{}).Predict(context.Background(), &leadscorev1.PredictRequest{Model: "lead", Contact: sampleContact()})
	if err != nil {
		t.Fatal(err)
	}
	size := proto.Size(one) + 4
	srv := mustServer(t, fx.reg, Options{MaxResponseBytes: 3 * size})
	batch := func(n int) error {
		req := &leadscorev1.PredictBatchRequest{Model: "lead"}
		for range n {
			req.Contacts = append(req.Contacts, sampleContact())
		}
		_, err := srv.PredictBatch(context.Background(), req)
		return err
	}
	if err := batch(3); err != nil {
		t.Errorf("3 answers within the bound: %v", err)
	}
	err = batch(4)
	if st := status.Convert(err); st.Code() != codes.ResourceExhausted || !strings.Contains(st.Message(), "omit_rule_hits") {
		t.Errorf("4 answers over the bound: %v, want ResourceExhausted suggesting omit_rule_hits", err)
	}
}

// TestMaxBatchContacts checks that a batch waits while other batches hold the contacts it needs, and
// gives up with its context.
func TestMaxBatchContacts(t *testing.T) {
	fx := newFixture(t, RegistryOptions{})
	srv := mustServer(t, fx.reg, Options{MaxBatch: 3, MaxBatchContacts: 4})
	req := &leadscorev1.PredictBatchRequest{Model: "lead", Contacts: []*leadscorev1.Contact{sampleContact(), sampleContact()}}
	if err := srv.batchContacts.Acquire(context.Background(), 3); err != nil { // a batch of 3 in flight
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := srv.PredictBatch(ctx, req)
		done <- err
	}()
	cancel() // the batch of 2 cannot have started: it waits for room, and gives up
	if err := <-done; status.Code(err) != codes.Canceled {
		t.Errorf("batch of 2 beside one of 3 (room for 4): %v, want Canceled", err)
	}
	srv.batchContacts.Release(3)
	if _, err := srv.PredictBatch(context.Background(), req); err != nil {
		t.Errorf("batch of 2 with room: %v", err)
	}
}
