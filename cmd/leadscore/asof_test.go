package main

import (
	"encoding/json"
	"math"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/leadscore/leadscore/features"
	leadscorev1 "github.com/leadscore/leadscore/proto/leadscore/v1"
	"github.com/leadscore/leadscore/serve"
	"github.com/leadscore/leadscore/train/dataset"
	"google.golang.org/protobuf/encoding/protojson"
)

// TestScoreAndPredictAgree scores the same contacts with `score` (batch) and with `predict` through a
// live server on 127.0.0.1 with its default clock, neither given a time, and requires the same
// probability: both take the one default as-of (models.AsOf). The model reads last_activity_at's age
// (asked for and allowed), so a path that measured it from another time would differ by far more
// than the tolerance, which only covers the clock ticking a second between the two.
func TestScoreAndPredictAgree(t *testing.T) {
	dir := t.TempDir()
	store := filepath.Join(dir, "models")
	trainLeads(t, store, "--recency", "last_activity_at", "--allow", "last_activity_at")
	a, err := loadStored(store, "leads", 1)
	if err != nil {
		t.Fatal(err)
	}
	if c := a.Spec.Column("last_activity_at"); c == nil || !c.Use {
		t.Fatalf("the model does not read last_activity_at: the case tests nothing")
	}
	addr := serveStore(t, store, serve.Options{})

	in, err := dataset.ReadFile(fixture, dataset.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "scored.csv")
	mustRun(t, "score", "--models", store, "--name", "leads", "--data", fixture, "--out", out, "--id", "contact_id")
	scored, err := dataset.ReadFile(out, dataset.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	prob := scored.Column("probability")
	if prob == nil {
		t.Fatalf("score wrote no probability column")
	}
	for _, i := range []int{0, 17, 1234, 4999} {
		props := map[string]any{}
		for _, col := range in.Columns {
			v := col.Value(i)
			switch v.Kind {
			case features.KindCategory:
				props[col.Name] = v.Str
			case features.KindNumber:
				props[col.Name] = v.Num
			case features.KindFlag:
				props[col.Name] = v.Bool
			case features.KindTime:
				props[col.Name] = v.Time.Format(time.RFC3339Nano)
			}
		}
		raw, err := json.Marshal(props)
		if err != nil {
			t.Fatal(err)
		}
		resp := &leadscorev1.PredictResponse{}
		got := mustRun(t, "predict", "--addr", addr, "--model", "leads", "--json", "--contact", string(raw))
		if err := protojson.Unmarshal([]byte(got), resp); err != nil {
			t.Fatalf("predict --json: %v\n%s", err, got)
		}
		if d := math.Abs(resp.GetProbability() - prob.Num[i]); d > 1e-6 {
			t.Errorf("row %d (%s): score %s, predict %s", i, in.Column("contact_id").Str[i],
				strconv.FormatFloat(prob.Num[i], 'g', 10, 64), strconv.FormatFloat(resp.GetProbability(), 'g', 10, 64))
		}
	}
}
