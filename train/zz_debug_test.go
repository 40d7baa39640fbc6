package train_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/leadscore/leadscore/features"
	"github.com/leadscore/leadscore/train"
	"github.com/leadscore/leadscore/train/dataset"
)

func TestZZDebug(t *testing.T) {
	f, _ := dataset.ReadFile(shoppersCSV, dataset.ReadOptions{Kinds: map[string]features.Kind{"Revenue": features.KindCategory}})
	labels, _, _ := dataset.Outcome{Column: "Revenue", Positive: []string{"TRUE"}}.Labels(f)
	res, err := train.Train(context.Background(), f, labels, train.Config{Label: "Revenue", Seed: 1, Exclude: []string{"PageValues"}, Model: train.ModelScorecard})
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range res.Warnings {
		fmt.Println("W", w)
	}
	for _, pp := range res.Artifact.Points().Properties {
		fmt.Printf("%-25s %-8s coef %.3f bins %d range %.1f\n", pp.Property, pp.Kind, pp.Coef, len(pp.Bins), pp.Range)
	}
	for _, c := range res.Artifact.Encoder.Columns {
		fmt.Println(c.Property, c.Kind, len(c.Levels), c.Cuts)
	}
}
