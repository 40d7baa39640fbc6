package train

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/leadscore/leadscore/features"
	"github.com/leadscore/leadscore/models"
	"github.com/leadscore/leadscore/train/fit"
)

// The models Train can fit (Config.Model).
const (
	// ModelScorecard bins every property (the conversion-rate tables' values and ranges, merged
	// where the rate is monotone) and fits one weight per bin, each with the sign of the bin's
	// weight of evidence and, over the ranges of a number whose rate is monotone, monotone in the
	// same direction, with the penalty chosen by cross-validation: a points scorecard whose reasons
	// always agree with the rates they quote. The default: its holdout AUC is within 0.005 of the
	// one-hot model's on generated, bank and online-shoppers data (TestScorecardAcceptance).
	ModelScorecard = "scorecard"
	// ModelOneHot fits one weight per category level, range and scaled number, with the penalty
	// chosen by cross-validation. Its weights are conditional on every other feature, so they may go
	// against a value's own rate (its reasons drop those) and it has no points sheet.
	ModelOneHot = "onehot"
)

// Scorecard defaults.
const (
	// woePrior is how many contacts at the overall rate each bin's rate is shrunk with.
	woePrior = 10
	// monotoneKeep is the share of the information value of a property's rate-table ranges that
	// its monotone bins must keep to be taken.
	monotoneKeep = 0.9
	// minBin is the fewest training contacts a bin of a number may hold.
	minBin = features.DefaultMinContacts
	// Points scaling: 600 points at the training odds, 20 more points double the odds.
	scorecardPDO       = 20
	scorecardBaseScore = 600
)

// fitScorecard fits a scorecard on the training rows. The artifact it returns has everything but
// the rates, audit, holdout and metrics; the design is that of the training rows, stored as their
// bins (the encoder's outputs, which the artifact weighs).
func fitScorecard(ctx context.Context, f features.Columns, labels []features.Label, rows []int, spec *features.Spec, rates *features.RateReport, cfg Config, res *Result, progress func(string)) (*models.Artifact, *fit.Design, error) {
	plain, err := features.FitEncoder(spec, f, rows, cfg.Encoder)
	if err != nil {
		return nil, nil, err
	}
	levels, cuts, err := scorecardBins(f, rows, labels, spec, rates)
	if err != nil {
		return nil, nil, err
	}
	enc, err := plain.Binned(levels, cuts)
	if err != nil {
		return nil, nil, err
	}
	y := labelFloats(labels, rows)
	width := enc.Width()
	x, err := binRows(enc, f, rows)
	if err != nil {
		return nil, nil, err
	}
	bins := binCounts(x, width, y)
	won := 0
	for _, v := range y {
		won += int(v)
	}
	overall := float64(won) / float64(len(rows))
	sc := &models.Scorecard{Overall: overall, Contacts: len(rows), Customers: won, Prior: woePrior,
		PDO: scorecardPDO, BaseScore: scorecardBaseScore, BaseOdds: overall / (1 - overall),
		Bins: make([]models.Bin, width)}
	for j, b := range bins {
		sc.Bins[j] = models.Bin{Contacts: b.n, Customers: b.k, WoE: features.WoE(b.k, b.n, overall, woePrior)}
	}
	terms := scorecardTerms(enc.Features(), sc.Bins)
	z, err := termDesign(x, width, terms)
	if err != nil {
		return nil, nil, err
	}

	model, best, err := fitPenalised(ctx, z, y, cfg, true, "scorecard solver", res, progress)
	if err != nil {
		return nil, nil, err
	}
	// Each bin's part in the log-odds is the sum of its terms; it has the sign of the bin's WoE, so
	// its coefficient part / WoE is >= 0.
	part := make([]float64, width)
	for t, tm := range terms {
		for _, j := range tm.bins {
			part[j] += tm.sign * model.Weights[t]
		}
	}
	weights := make([]float64, width)
	for j := range part {
		b := &sc.Bins[j]
		if b.WoE != 0 && part[j] != 0 {
			b.Coef = part[j] / b.WoE
		}
		weights[j] = b.Coef * b.WoE
	}
	scored := map[string]bool{}
	for j, ft := range enc.Features() {
		scored[ft.Property] = scored[ft.Property] || weights[j] != 0
	}
	var zeroed []string
	for _, ce := range enc.Columns {
		if !scored[ce.Property] {
			zeroed = append(zeroed, ce.Property)
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
		Penalty:   best,
		Scorecard: sc,
	}, z, nil
}

// A term is one column of a scorecard's design: sign (+1 or -1) for a contact whose bin of the
// property is one of bins, 0 otherwise. Its coefficient is constrained to be >= 0, so every bin's
// part in the log-odds (the signed sum of the coefficients of the terms that hold it) has sign.
type term struct {
	sign float64
	bins []int
}

// scorecardTerms returns the terms of the design from the encoder outputs feats and their bins.
// A bin whose WoE is 0 (the overall rate, or no contacts) is in no term: it gets no points. The
// ranges of a number or time whose training rates are monotone (all non-empty, each rate at least,
// or each at most, the one before) are chained: the term of a range above the overall rate holds it
// and every range beyond it, away from the overall rate, and likewise below, so the points rise (or
// fall) with the rate, range after range, as optbinning's monotonic trend does. Every other bin (a
// category value, a flag, a missing value, the ranges of a rate that peaks or dips) is a term of its
// own with the sign of its WoE.
func scorecardTerms(feats []features.Feature, bins []models.Bin) []term {
	var out []term
	single := func(j int) {
		if w := bins[j].WoE; w != 0 {
			out = append(out, term{sign: math.Copysign(1, w), bins: []int{j}})
		}
	}
	for j := 0; j < len(feats); {
		if !feats[j].Range() {
			single(j)
			j++
			continue
		}
		k := j
		for k < len(feats) && feats[k].Property == feats[j].Property && feats[k].Range() {
			k++
		}
		ranges := make([]int, 0, k-j)
		for i := j; i < k; i++ {
			ranges = append(ranges, i)
		}
		up, down := monotone(bins[j:k])
		switch {
		case len(ranges) < 2 || !up && !down:
			for _, i := range ranges {
				single(i)
			}
		default:
			for i, r := range ranges {
				w := bins[r].WoE
				switch {
				case w > 0 && up, w < 0 && !up:
					out = append(out, term{sign: math.Copysign(1, w), bins: ranges[i:]})
				case w != 0:
					out = append(out, term{sign: math.Copysign(1, w), bins: ranges[:i+1]})
				}
			}
		}
		j = k
	}
	return out
}

// monotone reports whether the rates of bins rise (up) or fall (down) from each bin to the next,
// allowing equal rates (then both may hold; up is taken). An empty bin makes neither hold.
func monotone(bins []models.Bin) (up, down bool) {
	up, down = true, true
	for i, b := range bins {
		if b.Contacts == 0 {
			return false, false
		}
		if i == 0 {
			continue
		}
		a := bins[i-1]
		l, r := a.Customers*b.Contacts, b.Customers*a.Contacts // rate a vs rate b, without dividing
		up = up && l <= r
		down = down && l >= r
	}
	return up, down
}

// binIndex is a one-hot bin matrix held as index lists: row r's bins (its outputs that are not 0)
// are idx[ends[r-1]:ends[r]] (from 0 for the first row), ascending. A row of a scorecard's encoder
// has one output per property set, so this costs a few bytes per row where the dense matrix costs
// 8 bytes per output.
type binIndex struct {
	ends []int
	idx  []uint16
}

// row returns row r's bins.
func (b binIndex) row(r int) []uint16 {
	lo := 0
	if r > 0 {
		lo = b.ends[r-1]
	}
	return b.idx[lo:b.ends[r]]
}

// binRows encodes the given rows of f with the binned encoder enc into the index lists of their
// bins (features.Encoder.BinFrame: one bin per property, two bytes each), so that no dense matrix of
// every row and bin is ever made.
func binRows(enc *features.Encoder, f features.Columns, rows []int) (binIndex, error) {
	width := enc.Width()
	if width > fit.MaxCols {
		return binIndex{}, fmt.Errorf("train: %d scorecard bins: %w", width, fit.ErrShape)
	}
	idx, err := enc.BinFrame(f, rows, time.Time{})
	if err != nil {
		return binIndex{}, err
	}
	n := len(enc.Columns)
	b := binIndex{ends: make([]int, len(idx)/max(n, 1)), idx: idx}
	for r := range b.ends {
		b.ends[r] = (r + 1) * n
	}
	return b, nil
}

// termDesign returns the design of the terms from the bins of each row: its rows are stored as their
// bins, and a fit reads them as the terms that hold those bins, each standing for the term's sign
// (fit.NewTermDesign), so a pass costs what the bins cost.
func termDesign(x binIndex, width int, terms []term) (*fit.Design, error) {
	ts := make([]fit.Term, len(terms))
	for t, tm := range terms {
		ts[t] = fit.Term{Value: tm.sign, Bins: tm.bins}
	}
	d, err := fit.NewTermDesign(width, ts)
	if err != nil {
		return nil, err
	}
	if err := d.AppendRows(x.ends, x.idx, nil); err != nil {
		return nil, err
	}
	return d, nil
}

// scorecardBins chooses the bins of every used property: a category keeps the values with a row of
// their own in its conversion-rate table (the rest are "other"); a number, and a time by its age in
// days at the reference time, gets monotone bins where its rate is monotone and the ranges of its
// rate table otherwise (features.ScorecardCuts). Numbers are loaded one at a time; the ages of the
// times used are held, one value per training row each.
func scorecardBins(f features.Columns, rows []int, labels []features.Label, spec *features.Spec, rates *features.RateReport) (map[string][]string, map[string][]float64, error) {
	levels := map[string][]string{}
	mdl := rangeCuts(rates)
	cuts := map[string][]float64{}
	ages := &features.Frame{} // the times used, as ages in days of each of rows
	var numbers []string
	asOf := features.UnixSeconds(spec.ReferenceTime)
	for _, cs := range spec.Columns {
		kind := f.Kind(cs.Name)
		if !cs.Use || kind == features.KindNone {
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
			if kind != features.KindNumber && kind != features.KindTime {
				continue // read through the encoder's parser: binned by the rate table alone
			}
			if cs.Kind == features.KindTime {
				// A time is binned by its age in days, a column of its own; a number is read in place.
				src, err := f.Load(cs.Name)
				if err != nil {
					return nil, nil, err
				}
				c := &features.Column{Name: cs.Name, Kind: features.KindNumber, Num: make([]float64, len(rows)), Valid: make([]bool, len(rows))}
				for r, i := range rows {
					if src.Valid[i] {
						c.Num[r], c.Valid[r] = features.AgeDays(asOf, src.Num[i]), true
					}
				}
				ages.Columns = append(ages.Columns, c)
			}
			numbers = append(numbers, cs.Name)
		}
	}
	if len(ages.Columns) > 0 {
		// The rate tables of times are by date; their ages need ranges of their own.
		if t, err := features.ComputeRates(ages, subLabels(labels, rows), features.RateOptions{}); err == nil {
			for k, v := range rangeCuts(t) {
				mdl[k] = v
			}
		}
	}
	won := labelBools(labels, rows)
	// The numbers are cut on up to GOMAXPROCS goroutines, one column's values and outcomes at a time
	// each: xs and ys are the rows with a value.
	numberCuts := make([][]float64, len(numbers))
	errs := make([]error, len(numbers))
	var g errgroup.Group
	g.SetLimit(runtime.GOMAXPROCS(0))
	for k, name := range numbers {
		g.Go(func() error {
			xs, ys := make([]float64, 0, len(rows)), make([]bool, 0, len(rows))
			if age := ages.Column(name); age != nil {
				for r := range rows {
					if age.Valid[r] {
						xs, ys = append(xs, age.Num[r]), append(ys, won[r])
					}
				}
			} else {
				src, err := f.Load(name)
				if err != nil {
					errs[k] = err
					return nil
				}
				for r, i := range rows {
					if src.Valid[i] {
						xs, ys = append(xs, src.Num[i]), append(ys, won[r])
					}
				}
			}
			numberCuts[k] = features.ScorecardCuts(xs, ys, mdl[name], minBin, monotoneKeep)
			return nil
		})
	}
	_ = g.Wait() // errors are kept per column, to report the first in spec order
	for k, name := range numbers {
		if errs[k] != nil {
			return nil, nil, errs[k]
		}
		cuts[name] = numberCuts[k]
	}
	for k, v := range mdl {
		if _, ok := cuts[k]; !ok {
			cuts[k] = v
		}
	}
	return levels, cuts, nil
}

type binCount struct{ n, k int }

// binCounts counts the rows and customers of each bin of x.
func binCounts(x binIndex, width int, y []float64) []binCount {
	out := make([]binCount, width)
	for r := range y {
		for _, j := range x.row(r) {
			out[j].n++
			out[j].k += int(y[r])
		}
	}
	return out
}
