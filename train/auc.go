package train

import (
	"cmp"
	"math"
	"slices"
	"strconv"

	"github.com/leadscore/leadscore/features"
	"github.com/leadscore/leadscore/train/metrics"
)

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
		var b float64
		auc, b = numberAUCs(col, rows, y)
		if !math.IsNaN(b) && !math.IsNaN(auc) {
			auc = math.Max(math.Max(auc, 1-auc), b)
		}
	}
	if math.IsNaN(auc) {
		return 0.5
	}
	return math.Max(auc, 1-auc)
}

// auditBins is how many quantile bins numberAUCs cuts a number into.
const auditBins = 20

// numberAUCs returns two AUCs of a number column on rows, from one sort of its values:
//
//   - plain, of ranking rows by the value, missing values lowest (all tied);
//   - binned, of ranking rows by the conversion rate of their value's quantile bin (auditBins of
//     them, at least auditMinCount rows each, equal values always in one bin, missing values in a bin
//     of their own). The rates are cross-fitted: the rows are split in two halves by position and
//     each half is ranked by the rates the other half shows, so that a column of noise ranks at about
//     0.5 however few the rows, where in-sample rates of small bins would flatter it.
//
// Both are NaN when the rows hold one class.
func numberAUCs(col *features.Column, rows []int, y []bool) (plain, binned float64) {
	// A row is its value and, in two bits, whether it is won and its half: 16 bytes, not the 24 of
	// a struct with a bool and an int, for the millions of rows the audit may rank.
	type vy struct {
		x     float64
		flags uint8
	}
	const wonBit, halfBit = 1, 2
	// counts[half][won] of the rows of one bin.
	type counts [2][2]int
	valid := make([]vy, 0, len(rows))
	var missing counts
	for r, i := range rows {
		var flags uint8
		won := 0
		if y[r] {
			flags, won = wonBit, 1
		}
		if r%2 == 1 {
			flags |= halfBit
		}
		if col.Valid[i] {
			valid = append(valid, vy{col.Num[i], flags})
		} else {
			missing[r%2][won]++
		}
	}
	slices.SortFunc(valid, func(a, b vy) int { return cmp.Compare(a.x, b.x) })
	// The plain ranking: the missing rows, then each run of equal values.
	scores := []float64{math.Inf(-1)}
	pos := []int{missing[0][1] + missing[1][1]}
	neg := []int{missing[0][0] + missing[1][0]}
	for k, v := range valid {
		if k == 0 || v.x != valid[k-1].x {
			scores, pos, neg = append(scores, v.x), append(pos, 0), append(neg, 0)
		}
		if v.flags&wonBit != 0 {
			pos[len(pos)-1]++
		} else {
			neg[len(neg)-1]++
		}
	}
	plain = metrics.AUCOfCounts(scores, pos, neg)
	// Bins: [start, end) ranges of valid, then the missing rows as one more.
	size := max(auditMinCount, (len(valid)+auditBins-1)/auditBins)
	var bins []counts
	for start := 0; start < len(valid); {
		end := min(start+size, len(valid))
		for end < len(valid) && valid[end].x == valid[end-1].x {
			end++
		}
		if len(valid)-end < auditMinCount {
			end = len(valid) // a short tail joins the last bin
		}
		var c counts
		for _, v := range valid[start:end] {
			c[v.flags>>1][v.flags&wonBit]++
		}
		bins = append(bins, c)
		start = end
	}
	if missing[0][0]+missing[0][1]+missing[1][0]+missing[1][1] > 0 {
		bins = append(bins, missing)
	}
	// The rate of each bin in each half, with the half's overall rate for a bin it has no rows in.
	var won, all [2]float64
	for _, b := range bins {
		for h := range 2 {
			all[h] += float64(b[h][0] + b[h][1])
			won[h] += float64(b[h][1])
		}
	}
	// The rows of one bin and half share one score: the rate the other half shows in that bin.
	scores, pos, neg = scores[:0], pos[:0], neg[:0]
	for _, b := range bins {
		for h := range 2 {
			other := 1 - h
			rate := won[other] / max(all[other], 1)
			if n := b[other][0] + b[other][1]; n > 0 {
				rate = float64(b[other][1]) / float64(n)
			}
			scores, pos, neg = append(scores, rate), append(pos, b[h][1]), append(neg, b[h][0])
		}
	}
	return plain, metrics.AUCOfCounts(scores, pos, neg)
}

// derivedCacheMax bounds the values whose derived class categoryAUC keeps: past it a value's class is
// derived again, which costs less than growing a map with every value of a column of unique values
// (e-mail addresses: 4M at 5M contacts, where the map took ten times the derivations' time).
const derivedCacheMax = 1 << 12

// categoryAUC is the AUC of ranking rows by their value's training conversion rate, values seen
// fewer than auditMinCount times sharing one rate. It counts instead of sorting rows.
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
				if len(derivedOf) < derivedCacheMax {
					derivedOf[col.Str[i]] = d
				}
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
	// cannot look predictive from in-sample rates of one contact each. Each value's rows share one
	// score, its rate: metrics.AUCOfCounts ranks them without sorting rows.
	var pooled count
	var scores []float64
	var pos, neg []int
	add := func(c count) {
		scores, pos, neg = append(scores, c.won/(c.won+c.lost)), append(pos, int(c.won)), append(neg, int(c.lost))
	}
	for _, c := range counts {
		if c.won+c.lost < auditMinCount {
			pooled.won += c.won
			pooled.lost += c.lost
		} else {
			add(c)
		}
	}
	if pooled.won+pooled.lost > 0 {
		add(pooled)
	}
	return metrics.AUCOfCounts(scores, pos, neg)
}
