package features

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// TestWoE checks the weight of evidence against values computed by hand and its sign against the
// raw rate, for bins small and large.
func TestWoE(t *testing.T) {
	logit := func(p float64) float64 { return math.Log(p / (1 - p)) }
	tests := []struct {
		name           string
		customers, n   int
		overall, prior float64
		want           float64
	}{
		// (3 + 10*0.1) / (10 + 10) = 0.2 against 0.1.
		{"above", 3, 10, 0.1, 10, logit(0.2) - logit(0.1)},
		// (0 + 10*0.1) / (40 + 10) = 0.02 against 0.1.
		{"none won", 0, 40, 0.1, 10, logit(0.02) - logit(0.1)},
		{"empty bin", 0, 0, 0.1, 10, 0},
		{"exactly the overall rate", 5, 50, 0.1, 10, 0},
		// No prior: the raw rate 0.5 against 0.25.
		{"no prior", 10, 20, 0.25, 0, logit(0.5) - logit(0.25)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := WoE(tt.customers, tt.n, tt.overall, tt.prior); math.Abs(got-tt.want) > 1e-12 {
				t.Errorf("WoE(%d, %d, %v, %v) = %v, want %v", tt.customers, tt.n, tt.overall, tt.prior, got, tt.want)
			}
		})
	}
	rng := rand.New(rand.NewPCG(1, 1))
	for range 10000 {
		n := 1 + rng.IntN(200)
		k := rng.IntN(n + 1)
		overall := 0.01 + 0.98*rng.Float64()
		w := WoE(k, n, overall, 10)
		if d := float64(k)/float64(n) - overall; w*d < 0 || (d == 0) != (w == 0) {
			t.Fatalf("WoE(%d, %d, %v) = %v: the sign disagrees with the rate", k, n, overall, w)
		}
	}
}

// TestBinnedEncoding: a binned encoder sets exactly one output per column for every contact, and
// EncodeFrame agrees with EncodeContact; BinFrame gives the index of each of those outputs, over
// every row and over a subset in another order, and refuses an encoder that is not binned.
func TestBinnedEncoding(t *testing.T) {
	ref := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	f := &Frame{Columns: []*Column{
		{Name: "industry", Kind: KindCategory, Str: []string{"Software", "Retail", "", "Media", "Software"}, Valid: []bool{true, true, false, true, true}},
		{Name: "visits", Kind: KindNumber, Num: []float64{0, 5, 12, 0, 40}, Valid: []bool{true, true, true, false, true}},
		{Name: "active", Kind: KindFlag, Bool: []bool{true, false, false, true, false}, Valid: []bool{true, true, false, true, true}},
		{Name: "seen", Kind: KindTime, Num: []float64{UnixSeconds(ref.AddDate(0, 0, -3)), UnixSeconds(ref.AddDate(0, 0, -40)), 0, UnixSeconds(ref.AddDate(0, 0, 1)), UnixSeconds(ref.AddDate(0, 0, -10))}, Valid: []bool{true, true, false, true, true}},
	}}
	spec := &Spec{Label: "outcome", ReferenceTime: ref}
	for _, c := range f.Columns {
		spec.Columns = append(spec.Columns, ColumnSpec{Name: c.Name, Kind: c.Kind, Group: GroupFit, Use: true})
	}
	plain, err := FitEncoder(spec, f, nil, EncoderOptions{MinCount: 1})
	if err != nil {
		t.Fatal(err)
	}
	enc, err := plain.Binned(map[string][]string{"industry": {"Software", "Retail"}}, map[string][]float64{"visits": {5, 20}, "seen": {7, 30}})
	if err != nil {
		t.Fatal(err)
	}
	// industry: Software, Retail, other, missing; visits: 3 ranges, missing; active: true, false,
	// missing; seen: 3 ranges of days ago, missing.
	if got, want := enc.Width(), 4+4+3+4; got != want {
		t.Fatalf("width %d, want %d", got, want)
	}
	x, err := enc.EncodeFrame(f, nil, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	w := enc.Width()
	want := [][]int{ // the output set in each column, per row
		{0, 4 + 0, 8 + 0, 11 + 0},
		{1, 4 + 1, 8 + 1, 11 + 2},
		{3, 4 + 1, 8 + 2, 11 + 3},
		{2, 4 + 3, 8 + 0, 11 + 0},
		{0, 4 + 2, 8 + 1, 11 + 1},
	}
	for r := range f.Len() {
		row := x[r*w : (r+1)*w]
		var set []int
		for j, v := range row {
			if v != 0 {
				set = append(set, j)
			}
		}
		if !slices.Equal(set, want[r]) {
			t.Errorf("row %d: outputs %v set, want %v", r, set, want[r])
		}
		one := make([]float64, w)
		if _, err := enc.EncodeContact(f.Contact(r, ""), time.Time{}, one); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(one, row) {
			t.Errorf("row %d: EncodeContact %v, EncodeFrame %v", r, one, row)
		}
	}
	for _, rows := range [][]int{nil, {4, 0, 2}} {
		bins, err := enc.BinFrame(f, rows, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		if rows == nil {
			rows = []int{0, 1, 2, 3, 4}
		}
		n := len(enc.Columns)
		if len(bins) != len(rows)*n {
			t.Fatalf("rows %v: %d bins, want %d", rows, len(bins), len(rows)*n)
		}
		for r, i := range rows {
			var got []int
			for _, b := range bins[r*n : (r+1)*n] {
				got = append(got, int(b))
			}
			if !slices.Equal(got, want[i]) {
				t.Errorf("BinFrame row %d: bins %v, want %v", i, got, want[i])
			}
		}
	}
	if _, err := plain.BinFrame(f, nil, time.Time{}); err == nil {
		t.Error("BinFrame of an encoder that is not binned: no error")
	}
}

// TestScorecardCuts: a rate that rises with the value gets bins whose rates rise; a rate that
// peaks in the middle keeps the supervised ranges it is given.
func TestScorecardCuts(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	const n = 20000
	xs := make([]float64, n)
	rising := make([]bool, n)
	peaked := make([]bool, n)
	for i := range xs {
		x := rng.Float64() * 100
		xs[i] = x
		rising[i] = rng.Float64() < 0.05+0.3*x/100
		peaked[i] = rng.Float64() < 0.05+0.4*math.Exp(-(x-50)*(x-50)/200)
	}
	cuts := ScorecardCuts(xs, rising, []float64{50}, 30, 0.9)
	if len(cuts) < 3 {
		t.Fatalf("rising rate: cuts %v, want several", cuts)
	}
	n1, k1 := make([]int, len(cuts)+1), make([]int, len(cuts)+1)
	for i, x := range xs {
		b := rangeIndex(cuts, x)
		n1[b]++
		if rising[i] {
			k1[b]++
		}
	}
	for b := 1; b < len(n1); b++ {
		if k1[b]*n1[b-1] < k1[b-1]*n1[b] {
			t.Errorf("rising rate: bin %d rate %d/%d below bin %d's %d/%d", b, k1[b], n1[b], b-1, k1[b-1], n1[b-1])
		}
	}
	mdl := []float64{35, 45, 55, 65}
	if got := ScorecardCuts(xs, peaked, mdl, 30, 0.9); !slices.Equal(got, mdl) {
		t.Errorf("peaked rate: cuts %v, want the given ranges %v", got, mdl)
	}
}

// TestScorecardCutsFine checks that a number with many values on many contacts is pre-binned
// finer than the rate tables' 32 quantiles: on 20,000 contacts whose rate rises steadily with the
// value (each contact's outcome from a low-discrepancy sequence, so that every pre-bin's rate is
// within about one customer of its expected one), the monotone bins number more than 32, and they
// stay monotone with at least minSize contacts each.
func TestScorecardCutsFine(t *testing.T) {
	const n, minSize = 20000, 30
	if got := scorecardPrebins(n, minSize); got != n/minSize {
		t.Fatalf("scorecardPrebins(%d, %d) = %d, want %d", n, minSize, got, n/minSize)
	}
	if got := scorecardPrebins(900, minSize); got != candidateQuantiles {
		t.Errorf("scorecardPrebins(900, %d) = %d, want the rate tables' %d", minSize, got, candidateQuantiles)
	}
	xs := make([]float64, n)
	won := make([]bool, n)
	golden := (math.Sqrt(5) - 1) / 2
	for i := range xs {
		xs[i] = float64(i)
		won[i] = math.Mod(float64(i)*golden, 1) < 0.05+0.6*float64(i)/n
	}
	cuts := ScorecardCuts(xs, won, []float64{n / 2}, minSize, 0.9)
	if len(cuts)+1 <= candidateQuantiles {
		t.Fatalf("%d bins, want more than %d", len(cuts)+1, candidateQuantiles)
	}
	ns, ks := make([]int, len(cuts)+1), make([]int, len(cuts)+1)
	for i, x := range xs {
		b := rangeIndex(cuts, x)
		ns[b]++
		if won[i] {
			ks[b]++
		}
	}
	for b := range ns {
		if ns[b] < minSize {
			t.Errorf("bin %d holds %d contacts, want at least %d", b, ns[b], minSize)
		}
		if b > 0 && ks[b]*ns[b-1] < ks[b-1]*ns[b] {
			t.Errorf("bin %d rate %d/%d below bin %d's %d/%d", b, ks[b], ns[b], b-1, ks[b-1], ns[b-1])
		}
	}
	t.Logf("%d bins", len(cuts)+1)
}
