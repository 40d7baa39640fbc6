package train

import (
	"fmt"
	"time"

	"github.com/leadscore/leadscore/features"
	"github.com/leadscore/leadscore/models"
	"github.com/leadscore/leadscore/train/fit"
)

// encodeChunk is the number of rows encoded at a time into a design: a dense chunk of 16,384 rows of
// 150 outputs is 20 MB, which is all the dense matrix memory ever holds.
const encodeChunk = 1 << 14

// encodeDesign encodes the given rows of f into a sparse fit.Design, a chunk of rows at a time, so
// that the dense matrix of all the rows is never held: the encoder's number outputs are the design's
// value columns and its 0/1 outputs its indicators.
func encodeDesign(enc *features.Encoder, f *features.Frame, rows []int) (*fit.Design, error) {
	width := enc.Width()
	numbers := enc.NumberOutputs()
	d, err := fit.NewDesign(width, numbers)
	if err != nil {
		return nil, fmt.Errorf("train: %d encoded features: %w", width, err)
	}
	isNumber := make([]bool, width)
	for _, c := range numbers {
		isNumber[c] = true
	}
	var (
		ends []int
		idx  []uint16
		val  []float64
	)
	for lo := 0; lo < len(rows); lo += encodeChunk {
		hi := min(lo+encodeChunk, len(rows))
		x, err := enc.EncodeFrame(f, rows[lo:hi], time.Time{})
		if err != nil {
			return nil, err
		}
		ends, idx, val = ends[:0], idx[:0], val[:0]
		for r := range hi - lo {
			for c, v := range x[r*width : (r+1)*width] {
				switch {
				case isNumber[c]:
					val = append(val, v)
				case v == 1:
					idx = append(idx, uint16(c))
				case v != 0:
					return nil, fmt.Errorf("train: encoded feature %d of row %d is %v, want 0 or 1", c, rows[lo+r], v)
				}
			}
			ends = append(ends, len(idx))
		}
		if lo == 0 {
			// Room for all the rows, at the first chunk's indicators per row and some slack.
			d.Grow(len(rows), int(float64(len(idx))/float64(hi-lo)*float64(len(rows))*1.05))
		}
		if err := d.AppendRows(ends, idx, val); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// designScores returns the probability, fit sum and engagement sum (models.Score) of every row of x,
// the training design of a: x's stored columns are a's encoder outputs (the one-hot model's columns,
// the scorecard's bins), which a weighs, so the training rows are scored from the design instead of
// being encoded again. They equal a.ScoreFrame's up to the rounding of the order of the sums.
func designScores(a *models.Artifact, x *fit.Design) (probs, fitSums, engSums []float64) {
	feats := a.Encoder.Features()
	group := make([]int, len(feats)) // 0 fit, 1 engagement
	var base [2]float64              // each group's sum of weight times baseline
	for j, ft := range feats {
		if ft.Group == features.GroupEngagement {
			group[j] = 1
		}
		base[group[j]] += a.Weights[j] * a.Baseline[j]
	}
	sums := x.Sums(a.Weights, group, 2)
	n := x.Rows()
	probs, fitSums, engSums = make([]float64, n), make([]float64, n), make([]float64, n)
	for r := range n {
		f, e := sums[2*r], sums[2*r+1]
		probs[r] = models.Sigmoid(a.Intercept + f + e)
		fitSums[r], engSums[r] = f-base[0], e-base[1]
	}
	return probs, fitSums, engSums
}
