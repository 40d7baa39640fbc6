package models

import (
	"math"

	"github.com/leadscore/leadscore/features"
)

// Scorecard is what a points scorecard adds to an artifact: the counts, weight of evidence (WoE) and
// non-negative coefficient of every bin, and the scaling of log-odds to points.
//
// The model is logit = Intercept + Σ_properties Coef[b] · WoE[b], b the bin of the contact, so every
// property's part has the sign of its bin's WoE, which is the sign of (bin rate - overall rate): a
// property whose bin converts below the overall rate can only lower the score. The artifact's
// Weights hold Coef·WoE per encoder output (the binned encoder sets one output per property), its
// Baseline is zero, and scoring goes through Predict like any model.
//
// Points: with factor = PDO / ln 2 and offset = BaseScore - factor · ln(BaseOdds), the score is
// offset + factor · logit, which splits into base points offset + factor · Intercept and bin points
// factor · Coef[b] · WoE[b]; the probability is 1 / (1 + exp(-(score - offset) / factor)).
type Scorecard struct {
	// Overall is the training conversion rate the WoE is measured against; Contacts and Customers
	// count the training contacts.
	Overall   float64 `json:"overall"`
	Contacts  int     `json:"contacts"`
	Customers int     `json:"customers"`
	// Prior is how many contacts at the overall rate each bin's rate is shrunk with (features.WoE).
	Prior float64 `json:"prior"`
	// PDO is the points that double the odds; BaseScore the score at odds BaseOdds.
	PDO       float64 `json:"pdo"`
	BaseScore float64 `json:"base_score"`
	BaseOdds  float64 `json:"base_odds"`
	// Bins has one entry per encoder output.
	Bins []Bin `json:"bins"`
}

// Bin is one bin of a scorecard property with its training counts, its WoE and its coefficient
// (>= 0): the bin's part in the log-odds is Coef · WoE.
type Bin struct {
	Contacts  int     `json:"contacts"`
	Customers int     `json:"customers"`
	WoE       float64 `json:"woe"`
	Coef      float64 `json:"coef"`
}

// Rate is the bin's conversion rate, 0 for an empty bin.
func (b Bin) Rate() float64 {
	if b.Contacts == 0 {
		return 0
	}
	return float64(b.Customers) / float64(b.Contacts)
}

// Factor is the points per unit of log-odds, PDO / ln 2.
func (s *Scorecard) Factor() float64 { return s.PDO / math.Ln2 }

// Offset is the score at log-odds 0.
func (s *Scorecard) Offset() float64 { return s.BaseScore - s.Factor()*math.Log(s.BaseOdds) }

// Probability maps a score (base points plus bin points, unrounded) to the probability.
func (s *Scorecard) Probability(score float64) float64 {
	return Sigmoid((score - s.Offset()) / s.Factor())
}

// validate checks s against its artifact a, whose encoder and weights are already checked.
func (s *Scorecard) validate(a *Artifact) error {
	feats := a.Encoder.Features()
	switch {
	case !(s.Overall > 0 && s.Overall < 1):
		return invalid("scorecard overall rate %v is not inside (0, 1)", s.Overall)
	case !(s.PDO > 0) || !finite(s.PDO) || !finite(s.BaseScore) || !(s.BaseOdds > 0) || !finite(s.BaseOdds):
		return invalid("scorecard scaling (pdo %v, base score %v, base odds %v) is not finite with pdo and odds > 0", s.PDO, s.BaseScore, s.BaseOdds)
	case len(s.Bins) != len(feats):
		return invalid("scorecard has %d bins, the encoder is %d wide", len(s.Bins), len(feats))
	}
	col := 0
	for j, f := range feats {
		for a.Encoder.Columns[col].Property != f.Property {
			col++
		}
		ce := &a.Encoder.Columns[col]
		if !ce.Binned {
			return invalid("scorecard property %q is not binned", ce.Property)
		}
		b := s.Bins[j]
		c := b.Coef
		if !(c >= 0) || !finite(c) {
			return invalid("scorecard coefficient of bin %q is %v, want finite and >= 0", f.Name, c)
		}
		if b.Contacts < 0 || b.Customers < 0 || b.Customers > b.Contacts || !finite(b.WoE) {
			return invalid("scorecard bin %q has %d customers of %d contacts and WoE %v", f.Name, b.Customers, b.Contacts, b.WoE)
		}
		// The WoE must have the sign of the bin's rate against the overall one: reasons rely on it.
		if d := b.Rate() - s.Overall; b.WoE*d < 0 || (b.WoE != 0 && (b.Contacts == 0 || d == 0)) {
			return invalid("scorecard bin %q: WoE %v disagrees with its rate %v against %v overall", f.Name, b.WoE, b.Rate(), s.Overall)
		}
		if a.Weights[j] != c*b.WoE || a.Baseline[j] != 0 {
			return invalid("scorecard bin %q: weight %v and baseline %v, want coefficient x WoE = %v and 0", f.Name, a.Weights[j], a.Baseline[j], c*b.WoE)
		}
	}
	return nil
}

// Points is a scorecard as a points sheet.
type Points struct {
	PDO, BaseScore, BaseOdds float64
	// Base is the points every contact starts with, unrounded: Offset + Factor · Intercept.
	Base float64
	// Properties are in the encoder's column order.
	Properties []PropertyPoints
}

// PropertyPoints are the points of one property's bins.
type PropertyPoints struct {
	Property string
	Group    string
	Kind     features.Kind
	Derive   string
	Bins     []BinPoints
	// Range is max - min of the bins' points: how much the property can move a score.
	Range float64
}

// BinPoints is one bin of a points sheet.
type BinPoints struct {
	// Feature is the encoder output of the bin: its Value is the category level, "true"/"false",
	// features.LevelOther or LevelMissing, or the range text; Lo and Hi bound a range.
	Feature features.Feature
	Bin
	// Points is unrounded: Factor · Coef · WoE.
	Points float64
}

// Rounded is p rounded to whole points, as a points sheet prints it.
func Rounded(p float64) int { return int(math.Round(p)) }

// Points returns a's points sheet, or nil for a model that is not a scorecard. The unrounded base
// points plus the bins' points of a contact give a score whose Scorecard.Probability is the
// contact's probability.
func (a *Artifact) Points() *Points {
	s := a.Scorecard
	if s == nil {
		return nil
	}
	factor := s.Factor()
	pts := &Points{PDO: s.PDO, BaseScore: s.BaseScore, BaseOdds: s.BaseOdds, Base: s.Offset() + factor*a.Intercept}
	feats := a.Encoder.Features()
	j := 0
	for _, ce := range a.Encoder.Columns {
		pp := PropertyPoints{Property: ce.Property, Group: ce.Group, Kind: ce.Kind, Derive: ce.Derive}
		lo, hi := math.Inf(1), math.Inf(-1)
		for ; j < len(feats) && feats[j].Property == ce.Property; j++ {
			bp := BinPoints{Feature: feats[j], Bin: s.Bins[j], Points: factor * a.Weights[j]}
			pp.Bins = append(pp.Bins, bp)
			lo, hi = min(lo, bp.Points), max(hi, bp.Points)
		}
		pp.Range = hi - lo
		pts.Properties = append(pts.Properties, pp)
	}
	return pts
}
