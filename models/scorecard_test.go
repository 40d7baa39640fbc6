package models

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/leadscore/leadscore/features"
)

// mustBenchScorecard turns the bench artifact into a scorecard: its encoder binned by the rate
// tables' values and ranges, bins counted on the bench frame, WoE with a prior of 10 and random
// non-negative coefficients per bin.
func mustBenchScorecard(tb testing.TB) (*Artifact, *features.Frame) {
	tb.Helper()
	a, f := mustBenchArtifact(tb)
	_, labels := benchFrame(2000, 7)
	levels := map[string][]string{}
	cuts := map[string][]float64{}
	for _, t := range a.Rates.Tables {
		for _, r := range t.Rows {
			switch {
			case t.Kind == features.KindCategory && !r.Pooled && !r.Missing:
				levels[t.Property] = append(levels[t.Property], r.Value)
			case t.Kind == features.KindNumber && !r.Missing && !math.IsInf(r.Lo, -1):
				cuts[t.Property] = append(cuts[t.Property], r.Lo)
			}
		}
	}
	enc, err := a.Encoder.Binned(levels, cuts)
	if err != nil {
		tb.Fatal(err)
	}
	x, err := enc.EncodeFrame(f, nil, time.Time{})
	if err != nil {
		tb.Fatal(err)
	}
	w := enc.Width()
	sc := &Scorecard{Prior: 10, PDO: 20, BaseScore: 600, Bins: make([]Bin, w)}
	for r, l := range labels {
		if !l.Closed() {
			continue
		}
		sc.Contacts++
		won := l == features.Won
		if won {
			sc.Customers++
		}
		for j, v := range x[r*w : (r+1)*w] {
			if v != 0 {
				sc.Bins[j].Contacts++
				if won {
					sc.Bins[j].Customers++
				}
			}
		}
	}
	sc.Overall = float64(sc.Customers) / float64(sc.Contacts)
	sc.BaseOdds = sc.Overall / (1 - sc.Overall)
	rng := rand.New(rand.NewPCG(5, 5))
	weights := make([]float64, w)
	for j := range sc.Bins {
		b := &sc.Bins[j]
		b.WoE = features.WoE(b.Customers, b.Contacts, sc.Overall, sc.Prior)
		b.Coef = rng.Float64()
		weights[j] = b.Coef * b.WoE
	}
	card := &Artifact{
		Format: FormatVersion, Name: "card", Spec: a.Spec, Encoder: enc, Intercept: -2, Weights: weights,
		Baseline: make([]float64, w), Tiers: a.Tiers, FitCuts: a.FitCuts, EngagementCuts: a.EngagementCuts,
		Rates: a.Rates, Scorecard: sc,
	}
	if err := card.Validate(); err != nil {
		tb.Fatal(err)
	}
	return card, f
}

func BenchmarkPredictScorecard(b *testing.B) {
	a, f := mustBenchScorecard(b)
	benchPredict(b, a, f)
}

// TestScorecardReasonsQuoteBins: every reason of a scorecard quotes its contact's bin and goes the
// way the bin's rate does; the points sheet adds up to each probability.
func TestScorecardReasonsQuoteBins(t *testing.T) {
	a, f := mustBenchScorecard(t)
	pts := a.Points()
	var points []float64
	for _, pp := range pts.Properties {
		for _, b := range pp.Bins {
			points = append(points, b.Points)
		}
	}
	w := a.Encoder.Width()
	x, err := a.Encoder.EncodeFrame(f, nil, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	reasons := 0
	for i := range f.Len() {
		p, err := a.Predict(f.Contact(i, ""), time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		score := pts.Base
		for j, v := range x[i*w : (i+1)*w] {
			score += v * points[j]
		}
		if got := a.Scorecard.Probability(score); math.Abs(got-p.Probability) > 1e-12 {
			t.Fatalf("row %d: points give %v, Predict %v", i, got, p.Probability)
		}
		for _, r := range p.Reasons {
			reasons++
			if !Honest(r.Contribution, r.ConversionRate, a.Scorecard.Overall) {
				t.Errorf("row %d: reason %q (%+.3f) is not honest against %.3f overall", i, r.Text, r.Contribution, a.Scorecard.Overall)
			}
		}
	}
	if reasons == 0 {
		t.Error("no reasons")
	}
}

// TestScorecardValidate: a scorecard whose numbers disagree with its weights or its rates does not
// load.
func TestScorecardValidate(t *testing.T) {
	tests := []struct {
		name   string
		damage func(a *Artifact)
	}{
		{"negative coefficient", func(a *Artifact) { a.Scorecard.Bins[0].Coef = -1 }},
		{"weight is not coefficient x WoE", func(a *Artifact) { a.Weights[0] += 0.1 }},
		{"baseline not zero", func(a *Artifact) { a.Baseline[0] = 0.5 }},
		{"WoE against the rate", func(a *Artifact) {
			for j, b := range a.Scorecard.Bins {
				if b.WoE != 0 {
					a.Scorecard.Bins[j].WoE = -b.WoE
					a.Weights[j] = -a.Weights[j]
					return
				}
			}
		}},
		{"bins missing", func(a *Artifact) { a.Scorecard.Bins = a.Scorecard.Bins[1:] }},
		{"overall rate outside (0, 1)", func(a *Artifact) { a.Scorecard.Overall = 0 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, _ := mustBenchScorecard(t)
			tt.damage(a)
			if err := a.Validate(); !errors.Is(err, ErrInvalidArtifact) {
				t.Errorf("Validate() = %v, want ErrInvalidArtifact", err)
			}
		})
	}
}

// TestScoreBinsMatchesScore checks that a scorecard's plan scores a contact from its bins (bins, the
// same as BinValues's, then scoreBins) with the bits the dense vector of EncodeValues gives through score: the logit,
// probability, fit and engagement sums, and each property's contribution and bin, which the reasons
// read. Every row of the bench frame, at the reference time and a year later.
func TestScoreBinsMatchesScore(t *testing.T) {
	a, f := mustBenchScorecard(t)
	p, err := a.getPlan()
	if err != nil {
		t.Fatal(err)
	}
	if !p.binned {
		t.Fatal("the scorecard's plan is not binned")
	}
	dense, binned := p.scratch.Get().(*scratch), p.scratch.Get().(*scratch)
	vals := make([]features.Value, len(a.Encoder.Columns))
	same := func(x, y float64) bool { return math.Float64bits(x) == math.Float64bits(y) }
	for _, at := range []time.Time{a.Encoder.ReferenceTime, a.Encoder.ReferenceTime.AddDate(1, 0, 0)} {
		for i := range f.Len() {
			c := f.Contact(i, "")
			for ci := range a.Encoder.Columns {
				vals[ci] = c.Props[a.Encoder.Columns[ci].Property]
			}
			if err := a.Encoder.EncodeValues(vals, at, dense.x); err != nil {
				t.Fatal(err)
			}
			want := a.score(p, dense.x, dense)
			if err := a.Encoder.BinValues(vals, at, binned.bins); err != nil {
				t.Fatal(err)
			}
			wantBins := slices.Clone(binned.bins)
			// The plan's bins, with the category bins it keeps (found from the second time on).
			if err := a.bins(p, vals, at, binned.bins); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(binned.bins, wantBins) {
				t.Fatalf("row %d: the plan's bins %v, BinValues %v", i, binned.bins, wantBins)
			}
			got := a.scoreBins(p, binned.bins, binned)
			if !same(got.Logit, want.Logit) || !same(got.Probability, want.Probability) || !same(got.Fit, want.Fit) || !same(got.Engagement, want.Engagement) {
				t.Fatalf("row %d: scoreBins = %+v, score = %+v", i, got, want)
			}
			for k := range p.props {
				if !same(binned.sums[k], dense.sums[k]) || binned.active[k] != dense.active[k] {
					t.Fatalf("row %d, %s: scoreBins gives %v from feature %d, score %v from %d", i, p.props[k].name, binned.sums[k], binned.active[k], dense.sums[k], dense.active[k])
				}
			}
		}
	}
}
