package train

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/leadscore/leadscore/features"
	"github.com/leadscore/leadscore/models"
	"github.com/leadscore/leadscore/train/fit"
)

// The models Train can fit (Config.Model).
const (
	// ModelScorecard bins every property (the conversion-rate tables' values and ranges, merged
	// where the rate is monotone), encodes each bin by its weight of evidence and fits one
	// non-negative coefficient per property: a points scorecard whose reasons always agree with
	// the rates they quote.
	ModelScorecard = "scorecard"
	// ModelOneHot fits one weight per category level, range and scaled number, with the penalty
	// chosen by cross-validation. The default: on the online-shoppers data the scorecard's holdout
	// AUC is 0.013 below it (0.746 against 0.759), more than the 0.005 the scorecard may lose.
	ModelOneHot = "onehot"
)

// Scorecard defaults.
const (
	// woePrior is how many contacts at the overall rate each bin's rate is shrunk with.
	woePrior = 10
	// woeFolds is how many folds the weights of evidence of the design are cross-fitted over.
	woeFolds = 5
	// monotoneKeep is the share of the information value of a property's rate-table ranges that
	// its monotone bins must keep to be taken.
	monotoneKeep = 0.9
	// minBin is the fewest training contacts a bin of a number may hold.
	minBin = features.DefaultMinContacts
	// scorecardC is the inverse L2 penalty of the scorecard fit: the columns are few and already on
	// the log-odds scale, so the penalty only steadies collinear ones.
	scorecardC = 1
	// Points scaling: 600 points at the training odds, 20 more points double the odds.
	scorecardPDO       = 20
	scorecardBaseScore = 600
)

// fitScorecard fits a scorecard on the training rows. The artifact it returns has everything but
// the rates, audit, holdout and metrics.
func fitScorecard(ctx context.Context, f *features.Frame, labels []features.Label, rows []int, spec *features.Spec, rates *features.RateReport, cfg Config, res *Result, progress func(string)) (*models.Artifact, error) {
	plain, err := features.FitEncoder(spec, f, rows, cfg.Encoder)
	if err != nil {
		return nil, err
	}
	levels, cuts := scorecardBins(f, rows, labels, spec, rates)
	enc, err := plain.Binned(levels, cuts)
	if err != nil {
		return nil, err
	}
	progress("cross-validate") // the weights of evidence of the design are cross-fitted
	y := labelFloats(labels, rows)
	x, err := enc.EncodeFrame(f, rows, time.Time{})
	if err != nil {
		return nil, err
	}
	bins := binCounts(x, enc.Width(), y, nil)
	width := enc.Width()
	won := 0
	for _, v := range y {
		won += int(v)
	}
	overall := float64(won) / float64(len(rows))
	sc := &models.Scorecard{Overall: overall, Contacts: len(rows), Customers: won, Prior: woePrior,
		PDO: scorecardPDO, BaseScore: scorecardBaseScore, BaseOdds: overall / (1 - overall),
		Coef: make([]float64, len(enc.Columns)), Bins: make([]models.Bin, width)}
	for j, b := range bins {
		sc.Bins[j] = models.Bin{Contacts: b.n, Customers: b.k, WoE: features.WoE(b.k, b.n, overall, woePrior)}
	}

	if err := ctx.Err(); err != nil {
		return nil, err
	}
	progress("fit")
	// The design has one column per property: its bin's weight of evidence, cross-fitted (each row
	// gets the WoE of the other folds, as scikit-learn's TargetEncoder.fit_transform does) so the
	// coefficients are not fitted to evidence the same rows made.
	col := make([]int, width) // output -> property
	c := 0
	for j, ft := range enc.Features() {
		for enc.Columns[c].Property != ft.Property {
			c++
		}
		col[j] = c
	}
	m := len(enc.Columns)
	z := woeDesign(x, width, m, col, y, overall, cfg.Seed)
	zd, err := fit.Dense(z, len(rows), m)
	if err != nil {
		return nil, err
	}
	model, err := fit.FitNonNegative(zd, y, fit.Options{C: scorecardC})
	if err != nil {
		return nil, err
	}
	if !model.Converged {
		res.Warnings = append(res.Warnings, fmt.Sprintf("the scorecard solver stopped after %d iterations before converging", model.Iterations))
	}
	copy(sc.Coef, model.Weights)
	weights := make([]float64, width)
	for j := range weights {
		weights[j] = sc.Coef[col[j]] * sc.Bins[j].WoE
	}
	var zeroed []string
	for c, v := range sc.Coef {
		if v == 0 {
			zeroed = append(zeroed, enc.Columns[c].Property)
		}
	}
	if len(zeroed) > 0 {
		res.Warnings = append(res.Warnings, fmt.Sprintf("the scorecard gives no points to %s: what they tell is already told by other properties (or nothing)", strings.Join(zeroed, ", ")))
	}
	return &models.Artifact{
		Format:    models.FormatVersion,
		Spec:      spec,
		Encoder:   enc,
		Intercept: model.Intercept,
		Weights:   weights,
		Baseline:  make([]float64, width),
		Penalty:   scorecardC,
		Scorecard: sc,
	}, nil
}

// scorecardBins chooses the bins of every used property: a category keeps the values with a row of
// their own in its conversion-rate table (the rest are "other"); a number, and a time by its age in
// days at the reference time, gets monotone bins where its rate is monotone and the ranges of its
// rate table otherwise (features.ScorecardCuts).
func scorecardBins(f *features.Frame, rows []int, labels []features.Label, spec *features.Spec, rates *features.RateReport) (map[string][]string, map[string][]float64) {
	levels := map[string][]string{}
	mdl := rangeCuts(rates)
	cuts := map[string][]float64{}
	ages := &features.Frame{}
	asOf := features.UnixSeconds(spec.ReferenceTime)
	for _, cs := range spec.Columns {
		src := f.Column(cs.Name)
		if !cs.Use || src == nil {
			continue
		}
		switch cs.Kind {
		case features.KindCategory:
			var ls []string
			if t := rates.Table(cs.Name); t != nil {
				for _, r := range t.Rows {
					if !r.Pooled && !r.Missing && strings.TrimSpace(r.Value) != "" {
						ls = append(ls, r.Value)
					}
				}
			}
			levels[cs.Name] = ls
		case features.KindNumber, features.KindTime:
			if src.Kind != features.KindNumber && src.Kind != features.KindTime {
				continue // read through the encoder's parser: binned by the rate table alone
			}
			c := &features.Column{Name: cs.Name, Kind: features.KindNumber, Num: make([]float64, len(rows)), Valid: make([]bool, len(rows))}
			for r, i := range rows {
				if src.Valid[i] {
					c.Num[r], c.Valid[r] = src.Num[i], true
					if cs.Kind == features.KindTime {
						c.Num[r] = features.AgeDays(asOf, src.Num[i])
					}
				}
			}
			ages.Columns = append(ages.Columns, c)
		}
	}
	if len(ages.Columns) > 0 {
		// The rate tables of times are by date; their ages need ranges of their own.
		if t, err := features.ComputeRates(ages, subLabels(labels, rows), features.RateOptions{}); err == nil {
			for k, v := range rangeCuts(t) {
				if spec.Column(k).Kind == features.KindTime {
					mdl[k] = v
				}
			}
		}
	}
	won := labelBools(labels, rows)
	for _, c := range ages.Columns {
		var xs []float64
		var ys []bool
		for r := range rows {
			if c.Valid[r] {
				xs, ys = append(xs, c.Num[r]), append(ys, won[r])
			}
		}
		cuts[c.Name] = features.ScorecardCuts(xs, ys, mdl[c.Name], minBin, monotoneKeep)
	}
	for k, v := range mdl {
		if _, ok := cuts[k]; !ok {
			cuts[k] = v
		}
	}
	return levels, cuts
}

type binCount struct{ n, k int }

// binCounts counts the rows and customers of each output of the one-hot matrix x (rows of width
// outputs), over the rows where skip is nil or false.
func binCounts(x []float64, width int, y []float64, skip []bool) []binCount {
	out := make([]binCount, width)
	for r := range y {
		if skip != nil && skip[r] {
			continue
		}
		for j, v := range x[r*width : (r+1)*width] {
			if v != 0 {
				out[j].n++
				out[j].k += int(y[r])
			}
		}
	}
	return out
}

// woeDesign returns the rows x m design of weights of evidence: row r, column c holds the WoE of
// the bin row r falls in for property c, computed from the rows of the other folds (rows are dealt
// to woeFolds folds at random by seed).
func woeDesign(x []float64, width, m int, col []int, y []float64, overall float64, seed uint64) []float64 {
	n := len(y)
	fold := make([]int, n)
	rng := rand.New(rand.NewPCG(seed, seed^0x3a0e))
	for r := range fold {
		fold[r] = rng.IntN(woeFolds)
	}
	total := binCounts(x, width, y, nil)
	woe := make([][]float64, woeFolds)
	for k := range woe {
		skip := make([]bool, n)
		for r := range skip {
			skip[r] = fold[r] != k
		}
		in := binCounts(x, width, y, skip) // the fold's own counts
		woe[k] = make([]float64, width)
		won, all := 0, 0
		for r := range y {
			if fold[r] != k {
				all++
				won += int(y[r])
			}
		}
		rest := overall
		if all > 0 && won > 0 && won < all {
			rest = float64(won) / float64(all)
		}
		for j := range width {
			woe[k][j] = features.WoE(total[j].k-in[j].k, total[j].n-in[j].n, rest, woePrior)
		}
	}
	z := make([]float64, n*m)
	for r := range n {
		for j, v := range x[r*width : (r+1)*width] {
			if v != 0 {
				z[r*m+col[j]] = woe[fold[r]][j]
			}
		}
	}
	return z
}
