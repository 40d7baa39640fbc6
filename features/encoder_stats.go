package features

import (
	"math"
	"slices"

	"gonum.org/v1/gonum/stat"
)

// scaling sets Mean and SD (population) of the transformed training values, and Impute to their
// median; with no values, 0 and 1. A constant column gets SD 1, so it encodes as 0.
func (ce *ColumnEncoding) scaling(ts []float64) {
	ce.Impute, ce.Mean, ce.SD = 0, 0, 1
	if len(ts) == 0 {
		return
	}
	mean, sd := stat.PopMeanStdDev(ts, nil)
	ce.Mean = mean
	if sd > 0 && isFiniteNum(sd) {
		ce.SD = sd
	}
	ce.Impute = medianInPlace(ts)
}

// sampleSkewness is the population skewness m3 / m2^1.5 (scipy's skew with bias=True); 0 for
// constant data and for fewer than three values. gonum's stat.Skew is the adjusted Fisher-Pearson
// G1 = g1 * sqrt(n(n-1)) / (n-2), which this undoes.
func sampleSkewness(xs []float64) float64 {
	n := float64(len(xs))
	if n < 3 {
		return 0
	}
	if _, sd := stat.PopMeanStdDev(xs, nil); !(sd > 0) {
		return 0
	}
	return stat.Skew(xs, nil) * (n - 2) / math.Sqrt(n*(n-1))
}

// medianInPlace returns the median of xs (mean of the two middle values for an even count), reordering xs.
func medianInPlace(xs []float64) float64 {
	k := len(xs) / 2
	hi := selectKth(xs, k)
	if len(xs)%2 == 1 {
		return hi
	}
	lo := slices.Max(xs[:k])
	return lo + (hi-lo)/2
}

// selectKth reorders a so that a[k] is the k-th smallest value and a[:k] holds values <= a[k]
// (quickselect with Hoare partitioning and a median-of-three pivot), and returns a[k].
func selectKth(a []float64, k int) float64 {
	lo, hi := 0, len(a)-1
	for lo < hi {
		mid := lo + (hi-lo)/2
		if a[mid] < a[lo] {
			a[mid], a[lo] = a[lo], a[mid]
		}
		if a[hi] < a[lo] {
			a[hi], a[lo] = a[lo], a[hi]
		}
		if a[hi] < a[mid] {
			a[hi], a[mid] = a[mid], a[hi]
		}
		p := a[mid]
		i, j := lo, hi
		for i <= j {
			for a[i] < p {
				i++
			}
			for a[j] > p {
				j--
			}
			if i <= j {
				a[i], a[j] = a[j], a[i]
				i++
				j--
			}
		}
		switch {
		case k <= j:
			hi = j
		case k >= i:
			lo = i
		default:
			return a[k]
		}
	}
	return a[k]
}
