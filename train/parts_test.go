package train_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/leadscore/leadscore/train"
	"github.com/leadscore/leadscore/train/dataset"
	"github.com/leadscore/leadscore/train/synth"
)

// TestPartsTrainLikeOneFile trains the same generated contacts from one Parquet file and from a
// folder of Parquet parts of uneven sizes: with the same seed the split, the cross-validation, the
// coefficients and the holdout metrics must be identical, not merely close.
func TestPartsTrainLikeOneFile(t *testing.T) {
	if testing.Short() {
		t.Skip("trains twice on 12,000 contacts")
	}
	f, err := synth.Generate(synth.Config{Rows: 12000, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	one := filepath.Join(dir, "contacts.parquet")
	if err := dataset.WriteFile(one, f); err != nil {
		t.Fatal(err)
	}
	parts := filepath.Join(dir, "export")
	if err := os.Mkdir(parts, 0o755); err != nil {
		t.Fatal(err)
	}
	for i, cut := range [][2]int{{0, 1000}, {1000, 5500}, {5500, 5501}, {5501, 12000}} {
		if err := dataset.WriteFile(filepath.Join(parts, fmt.Sprintf("part-%05d.parquet", i)), f.Slice(cut[0], cut[1])); err != nil {
			t.Fatal(err)
		}
	}
	type outcome struct {
		Intercept, Penalty float64
		Weights            []float64
		CV                 []train.CVPoint
		Holdout            []int
		Metrics            any
	}
	run := func(loc string) outcome {
		t.Helper()
		frame, labels, _, err := train.ReadLabelled(train.Data{Locations: loc,
			Outcome: dataset.Outcome{Column: "deal_stage", Positive: []string{"closedwon"}, Negative: []string{"closedlost"}}})
		if err != nil {
			t.Fatal(err)
		}
		res, err := train.Train(context.Background(), frame, labels, train.Config{Label: "deal_stage", Seed: 3, Grid: []float64{0.05, 0.5}})
		if err != nil {
			t.Fatal(err)
		}
		a := res.Artifact
		return outcome{a.Intercept, a.Penalty, a.Weights, res.CV, res.HoldoutRows, a.Metrics}
	}
	got, want := run(parts), run(one)
	if len(want.Weights) == 0 || len(want.CV) != 2 {
		t.Fatalf("one file: %d weights, %d cross-validation points; want a fitted model chosen among 2 penalties", len(want.Weights), len(want.CV))
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("parts train differently from one file:\nparts    %+v\none file %+v", got, want)
	}
}
