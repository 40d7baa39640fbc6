package models

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/leadscore/leadscore/features"
)

func TestArtifactValidate(t *testing.T) {
	tests := []struct {
		name    string
		damage  func(a *Artifact)
		wantErr error  // nil: valid
		field   string // the message must name it
	}{
		{"valid", func(*Artifact) {}, nil, ""},
		{"format zero", func(a *Artifact) { a.Format = 0 }, ErrUnsupportedFormat, "format 0"},
		{"future format", func(a *Artifact) { a.Format = FormatVersion + 1 }, ErrUnsupportedFormat, "newer"},
		{"no spec", func(a *Artifact) { a.Spec = nil }, ErrInvalidArtifact, "spec"},
		{"invalid spec", func(a *Artifact) { a.Spec = &features.Spec{} }, ErrInvalidArtifact, "spec"},
		{"no encoder", func(a *Artifact) { a.Encoder = nil }, ErrInvalidArtifact, "encoder"},
		{"invalid encoder", func(a *Artifact) {
			a.Encoder = &features.Encoder{Columns: []features.ColumnEncoding{{Property: "visits", Kind: features.KindNumber}}}
		}, ErrInvalidArtifact, "encoder"},
		{"encoder column renamed", func(a *Artifact) { a.Encoder.Columns[0].Property = "visitz" }, ErrInvalidArtifact, "does not match the spec"},
		{"encoder column of another kind", func(a *Artifact) {
			a.Spec.Columns[0].Kind = features.KindFlag
		}, ErrInvalidArtifact, "does not match the spec"},
		{"spec column dropped", func(a *Artifact) {
			for i := range a.Spec.Columns {
				if a.Spec.Columns[i].Use {
					a.Spec.Columns[i].Use, a.Spec.Columns[i].Reason = false, "excluded by the user"
					break
				}
			}
		}, ErrInvalidArtifact, "the spec uses"},
		{"too few weights", func(a *Artifact) { a.Weights = a.Weights[:2] }, ErrInvalidArtifact, "weights"},
		{"too many weights", func(a *Artifact) { a.Weights = append(a.Weights, 1) }, ErrInvalidArtifact, "weights"},
		{"short baseline", func(a *Artifact) { a.Baseline = nil }, ErrInvalidArtifact, "baseline"},
		{"NaN weight", func(a *Artifact) { a.Weights[1] = math.NaN() }, ErrInvalidArtifact, "weights[1]"},
		{"infinite weight", func(a *Artifact) { a.Weights[2] = math.Inf(-1) }, ErrInvalidArtifact, "weights[2]"},
		{"NaN intercept", func(a *Artifact) { a.Intercept = math.NaN() }, ErrInvalidArtifact, "intercept"},
		{"infinite baseline", func(a *Artifact) { a.Baseline[0] = math.Inf(1) }, ErrInvalidArtifact, "baseline[0]"},
		{"weights that overflow", func(a *Artifact) {
			for j := range a.Weights {
				a.Weights[j] = math.MaxFloat64 * float64(1-2*(j%2))
			}
		}, ErrInvalidArtifact, "overflow"},
		{"huge baseline", func(a *Artifact) { a.Weights[0], a.Baseline[0] = 1e300, 1e300 }, ErrInvalidArtifact, "overflow"},
		{"large but finite weights", func(a *Artifact) { a.Weights[0], a.Intercept = 1e100, -1e100 }, nil, ""},
		{"tier at zero", func(a *Artifact) { a.Tiers[0] = 0 }, ErrInvalidArtifact, "tiers[0]"},
		{"tier at one", func(a *Artifact) { a.Tiers[2] = 1 }, ErrInvalidArtifact, "tiers[2]"},
		{"tier NaN", func(a *Artifact) { a.Tiers[1] = math.NaN() }, ErrInvalidArtifact, "tiers[1]"},
		{"tiers tied", func(a *Artifact) { a.Tiers = [3]float64{0.2, 0.2, 0.8} }, ErrInvalidArtifact, "tiers"},
		{"tiers decrease", func(a *Artifact) { a.Tiers = [3]float64{0.2, 0.8, 0.5} }, ErrInvalidArtifact, "tiers"},
		{"fit cuts decrease", func(a *Artifact) { a.FitCuts = [3]float64{1, 0, 2} }, ErrInvalidArtifact, "fit_cuts"},
		{"engagement cut infinite", func(a *Artifact) { a.EngagementCuts[2] = math.Inf(1) }, ErrInvalidArtifact, "engagement_cuts[2]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := mustTinyArtifact(t)
			tt.damage(a)
			err := a.Validate()
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Validate() = %v, want %v", err, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.field) {
				t.Errorf("Validate() = %q, want it to name %q", err, tt.field)
			}
			if !strings.HasPrefix(err.Error(), "models: ") {
				t.Errorf("Validate() = %q, want the package prefix", err)
			}
		})
	}
}
