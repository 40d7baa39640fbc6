package train

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/leadscore/leadscore/features"
	"github.com/leadscore/leadscore/models"
	"github.com/leadscore/leadscore/models/rules"
	"github.com/leadscore/leadscore/train/fit"
	"github.com/leadscore/leadscore/train/metrics"
)

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
	// Allow keeps these columns even when the leakage audit would exclude them.
	Allow []string
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
	// NoBins turns off the range features: by default every number column also gets one 0/1 feature
	// per range of its conversion-rate table, so the model can follow rates that step or saturate.
	NoBins bool
	// Progress, if not nil, is told of each step as it starts.
	Progress func(step string)
}

// Result is a trained model and what was learnt on the way.
type Result struct {
	Artifact *models.Artifact
	// Warnings are things a person should read: suspicious columns, pooled values, etc.
	Warnings []string
	// CV gives the mean cross-validated log loss of each candidate C.
	CV []CVPoint
	// TrainRows and HoldoutRows index the frame.
	TrainRows, HoldoutRows []int
}

// CVPoint is the cross-validation score of one penalty.
type CVPoint struct {
	C       float64 `json:"c"`
	LogLoss float64 `json:"log_loss"`
}

// smellyWords mark column names that often exist only because of the outcome.
var smellyWords = []string{"stage", "status", "won", "lost", "closed", "close", "converted", "customer", "outcome", "result"}

// auditMinCount is the number of contacts below which a value is pooled in the audit.
const auditMinCount = 20

// strongAUC is the single-column AUC at which a kept column is named in a warning: strong enough
// that it may be recorded during or after the sale (a call's duration, a meeting count).
const strongAUC = 0.8

// smellyAUC is the single-column AUC at which a column whose name smells of the outcome is excluded.
const smellyAUC = 0.65

// Train fits a model on the closed rows of f. labels has one entry per row of f.
func Train(ctx context.Context, f *features.Frame, labels []features.Label, cfg Config) (*Result, error) {
	if len(labels) != f.Len() {
		return nil, fmt.Errorf("train: %d labels for %d rows", len(labels), f.Len())
	}
	progress := cfg.Progress
	if progress == nil {
		progress = func(string) {}
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
	res := &Result{}

	progress("split")
	closed := make([]int, 0, len(labels))
	for i, l := range labels {
		if l.Closed() {
			closed = append(closed, i)
		}
	}
	ref, trainRows, holdRows, err := split(f, labels, closed, cfg, holdoutShare)
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
		spec = features.InferSpec(f, cfg.Label)
	}
	spec = cloneSpec(spec)
	for _, name := range cfg.Exclude {
		cs := specColumn(spec, name)
		if cs == nil {
			return nil, fmt.Errorf("train: --exclude names column %q, which the data does not have", name)
		}
		cs.Use, cs.Reason = false, "excluded by the user"
	}
	for _, name := range cfg.Allow {
		if specColumn(spec, name) == nil {
			return nil, fmt.Errorf("train: --allow names column %q, which the data does not have", name)
		}
	}

	progress("leakage audit")
	audit, warns := auditLeakage(f, labels, trainRows, spec, leakAUC, cfg.Allow)
	res.Warnings = append(res.Warnings, warns...)
	if !slices.ContainsFunc(spec.Columns, func(c features.ColumnSpec) bool { return c.Use }) {
		return nil, ErrNoFeatures
	}

	progress("conversion rates")
	rates, err := features.ComputeRates(subFrame(f, trainRows, spec), subLabels(labels, trainRows), cfg.Rates)
	if err != nil {
		return nil, err
	}

	progress("encode")
	encOpts := cfg.Encoder
	if !cfg.NoBins && encOpts.Bins == nil {
		encOpts.Bins = rangeCuts(rates)
	}
	enc, err := features.FitEncoder(spec, f, trainRows, encOpts)
	if err != nil {
		return nil, err
	}
	width := enc.Width()
	xTrain, err := enc.EncodeFrame(f, trainRows, time.Time{})
	if err != nil {
		return nil, err
	}
	yTrain := labelFloats(labels, trainRows)

	if err := ctx.Err(); err != nil {
		return nil, err
	}
	progress("cross-validate")
	best := 0.0
	if len(cfg.Grid) == 1 {
		best = cfg.Grid[0] // a single penalty needs no cross-validation
	} else {
		cv, err := fit.CrossValidate(xTrain, len(trainRows), width, yTrain, fit.CVOptions{Grid: cfg.Grid, Folds: cfg.Folds, Seed: cfg.Seed})
		if err != nil {
			return nil, err
		}
		for i, c := range cv.Grid {
			res.CV = append(res.CV, CVPoint{C: c, LogLoss: cv.Scores[i]})
		}
		best = cv.Best
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	progress("fit")
	model, err := fit.Fit(xTrain, len(trainRows), width, yTrain, fit.Options{C: best})
	if err != nil {
		return nil, err
	}
	if !model.Converged {
		res.Warnings = append(res.Warnings, fmt.Sprintf("the solver stopped after %d iterations before converging", model.Iterations))
	}

	baseline := make([]float64, width)
	for r := range trainRows {
		row := xTrain[r*width : (r+1)*width]
		for j, v := range row {
			baseline[j] += v
		}
	}
	for j := range baseline {
		baseline[j] /= float64(len(trainRows))
	}
	trainScores := make([]float64, len(trainRows))
	fitSums := make([]float64, len(trainRows))
	engSums := make([]float64, len(trainRows))
	feats := enc.Features()
	for r := range trainRows {
		row := xTrain[r*width : (r+1)*width]
		z := model.Intercept
		for j, v := range row {
			z += model.Weights[j] * v
			c := model.Weights[j] * (v - baseline[j])
			if feats[j].Group == "engagement" {
				engSums[r] += c
			} else {
				fitSums[r] += c
			}
		}
		trainScores[r] = sigmoid(z)
	}

	a := &models.Artifact{
		Format:         models.FormatVersion,
		Spec:           spec,
		Encoder:        enc,
		Intercept:      model.Intercept,
		Weights:        model.Weights,
		Baseline:       baseline,
		Penalty:        best,
		Tiers:          tierCuts(trainScores),
		FitCuts:        models.GradeCuts(fitSums),
		EngagementCuts: models.GradeCuts(engSums),
		Rates:          rates,
		Audit:          audit,
		Holdout:        ref,
	}

	progress("evaluate")
	xHold, err := enc.EncodeFrame(f, holdRows, time.Time{})
	if err != nil {
		return nil, err
	}
	holdScores := make([]float64, len(holdRows))
	for r := range holdRows {
		z := model.Intercept
		for j, v := range xHold[r*width : (r+1)*width] {
			z += model.Weights[j] * v
		}
		holdScores[r] = sigmoid(z)
	}
	yHold := labelBools(labels, holdRows)
	a.Metrics = metrics.Evaluate(holdScores, yHold)
	if cfg.Rules != nil {
		manual := make([]float64, len(holdRows))
		at := spec.ReferenceTime
		for r, i := range holdRows {
			manual[r] = cfg.Rules.Score(f.Contact(i, ""), at).Total
		}
		a.Metrics.Manual = &models.ManualMetrics{AUC: metrics.AUC(manual, yHold), Deciles: metrics.Deciles(manual, yHold)}
	}
	if err := a.Validate(); err != nil {
		return nil, fmt.Errorf("train: the fitted model does not validate: %w", err)
	}
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

func sigmoid(z float64) float64 {
	if z >= 0 {
		return 1 / (1 + math.Exp(-z))
	}
	e := math.Exp(z)
	return e / (1 + e)
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

// subFrame returns the used columns of f restricted to rows, derived properties as their classes.
func subFrame(f *features.Frame, rows []int, spec *features.Spec) *features.Frame {
	out := &features.Frame{}
	for _, cs := range spec.Columns {
		if !cs.Use {
			continue
		}
		src := f.Column(cs.Name)
		if src == nil {
			continue
		}
		c := &features.Column{Name: src.Name, Kind: src.Kind, Valid: make([]bool, len(rows))}
		switch src.Kind {
		case features.KindCategory:
			c.Str = make([]string, len(rows))
		case features.KindFlag:
			c.Bool = make([]bool, len(rows))
		default:
			c.Num = make([]float64, len(rows))
		}
		for r, i := range rows {
			c.Valid[r] = src.Valid[i]
			switch src.Kind {
			case features.KindCategory:
				c.Str[r] = features.DerivedClass(cs.Derive, src.Str[i])
			case features.KindFlag:
				c.Bool[r] = src.Bool[i]
			default:
				c.Num[r] = src.Num[i]
			}
		}
		out.Columns = append(out.Columns, c)
	}
	return out
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

// split chooses training and holdout rows among the closed ones.
func split(f *features.Frame, labels []features.Label, closed []int, cfg Config, share float64) (models.HoldoutRef, []int, []int, error) {
	ref := models.HoldoutRef{Share: share, Seed: cfg.Seed}
	orderCol := cfg.TimeColumn
	ref.Method = "time"
	if orderCol == "" && cfg.OrderBy != "" {
		orderCol, ref.Method = cfg.OrderBy, "order"
	}
	if orderCol == "" {
		ref.Method = "random"
		train, hold := stratifiedSplit(labels, closed, share, cfg.Seed)
		return ref, train, hold, nil
	}
	col := f.Column(orderCol)
	if col == nil {
		return ref, nil, nil, fmt.Errorf("train: split column %q is not in the data", orderCol)
	}
	if ref.Method == "time" && col.Kind != features.KindTime {
		return ref, nil, nil, fmt.Errorf("train: --time-column %q is a %s column, not a time", orderCol, col.Kind)
	}
	if ref.Method == "order" && col.Kind != features.KindNumber && col.Kind != features.KindTime {
		return ref, nil, nil, fmt.Errorf("train: --order-by %q is a %s column, not a number", orderCol, col.Kind)
	}
	rows := make([]int, 0, len(closed))
	for _, i := range closed {
		if col.Valid[i] {
			rows = append(rows, i)
		}
	}
	if len(rows) < len(closed) {
		return ref, nil, nil, fmt.Errorf("train: split column %q is missing in %d closed rows", orderCol, len(closed)-len(rows))
	}
	sort.SliceStable(rows, func(a, b int) bool { return col.Num[rows[a]] < col.Num[rows[b]] })
	cut := len(rows) - int(math.Round(share*float64(len(rows))))
	if cut <= 0 || cut >= len(rows) {
		return ref, nil, nil, fmt.Errorf("%w: %d closed rows cannot be split", ErrTooFewRows, len(rows))
	}
	// Rows tied with the first holdout value go to the holdout, so the cutoff alone finds them again.
	cutoff := col.Num[rows[cut]]
	for cut > 0 && col.Num[rows[cut-1]] >= cutoff {
		cut--
	}
	ref.Column, ref.Cutoff = orderCol, cutoff
	train, hold := slices.Clone(rows[:cut]), slices.Clone(rows[cut:])
	sort.Ints(train)
	sort.Ints(hold)
	return ref, train, hold, nil
}

// stratifiedSplit holds out share of the won and share of the lost rows, chosen at random by seed.
func stratifiedSplit(labels []features.Label, closed []int, share float64, seed uint64) (train, hold []int) {
	rng := rand.New(rand.NewPCG(seed, seed^0x5eed))
	var won, lost []int
	for _, i := range closed {
		if labels[i] == features.Won {
			won = append(won, i)
		} else {
			lost = append(lost, i)
		}
	}
	for _, group := range [][]int{won, lost} {
		rng.Shuffle(len(group), func(a, b int) { group[a], group[b] = group[b], group[a] })
		n := int(math.Round(share * float64(len(group))))
		hold = append(hold, group[:n]...)
		train = append(train, group[n:]...)
	}
	sort.Ints(train)
	sort.Ints(hold)
	return train, hold
}

// HoldoutRows finds the holdout rows of a model again in the frame it was trained on.
func HoldoutRows(f *features.Frame, labels []features.Label, ref models.HoldoutRef) ([]int, error) {
	closed := make([]int, 0, len(labels))
	for i, l := range labels {
		if l.Closed() {
			closed = append(closed, i)
		}
	}
	switch ref.Method {
	case "random":
		_, hold := stratifiedSplit(labels, closed, ref.Share, ref.Seed)
		return hold, nil
	case "time", "order":
		col := f.Column(ref.Column)
		if col == nil {
			return nil, fmt.Errorf("train: holdout column %q is not in the data", ref.Column)
		}
		var hold []int
		for _, i := range closed {
			if col.Valid[i] && col.Num[i] >= ref.Cutoff {
				hold = append(hold, i)
			}
		}
		return hold, nil
	}
	return nil, fmt.Errorf("train: unknown holdout method %q", ref.Method)
}

// auditLeakage measures every used column's single-column AUC on the training rows and excludes
// those that predict the outcome almost perfectly, or that smell of it by name and predict it well.
func auditLeakage(f *features.Frame, labels []features.Label, rows []int, spec *features.Spec, leakAUC float64, allow []string) ([]models.AuditEntry, []string) {
	y := labelBools(labels, rows)
	var audit []models.AuditEntry
	var warns []string
	// The columns' AUCs are independent: measured on up to GOMAXPROCS goroutines.
	aucs := make([]float64, len(spec.Columns))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(spec.Columns) {
					return
				}
				if col := f.Column(spec.Columns[i].Name); col != nil && spec.Columns[i].Name != spec.Label {
					aucs[i] = columnAUC(col, &spec.Columns[i], rows, y)
				}
			}
		})
	}
	wg.Wait()
	for i := range spec.Columns {
		cs := &spec.Columns[i]
		col := f.Column(cs.Name)
		if col == nil || cs.Name == spec.Label {
			continue
		}
		auc := aucs[i]
		smelly := smells(cs.Name)
		e := models.AuditEntry{Column: cs.Name, AUC: auc, Suspect: smelly}
		allowed := slices.Contains(allow, cs.Name)
		aucNote := "" // for a warning whose reason does not give the AUC
		switch {
		case !cs.Use:
			e.Excluded, e.Reason = true, cs.Reason
		case auc >= leakAUC && !allowed:
			e.Excluded = true
			e.Reason = fmt.Sprintf("alone it predicts the outcome almost perfectly (AUC %.3f >= %.2f): likely leakage; --allow %s keeps it", auc, leakAUC, cs.Name)
		case smelly && auc >= smellyAUC && !allowed:
			e.Excluded = true
			e.Reason = fmt.Sprintf("its name suggests it is recorded because of the outcome and it predicts it (AUC %.3f); --allow %s keeps it", auc, cs.Name)
		case smelly:
			e.Reason = "its name suggests the outcome; check it is known before the deal closes"
			aucNote = fmt.Sprintf(" (AUC %.3f)", auc)
		case auc >= strongAUC && cs.Use:
			e.Reason = fmt.Sprintf("alone it ranks the outcome very well (AUC %.3f): check it is known before the deal closes", auc)
		}
		if e.Excluded && cs.Use {
			cs.Use, cs.Reason = false, "leakage: "+e.Reason
			warns = append(warns, fmt.Sprintf("excluded column %q: %s", cs.Name, e.Reason))
		} else if (smelly || auc >= strongAUC) && cs.Use {
			warns = append(warns, fmt.Sprintf("column %q: %s%s", cs.Name, e.Reason, aucNote))
		}
		audit = append(audit, e)
	}
	sort.SliceStable(audit, func(a, b int) bool { return audit[a].AUC > audit[b].AUC })
	return audit, warns
}

func smells(name string) bool {
	n := strings.ToLower(name)
	for _, w := range smellyWords {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

// columnAUC is the AUC of the best single-column ranking, in whichever direction is better: a category
// (after its derivation: e-mail class, title seniority) by its training conversion rate, values seen
// fewer than auditMinCount times pooled; a number or time by its value with missing values ranked
// lowest, or by the conversion rate of its quantile bin when that ranks better (a leak need not be
// monotone: a column far from zero only for won deals). It is 0.5 when the rows hold one class.
func columnAUC(col *features.Column, cs *features.ColumnSpec, rows []int, y []bool) float64 {
	var auc float64
	switch col.Kind {
	case features.KindCategory, features.KindFlag:
		auc = categoryAUC(col, cs, rows, y)
	default:
		score := make([]float64, len(rows))
		lowest := math.Inf(1)
		for _, i := range rows {
			if col.Valid[i] && col.Num[i] < lowest {
				lowest = col.Num[i]
			}
		}
		for r, i := range rows {
			if col.Valid[i] {
				score[r] = col.Num[i]
			} else {
				score[r] = lowest - 1
			}
		}
		auc = metrics.AUC(score, y)
		if b := binnedAUC(col, rows, y); !math.IsNaN(b) && !math.IsNaN(auc) {
			auc = math.Max(math.Max(auc, 1-auc), b)
		}
	}
	if math.IsNaN(auc) {
		return 0.5
	}
	return math.Max(auc, 1-auc)
}

// auditBins is how many quantile bins binnedAUC cuts a number into.
const auditBins = 20

// binnedAUC is the AUC of ranking rows by the conversion rate of their value's quantile bin
// (auditBins of them, at least auditMinCount rows each, equal values always in one bin, missing
// values in a bin of their own). The rates are cross-fitted: the rows are split in two halves by
// position and each half is ranked by the rates the other half shows, so that a column of noise ranks
// at about 0.5 however few the rows, where in-sample rates of small bins would flatter it.
func binnedAUC(col *features.Column, rows []int, y []bool) float64 {
	type vy struct {
		x    float64
		won  bool
		half int
	}
	var valid, missing []vy
	for r, i := range rows {
		v := vy{col.Num[i], y[r], r % 2}
		if col.Valid[i] {
			valid = append(valid, v)
		} else {
			missing = append(missing, v)
		}
	}
	slices.SortFunc(valid, func(a, b vy) int { return cmp.Compare(a.x, b.x) })
	// Bins: [start, end) ranges of valid, then the missing rows as one more.
	size := max(auditMinCount, (len(valid)+auditBins-1)/auditBins)
	var bins [][]vy
	for start := 0; start < len(valid); {
		end := min(start+size, len(valid))
		for end < len(valid) && valid[end].x == valid[end-1].x {
			end++
		}
		if len(valid)-end < auditMinCount {
			end = len(valid) // a short tail joins the last bin
		}
		bins = append(bins, valid[start:end])
		start = end
	}
	if len(missing) > 0 {
		bins = append(bins, missing)
	}
	// The rate of each bin in each half, with the half's overall rate for a bin it has no rows in.
	var won, all [2]float64
	for _, b := range bins {
		for _, v := range b {
			all[v.half]++
			if v.won {
				won[v.half]++
			}
		}
	}
	var score []float64
	var ys []bool
	for _, b := range bins {
		var bw, ba [2]float64
		for _, v := range b {
			ba[v.half]++
			if v.won {
				bw[v.half]++
			}
		}
		for _, v := range b {
			other := 1 - v.half
			rate := won[other] / max(all[other], 1)
			if ba[other] > 0 {
				rate = bw[other] / ba[other]
			}
			score = append(score, rate)
			ys = append(ys, v.won)
		}
	}
	return metrics.AUC(score, ys)
}

// categoryAUC is the AUC of ranking rows by their value's training conversion rate, values seen
// fewer than auditMinCount times sharing one rate. It counts instead of sorting rows: with the
// values ordered by rate, a customer outranks every non-customer of a lower-rated value and ties
// (half) with those of its own.
func categoryAUC(col *features.Column, cs *features.ColumnSpec, rows []int, y []bool) float64 {
	type count struct{ won, lost float64 }
	codes := make(map[string]int)
	var counts []count
	code := func(k string) int {
		c, ok := codes[k]
		if !ok {
			c = len(counts)
			codes[k] = c
			counts = append(counts, count{})
		}
		return c
	}
	missing := -1
	derivedOf := map[string]string{}
	for r, i := range rows {
		var c int
		switch {
		case !col.Valid[i]:
			if missing < 0 {
				missing = code("\x00missing")
			}
			c = missing
		case col.Kind == features.KindFlag:
			c = code(strconv.FormatBool(col.Bool[i]))
		case cs.Derive != "":
			d, ok := derivedOf[col.Str[i]]
			if !ok {
				d = features.DerivedClass(cs.Derive, col.Str[i])
				derivedOf[col.Str[i]] = d
			}
			c = code(d)
		default:
			c = code(col.Str[i])
		}
		if y[r] {
			counts[c].won++
		} else {
			counts[c].lost++
		}
	}
	// Values seen fewer than auditMinCount times share one rate, so an identifier or free text
	// cannot look predictive from in-sample rates of one contact each.
	var pooled count
	groups := counts[:0:0]
	for _, c := range counts {
		if c.won+c.lost < auditMinCount {
			pooled.won += c.won
			pooled.lost += c.lost
		} else {
			groups = append(groups, c)
		}
	}
	if pooled.won+pooled.lost > 0 {
		groups = append(groups, pooled)
	}
	rate := func(c count) float64 { return c.won / (c.won + c.lost) }
	sort.Slice(groups, func(a, b int) bool { return rate(groups[a]) < rate(groups[b]) })
	var won, lost, pairs, lostBelow float64
	for k := 0; k < len(groups); {
		// Groups with equal rates tie with one another.
		var tw, tl float64
		j := k
		for ; j < len(groups) && rate(groups[j]) == rate(groups[k]); j++ {
			tw += groups[j].won
			tl += groups[j].lost
		}
		pairs += tw * (lostBelow + 0.5*tl)
		lostBelow += tl
		won += tw
		lost += tl
		k = j
	}
	if won == 0 || lost == 0 {
		return math.NaN()
	}
	return pairs / (won * lost)
}
