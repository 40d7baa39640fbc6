package serve

import (
	"context"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	leadscorev1 "github.com/leadscore/leadscore/proto/leadscore/v1"
)

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
