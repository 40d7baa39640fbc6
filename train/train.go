package train

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"time"

	"github.com/leadscore/leadscore/features"
	"github.com/leadscore/leadscore/models"
	"github.com/leadscore/leadscore/models/rules"
	"github.com/leadscore/leadscore/train/fit"
	"github.com/leadscore/leadscore/train/metrics"
)

// DefaultGCPercent is the garbage collector target (GOGC) to train under: Go's own default, with which
// the heap may grow to twice what is live before a collection. A lower target holds it closer for more
// CPU: 25 cut peak RSS on 1M generated contacts at a fixed C from 1011 to 638 MB for 28% more CPU, and
// made training 300k contacts at a fixed C a third slower (3.8-4.0 against 2.7-3.0 s wall, 6.2-6.6
// against 4.1-4.6 s CPU, measured back to back on a quiet machine), behind the goal of a third of
// scikit-learn's time. Peak memory at scale is bounded by not holding the dataset (TrainFrom reads
// Parquet a column at a time), not by collecting more often; --gc-percent 25 serves a machine short of
// memory with data read whole (CSV).
const DefaultGCPercent = 100

// Sentinel errors of training; a *DataError wraps them with the column concerned.
var (
	ErrTooFewRows = errors.New("train: too few closed contacts")
	ErrNoFeatures = errors.New("train: no usable feature columns")
	ErrGate       = errors.New("train: new model is worse than the serving one")
)

// Config says how to train. Its zero value, given a Frame and Labels, trains with a stratified random
// 80/20 split, 5-fold cross-validation, seed 0 and no manual rules.
type Config struct {
	// Spec, if not nil, is used as is (edited by the user); otherwise it is inferred from the frame.
	Spec *features.Spec
	// Label is the outcome column, excluded from the features.
	Label string
	// TimeColumn, if set, orders rows by that time column and holds out the latest HoldoutShare.
	TimeColumn string
	// OrderBy, if set (and TimeColumn is not), does the same with a numeric column.
	OrderBy string
	// HoldoutShare is the share of closed rows held out for evaluation; 0 means 0.2.
	HoldoutShare float64
	// Seed makes the random split and cross-validation folds reproducible.
	Seed uint64
	// Allow keeps these columns whatever any automatic rule says: the spec's inference (identifier,
	// time, free text) and every rule of the audit. The column that orders the holdout stays out.
	Allow []string
	// Recency asks for these time columns' age at the export snapshot as features. The audit still
	// excludes one whose age is a censoring artefact (see censored) unless it is also allowed.
	Recency []string
	// Now bounds the export snapshot: dates after it are warned about and count as the snapshot. The
	// zero time means the clock.
	Now time.Time
	// Exclude drops these columns from the features.
	Exclude []string
	// LeakAUC is the single-column AUC at or above which a column is excluded as leakage; 0 means 0.95.
	LeakAUC float64
	// MinClass is the minimum number of won and of lost training rows; 0 means 40.
	MinClass int
	// Folds is the number of cross-validation folds; 0 means 5.
	Folds int
	// Grid lists the candidate C values (inverse L2 penalty); nil means fit's default grid. With one
	// value there is no cross-validation.
	Grid []float64
	// Encoder configures the feature encoder.
	Encoder features.EncoderOptions
	// Rates configures the conversion-rate tables stored in the model.
	Rates features.RateOptions
	// Rules, if not nil, is the manual score evaluated on the same holdout rows.
	Rules *rules.Rules
	// Model is ModelScorecard (the default, "") or ModelOneHot.
	Model string
	// NoBins turns off the range features of the one-hot model: by default every number column also gets one 0/1 feature
	// per range of its conversion-rate table, so the model can follow rates that step or saturate.
	NoBins bool
	// Progress, if not nil, is told of each step as it starts: its name, its number from 1 and the
	// number of steps.
	Progress func(step string, n, total int)
}

// Result is a trained model and what was learnt on the way.
type Result struct {
	Artifact *models.Artifact
	// Warnings are things a person should read: suspicious columns, pooled values, etc.
	Warnings []string
	// CV gives the mean cross-validated log loss of each candidate C.
	CV []CVPoint
	// TrainRows and HoldoutRows index the rows of the data.
	TrainRows, HoldoutRows []int
	// src is the data trained on, where Publish finds the holdout's contacts again.
	src Source
	// Steps times each step of Train, in order.
	Steps []StepTime
}

// StepTime is how long one step took.
type StepTime struct {
	Step    string  `json:"step"`
	Seconds float64 `json:"seconds"`
}

// CVPoint is the cross-validation score of one penalty.
type CVPoint struct {
	C       float64 `json:"c"`
	LogLoss float64 `json:"log_loss"`
}

// steps are the steps Train reports to Config.Progress, in order.
var steps = [...]string{"split", "leakage audit", "conversion rates", "encode", "cross-validate", "fit", "evaluate"}

// Train fits a model on the closed rows of f. labels has one entry per row of f.
func Train(ctx context.Context, f *features.Frame, labels []features.Label, cfg Config) (*Result, error) {
	return TrainFrom(ctx, FrameSource(f), labels, cfg)
}

// TrainFrom is Train on data read a column at a time: each step loads the columns it needs when it
// needs them, and what training holds is the labels, the training rows' design and the holdout's
// contacts. The model is the one Train fits on a frame of the same data.
func TrainFrom(ctx context.Context, src Source, labels []features.Label, cfg Config) (*Result, error) {
	if len(labels) != src.Len() {
		return nil, fmt.Errorf("train: %d labels for %d rows", len(labels), src.Len())
	}
	res := &Result{}
	done, started := 0, time.Now()
	lap := func() {
		if done > 0 {
			now := time.Now()
			res.Steps[done-1].Seconds = now.Sub(started).Seconds()
			started = now
		}
	}
	progress := func(step string) {
		lap()
		done++
		res.Steps = append(res.Steps, StepTime{Step: step})
		if cfg.Progress != nil {
			cfg.Progress(step, done, len(steps))
		}
	}
	holdoutShare := cfg.HoldoutShare
	if holdoutShare <= 0 {
		holdoutShare = 0.2
	}
	if holdoutShare >= 0.9 {
		return nil, fmt.Errorf("train: holdout share %.2f leaves too little to train on", holdoutShare)
	}
	minClass := cfg.MinClass
	if minClass <= 0 {
		minClass = 40
	}
	leakAUC := cfg.LeakAUC
	if leakAUC <= 0 {
		leakAUC = 0.95
	}

	progress("split")
	closed := make([]int, 0, len(labels))
	for i, l := range labels {
		if l.Closed() {
			closed = append(closed, i)
		}
	}
	ref, trainRows, holdRows, err := split(src, labels, closed, cfg, holdoutShare)
	if err != nil {
		return nil, err
	}
	won, lost := countLabels(labels, trainRows)
	if won < minClass || lost < minClass {
		return nil, fmt.Errorf("%w: the training split has %d won and %d lost, need at least %d of each", ErrTooFewRows, won, lost, minClass)
	}
	hw, hl := countLabels(labels, holdRows)
	if hw == 0 || hl == 0 {
		return nil, fmt.Errorf("%w: the holdout has %d won and %d lost; it needs both", ErrTooFewRows, hw, hl)
	}
	res.TrainRows, res.HoldoutRows = trainRows, holdRows

	spec := cfg.Spec
	if spec == nil {
		if spec, err = features.InferSpecFrom(src, cfg.Label); err != nil {
			return nil, err
		}
	}
	spec = cloneSpec(spec)
	for _, name := range cfg.Exclude {
		cs := specColumn(spec, name)
		if cs == nil {
			return nil, fmt.Errorf("train: excluded column %q is not in the data", name)
		}
		cs.Use, cs.Reason = false, "excluded by the user"
	}
	now := cfg.Now
	if now.IsZero() {
		now = time.Now()
	}
	snap, haveSnap, warns, err := snapshot(src, now)
	if err != nil {
		return nil, err
	}
	res.Warnings = append(res.Warnings, warns...)
	if cfg.Spec == nil && haveSnap {
		spec.ReferenceTime = features.UnixTime(snap)
	}
	if !spec.ReferenceTime.IsZero() {
		snap = features.UnixSeconds(spec.ReferenceTime)
	}
	if err := applyOverrides(spec, cfg); err != nil {
		return nil, err
	}

	progress("leakage audit")
	audit, warns, err := auditLeakage(auditInput{src: src, labels: labels, rows: trainRows, leakAUC: leakAUC,
		allow: cfg.Allow, exclude: cfg.Exclude, snapshot: snap}, spec)
	if err != nil {
		return nil, err
	}
	res.Warnings = append(res.Warnings, warns...)
	if !slices.ContainsFunc(spec.Columns, func(c features.ColumnSpec) bool { return c.Use }) {
		return nil, ErrNoFeatures
	}

	progress("conversion rates")
	rates, err := features.ComputeRates(src, labels, rateOptions(cfg.Rates, src, spec, trainRows))
	if err != nil {
		return nil, err
	}

	progress("encode")
	var a *models.Artifact
	var x *fit.Design
	switch cfg.Model {
	case "", ModelScorecard:
		a, x, err = fitScorecard(ctx, src, labels, trainRows, spec, rates, cfg, res, progress)
	case ModelOneHot:
		a, x, err = fitOneHot(ctx, src, labels, trainRows, spec, rates, cfg, res, progress)
	default:
		err = fmt.Errorf("train: unknown model %q (want %s or %s)", cfg.Model, ModelScorecard, ModelOneHot)
	}
	if err != nil {
		return nil, err
	}
	a.Rates, a.Audit, a.Holdout = rates, audit, ref
	// Tiers and grade cuts come from the training scores.
	probs, fitSums, engSums := designScores(a, x)
	a.Tiers, a.FitCuts, a.EngagementCuts = tierCuts(probs), models.GradeCuts(fitSums), models.GradeCuts(engSums)

	progress("evaluate")
	// The holdout's contacts, with what the model and the manual rules read.
	var read []string
	for _, cs := range spec.Columns {
		if cs.Use {
			read = append(read, cs.Name)
		}
	}
	if cfg.Rules != nil {
		read = append(read, cfg.Rules.Properties()...)
	}
	hold, at, err := src.Rows(holdRows, read)
	if err != nil {
		return nil, err
	}
	res.src = src
	held, err := a.ScoreFrame(hold, at, spec.ReferenceTime)
	if err != nil {
		return nil, err
	}
	holdScores := make([]float64, len(holdRows))
	for r, sc := range held {
		holdScores[r] = sc.Probability
	}
	yHold := labelBools(labels, holdRows)
	a.Metrics = metrics.Evaluate(holdScores, yHold)
	if cfg.Rules != nil {
		manual := make([]float64, len(holdRows))
		for r, i := range at {
			manual[r] = cfg.Rules.Score(hold.Contact(i, ""), spec.ReferenceTime).Total
		}
		a.Metrics.Manual = &models.ManualMetrics{AUC: metrics.AUC(manual, yHold), Deciles: metrics.Deciles(manual, yHold)}
	}
	if err := a.Validate(); err != nil {
		return nil, fmt.Errorf("train: the fitted model does not validate: %w", err)
	}
	lap()
	res.Artifact = a
	return res, nil
}

// rangeCuts returns the cut points of the numeric conversion-rate tables, by property.
func rangeCuts(r *features.RateReport) map[string][]float64 {
	cuts := map[string][]float64{}
	for _, t := range r.Tables {
		if t.Kind != features.KindNumber {
			continue
		}
		var cs []float64
		for _, row := range t.Rows {
			if !row.Missing && !math.IsInf(row.Lo, 0) && !math.IsNaN(row.Lo) {
				cs = append(cs, row.Lo)
			}
		}
		sort.Float64s(cs)
		cs = slices.Compact(cs)
		if len(cs) > 0 {
			cuts[t.Property] = cs
		}
	}
	return cuts
}

func countLabels(labels []features.Label, rows []int) (won, lost int) {
	for _, i := range rows {
		switch labels[i] {
		case features.Won:
			won++
		case features.Lost:
			lost++
		}
	}
	return won, lost
}

func labelFloats(labels []features.Label, rows []int) []float64 {
	y := make([]float64, len(rows))
	for r, i := range rows {
		if labels[i] == features.Won {
			y[r] = 1
		}
	}
	return y
}

func labelBools(labels []features.Label, rows []int) []bool {
	y := make([]bool, len(rows))
	for r, i := range rows {
		y[r] = labels[i] == features.Won
	}
	return y
}

func subLabels(labels []features.Label, rows []int) []features.Label {
	out := make([]features.Label, len(rows))
	for r, i := range rows {
		out[r] = labels[i]
	}
	return out
}

// rateOptions returns opts for the conversion-rate tables of the used columns of spec (of those
// opts.Columns names, if it names any), counted on the given rows, derived properties by their
// classes.
func rateOptions(opts features.RateOptions, f features.Columns, spec *features.Spec, rows []int) features.RateOptions {
	used := []string{}
	derive := map[string]string{}
	for _, cs := range spec.Columns {
		if cs.Use && f.Kind(cs.Name) != features.KindNone && (opts.Columns == nil || slices.Contains(opts.Columns, cs.Name)) {
			used = append(used, cs.Name)
			if cs.Derive != "" {
				derive[cs.Name] = cs.Derive
			}
		}
	}
	opts.Columns, opts.Rows, opts.Derive = used, rows, derive
	return opts
}

// tierCuts returns the priority tier cut points: the quartiles of the training scores
// (models.GradeCuts), made strictly increasing as Artifact.Validate requires.
func tierCuts(scores []float64) [3]float64 {
	t := models.GradeCuts(scores)
	// Ties (a model with few distinct scores) are nudged apart.
	for i := 1; i < 3; i++ {
		if t[i] <= t[i-1] {
			t[i] = math.Nextafter(t[i-1], 1)
		}
	}
	return t
}

// reasonOrders is the reason the column that orders the holdout is left out.
const reasonOrders = "it orders the holdout: never a feature by itself"

// applyOverrides applies the user's choices to spec: the column that orders the holdout is left
// out, allowed columns are used whatever the inference said, and recency columns are used.
func applyOverrides(spec *features.Spec, cfg Config) error {
	order := cmp.Or(cfg.TimeColumn, cfg.OrderBy)
	if cs := specColumn(spec, order); cs != nil {
		cs.Use, cs.Reason = false, reasonOrders
	}
	use := func(name, what string) (*features.ColumnSpec, error) {
		cs := specColumn(spec, name)
		switch {
		case cs == nil:
			return nil, fmt.Errorf("train: %s column %q is not in the data", what, name)
		case name == order:
			return nil, fmt.Errorf("train: %s column %q orders the holdout, and is never a feature by itself", what, name)
		case name == spec.Label:
			return nil, fmt.Errorf("train: %s column %q is the outcome", what, name)
		}
		if !cs.Use && !slices.Contains(cfg.Exclude, name) {
			cs.Use, cs.Reason = true, ""
			if cs.Group == "" {
				cs.Group = features.GroupFit
			}
			if cs.Kind == features.KindTime {
				cs.Derive = features.DeriveRecency
			}
		}
		return cs, nil
	}
	for _, name := range cfg.Allow {
		if _, err := use(name, "allowed"); err != nil {
			return err
		}
	}
	for _, name := range cfg.Recency {
		cs, err := use(name, "recency")
		if err != nil {
			return err
		}
		if cs.Kind != features.KindTime {
			return fmt.Errorf("train: recency column %q is a %s column, not a time", name, cs.Kind)
		}
	}
	if !spec.ReferenceTime.IsZero() {
		return nil
	}
	for _, cs := range spec.Columns {
		if cs.Use && cs.Kind == features.KindTime {
			return fmt.Errorf("train: time column %q is used but the data has no date up to now to measure its age from", cs.Name)
		}
	}
	return nil
}

func cloneSpec(s *features.Spec) *features.Spec {
	c := *s
	c.Columns = slices.Clone(s.Columns)
	return &c
}

func specColumn(s *features.Spec, name string) *features.ColumnSpec {
	for i := range s.Columns {
		if s.Columns[i].Name == name {
			return &s.Columns[i]
		}
	}
	return nil
}

// Bounds of the penalty grid's widening: C is never tried outside [minC, maxC].
const (
	minC = 1e-6
	maxC = 1e5
)

// choosePenalty chooses C by cross-validation over cfg.Grid (fit's default grid when nil; a single
// value is taken as is). When the best C sits at an edge of the default grid, the grid is widened
// past that edge, at its own spacing, up to twice (within [minC, maxC]): a best value at the edge
// means the optimum may lie beyond it. A best value still at an edge is warned about. nonNegative
// cross-validates the fit of fit.FitNonNegative. start is where the fit at the chosen C on every row
// may start (fit.CVResult.Start; nil without cross-validation).
func choosePenalty(x *fit.Design, y []float64, cfg Config, nonNegative bool) (float64, []float64, []CVPoint, []string, error) {
	if len(cfg.Grid) == 1 {
		return cfg.Grid[0], nil, nil, nil, nil // a single penalty needs no cross-validation
	}
	opts := fit.CVOptions{Grid: cfg.Grid, Folds: cfg.Folds, Seed: cfg.Seed, NonNegative: nonNegative}
	r, err := fit.CrossValidate(x, y, opts)
	if err != nil {
		return 0, nil, nil, nil, err
	}
	start := r.Start
	grid, scores := r.Grid, r.Scores
	bestAt := func() int { return slices.IndexFunc(grid, func(c float64) bool { return c == r.Best }) }
	var warns []string
	for range 2 {
		if cfg.Grid != nil || len(grid) < 2 {
			break
		}
		i := bestAt()
		step := grid[1] / grid[0]
		var more []float64
		switch {
		case i == 0 && grid[0]/step >= minC:
			for k := 3; k >= 1; k-- {
				more = append(more, grid[0]/math.Pow(step, float64(k)))
			}
		case i == len(grid)-1 && grid[i]*step <= maxC:
			for k := 1; k <= 3; k++ {
				more = append(more, grid[i]*math.Pow(step, float64(k)))
			}
		}
		if len(more) == 0 {
			break
		}
		warns = append(warns, fmt.Sprintf("the penalty chosen by cross-validation (C = %.4g) was at the edge of the grid; widened the grid to C = %.4g", r.Best, more[len(more)-1]))
		opts.Grid = more
		rm, err := fit.CrossValidate(x, y, opts)
		if err != nil {
			return 0, nil, nil, nil, err
		}
		best, bestScore := r.Best, scores[i]
		for k, c := range rm.Grid {
			if rm.Scores[k] < bestScore || (rm.Scores[k] == bestScore && c < best) {
				best, bestScore = c, rm.Scores[k]
			}
		}
		if best != r.Best {
			start = nil // a cold start unless the widened grid's own best won
			if best == rm.Best {
				start = rm.Start
			}
		}
		grid, scores = append(grid, rm.Grid...), append(scores, rm.Scores...)
		idx := make([]int, len(grid))
		for k := range idx {
			idx[k] = k
		}
		slices.SortFunc(idx, func(a, b int) int { return cmp.Compare(grid[a], grid[b]) })
		g2, s2 := make([]float64, len(grid)), make([]float64, len(grid))
		for k, j := range idx {
			g2[k], s2[k] = grid[j], scores[j]
		}
		grid, scores, r.Best = g2, s2, best
	}
	if i := bestAt(); i == 0 || i == len(grid)-1 {
		warns = append(warns, fmt.Sprintf("the penalty chosen by cross-validation (C = %.4g) is at the edge of the grid [%.4g, %.4g]: the best penalty may lie beyond it", r.Best, grid[0], grid[len(grid)-1]))
	}
	cv := make([]CVPoint, len(grid))
	for k := range grid {
		cv[k] = CVPoint{C: grid[k], LogLoss: scores[k]}
	}
	return r.Best, start, cv, warns, nil
}
