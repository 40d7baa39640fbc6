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

// writeContacts generates rows contacts with seed and writes them as one Parquet file, as a folder
// of Parquet parts cut at the given rows, and as one CSV file, returning their locations.
func writeContacts(t *testing.T, rows int, seed uint64, cuts ...int) (one, parts, csv string) {
	t.Helper()
	f, err := synth.Generate(synth.Config{Rows: rows, Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	one, parts, csv = filepath.Join(dir, "contacts.parquet"), filepath.Join(dir, "export"), filepath.Join(dir, "contacts.csv")
	if err := os.Mkdir(parts, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{one, csv} {
		if err := dataset.WriteFile(path, f); err != nil {
			t.Fatal(err)
		}
	}
	bounds := append(append([]int{0}, cuts...), rows)
	for i := range len(bounds) - 1 {
		part := filepath.Join(parts, fmt.Sprintf("part-%05d.parquet", i))
		if err := dataset.WriteFile(part, f.Slice(bounds[i], bounds[i+1])); err != nil {
			t.Fatal(err)
		}
	}
	return one, parts, csv
}

// TestPartsTrainLikeOneFile trains the same generated contacts from one Parquet file and from a
// folder of Parquet parts of uneven sizes: with the same seed the split, the cross-validation, the
// coefficients and the holdout metrics must be identical, not merely close.
func TestPartsTrainLikeOneFile(t *testing.T) {
	if testing.Short() {
		t.Skip("trains twice on 12,000 contacts")
	}
	one, parts, _ := writeContacts(t, 12000, 5, 1000, 5500, 5501)
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
