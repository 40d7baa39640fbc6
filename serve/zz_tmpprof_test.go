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
