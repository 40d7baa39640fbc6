package store

import (
	"math"
	"testing"
	"time"

	"github.com/leadscore/leadscore/features"
	"github.com/leadscore/leadscore/models"
)

// mustTinyArtifact returns a valid artifact over four contacts (industry Software, Software,
// Retail, Retail; visits 2, 2, 6, 6) with intercept -1 and weights [-0.5, 0.5, 0.8].
func mustTinyArtifact(tb testing.TB) *models.Artifact {
	tb.Helper()
	a, err := tinyArtifact()
	if err != nil {
		tb.Fatal(err)
	}
	return a
}

// NewTinyArtifact exposes the tiny artifact to the examples of package store_test.
func NewTinyArtifact() *models.Artifact {
	a, err := tinyArtifact()
	if err != nil {
		panic(err)
	}
	return a
}

func tinyArtifact() (*models.Artifact, error) {
	frame := &features.Frame{Columns: []*features.Column{
		{Name: "industry", Kind: features.KindCategory, Str: []string{"Software", "Software", "Retail", "Retail"}, Valid: []bool{true, true, true, true}},
		{Name: "visits", Kind: features.KindNumber, Num: []float64{2, 2, 6, 6}, Valid: []bool{true, true, true, true}},
		{Name: "outcome", Kind: features.KindCategory, Str: []string{"won", "lost", "won", "lost"}, Valid: []bool{true, true, true, true}},
	}}
	spec := &features.Spec{Label: "outcome", Columns: []features.ColumnSpec{
		{Name: "industry", Kind: features.KindCategory, Group: features.GroupFit, Use: true},
		{Name: "visits", Kind: features.KindNumber, Group: features.GroupEngagement, Use: true},
		{Name: "outcome", Kind: features.KindCategory, Reason: "label"},
	}}
	enc, err := features.FitEncoder(spec, frame, nil, features.EncoderOptions{MinCount: 1, NoLog: true})
	if err != nil {
		return nil, err
	}
	a := &models.Artifact{
		Format: models.FormatVersion, Name: "tiny", Spec: spec, Encoder: enc,
		Intercept: -1, Weights: []float64{-0.5, 0.5, 0.8}, Baseline: []float64{0.5, 0.5, 0}, Penalty: 1,
		Tiers: [3]float64{0.2, 0.5, 0.8}, FitCuts: [3]float64{-0.5, 0, 0.5}, EngagementCuts: [3]float64{-1, 0, 1},
		Rates: &features.RateReport{Contacts: 5000, Customers: 450, Rate: 0.09, Tables: []features.RateTable{
			{Property: "industry", Kind: features.KindCategory, Rows: []features.RateRow{
				{Label: "Software", Value: "Software", Contacts: 1203, Customers: 289, Rate: 0.24},
				{Label: "Retail", Value: "Retail", Contacts: 3797, Customers: 161, Rate: 161.0 / 3797},
			}},
			{Property: "visits", Kind: features.KindNumber, Rows: []features.RateRow{
				{Label: "< 6", Lo: math.Inf(-1), Hi: 6, Contacts: 4598, Customers: 325, Rate: 325.0 / 4598},
				{Label: ">= 6", Lo: 6, Hi: math.Inf(1), Contacts: 402, Customers: 125, Rate: 125.0 / 402},
			}},
		}},
		Metrics:    models.Metrics{Rows: 100, Positives: 10, AUC: 0.8},
		Audit:      []models.AuditEntry{{Column: "industry", AUC: 0.6}},
		Provenance: models.Provenance{DataFile: "tiny.csv", Rows: 4, Won: 2, Lost: 2, Label: "outcome", TrainedAt: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC), Seed: 1, Split: "random"},
		Holdout:    models.HoldoutRef{Method: "random", Share: 0.2, Seed: 1},
	}
	return a, a.Validate()
}
