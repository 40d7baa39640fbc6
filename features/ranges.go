package features

// Numeric ranges of the rate tables: candidate cuts, entropy/MDL splits (Fayyad and Irani) and the
// labels of ranges and dates. rates.go builds the tables and calls rangeRows for number and time
// columns.

import (
	"math"
	"slices"
	"sort"
	"strconv"
	"time"
)

func (b *rateBuilder) rangeRows(c *Column) ([]RateRow, string) {
	var missing RateRow
	won := make([]float64, 0, b.won)
	lost := make([]float64, 0, len(b.closed)-b.won)
	for _, i := range b.closed {
		if !c.Valid[i] || math.IsNaN(c.Num[i]) {
			missing.Contacts++
			if b.labels[i] == Won {
				missing.Customers++
			}
			continue
		}
		if b.labels[i] == Won {
			won = append(won, c.Num[i])
		} else {
			lost = append(lost, c.Num[i])
		}
	}
	if len(won)+len(lost) == 0 {
		return nil, "no closed contact has a value"
	}
	rows := rangeBins(won, lost, c.Kind == KindTime, b.opts)
	if missing.Contacts > 0 {
		missing.Label, missing.Missing = labelMissing, true
		rows = append(rows, missing)
	}
	if len(rows) < 2 {
		return nil, "no range differs in conversion rate"
	}
	return rows, ""
}

// rangeBins cuts the values of won and lost contacts into ranges where the conversion rate changes
// (see ComputeRates) and returns them as labelled rows with counts. It sorts won and lost in place.
func rangeBins(won, lost []float64, isTime bool, o RateOptions) []RateRow {
	slices.Sort(won)
	slices.Sort(lost)
	xs := make([]float64, 0, len(won)+len(lost))
	i, j := 0, 0
	for i < len(won) && j < len(lost) {
		if won[i] <= lost[j] {
			xs = append(xs, won[i])
			i++
		} else {
			xs = append(xs, lost[j])
			j++
		}
	}
	xs = append(append(xs, won[i:]...), lost[j:]...)

	cands := candidateCuts(xs, isTime, candidateQuantiles)
	// cumN[j] and cumK[j] count the contacts and customers below boundary j, where boundary 0 is
	// -Inf, boundaries 1..len(cands) are the candidate cuts and the last is +Inf.
	cumN := make([]int, len(cands)+2)
	cumK := make([]int, len(cands)+2)
	for j, cut := range cands {
		cumN[j+1] = sort.SearchFloat64s(xs, cut)
		cumK[j+1] = sort.SearchFloat64s(won, cut)
	}
	cumN[len(cands)+1], cumK[len(cands)+1] = len(xs), len(won)

	bounds := mdlpBoundaries(cumN, cumK, o.MinContacts, o.MaxRanges)
	cutAt := func(j int) float64 {
		switch j {
		case 0:
			return math.Inf(-1)
		case len(cands) + 1:
			return math.Inf(1)
		}
		return cands[j-1]
	}
	f := rangeFormat{min: xs[0], max: xs[len(xs)-1], isTime: isTime, integral: true, dateOnly: true}
	for _, x := range xs {
		if x != math.Trunc(x) || math.Abs(x) >= 1<<53 {
			f.integral = false
			break
		}
	}
	for _, j := range bounds[1 : len(bounds)-1] {
		if t := cutAt(j); t != math.Floor(t/86400)*86400 {
			f.dateOnly = false
		}
	}
	rows := make([]RateRow, 0, len(bounds)-1)
	for i := 1; i < len(bounds); i++ {
		a, z := bounds[i-1], bounds[i]
		lo, hi := cutAt(a), cutAt(z)
		rows = append(rows, RateRow{
			Label:     f.label(lo, hi),
			Lo:        lo,
			Hi:        hi,
			Contacts:  cumN[z] - cumN[a],
			Customers: cumK[z] - cumK[a],
		})
	}
	return rows
}

// candidateCuts returns the increasing candidate cut points of the sorted values xs, each above
// xs[0] and none above the last value: every distinct value when there are few (at most
// maxDistinctCandidates, or quantiles if more), otherwise cuts between different values that leave
// about quantiles bins of equal count.
func candidateCuts(xs []float64, isTime bool, quantiles int) []float64 {
	var cuts []float64
	distinct := 1
	for i := 1; i < len(xs) && distinct <= max(maxDistinctCandidates, quantiles); i++ {
		if xs[i] != xs[i-1] {
			distinct++
		}
	}
	if distinct <= max(maxDistinctCandidates, quantiles) {
		for i := 1; i < len(xs); i++ {
			if xs[i] != xs[i-1] {
				cuts = append(cuts, xs[i])
			}
		}
	} else {
		// The target size is recomputed from what is left, so that a heavy tie (a mass of zeros)
		// becomes one bin and the rest is still cut finely.
		n, bins := len(xs), quantiles
		for i := 0; bins > 1; bins-- {
			j := i + (n-i+bins-1)/bins
			for j < n && xs[j] == xs[j-1] {
				j++
			}
			if j >= n {
				break
			}
			cuts = append(cuts, roundCut(xs[j-1], xs[j]))
			i = j
		}
	}
	const day = 86400
	if isTime && xs[len(xs)-1]-xs[0] >= 14*day {
		rounded := cuts[:0]
		for _, c := range cuts {
			c = math.Floor(c/day) * day
			if c > xs[0] && (len(rounded) == 0 || c > rounded[len(rounded)-1]) {
				rounded = append(rounded, c)
			}
		}
		cuts = rounded
	}
	return cuts
}

// roundCut returns the number with the fewest significant decimal digits in (a, b], so that a cut
// between two neighbouring values prints as "< 20" rather than "< 19.8372": it splits the data the same.
func roundCut(a, b float64) float64 {
	if math.IsInf(a, 0) || math.IsInf(b, 0) {
		return b
	}
	top := int(math.Floor(math.Log10(max(math.Abs(a), math.Abs(b))))) + 1
	for e := top; e > top-17; e-- {
		step := math.Pow(10, float64(e))
		c := (math.Floor(a/step) + 1) * step
		c, err := strconv.ParseFloat(strconv.FormatFloat(c, 'f', max(0, -e), 64), 64)
		if err == nil && a < c && c <= b {
			return c
		}
	}
	return b
}

// mdlpBoundaries chooses, among boundaries 0..len(cumN)-1 of the base bins (cumN and cumK count the
// contacts and customers below each boundary), the ones where the rate changes: best-first binary
// splitting by information gain with the Fayyad-Irani MDL stopping rule, at least minSize contacts
// per range and at most maxRanges ranges. It returns the chosen boundaries in increasing order,
// always including the first and the last.
func mdlpBoundaries(cumN, cumK []int, minSize, maxRanges int) []int {
	type interval struct {
		a, z  int // boundaries
		cut   int // best accepted split boundary, or -1
		score float64
	}
	split := func(a, z int) interval {
		iv := interval{a: a, z: z, cut: -1}
		n, k := cumN[z]-cumN[a], cumK[z]-cumK[a]
		if n < 2*minSize {
			return iv
		}
		best, bestEnt := -1, math.Inf(1)
		for j := a + 1; j < z; j++ {
			n1, k1 := cumN[j]-cumN[a], cumK[j]-cumK[a]
			n2, k2 := n-n1, k-k1
			if n1 < minSize || n2 < minSize {
				continue
			}
			ent := (float64(n1)*entropy(k1, n1) + float64(n2)*entropy(k2, n2)) / float64(n)
			if ent < bestEnt {
				best, bestEnt = j, ent
			}
		}
		if best < 0 {
			return iv
		}
		n1, k1 := cumN[best]-cumN[a], cumK[best]-cumK[a]
		n2, k2 := n-n1, k-k1
		ent := entropy(k, n)
		gain := ent - bestEnt
		delta := math.Log2(math.Pow(3, float64(classes(k, n)))-2) -
			(float64(classes(k, n))*ent - float64(classes(k1, n1))*entropy(k1, n1) - float64(classes(k2, n2))*entropy(k2, n2))
		if gain <= (math.Log2(float64(n-1))+delta)/float64(n) {
			return iv
		}
		iv.cut, iv.score = best, gain*float64(n)
		return iv
	}

	last := len(cumN) - 1
	ivs := []interval{split(0, last)}
	for len(ivs) < maxRanges {
		pick := -1
		for i, iv := range ivs {
			if iv.cut >= 0 && (pick < 0 || iv.score > ivs[pick].score) {
				pick = i
			}
		}
		if pick < 0 {
			break
		}
		iv := ivs[pick]
		ivs = slices.Replace(ivs, pick, pick+1, split(iv.a, iv.cut), split(iv.cut, iv.z))
	}
	bounds := make([]int, 0, len(ivs)+1)
	for _, iv := range ivs {
		bounds = append(bounds, iv.a)
	}
	return append(bounds, last)
}

// entropy is the binary entropy in bits of k successes in n trials (0 for n == 0).
func entropy(k, n int) float64 {
	if k == 0 || k == n {
		return 0
	}
	p := float64(k) / float64(n)
	return -p*math.Log2(p) - (1-p)*math.Log2(1-p)
}

// classes counts the outcomes present among k successes in n trials.
func classes(k, n int) int {
	c := 0
	if k > 0 {
		c++
	}
	if k < n {
		c++
	}
	return c
}

// rangeFormat writes range labels for one column.
type rangeFormat struct {
	min, max float64
	isTime   bool
	integral bool // every value is a whole number: ranges print inclusive, "5 - 12" is 5 <= x < 13
	dateOnly bool // every cut is a midnight UTC: times print as dates, inclusive
}

func (f rangeFormat) label(lo, hi float64) string {
	if math.IsInf(lo, -1) && math.IsInf(hi, 1) {
		if f.isTime {
			return UnixTime(f.min).Format(time.DateOnly) + " - " + UnixTime(f.max).Format(time.DateOnly)
		}
		return FormatNumber(f.min) + " - " + FormatNumber(f.max)
	}
	if f.isTime {
		return f.timeLabel(lo, hi)
	}
	if f.integral {
		first, last := lo, hi-1
		if math.IsInf(lo, -1) {
			first = f.min
		}
		if math.IsInf(hi, 1) {
			last = f.max
		}
		switch {
		case first == last:
			return FormatNumber(first)
		case math.IsInf(lo, -1):
			return "< " + FormatNumber(hi)
		case math.IsInf(hi, 1):
			return ">= " + FormatNumber(lo)
		}
		return FormatNumber(lo) + " - " + FormatNumber(hi-1)
	}
	switch {
	case math.IsInf(lo, -1):
		return "< " + FormatNumber(hi)
	case math.IsInf(hi, 1):
		return ">= " + FormatNumber(lo)
	}
	return FormatNumber(lo) + " - " + FormatNumber(hi)
}

func (f rangeFormat) timeLabel(lo, hi float64) string {
	layout := "2006-01-02 15:04:05"
	last := hi
	if f.dateOnly {
		layout = time.DateOnly
		last = hi - 86400
	}
	t := func(x float64) string { return UnixTime(x).Format(layout) }
	switch {
	case math.IsInf(lo, -1):
		return "< " + t(hi)
	case math.IsInf(hi, 1):
		return ">= " + t(lo)
	case f.dateOnly && last == lo:
		return t(lo)
	}
	return t(lo) + " - " + t(last)
}
