package train

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"time"

	"github.com/leadscore/leadscore/features"
	"github.com/leadscore/leadscore/models"
	"github.com/leadscore/leadscore/models/rules"
)

// ErrScoreColumns: the columns asked of batch scoring are not in the data, or clash with its output.
var ErrScoreColumns = errors.New("train: cannot copy the column to the scored output")

// ScoreOptions configures Score. The zero value scores with the model alone, at its reference time,
// copying the data's identifier column (or numbering rows).
type ScoreOptions struct {
	// IDColumn, if set, is copied first into the output under its own name, so that a CRM re-import
	// matches on it. Without it the data's identifier is copied (Spec.IDColumn: the column the model's
	// spec took for one, else "id"), and without that the output starts with "id", the 1-based row
	// number.
	IDColumn string
	// Keep names further columns copied into the output as they are, after the id.
	Keep []string
	// Rules, if set, add the manual score and stage (manual_score, manual_stage).
	Rules *rules.Rules
	// Reasons, if positive, adds the column "reasons": the prediction's strongest Reasons reasons in
	// one line (models.ReasonsLine), for a CRM field.
	Reasons int
	// AsOf is the scoring time of recency features and time rules; zero means models.AsOf's default,
	// the clock, as on every path that scores.
	AsOf time.Time
}

// ScoreError is a row that could not be scored; the output holds it with the reason in "error".
type ScoreError struct {
	Row int // 1-based data row
	Err error
}

func (e *ScoreError) Error() string { return fmt.Sprintf("row %d: %v", e.Row, e.Err) }
func (e *ScoreError) Unwrap() error { return e.Err }

// WriteScoreErrors writes the first n of failed, one a line, then how many more there are.
func WriteScoreErrors(w io.Writer, failed []ScoreError, n int) {
	for _, f := range failed[:min(n, len(failed))] {
		fmt.Fprintln(w, f.Error())
	}
	if len(failed) > n {
		fmt.Fprintf(w, "... and %d more\n", len(failed)-n)
	}
}

// scoreColumns are the columns Score writes besides the copied ones.
var scoreColumns = []string{"probability", "priority", "fit_grade", "engagement_level", "reasons", "manual_score", "manual_stage", "error"}

// Score scores every row of f with a, through the same Predict path the server uses (and with the
// manual rules when given), into a new frame: the id (or row number) and kept columns, probability,
// priority, fit_grade, engagement_level, reasons when asked, manual_score and manual_stage with rules, and error. A row
// that cannot be scored is kept with its error and also returned. A copied column absent from f, or
// named like an output column, wraps ErrScoreColumns.
func Score(a *models.Artifact, f *features.Frame, opts ScoreOptions) (*features.Frame, []ScoreError, error) {
	n := f.Len()
	out := &features.Frame{}
	id := opts.IDColumn
	if id == "" {
		id = a.Spec.IDColumn(f)
	}
	copied := opts.Keep
	if id != "" {
		copied = append([]string{id}, slices.DeleteFunc(slices.Clone(opts.Keep), func(s string) bool { return s == id })...)
	}
	newCol := func(name string, kind features.Kind) *features.Column {
		c := features.NewColumn(name, kind, n)
		out.Columns = append(out.Columns, c)
		return c
	}
	var rowID *features.Column
	if id == "" {
		rowID = newCol("id", features.KindCategory)
	}
	for _, name := range copied {
		src := f.Column(name)
		switch {
		case src == nil:
			return nil, nil, fmt.Errorf("%w: the data has no column %q", ErrScoreColumns, name)
		case slices.Contains(scoreColumns, name) || name == "id" && id == "":
			return nil, nil, fmt.Errorf("%w: %q is also an output column", ErrScoreColumns, name)
		case out.Column(name) != nil:
			continue
		}
		c := *src
		c.Valid, c.Str, c.Num, c.Bool = slices.Clone(src.Valid), slices.Clone(src.Str), slices.Clone(src.Num), slices.Clone(src.Bool)
		out.Columns = append(out.Columns, &c)
	}
	prob := newCol("probability", features.KindNumber)
	prio := newCol("priority", features.KindCategory)
	fitGrade := newCol("fit_grade", features.KindCategory)
	engLevel := newCol("engagement_level", features.KindNumber)
	var reasons *features.Column
	if opts.Reasons > 0 {
		reasons = newCol("reasons", features.KindCategory)
	}
	var manual, stage *features.Column
	if opts.Rules != nil {
		manual = newCol("manual_score", features.KindNumber)
		stage = newCol("manual_stage", features.KindCategory)
	}
	errCol := newCol("error", features.KindCategory)
	asOf := models.AsOf(opts.AsOf)
	var failed []ScoreError
	for i := range n {
		c := f.Contact(i, id)
		if rowID != nil {
			rowID.Str[i], rowID.Valid[i] = strconv.Itoa(i+1), true
		}
		if opts.Rules != nil {
			r := opts.Rules.Score(c, asOf)
			if !r.Excluded {
				manual.Num[i], manual.Valid[i] = r.Total, true
				stage.Str[i], stage.Valid[i] = r.Stage, true
			} else {
				stage.Str[i], stage.Valid[i] = "EXCLUDED", true
			}
		}
		p, err := a.Predict(c, asOf)
		if err != nil {
			failed = append(failed, ScoreError{Row: i + 1, Err: err})
			errCol.Str[i], errCol.Valid[i] = err.Error(), true
			continue
		}
		prob.Num[i], prob.Valid[i] = p.Probability, true
		prio.Str[i], prio.Valid[i] = p.Priority.String(), true
		fitGrade.Str[i], fitGrade.Valid[i] = p.FitGrade, true
		engLevel.Num[i], engLevel.Valid[i] = float64(p.EngagementLevel), true
		if reasons != nil {
			reasons.Str[i], reasons.Valid[i] = models.ReasonsLine(p.Reasons, opts.Reasons), true
		}
	}
	return out, failed, nil
}
