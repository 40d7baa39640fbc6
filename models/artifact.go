package models

import (
	"errors"
	"fmt"
	"math"
	"sync/atomic"
	"time"

	"github.com/leadscore/leadscore/features"
)

// FormatVersion is the model.json format this leadscore writes and the newest it reads.
const FormatVersion = 1

// Errors of artifacts. Validate's errors wrap ErrInvalidArtifact and name the offending field.
var (
	ErrInvalidArtifact   = errors.New("models: invalid artifact")
	ErrUnsupportedFormat = errors.New("models: unsupported artifact format")
)

// Artifact is everything needed to score a contact and to judge the model: the feature spec and fitted
// encoder, the logistic weights, the cut points for priority tiers and grades, the conversion-rate
// tables the reasons quote, holdout metrics, the leakage audit and provenance. It is stored as JSON
// (model.json) in a Store.
//
// An Artifact must not be modified after its first Predict: Predict prepares lookup tables once.
type Artifact struct {
	// Format is FormatVersion when written; Validate rejects any other.
	Format int `json:"format"`
	// Name is the model's name in the store.
	Name string `json:"name"`
	// Version is set by Store.Load from the directory the artifact came from; it is not serialised.
	Version int `json:"-"`

	Spec    *features.Spec    `json:"spec"`
	Encoder *features.Encoder `json:"encoder"`

	// Intercept and Weights give logit = Intercept + Weights . x for an encoded contact x.
	Intercept float64   `json:"intercept"`
	Weights   []float64 `json:"weights"`
	// Baseline is the mean encoded training row. A reason's contribution is w_j * (x_j - Baseline_j):
	// how much this contact's value moves the score against the average training contact.
	Baseline []float64 `json:"baseline"`
	// Penalty is the inverse L2 penalty C chosen by cross-validation.
	Penalty float64 `json:"penalty"`
	// Scorecard, if not nil, says that the model is a points scorecard: the encoder is binned, each
	// weight is its column's coefficient times its bin's weight of evidence, and the baseline is zero,
	// so a reason's contribution is its bin's points in log-odds. Nil for a one-hot model.
	Scorecard *Scorecard `json:"scorecard,omitempty"`

	// Tiers are probability cut points, strictly increasing in (0, 1): below Tiers[0] LOW, below
	// Tiers[1] MEDIUM, below Tiers[2] HIGH, else VERY_HIGH.
	Tiers [3]float64 `json:"tiers"`
	// FitCuts and EngagementCuts are non-decreasing cut points (see GradeCuts) for the summed
	// contributions of the fit and engagement groups: the predictive fit grade and engagement level.
	FitCuts        [3]float64 `json:"fit_cuts"`
	EngagementCuts [3]float64 `json:"engagement_cuts"`

	// Rates, if not nil, gives the conversion rates quoted by reasons.
	Rates *features.RateReport `json:"rates,omitempty"`

	Metrics    Metrics      `json:"metrics"`
	Audit      []AuditEntry `json:"audit,omitempty"`
	Provenance Provenance   `json:"provenance"`
	Holdout    HoldoutRef   `json:"holdout"`

	plan atomic.Pointer[plan] // built by the first Predict, then read only
}

// Provenance records where a model came from.
type Provenance struct {
	DataFile         string    `json:"data_file"`
	DataSHA256       string    `json:"data_sha256"`
	Rows             int       `json:"rows"`
	Won              int       `json:"won"`
	Lost             int       `json:"lost"`
	Open             int       `json:"open"`
	Label            string    `json:"label"`
	Positive         []string  `json:"positive,omitempty"`
	Negative         []string  `json:"negative,omitempty"`
	TrainedAt        time.Time `json:"trained_at"`
	LeadscoreVersion string    `json:"leadscore_version"`
	// ParentVersion is the version that was serving when this one was trained; 0 if none.
	ParentVersion int    `json:"parent_version,omitempty"`
	Seed          uint64 `json:"seed"`
	// Split is the holdout method: "random", "time" or "order".
	Split string `json:"split"`
	// Outcomes says where the outcome came from when it was joined from a second file.
	Outcomes *OutcomesFile `json:"outcomes,omitempty"`
}

// OutcomesFile records an outcome taken from a second file joined by a key (see dataset.OutcomeJoin),
// so that the training labels can be found again.
type OutcomesFile struct {
	File       string        `json:"file"`
	SHA256     string        `json:"sha256"`
	Key        string        `json:"key"`
	Column     string        `json:"column,omitempty"`
	Positive   []string      `json:"positive,omitempty"`
	Negative   []string      `json:"negative,omitempty"`
	TimeColumn string        `json:"time_column,omitempty"`
	Window     time.Duration `json:"window,omitempty"`
}

// Validate checks that a can score contacts: a supported format, a valid spec and encoder, weights
// and baseline as wide as the encoder, finite numbers, tiers strictly increasing inside (0, 1) and
// non-decreasing grade cuts. The error names the first offending field.
func (a *Artifact) Validate() error {
	switch {
	case a.Format > FormatVersion:
		return fmt.Errorf("%w: format %d is newer than this leadscore reads (%d); upgrade leadscore", ErrUnsupportedFormat, a.Format, FormatVersion)
	case a.Format != FormatVersion:
		return fmt.Errorf("%w: format %d, want %d", ErrUnsupportedFormat, a.Format, FormatVersion)
	case a.Spec == nil:
		return invalid("spec is missing")
	case a.Encoder == nil:
		return invalid("encoder is missing")
	}
	if err := a.Spec.Validate(); err != nil {
		return invalid("spec: %v", err)
	}
	if err := a.Encoder.Validate(); err != nil {
		return invalid("encoder: %v", err)
	}
	if err := schemaMatches(a.Spec, a.Encoder); err != nil {
		return err
	}
	width := a.Encoder.Width()
	if len(a.Weights) != width {
		return invalid("weights has %d entries, the encoder is %d wide", len(a.Weights), width)
	}
	if len(a.Baseline) != width {
		return invalid("baseline has %d entries, the encoder is %d wide", len(a.Baseline), width)
	}
	if !finite(a.Intercept) {
		return invalid("intercept is %v", a.Intercept)
	}
	for j, w := range a.Weights {
		if !finite(w) {
			return invalid("weights[%d] is %v", j, w)
		}
	}
	for j, b := range a.Baseline {
		if !finite(b) {
			return invalid("baseline[%d] is %v", j, b)
		}
	}
	// Encoded values are bounded, so finite bounds here mean no contact can make the logit or a
	// reason's contribution overflow into an infinity, or a NaN when infinities of both signs meet.
	logitBound, contribBound := math.Abs(a.Intercept), 0.0
	for j, w := range a.Weights {
		logitBound += math.Abs(w) * features.MaxEncoded
		contribBound += math.Abs(w) * (features.MaxEncoded + math.Abs(a.Baseline[j]))
	}
	if !finite(logitBound) || !finite(contribBound) {
		return invalid("weights are so large that a contact's score would overflow")
	}
	if a.Scorecard != nil {
		if err := a.Scorecard.validate(a); err != nil {
			return err
		}
	}
	for i, t := range a.Tiers {
		if !(t > 0 && t < 1) {
			return invalid("tiers[%d] is %v, want inside (0, 1)", i, t)
		}
		if i > 0 && t <= a.Tiers[i-1] {
			return invalid("tiers %v do not increase", a.Tiers)
		}
	}
	for _, c := range []struct {
		field string
		cuts  [3]float64
	}{{"fit_cuts", a.FitCuts}, {"engagement_cuts", a.EngagementCuts}} {
		for i, v := range c.cuts {
			if !finite(v) {
				return invalid("%s[%d] is %v", c.field, i, v)
			}
			if i > 0 && v < c.cuts[i-1] {
				return invalid("%s %v decrease", c.field, c.cuts)
			}
		}
	}
	return nil
}

// schemaMatches checks that the encoder encodes exactly the spec's used columns, in spec order, each
// with the spec's kind, group and derivation, as features.FitEncoder makes it: the server reads a
// contact's properties by the spec and scores them with the encoder, so the two must agree.
func schemaMatches(spec *features.Spec, enc *features.Encoder) error {
	var used []*features.ColumnSpec
	for i := range spec.Columns {
		if spec.Columns[i].Use {
			used = append(used, &spec.Columns[i])
		}
	}
	if len(used) != len(enc.Columns) {
		return invalid("the spec uses %d columns, the encoder encodes %d", len(used), len(enc.Columns))
	}
	for i, cs := range used {
		ce := &enc.Columns[i]
		derive := cs.Derive
		if cs.Kind == features.KindTime && derive == "" {
			derive = features.DeriveRecency
		}
		if ce.Property != cs.Name || ce.Kind != cs.Kind || ce.Group != cs.Group || ce.Derive != derive {
			return invalid("encoder column %d (%s %q, group %s, derive %q) does not match the spec's (%s %q, group %s, derive %q)",
				i, ce.Kind, ce.Property, ce.Group, ce.Derive, cs.Kind, cs.Name, cs.Group, derive)
		}
	}
	return nil
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidArtifact, fmt.Sprintf(format, args...))
}

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }
