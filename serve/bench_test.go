package serve

import (
	"context"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
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
			cpu0, cpuOK := cpuSeconds()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := c.client.Predict(context.Background(), req); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "calls/s")
			// CPU time of client and server together: steadier than calls/s on a busy machine, and
			// the ratio of the two handlers' figures is the throughput ratio when the CPU is the limit.
			if cpu1, ok := cpuSeconds(); ok && cpuOK {
				b.ReportMetric((cpu1-cpu0)/float64(b.N)*1e6, "cpu-us/call")
			}
		})
	}
}

// BenchmarkScore measures the server's work for one contact without gRPC: conversion, model, rules,
// with the fixture's three rules and with the 23 of testdata/rules.yaml, with and without rule hits.
func BenchmarkScore(b *testing.B) {
	for _, rules := range []string{"fixture", "testdata"} {
		ropts := RegistryOptions{}
		pc := sampleContact()
		if rules == "testdata" {
			ropts.RulesFile = filepath.Join("..", "testdata", "rules.yaml")
			for name, v := range map[string]*leadscorev1.Value{
				"email": str("ana@acme-robotics.com"), "job_title": str("VP Sales"), "annual_revenue": num(2e7),
				"source": str("Paid Search"), "page_views": num(30), "pricing_page_views": num(3),
				"demo_page_views": num(1), "email_opens": num(12), "email_clicks": num(4), "forms_tofu": num(2),
				"forms_mofu": num(1), "forms_bofu": num(1), "careers_page_views": num(0),
				"last_activity_at": {Kind: &leadscorev1.Value_TimestampValue{TimestampValue: timestamppb.New(fixtureAsOf.AddDate(0, 0, -3))}},
			} {
				pc.Properties[name] = v
			}
		}
		fx := newFixture(b, ropts)
		srv := mustServer(b, fx.reg, Options{})
		for _, omit := range []bool{false, true} {
			hits := "all"
			if omit {
				hits = "omitted"
			}
			req := &leadscorev1.PredictRequest{Model: "lead", Contact: pc, AsOf: timestamppb.New(fixtureAsOf), OmitRuleHits: omit}
			b.Run("rules="+rules+"/hits="+hits, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := srv.Predict(context.Background(), req); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkPredictHandler runs the request of scripts/bench/serve-request.json (21 properties, every
// rule of testdata/rules.yaml evaluated and worded) through the handler alone and through the unary
// interceptors the gRPC server runs around it (slot release, request metrics and the gRPC metrics,
// recovery), without transport or encoding: what a call to leadscore costs the server beyond what
// the trivial handler of scripts/bench/serve-vs-trivial.sh costs. The models under testdata/bench are
// what that script trains, of both kinds: `leadscore train --data testdata/contacts.parquet --label
// deal_stage --positive closedwon --time-column created_at --exclude true_probability --model KIND`.
func BenchmarkPredictHandler(b *testing.B) {
	req := benchRequest(b)
	for _, kind := range []string{"onehot", "scorecard"} {
		srv := benchServer(b, kind, Options{Metrics: prometheus.NewRegistry()})
		info := &grpc.UnaryServerInfo{Server: srv, FullMethod: leadscorev1.LeadScoring_Predict_FullMethodName}
		handler := func(ctx context.Context, req any) (any, error) {
			return srv.Predict(ctx, req.(*leadscorev1.PredictRequest))
		}
		resp, err := srv.Predict(context.Background(), req)
		if err != nil {
			b.Fatal(err)
		}
		if len(resp.GetManual().GetHits()) == 0 || len(resp.GetReasons()) == 0 {
			b.Fatalf("the answer has %d rule hits and %d reasons; want some of both", len(resp.GetManual().GetHits()), len(resp.GetReasons()))
		}
		for _, path := range []struct {
			name string
			call func() error
		}{
			{"handler", func() error { _, err := srv.Predict(context.Background(), req); return err }},
			{"interceptors", func() error { _, err := srv.unary(context.Background(), req, info, handler); return err }},
		} {
			b.Run("model="+kind+"/path="+path.name, func(b *testing.B) {
				b.ReportAllocs()
				cpu0, cpuOK := cpuSeconds()
				for b.Loop() {
					if err := path.call(); err != nil {
						b.Fatal(err)
					}
				}
				// The process's CPU time, garbage collection included: steadier than ns/op on a
				// shared machine.
				if cpu1, ok := cpuSeconds(); ok && cpuOK {
					b.ReportMetric((cpu1-cpu0)/float64(b.N)*1e6, "cpu-us/call")
				}
			})
		}
	}
}
