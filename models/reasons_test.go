package models

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestSortCandidates checks sortCandidates against the order it documents, written as one comparison
// and sorted by the standard library, on random sums with many ties, both signs and a few sizes.
func TestSortCandidates(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	for trial := range 2000 {
		n := 1 + trial%25
		props := make([]propPlan, n)
		sums := make([]float64, n)
		for k, r := range rng.Perm(n) {
			props[k].rank = r
			sums[k] = float64(rng.IntN(7)-3) / 4 // ties, zeros and both signs
		}
		ks := rng.Perm(n)
		want := slices.Clone(ks)
		slices.SortFunc(want, func(i, j int) int {
			a, b := sums[i], sums[j]
			switch {
			case (a > 0) != (b > 0):
				if a > 0 {
					return -1
				}
				return 1
			case abs(a) != abs(b):
				if abs(a) > abs(b) {
					return -1
				}
				return 1
			case (a > 0) == (props[i].rank < props[j].rank):
				return -1
			}
			return 1
		})
		sortCandidates(ks, sums, props)
		if !slices.Equal(ks, want) {
			t.Fatalf("trial %d: sums %v ranks %v: got %v, want %v", trial, sums, props, ks, want)
		}
	}
}
