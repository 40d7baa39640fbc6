package train

import (
	"math"
	"slices"
	"testing"

	"github.com/leadscore/leadscore/features"
	"github.com/leadscore/leadscore/models"
)

// TestScorecardTerms checks the design's terms on a category and on numbers whose rates rise, fall,
// peak or have an empty range. The expected terms were worked out by hand from the rule: a bin at the
// overall rate has none, a monotone number's ranges chain away from the overall rate, any other bin
// stands alone with the sign of its WoE.
func TestScorecardTerms(t *testing.T) {
	const overall = 0.2
	bin := func(k, n int) models.Bin {
		return models.Bin{Contacts: n, Customers: k, WoE: features.WoE(k, n, overall, woePrior)}
	}
	cat := func(p string) features.Feature { return features.Feature{Property: p, Kind: features.KindCategory} }
	rng := func(p string, lo, hi float64) features.Feature {
		return features.Feature{Property: p, Kind: features.KindNumber, Lo: lo, Hi: hi}
	}
	inf := math.Inf(1)
	type tm struct {
		sign float64
		bins []int
	}
	tests := []struct {
		name  string
		feats []features.Feature
		bins  []models.Bin
		want  []tm
	}{
		{"category: a sign each, none at the overall rate",
			[]features.Feature{cat("c"), cat("c"), cat("c")},
			[]models.Bin{bin(30, 100), bin(20, 100), bin(10, 100)},
			[]tm{{1, []int{0}}, {-1, []int{2}}}},
		{"rising rate: chained outwards from the overall rate",
			[]features.Feature{rng("n", -inf, 1), rng("n", 1, 2), rng("n", 2, 3), rng("n", 3, inf), cat("n")},
			[]models.Bin{bin(5, 100), bin(20, 100), bin(30, 100), bin(50, 100), bin(40, 100)},
			[]tm{{-1, []int{0}}, {1, []int{2, 3}}, {1, []int{3}}, {1, []int{4}}}},
		{"falling rate: chained the other way",
			[]features.Feature{rng("n", -inf, 1), rng("n", 1, 2), rng("n", 2, inf), cat("n")},
			[]models.Bin{bin(50, 100), bin(10, 100), bin(5, 100), bin(0, 0)},
			[]tm{{1, []int{0}}, {-1, []int{1, 2}}, {-1, []int{2}}}},
		{"peaked rate: a sign each",
			[]features.Feature{rng("n", -inf, 1), rng("n", 1, 2), rng("n", 2, inf)},
			[]models.Bin{bin(10, 100), bin(50, 100), bin(30, 100)},
			[]tm{{-1, []int{0}}, {1, []int{1}}, {1, []int{2}}}},
		{"empty range: a sign each",
			[]features.Feature{rng("n", -inf, 1), rng("n", 1, 2), rng("n", 2, inf)},
			[]models.Bin{bin(10, 100), bin(0, 0), bin(30, 100)},
			[]tm{{-1, []int{0}}, {1, []int{2}}}},
		{"two properties side by side",
			[]features.Feature{rng("a", -inf, 1), rng("a", 1, inf), rng("b", -inf, 1), rng("b", 1, inf)},
			[]models.Bin{bin(10, 100), bin(30, 100), bin(30, 100), bin(10, 100)},
			[]tm{{-1, []int{0}}, {1, []int{1}}, {1, []int{2}}, {-1, []int{3}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := scorecardTerms(tt.feats, tt.bins)
			if len(got) != len(tt.want) {
				t.Fatalf("got %d terms %v, want %v", len(got), got, tt.want)
			}
			for i, w := range tt.want {
				if got[i].sign != w.sign || !slices.Equal(got[i].bins, w.bins) {
					t.Errorf("term %d = %v, want %v", i, got[i], w)
				}
			}
		})
	}
}

// TestTermDesign: each row's design holds the signs of the terms that hold its bins.
func TestTermDesign(t *testing.T) {
	x := binIndex{ends: []int{2, 3, 4}, idx: []uint16{
		0, 3, // row 0: bins 0 and 3
		2, // row 1: bin 2
		1, // row 2: bin 1
	}}
	terms := []term{{1, []int{1, 2}}, {-1, []int{0}}, {1, []int{2, 3}}}
	d, err := termDesign(x, 4, terms)
	if err != nil {
		t.Fatal(err)
	}
	want := [][]float64{{0, -1, 1}, {1, 0, 1}, {1, 0, 0}}
	for r, row := range want {
		for c, v := range row {
			if got := d.At(r, c); got != v {
				t.Errorf("row %d, term %d = %v, want %v", r, c, got, v)
			}
		}
	}
}
