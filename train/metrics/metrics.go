package metrics

import (
	"cmp"
	"math"
	"slices"

	"github.com/leadscore/leadscore/models"
)

// Bins is the number of equal-width probability bins of the calibration table.
const Bins = 10

// clip keeps log loss finite for probabilities of exactly 0 or 1, as scikit-learn's log_loss(eps=1e-15).
const clip = 1e-15

// Evaluate judges probabilities against outcomes (true = won) and fills every field of
// models.Metrics except Manual. Fields that are undefined for the input (AUC, PR-AUC and the
// confusion ratios when y has one class) are left zero so the result always encodes as JSON;
// Evaluate of no rows is the zero Metrics. Scores are meant to be probabilities in [0, 1]: log loss,
// Brier and calibration read them so. Evaluate panics if the lengths differ or a score is NaN.
func Evaluate(scores []float64, y []bool) models.Metrics {
	gs := groups(scores, y)
	if len(scores) == 0 {
		return models.Metrics{}
	}
	pos, _ := totals(gs)
	m := models.Metrics{
		Rows:      len(scores),
		Positives: pos,
		AUC:       zeroNaN(aucOf(gs)),
		PRAUC:     zeroNaN(averagePrecisionOf(gs)),
		LogLoss:   LogLoss(scores, y),
		Brier:     Brier(scores, y),
		Deciles:   decilesOf(gs),
	}
	m.Calibration, m.ECE = Calibration(scores, y)
	m.Threshold, m.Confusion = bestF1Of(gs)
	return m
}

func zeroNaN(v float64) float64 {
	if math.IsNaN(v) {
		return 0
	}
	return v
}

// group is the rows that share one score.
type group struct {
	score    float64
	pos, neg int
}

// groups returns the distinct scores, highest first, with the outcomes of the rows at each.
// Every ranking measure is computed from these, so tied rows always count together and the
// result does not depend on the order of the input.
func groups(scores []float64, y []bool) []group {
	if len(scores) != len(y) {
		panic("metrics: scores and outcomes differ in length")
	}
	// Sorting the two classes' scores apart (plain float64 sorts) and merging them is several
	// times faster than sorting (score, outcome) pairs.
	np := 0
	for _, v := range y {
		if v {
			np++
		}
	}
	pos := make([]float64, 0, np)
	neg := make([]float64, 0, len(y)-np)
	for i, s := range scores {
		if math.IsNaN(s) {
			panic("metrics: NaN score")
		}
		if y[i] {
			pos = append(pos, s)
		} else {
			neg = append(neg, s)
		}
	}
	slices.Sort(pos)
	slices.Sort(neg)
	// As many groups as distinct scores, counted first: a slice of one per row would cost 24 bytes
	// a row for a column of few values (the leakage audit ranks millions of rows this way).
	distinct, i, j := 0, 0, 0
	for i < len(pos) || j < len(neg) {
		s := math.Inf(1)
		if i < len(pos) {
			s = pos[i]
		}
		if j < len(neg) {
			s = min(s, neg[j])
		}
		for ; i < len(pos) && pos[i] == s; i++ {
		}
		for ; j < len(neg) && neg[j] == s; j++ {
		}
		distinct++
	}
	gs := make([]group, 0, distinct)
	i, j = len(pos)-1, len(neg)-1
	for i >= 0 || j >= 0 {
		s := math.Inf(-1)
		if i >= 0 {
			s = pos[i]
		}
		if j >= 0 {
			s = max(s, neg[j])
		}
		g := group{score: s}
		for ; i >= 0 && pos[i] == s; i-- {
			g.pos++
		}
		for ; j >= 0 && neg[j] == s; j-- {
			g.neg++
		}
		gs = append(gs, g)
	}
	return gs
}

func totals(gs []group) (pos, neg int) {
	for _, g := range gs {
		pos += g.pos
		neg += g.neg
	}
	return pos, neg
}

// AUC returns the area under the ROC curve: the chance that a random positive scores above a
// random negative, ties counting one half (the Mann-Whitney U over n1*n0, as scikit-learn's
// roc_auc_score). Higher scores mean more likely positive; any scale works, including integer
// points with many ties. AUC is NaN when y has one class and panics if the lengths differ or a
// score is NaN.
func AUC(scores []float64, y []bool) float64 {
	return aucOf(groups(scores, y))
}

// AUCOfCounts is AUC for rows given by their counts: pos[k] positives and neg[k] negatives score
// scores[k]. Scores may repeat and come in any order. It panics if the lengths differ, a count is
// negative or a score is NaN.
func AUCOfCounts(scores []float64, pos, neg []int) float64 {
	if len(pos) != len(scores) || len(neg) != len(scores) {
		panic("metrics: scores and counts differ in length")
	}
	gs := make([]group, len(scores))
	for k, s := range scores {
		if math.IsNaN(s) || pos[k] < 0 || neg[k] < 0 {
			panic("metrics: NaN score or negative count")
		}
		gs[k] = group{score: s, pos: pos[k], neg: neg[k]}
	}
	slices.SortFunc(gs, func(a, b group) int { return cmp.Compare(b.score, a.score) })
	merged := gs[:0]
	for _, g := range gs {
		if n := len(merged); n > 0 && merged[n-1].score == g.score {
			merged[n-1].pos += g.pos
			merged[n-1].neg += g.neg
			continue
		}
		merged = append(merged, g)
	}
	return aucOf(merged)
}

func aucOf(gs []group) float64 {
	pos, neg := totals(gs)
	if pos == 0 || neg == 0 {
		return math.NaN()
	}
	// u2 is twice U, kept in integers so that it is exact.
	var u2 int64
	below := int64(neg)
	for _, g := range gs {
		below -= int64(g.neg)
		u2 += 2*int64(g.pos)*below + int64(g.pos)*int64(g.neg)
	}
	return float64(u2) / (2 * float64(pos) * float64(neg))
}

// averagePrecision returns the area under the precision-recall curve as scikit-learn's
// average_precision_score: sum over distinct score thresholds of (R_n - R_{n-1}) * P_n.
// It is NaN when there is no positive.
func averagePrecision(scores []float64, y []bool) float64 {
	return averagePrecisionOf(groups(scores, y))
}

func averagePrecisionOf(gs []group) float64 {
	pos, _ := totals(gs)
	if pos == 0 {
		return math.NaN()
	}
	ap, tp, fp := 0.0, 0, 0
	for _, g := range gs {
		tp += g.pos
		fp += g.neg
		ap += float64(g.pos) / float64(pos) * float64(tp) / float64(tp+fp)
	}
	return ap
}

// LogLoss returns the mean negative log-likelihood of the outcomes under probabilities clipped to
// [1e-15, 1-1e-15]; zero for no rows.
func LogLoss(p []float64, y []bool) float64 {
	if len(p) != len(y) {
		panic("metrics: scores and outcomes differ in length")
	}
	if len(p) == 0 {
		return 0
	}
	s := 0.0
	for i, v := range p {
		v = min(max(v, clip), 1-clip)
		if y[i] {
			s -= math.Log(v)
		} else {
			s -= math.Log1p(-v)
		}
	}
	return s / float64(len(p))
}

// Brier returns the mean squared difference between probability and outcome; zero for no rows.
func Brier(p []float64, y []bool) float64 {
	if len(p) != len(y) {
		panic("metrics: scores and outcomes differ in length")
	}
	if len(p) == 0 {
		return 0
	}
	s := 0.0
	for i, v := range p {
		if y[i] {
			v--
		}
		s += v * v
	}
	return s / float64(len(p))
}

// Calibration returns the Bins equal-width probability bins [k/10, (k+1)/10) (the last one
// includes 1; probabilities outside [0, 1] go to the end bins) and the expected calibration error,
// sum over bins of rows/N * |mean probability - positive rate|. Empty bins are kept with zero counts.
func Calibration(p []float64, y []bool) ([]models.CalibrationBin, float64) {
	if len(p) != len(y) {
		panic("metrics: scores and outcomes differ in length")
	}
	bins := make([]models.CalibrationBin, Bins)
	sums := make([]float64, Bins)
	for k := range bins {
		bins[k].Lo = float64(k) / Bins
		bins[k].Hi = float64(k+1) / Bins
	}
	for i, v := range p {
		k := min(max(int(v*Bins), 0), Bins-1)
		bins[k].Rows++
		sums[k] += v
		if y[i] {
			bins[k].Positives++
		}
	}
	ece := 0.0
	for k := range bins {
		b := &bins[k]
		if b.Rows == 0 {
			continue
		}
		b.MeanProb = sums[k] / float64(b.Rows)
		b.Rate = float64(b.Positives) / float64(b.Rows)
		ece += float64(b.Rows) / float64(len(p)) * math.Abs(b.MeanProb-b.Rate)
	}
	return bins, ece
}

// Deciles ranks rows by score, highest first, and cuts them into ten groups of equal size (sizes
// differ by at most one row; with fewer than ten rows some deciles are empty). Rows tied on a
// score that straddles a cut share that score's positives in proportion to how many of them fall
// on each side, rounded half up: the expected count under a random tie-break, so the result never
// depends on the input order. Any score scale works, including integer points with many ties.
// Deciles panics if the lengths differ or a score is NaN.
func Deciles(scores []float64, y []bool) []models.Decile {
	return decilesOf(groups(scores, y))
}

func decilesOf(gs []group) []models.Decile {
	pos, neg := totals(gs)
	n := pos + neg
	out := make([]models.Decile, 10)
	overall := 0.0
	if n > 0 {
		overall = float64(pos) / float64(n)
	}
	// Walk the groups once; start is the position of the group's first row and posBefore the
	// positives in the groups before it.
	gi, start, posBefore := 0, 0, 0
	prevRows, prevPos := 0, 0
	for d := range out {
		cut := (d + 1) * n / 10
		for gi < len(gs) && start+gs[gi].pos+gs[gi].neg < cut {
			start += gs[gi].pos + gs[gi].neg
			posBefore += gs[gi].pos
			gi++
		}
		cumPos := posBefore
		if gi < len(gs) {
			size := gs[gi].pos + gs[gi].neg
			cumPos += (2*gs[gi].pos*(cut-start) + size) / (2 * size)
		}
		dec := models.Decile{Decile: d + 1, Rows: cut - prevRows, Positives: cumPos - prevPos}
		if dec.Rows > 0 {
			// Group gi holds the decile's last row (start <= cut-1 < its end).
			dec.MinScore = gs[gi].score
			dec.Rate = float64(dec.Positives) / float64(dec.Rows)
			if overall > 0 {
				dec.Lift = dec.Rate / overall
			}
		}
		if pos > 0 && cut > 0 {
			dec.CumGain = float64(cumPos) / float64(pos)
			dec.CumLift = dec.CumGain / (float64(cut) / float64(n))
		}
		out[d] = dec
		prevRows, prevPos = cut, cumPos
	}
	return out
}

// bestF1 returns the score threshold (a row is predicted positive when its score is >= the
// threshold) with the highest F1, the highest such threshold on ties, and the confusion there.
// With no positive rows it returns the highest score and a confusion with zero F1.
// It panics if the lengths differ or a score is NaN; for no rows it returns zero values.
func bestF1(scores []float64, y []bool) (float64, models.Confusion) {
	return bestF1Of(groups(scores, y))
}

func bestF1Of(gs []group) (float64, models.Confusion) {
	if len(gs) == 0 {
		return 0, models.Confusion{}
	}
	pos, neg := totals(gs)
	best, bestF1, bestTP, bestFP := 0, -1.0, 0, 0
	tp, fp := 0, 0
	for i, g := range gs {
		tp += g.pos
		fp += g.neg
		f1 := 0.0
		if tp > 0 {
			f1 = 2 * float64(tp) / float64(2*tp+fp+(pos-tp))
		}
		if f1 > bestF1 {
			best, bestF1, bestTP, bestFP = i, f1, tp, fp
		}
	}
	c := models.Confusion{TP: bestTP, FP: bestFP, TN: neg - bestFP, FN: pos - bestTP, F1: bestF1}
	if bestTP > 0 {
		c.Precision = float64(bestTP) / float64(bestTP+bestFP)
		c.Recall = float64(bestTP) / float64(pos)
	}
	return gs[best].score, c
}
