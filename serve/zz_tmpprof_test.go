package serve

import (
	"context"
	"os"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"

	"github.com/leadscore/leadscore/models"
	leadscorev1 "github.com/leadscore/leadscore/proto/leadscore/v1"
)

func BenchmarkTmpReal(b *testing.B) {
	reg, err := NewRegistry(&models.Store{Root: "/tmp/sp/models"}, RegistryOptions{RulesFile: "../testdata/rules.yaml"})
	if err != nil {
		b.Fatal(err)
	}
	if err := reg.Refresh(context.Background()); err != nil {
		b.Fatal(err)
	}
	srv := mustServer(b, reg, Options{})
	raw, _ := os.ReadFile("../scripts/bench/serve-request.json")
	req := &leadscorev1.PredictRequest{}
	if err := protojson.Unmarshal(raw, req); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := srv.Predict(context.Background(), req); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkTmpRules(b *testing.B) {
	reg, err := NewRegistry(&models.Store{Root: "/tmp/sp/models"}, RegistryOptions{RulesFile: "../testdata/rules.yaml"})
	if err != nil {
		b.Fatal(err)
	}
	if err := reg.Refresh(context.Background()); err != nil {
		b.Fatal(err)
	}
	raw, _ := os.ReadFile("../scripts/bench/serve-request.json")
	req := &leadscorev1.PredictRequest{}
	if err := protojson.Unmarshal(raw, req); err != nil {
		b.Fatal(err)
	}
	c, _ := contactFromProto(req.Contact)
	lr := reg.rules.Load()
	vs := reg.snap.Load().models["leads"].versions[0]
	at := req.AsOf.AsTime()
	b.Run("Score", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			lr.rules.Score(c, at)
		}
	})
	b.Run("Summary", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			lr.rules.Summary(c, at)
		}
	})
	b.Run("ArtifactPredict", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			vs.artifact.Predict(c, at)
		}
	})
	b.Run("convert", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			c, _ := borrowContact(req.Contact)
			releaseContact(c)
		}
	})
	b.Run("convertFresh", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			contactFromProto(req.Contact)
		}
	})
}
