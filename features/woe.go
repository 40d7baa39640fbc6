package features

import (
	"cmp"
	"fmt"
	"math"
	"slices"
)

// A binned column (ColumnEncoding.Binned) is how a scorecard reads a property: its outputs are one
// 0/1 indicator per bin and every value, missing or not, sets exactly one of them.
//
//   - category: Levels, then LevelOther (rare and unseen values), then LevelMissing.
//   - flag: "true", "false", then LevelMissing.
//   - number: the ranges of Cuts (one range with Value "" when there are none), (-Inf, Cuts[0]), [Cuts[0], Cuts[1]), ... [Cuts[n-1], +Inf), in the
//     property's own units, then LevelMissing.
//   - time: the same ranges over the days from the timestamp to the scoring time (clamped at 0),
//     then LevelMissing.
//
// A scorecard gives each bin a weight of evidence (WoE) and a coefficient, so a binned encoder with
// the weights coefficient x WoE scores exactly as the scorecard does.

// binWidth is the number of outputs of a binned column.
func (ce *ColumnEncoding) binWidth() int {
	switch ce.Kind {
	case KindCategory:
		return len(ce.Levels) + 2
	case KindFlag:
		return 3
	}
	return len(ce.Cuts) + 2
}

// checkBin checks what a binned column needs beyond the checks of every column.
func (ce *ColumnEncoding) checkBin() error {
	if ce.Kind == KindCategory && (!ce.Other || !ce.Missing) {
		return fmt.Errorf("%w: property %q: a binned category needs its other and missing levels", ErrEncoder, ce.Property)
	}
	if ce.Kind != KindCategory && !ce.Missing {
		return fmt.Errorf("%w: property %q: a binned column needs its missing bin", ErrEncoder, ce.Property)
	}
	return nil
}

// binFeatures describes the outputs of a binned column.
func (ce *ColumnEncoding) binFeatures() []Feature {
	p := ce.Property
	f := Feature{Property: p, Group: ce.Group, Kind: ce.Kind, Derive: ce.Derive}
	var out []Feature
	add := func(name, value string) {
		b := f
		b.Name, b.Value = name, value
		out = append(out, b)
	}
	switch ce.Kind {
	case KindCategory:
		sep := "="
		if ce.Derive != "" {
			sep = ": "
		}
		for _, l := range append(slices.Clip(ce.Levels), LevelOther) {
			add(p+sep+l, l)
		}
	case KindFlag:
		add(p+"=true", "true")
		add(p+"=false", "false")
	default:
		unit := ""
		if ce.Kind == KindTime {
			unit = " days ago"
		}
		for k := 0; k <= len(ce.Cuts); k++ {
			b := f
			b.Name = p + " (known)" // a single range: any value
			if len(ce.Cuts) > 0 {
				b.Value = rangeText(ce.Cuts, k) + unit
				b.Name = p + " " + b.Value
			}
			b.Lo, b.Hi = math.Inf(-1), math.Inf(1)
			if k > 0 {
				b.Lo = ce.Cuts[k-1]
			}
			if k < len(ce.Cuts) {
				b.Hi = ce.Cuts[k]
			}
			out = append(out, b)
		}
	}
	add(p+" (missing)", LevelMissing)
	return out
}

// putBin sets the output of the bin c falls in; dst is the column's zeroed slice of the vector.
func (ce *ColumnEncoding) putBin(levels map[string]int, c cell, asOf float64, dst []float64) {
	dst[ce.bin(levels, c, asOf)] = 1
}

// bin is the one output of a binned column that is 1 for c (putBin), counted from the column's first
// output: the last one for a missing value.
func (ce *ColumnEncoding) bin(levels map[string]int, c cell, asOf float64) int {
	if !c.ok {
		return ce.width() - 1
	}
	switch ce.Kind {
	case KindCategory:
		if j, ok := ce.level(levels, c.s); ok {
			return j
		}
		return len(ce.Levels)
	case KindFlag:
		return 1 - int(c.x)
	case KindNumber:
		return rangeIndex(ce.Cuts, c.x)
	case KindTime:
		return rangeIndex(ce.Cuts, AgeDays(asOf, c.x))
	}
	return ce.width() - 1
}

// rangeIndex is the range of cuts x falls in: a value on a cut point belongs to the range it starts.
func rangeIndex(cuts []float64, x float64) int {
	k, found := slices.BinarySearch(cuts, x)
	if found {
		k++
	}
	return k
}

// Binned returns a copy of e whose columns are binned for a scorecard: each category keeps the
// levels given in levels (typically the values of its conversion-rate table with their own row;
// nil keeps e's levels), each number and time column takes its cut points from cuts (numbers in
// their own units, times in days ago; none means a single range), and every column gets its other
// and missing bins. The scaling of e is kept so the copy validates, but a binned column does not use
// it.
func (e *Encoder) Binned(levels map[string][]string, cuts map[string][]float64) (*Encoder, error) {
	out := &Encoder{ReferenceTime: e.ReferenceTime, Ignore: slices.Clone(e.Ignore)}
	for _, ce := range e.Columns {
		ce.Binned, ce.Missing = true, true
		ce.Log = false
		switch ce.Kind {
		case KindCategory:
			ce.Other = true
			if l, ok := levels[ce.Property]; ok {
				ce.Levels = slices.Clone(l)
			} else {
				ce.Levels = slices.Clone(ce.Levels)
			}
		case KindNumber, KindTime:
			ce.Cuts = slices.Clone(cuts[ce.Property])
		}
		out.Columns = append(out.Columns, ce)
	}
	if err := out.Validate(); err != nil {
		return nil, err
	}
	return out, nil
}

// WoE is the weight of evidence of a bin where customers of contacts became customers, against an
// overall conversion rate in (0, 1): the log-odds of the bin's rate less the log-odds of the overall
// one. The bin's rate is first shrunk towards the overall rate as if prior more contacts at the
// overall rate had joined it, (customers + prior*overall) / (contacts + prior), so a small bin does
// not get an extreme weight. The shrunk rate lies between the bin's raw rate and the overall rate,
// so the WoE always has the sign of (raw rate - overall rate), and is 0 for an empty bin.
func WoE(customers, contacts int, overall, prior float64) float64 {
	if contacts == 0 || float64(customers) == overall*float64(contacts) {
		return 0 // no evidence, or exactly the overall rate: rounding must not invent a sign
	}
	p := (float64(customers) + prior*overall) / (float64(contacts) + prior)
	return logOdds(p) - logOdds(overall)
}

func logOdds(p float64) float64 { return math.Log(p) - math.Log1p(-p) }

// pava pools adjacent ranges until their rates increase (up) or decrease, and returns the remaining
// cuts and their information value.
func pava(cuts []float64, contacts, customers []int, up bool, won, all int) ([]float64, float64) {
	type block struct{ n, k, last int } // last: index of the block's last range
	var st []block
	for i := range contacts {
		b := block{contacts[i], customers[i], i}
		for len(st) > 0 {
			top := st[len(st)-1]
			// Compare rates top.k/top.n and b.k/b.n without dividing; an empty range always pools.
			l, r := top.k*b.n, b.k*top.n
			violates := (up && l > r) || (!up && l < r) || top.n == 0 || b.n == 0
			if !violates {
				break
			}
			st = st[:len(st)-1]
			b = block{top.n + b.n, top.k + b.k, b.last}
		}
		st = append(st, b)
	}
	var out []float64
	ns, ks := make([]int, len(st)), make([]int, len(st))
	for i, b := range st {
		ns[i], ks[i] = b.n, b.k
		if i < len(st)-1 {
			out = append(out, cuts[b.last])
		}
	}
	return out, infoValue(ns, ks, won, all)
}

// infoValue is the information value of bins, each smoothed by half a contact of each outcome, as
// RateTable.Strength.
func infoValue(contacts, customers []int, won, all int) float64 {
	const smooth = 0.5
	m := float64(len(contacts))
	w := float64(won) + smooth*m
	l := float64(all-won) + smooth*m
	var iv float64
	for i := range contacts {
		pw := (float64(customers[i]) + smooth) / w
		pl := (float64(contacts[i]-customers[i]) + smooth) / l
		iv += (pw - pl) * math.Log(pw/pl)
	}
	return iv
}

// AgeDays is the age a binned time column bins: the days from t to asOf (both Unix seconds, as
// UnixSeconds gives them), 0 for a time after asOf.
func AgeDays(asOf, t float64) float64 { return max(0, (asOf-t)/86400) }

// scorecardPrebins is how many quantile pre-bins ScorecardCuts cuts n values into: pre-bins of about
// minSize contacts, the finest a bin may be, so that pool-adjacent-violators finds the monotone
// steps of a number with many values on many contacts at the finest grain the data allows (an
// isotonic fit), but never fewer than the rate tables' candidateQuantiles.
func scorecardPrebins(n, minSize int) int {
	return max(candidateQuantiles, n/max(minSize, 1))
}

// ScorecardCuts chooses the cut points of a number (or an age in days) for a scorecard, as
// optbinning does: the values are first cut into fine pre-bins (quantiles as ComputeRates makes
// them, but as many as scorecardPrebins gives; pre-bins smaller than minSize merged into their
// neighbour), the pre-bins are pooled until
// their rates are monotone (pool-adjacent-violators, in the direction that keeps more information
// value), and that monotone binning is taken when its information value is at least keep times that
// of the supervised ranges mdl (typically the rate table's). Otherwise the data is not monotone (a
// rate that peaks in the middle) and mdl is returned as it is. xs are the values of the contacts
// with a value, won their outcomes; NaN values are ignored.
func ScorecardCuts(xs []float64, won []bool, mdl []float64, minSize int, keep float64) []float64 {
	type xy struct {
		x   float64
		won bool
	}
	var v []xy
	for i, x := range xs {
		if !math.IsNaN(x) {
			v = append(v, xy{x, won[i]})
		}
	}
	if len(v) < 2*minSize {
		return slices.Clone(mdl)
	}
	slices.SortFunc(v, func(a, b xy) int { return cmp.Compare(a.x, b.x) })
	sorted := make([]float64, len(v))
	for i := range v {
		sorted[i] = v[i].x
	}
	// Pre-bins with at least minSize contacts.
	var cuts []float64
	var ns, ks []int
	n, k, i := 0, 0, 0
	for _, c := range append(candidateCuts(sorted, false, scorecardPrebins(len(sorted), minSize)), math.Inf(1)) {
		for ; i < len(v) && v[i].x < c; i++ {
			n++
			if v[i].won {
				k++
			}
		}
		if n >= minSize && len(v)-i >= minSize {
			cuts, ns, ks = append(cuts, c), append(ns, n), append(ks, k)
			n, k = 0, 0
		}
	}
	if len(ns) == 0 {
		return slices.Clone(mdl)
	}
	// The tail joins the last pre-bin (its cut was only taken with minSize left beyond it).
	ns, ks = append(ns, n), append(ks, k)
	for ; i < len(v); i++ { // values equal to +Inf
		ns[len(ns)-1]++
		if v[i].won {
			ks[len(ks)-1]++
		}
	}
	totalWon, total := 0, len(v)
	for _, x := range v {
		if x.won {
			totalWon++
		}
	}
	if totalWon == 0 || totalWon == total {
		return slices.Clone(mdl)
	}
	best, bestIV := []float64(nil), math.Inf(-1)
	for _, up := range []bool{true, false} {
		c, iv := pava(cuts, ns, ks, up, totalWon, total)
		if iv > bestIV {
			best, bestIV = c, iv
		}
	}
	// The information value of the mdl ranges, counted on the same values.
	mn, mk := make([]int, len(mdl)+1), make([]int, len(mdl)+1)
	for _, x := range v {
		r := rangeIndex(mdl, x.x)
		mn[r]++
		if x.won {
			mk[r]++
		}
	}
	if bestIV >= keep*infoValue(mn, mk, totalWon, total) {
		return best
	}
	return slices.Clone(mdl)
}
