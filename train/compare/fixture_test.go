package compare_test

import (
	"context"
	"os"
	"sync"
	"testing"

	"github.com/leadscore/leadscore/features"
	"github.com/leadscore/leadscore/models"
	"github.com/leadscore/leadscore/models/rules"
	"github.com/leadscore/leadscore/train"
	"github.com/leadscore/leadscore/train/compare"
	"github.com/leadscore/leadscore/train/dataset"
	"github.com/leadscore/leadscore/train/synth"
)

// fixture is a model trained on generated contacts, the committed manual rules, and the model's
// holdout rows, shared by the tests (training takes a few seconds).
type fixture struct {
	model  *models.Artifact
	rules  *rules.Rules
	frame  *features.Frame
	labels []features.Label
	rows   []int
	report *compare.Report
}

var (
	fixtureOnce sync.Once
	fixtureVal  *fixture
	fixtureErr  error
)

func mustFixture(tb testing.TB) *fixture {
	tb.Helper()
	fixtureOnce.Do(func() { fixtureVal, fixtureErr = buildFixture() })
	if fixtureErr != nil {
		tb.Fatal(fixtureErr)
	}
	return fixtureVal
}

func buildFixture() (*fixture, error) {
	f, err := synth.Generate(synth.Config{Rows: 4000, Seed: 1})
	if err != nil {
		return nil, err
	}
	labels, _, err := dataset.Outcome{Column: "deal_stage", Positive: []string{"closedwon"}, Negative: []string{"closedlost"}}.Labels(f)
	if err != nil {
		return nil, err
	}
	res, err := train.Train(context.Background(), f, labels, train.Config{Label: "deal_stage", TimeColumn: "created_at", Seed: 1})
	if err != nil {
		return nil, err
	}
	res.Artifact.Name, res.Artifact.Version = "leads", 3
	data, err := os.ReadFile("../../testdata/rules.yaml")
	if err != nil {
		return nil, err
	}
	r, err := rules.Parse(data)
	if err != nil {
		return nil, err
	}
	fx := &fixture{model: res.Artifact, rules: r, frame: f, labels: labels, rows: res.HoldoutRows}
	fx.report, err = compare.Build(fx.model, fx.rules, fx.frame, fx.labels, fx.rows, fx.model.Spec.ReferenceTime)
	if err != nil {
		return nil, err
	}
	return fx, nil
}
