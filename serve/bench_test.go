package serve

import (
	"context"
	"net"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/test/bufconn"
	"google.golang.org/protobuf/types/known/timestamppb"

	leadscorev1 "github.com/leadscore/leadscore/proto/leadscore/v1"
)

// constServer answers every Predict with the same response: the cost of gRPC alone.
type constServer struct {
	leadscorev1.UnimplementedLeadScoringServer
	resp *leadscorev1.PredictResponse
}

func (s *constServer) Predict(context.Context, *leadscorev1.PredictRequest) (*leadscorev1.PredictResponse, error) {
	return s.resp, nil
}

// BenchmarkPredict compares one Predict over bufconn against a handler of the same service that
// returns a constant response of the same size; the ratio of the two is what scoring adds to gRPC.
func BenchmarkPredict(b *testing.B) {
	fx := newFixture(b, RegistryOptions{})
	srv := mustServer(b, fx.reg, Options{})
	req := &leadscorev1.PredictRequest{Model: "lead", Contact: sampleContact(), AsOf: timestamppb.New(fixtureAsOf)}
	real := leadscorev1.NewLeadScoringClient(startBufconn(b, srv))
	resp, err := real.Predict(context.Background(), req)
	if err != nil {
		b.Fatal(err)
	}

	constant := grpc.NewServer()
	leadscorev1.RegisterLeadScoringServer(constant, &constServer{resp: resp})
	lis := bufconn.Listen(1 << 20)
	go func() { _ = constant.Serve(lis) }()
	b.Cleanup(constant.Stop)
	conn, err := grpc.NewClient("passthrough:///const",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { conn.Close() })
	trivial := leadscorev1.NewLeadScoringClient(conn)

	for _, c := range []struct {
		name   string
		client leadscorev1.LeadScoringClient
	}{{"handler=leadscore", real}, {"handler=constant", trivial}} {
		b.Run(c.name+"/calls=1", func(b *testing.B) {
			for b.Loop() {
				if _, err := c.client.Predict(context.Background(), req); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(c.name+"/calls=50", func(b *testing.B) {
			b.SetParallelism(50)
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := c.client.Predict(context.Background(), req); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "calls/s")
		})
	}
}

// BenchmarkScore measures the server's work for one contact without gRPC: conversion, model, rules.
func BenchmarkScore(b *testing.B) {
	fx := newFixture(b, RegistryOptions{})
	srv := mustServer(b, fx.reg, Options{})
	req := &leadscorev1.PredictRequest{Model: "lead", Contact: sampleContact(), AsOf: timestamppb.New(fixtureAsOf)}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := srv.Predict(context.Background(), req); err != nil {
			b.Fatal(err)
		}
	}
}
