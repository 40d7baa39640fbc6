package train_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/leadscore/leadscore/features"
	"github.com/leadscore/leadscore/models/rules"
	"github.com/leadscore/leadscore/store"
	"github.com/leadscore/leadscore/train"
	"github.com/leadscore/leadscore/train/dataset"
)

// TestColumnsTrainLikeFrame trains generated contacts read a column at a time from Parquet
// (OpenLabelled, TrainFrom), from one file and from parts, and from the same file read whole into a
// frame (ReadLabelled, Train): the model, its audit, rates, metrics (manual rules included),
// warnings, cross-validation and split must be identical, for both models and both kinds of split,
// and so must the publish gate, which reads the holdout's contacts again for the serving version;
// CSV spilled a few columns at a time (dataset.SpillCSV) trains as the same CSV read whole.
func TestColumnsTrainLikeFrame(t *testing.T) {
	if testing.Short() {
		t.Skip("trains 12 times on 6,000 contacts")
	}
	one, parts, csv := writeContacts(t, 6000, 11, 2500, 2501)
	data, err := os.ReadFile(filepath.Join("..", "testdata", "rules.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	manual, err := rules.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	out := dataset.Outcome{Column: "deal_stage", Positive: []string{"closedwon"}, Negative: []string{"closedlost"}}
	fitted := func(loc string, columns bool, cfg train.Config) (*train.Result, []features.Label) {
		t.Helper()
		d := train.Data{Locations: loc, Outcome: out}
		if !columns {
			frame, labels, _, err := train.ReadLabelled(d)
			if err != nil {
				t.Fatal(err)
			}
			res, err := train.Train(context.Background(), frame, labels, cfg)
			if err != nil {
				t.Fatal(err)
			}
			return res, labels
		}
		d.SpillCSV = 1 // CSV is spilled, however small
		src, labels, _, err := train.OpenLabelled(d)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { src.Close() })
		switch src.(type) {
		case *dataset.ColumnFiles, *dataset.SpilledColumns:
		default:
			t.Fatalf("OpenLabelled(%s) gave a %T, want the data read a column at a time", loc, src)
		}
		res, err := train.TrainFrom(context.Background(), src, labels, cfg)
		if err != nil {
			t.Fatal(err)
		}
		return res, labels
	}
	run := func(loc string, columns bool, cfg train.Config) []byte {
		t.Helper()
		res, _ := fitted(loc, columns, cfg)
		got, err := json.Marshal(struct {
			Artifact any
			Warnings []string
			CV       []train.CVPoint
			Train    []int
			Holdout  []int
		}{res.Artifact, res.Warnings, res.CV, res.TrainRows, res.HoldoutRows})
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	scorecard := train.Config{Label: "deal_stage", Seed: 4, Rules: manual}
	oneHot := train.Config{Label: "deal_stage", Seed: 5, Model: train.ModelOneHot, Grid: []float64{0.1}}
	for _, tc := range []struct {
		name string
		cfg  train.Config
	}{
		{"scorecard, time split", train.Config{Label: "deal_stage", TimeColumn: "created_at", Seed: 3, Grid: []float64{0.05, 0.5}, Rules: manual}},
		{"scorecard, random split", scorecard},
		{"one-hot, random split", oneHot},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := run(one, false, tc.cfg)
			if !json.Valid(want) || len(want) < 1000 {
				t.Fatalf("the frame's model is %d bytes", len(want))
			}
			for _, loc := range []string{one, parts} {
				if got := run(loc, true, tc.cfg); !reflect.DeepEqual(got, want) {
					t.Errorf("%s read a column at a time trains differently from the frame:\ncolumns %.600s\nframe   %.600s", loc, got, want)
				}
			}
			// CSV spilled a few columns at a time trains as the same CSV read whole.
			if got, want := run(csv, true, tc.cfg), run(csv, false, tc.cfg); !reflect.DeepEqual(got, want) {
				t.Errorf("CSV spilled trains differently from CSV read whole:\nspilled %.600s\nwhole   %.600s", got, want)
			}
		})
	}
	// The publish gate scores the serving version on the new holdout, read again from the data.
	gate := func(columns bool) *train.Gate {
		t.Helper()
		st := store.OpenDir(t.TempDir())
		for i, cfg := range []train.Config{oneHot, scorecard} {
			res, labels := fitted(one, columns, cfg)
			_, g, err := train.Publish(context.Background(), st, "leads", res, labels, train.PublishOptions{Force: true})
			if err != nil {
				t.Fatal(err)
			}
			if i == 1 {
				return g
			}
		}
		return nil
	}
	if got, want := gate(true), gate(false); !reflect.DeepEqual(got, want) || want.Serving != 1 || want.ServingAUC <= 0.5 {
		t.Errorf("the gate read a column at a time %+v; from the frame %+v; want equal, against version 1", got, want)
	}
}
