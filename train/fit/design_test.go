package fit

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// design returns a seeded synthetic logistic problem of rows x cols, row-major, with columns that
// cycle through six shapes: standard normal, strongly correlated with the previous column (0.9),
// a common flag (31% ones), a skewed count-like exp(normal), a shifted and scaled normal (mean 5,
// sd 3) and a rare flag (7% ones). The outcome is drawn from a logistic model with random weights.
func design(seed uint64, rows, cols int) (X, y []float64) {
	rng := rand.New(rand.NewPCG(seed, seed))
	beta := make([]float64, cols)
	for j := range beta {
		beta[j] = 0.5 * rng.NormFloat64()
	}
	X = make([]float64, rows*cols)
	y = make([]float64, rows)
	for r := range rows {
		x := X[r*cols : r*cols+cols]
		eta := -1.0
		for j := range x {
			z := rng.NormFloat64()
			switch j % 6 {
			case 0:
				x[j] = z
			case 1:
				x[j] = 0.9*x[j-1] + 0.45*z
			case 2:
				if z > 0.5 {
					x[j] = 1
				}
			case 3:
				x[j] = math.Exp(z)
			case 4:
				x[j] = 3*z + 5
			case 5:
				if z > 1.5 {
					x[j] = 1
				}
			}
			eta += beta[j] * (x[j] - []float64{0, 0, 0.3, 1.6, 5, 0.07}[j%6])
		}
		if rng.Float64() < 1/(1+math.Exp(-eta)) {
			y[r] = 1
		}
	}
	return X, y
}

// onehot returns a seeded one-hot problem of rows x 22 columns, the shape the encoder gives:
// three categories of 6, 9 and 4 levels (one indicator per row each, none in 5% of rows, as for a
// missing value without a level), a standard normal number, a flag (25% ones) and a skewed count
// exp(normal), laid out category, number, category, flag, count, category.
func onehot(seed uint64, rows int) (X, y []float64, cols int) {
	rng := rand.New(rand.NewPCG(seed, seed))
	blocks := []int{6, 9, 4}
	effect := make([][]float64, len(blocks))
	for b, n := range blocks {
		effect[b] = make([]float64, n)
		for l := range effect[b] {
			effect[b][l] = rng.NormFloat64()
		}
	}
	cols = 6 + 1 + 9 + 1 + 1 + 4
	X = make([]float64, rows*cols)
	y = make([]float64, rows)
	for r := range rows {
		x := X[r*cols : r*cols+cols]
		eta := -1.5
		off := 0
		level := func(b int) {
			// Levels are skewed: the first are common, the last rare.
			if rng.Float64() >= 0.05 {
				l := min(int(rng.ExpFloat64()*float64(blocks[b])/3), blocks[b]-1)
				x[off+l] = 1
				eta += effect[b][l]
			}
			off += blocks[b]
		}
		level(0)
		x[off] = rng.NormFloat64()
		eta += 0.8 * x[off]
		off++
		level(1)
		if rng.Float64() < 0.25 {
			x[off] = 1
			eta += 0.6
		}
		off++
		x[off] = math.Exp(rng.NormFloat64())
		eta -= 0.3 * x[off]
		off++
		level(2)
		if rng.Float64() < 1/(1+math.Exp(-eta)) {
			y[r] = 1
		}
	}
	return X, y, cols
}

// TestDesignLayouts fits the same matrix stored three ways, which must give the same coefficients:
// indicator columns as index lists (Dense), every column as a number (the dense equivalent), and
// appended in uneven chunks. It also fits indicators with values (SetIndicatorValues) against the
// same matrix with those values written out, with Fit and FitNonNegative.
func TestDesignLayouts(t *testing.T) {
	const rows, tol = 4000, 1e-9
	X, y, cols := onehot(5, rows)
	sparse := mustDense(t, X, rows, cols)
	if got, want := sparse.ValueCols(), []int{6, 17}; !slices.Equal(got, want) {
		t.Fatalf("Dense value columns %v, want %v (the number and the count; the flag is an indicator)", got, want)
	}
	all := make([]int, cols)
	for j := range all {
		all[j] = j
	}
	dense, err := NewDesign(cols, all)
	if err != nil {
		t.Fatal(err)
	}
	if err := dense.AppendRows(make([]int, rows), nil, X); err != nil {
		t.Fatal(err)
	}
	chunked, err := NewDesign(cols, sparse.ValueCols())
	if err != nil {
		t.Fatal(err)
	}
	for lo := 0; lo < rows; {
		hi := min(rows, lo+1+lo/3) // chunks of growing size, the first of one row
		var ends []int
		var idx []uint16
		var val []float64
		for r := lo; r < hi; r++ {
			ind, v := sparse.rowAt(r)
			idx = append(idx, ind...)
			val = append(val, v...)
			ends = append(ends, len(idx))
		}
		if err := chunked.AppendRows(ends, idx, val); err != nil {
			t.Fatal(err)
		}
		lo = hi
	}
	for r := range rows {
		for c := range cols {
			if a, b, want := sparse.At(r, c), chunked.At(r, c), X[r*cols+c]; a != want || b != want || dense.At(r, c) != want {
				t.Fatalf("At(%d, %d) = %v (sparse), %v (chunked), %v (dense); want %v", r, c, a, b, dense.At(r, c), want)
			}
		}
	}
	for _, c := range []float64{0.01, 1, 100} {
		want, err := Fit(dense, y, Options{C: c})
		if err != nil {
			t.Fatal(err)
		}
		for name, d := range map[string]*Design{"sparse": sparse, "chunked": chunked} {
			got, err := Fit(d, y, Options{C: c})
			if err != nil {
				t.Fatal(err)
			}
			if diff := maxDiff(got, want); diff > tol {
				t.Errorf("C=%v: %s design differs from the dense one by %g, want <= %g", c, name, diff, tol)
			}
		}
	}

	// Indicators standing for other numbers: a weight of evidence per level, say.
	vals := make([]float64, cols)
	scaled := slices.Clone(X)
	for j := range vals {
		vals[j] = 1
		if !slices.Contains(sparse.ValueCols(), j) {
			vals[j] = 0.25 + 0.1*float64(j)
			if j%5 == 0 {
				vals[j] = -vals[j]
			}
			for r := range rows {
				scaled[r*cols+j] *= vals[j]
			}
		}
	}
	withVals := mustDense(t, X, rows, cols)
	if err := withVals.SetIndicatorValues(vals); err != nil {
		t.Fatal(err)
	}
	scaledDense, err := NewDesign(cols, all)
	if err != nil {
		t.Fatal(err)
	}
	if err := scaledDense.AppendRows(make([]int, rows), nil, scaled); err != nil {
		t.Fatal(err)
	}
	for name, fn := range map[string]func(*Design, []float64, Options) (*Result, error){"Fit": Fit, "FitNonNegative": FitNonNegative} {
		want, err := fn(scaledDense, y, Options{C: 0.5})
		if err != nil {
			t.Fatal(err)
		}
		got, err := fn(withVals, y, Options{C: 0.5})
		if err != nil {
			t.Fatal(err)
		}
		if diff := maxDiff(got, want); diff > tol || !got.Converged {
			t.Errorf("%s: indicator values differ from the written-out matrix by %g (converged %v), want <= %g", name, diff, got.Converged, tol)
		}
	}
	means := withVals.ColumnMeans()
	for c := range cols {
		want := 0.0
		for r := range rows {
			want += scaled[r*cols+c]
		}
		if want /= rows; math.Abs(means[c]-want) > 1e-12 {
			t.Errorf("ColumnMeans()[%d] = %v, want %v", c, means[c], want)
		}
	}
}

// maxDiff is the largest absolute difference between two fits' coefficients and intercepts.
func maxDiff(a, b *Result) float64 {
	d := math.Abs(a.Intercept - b.Intercept)
	for j, v := range a.Weights {
		d = max(d, math.Abs(v-b.Weights[j]))
	}
	return d
}

func TestAppendRowsErrors(t *testing.T) {
	nan := math.NaN()
	tests := []struct {
		name   string
		ends   []int
		idx    []uint16
		val    []float64
		want   error
		row    int
		column int
	}{
		{name: "values short", ends: []int{1}, idx: []uint16{0}, val: nil, want: ErrShape},
		{name: "ends past indices", ends: []int{2}, idx: []uint16{0}, val: []float64{1}, want: ErrShape},
		{name: "ends decrease", ends: []int{2, 1, 2}, idx: []uint16{0, 2}, val: []float64{1, 1, 1}, want: ErrShape},
		{name: "index out of range", ends: []int{1}, idx: []uint16{4}, val: []float64{1}, want: ErrShape},
		{name: "index of a value column", ends: []int{1}, idx: []uint16{1}, val: []float64{1}, want: ErrShape},
		{name: "indices not ascending", ends: []int{2}, idx: []uint16{2, 0}, val: []float64{1}, want: ErrShape},
		{name: "index twice", ends: []int{2}, idx: []uint16{2, 2}, val: []float64{1}, want: ErrShape},
		{name: "NaN value", ends: []int{0, 1}, idx: []uint16{0}, val: []float64{1, nan}, want: ErrNotFinite, row: 3, column: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := NewDesign(4, []int{1})
			if err != nil {
				t.Fatal(err)
			}
			if err := d.AppendRows([]int{0, 1}, []uint16{3}, []float64{0.5, 0.5}); err != nil {
				t.Fatal(err)
			}
			err = d.AppendRows(tt.ends, tt.idx, tt.val)
			if !errors.Is(err, tt.want) {
				t.Fatalf("AppendRows = %v, want %v", err, tt.want)
			}
			var de *DataError
			if errors.As(err, &de) && (de.Row != tt.row || de.Column != tt.column) {
				t.Errorf("DataError at row %d column %d, want row %d column %d", de.Row, de.Column, tt.row, tt.column)
			}
			if d.Rows() != 2 || len(d.idx) != 1 || len(d.val) != 2 {
				t.Errorf("after a failed AppendRows: %d rows, %d indices, %d values; want 2, 1, 2", d.Rows(), len(d.idx), len(d.val))
			}
		})
	}
	for _, cols := range []int{-1, MaxCols + 1} {
		if _, err := NewDesign(cols, nil); !errors.Is(err, ErrShape) {
			t.Errorf("NewDesign(%d) = %v, want ErrShape", cols, err)
		}
	}
	if _, err := NewDesign(3, []int{1, 1}); !errors.Is(err, ErrShape) {
		t.Errorf("NewDesign with a value column twice = %v, want ErrShape", err)
	}
}

// mustDense returns the design of the row-major matrix X, failing tb on an error.
func mustDense(tb testing.TB, X []float64, rows, cols int) *Design {
	tb.Helper()
	d, err := Dense(X, rows, cols)
	if err != nil {
		tb.Fatal(err)
	}
	return d
}

// termBins is the number of bins of termProblem and termProps the bins each row holds.
const termBins, termProps = 53, 8

// termProblem is a seeded scorecard-shaped problem: every row holds one bin of each of six
// properties (a number cut into 8 ranges with a rising rate, a category of 6 levels, a number cut
// into 5 ranges with a falling rate, a flag, and two categories of 6 levels that have no effect),
// termBins bins in all. Its terms are those a scorecard fits: each range of a monotone number is
// chained with every range beyond it, away from the middle (the term of a range above the middle
// holds it and the ranges above, with sign +1; below, the ranges below, with sign -1), and each
// level or flag value is a term of its own with the sign of its effect (alternating for the
// levels without one, so that the constraint holds some weights at 0). It returns the rows' bins
// (termProps per row, ascending), the terms, the dense matrix of the terms (rows x len(terms)) and
// the outcome.
func termProblem(seed uint64, rows int) (bins []uint16, terms []Term, X, y []float64) {
	rng := rand.New(rand.NewPCG(seed, seed))
	sizes := []int{8, 6, 5, 2, 6, 6, 12, 8}
	effect := [][]float64{
		{-0.9, -0.6, -0.3, -0.1, 0.1, 0.3, 0.5, 1.0},
		{0.4, -0.2, 0.8, -0.7, 0.1, -0.05},
		{0.7, 0.3, 0, -0.4, -0.8},
		{0.3, -0.3},
		make([]float64, 6),
		make([]float64, 6),
		{-0.5, -0.1, -0.4, 0.05, -0.2, 0.3, 0.1, 0.4, 0.2, 0.6, 0.35, 0.7},
		{-0.2, -0.15, -0.1, -0.05, 0.05, 0.1, 0.15, 0.2},
	}
	first := 0
	for p, n := range sizes {
		switch p {
		case 0, 2, 6, 7: // chained: sign of the effect, holding the ranges away from the middle
			for i := range n {
				up := effect[p][0] < effect[p][n-1]
				var hold []int
				if (effect[p][i] > 0) == up {
					for k := i; k < n; k++ {
						hold = append(hold, first+k)
					}
				} else {
					for k := 0; k <= i; k++ {
						hold = append(hold, first+k)
					}
				}
				if effect[p][i] != 0 {
					terms = append(terms, Term{Value: math.Copysign(1, effect[p][i]), Bins: hold})
				}
			}
		default:
			for i := range n {
				sign := math.Copysign(1, effect[p][i])
				if effect[p][i] == 0 && i%2 == 1 {
					sign = -1
				}
				terms = append(terms, Term{Value: sign, Bins: []int{first + i}})
			}
		}
		first += n
	}
	of := make([][]int, first) // bin -> the terms that hold it
	for t, tm := range terms {
		for _, b := range tm.Bins {
			of[b] = append(of[b], t)
		}
	}
	X = make([]float64, rows*len(terms))
	y = make([]float64, rows)
	for r := range rows {
		eta, first := -0.4, 0
		for p, n := range sizes {
			// Skewed levels: the first ranges and levels are the common ones. The last number
			// mostly follows the first one's range (a second measure of the same thing).
			b := min(int(rng.ExpFloat64()*float64(n)/2.5), n-1)
			if p == 7 && rng.Float64() < 0.8 {
				b = int(bins[r*termProps])
			}
			eta += effect[p][b]
			bins = append(bins, uint16(first+b))
			for _, t := range of[first+b] {
				X[r*len(terms)+t] += terms[t].Value
			}
			first += n
		}
		if rng.Float64() < 1/(1+math.Exp(-eta)) {
			y[r] = 1
		}
	}
	return bins, terms, X, y
}

// mustTermDesign returns the term design of termProblem's bins, failing tb on an error.
func mustTermDesign(tb testing.TB, bins []uint16, terms []Term, rows int) *Design {
	tb.Helper()
	d, err := NewTermDesign(termBins, terms)
	if err != nil {
		tb.Fatal(err)
	}
	ends := make([]int, rows)
	for r := range ends {
		ends[r] = termProps * (r + 1)
	}
	if err := d.AppendRows(ends, bins, nil); err != nil {
		tb.Fatal(err)
	}
	return d
}

// TestTermDesign fits a scorecard-shaped problem stored as bins mapped to terms (NewTermDesign)
// and as the dense matrix of its terms: entries, column means, fits with and without the
// constraint, and cross-validation must agree.
func TestTermDesign(t *testing.T) {
	const rows = 6000
	const tol = 1e-9
	bins, terms, X, y := termProblem(3, rows)
	cols := len(terms)
	td := mustTermDesign(t, bins, terms, rows)
	dense := mustDense(t, X, rows, cols)
	if td.Cols() != cols || td.Rows() != rows {
		t.Fatalf("term design is %d x %d, want %d x %d", td.Rows(), td.Cols(), rows, cols)
	}
	for r := range rows {
		for c := range cols {
			if got, want := td.At(r, c), X[r*cols+c]; got != want {
				t.Fatalf("At(%d, %d) = %v, want %v", r, c, got, want)
			}
		}
	}
	for c, m := range td.ColumnMeans() {
		if want := dense.ColumnMeans()[c]; math.Abs(m-want) > 1e-12 {
			t.Errorf("ColumnMeans()[%d] = %v, want %v", c, m, want)
		}
	}
	for name, fn := range map[string]func(*Design, []float64, Options) (*Result, error){"Fit": Fit, "FitNonNegative": FitNonNegative} {
		for _, c := range []float64{0.01, 1, 100} {
			want, err := fn(dense, y, Options{C: c, HessianRows: -1})
			if err != nil {
				t.Fatal(err)
			}
			got, err := fn(td, y, Options{C: c, HessianRows: -1})
			if err != nil {
				t.Fatal(err)
			}
			if diff := maxDiff(got, want); diff > tol || !got.Converged || got.Iterations != want.Iterations {
				t.Errorf("%s C=%v: term design differs from the dense terms by %g after %d iterations (converged %v; dense %d), want <= %g",
					name, c, diff, got.Iterations, got.Converged, want.Iterations, tol)
			}
		}
	}
	for _, nonneg := range []bool{false, true} {
		opts := CVOptions{NonNegative: nonneg, Seed: 2}
		want, err := CrossValidate(dense, y, opts)
		if err != nil {
			t.Fatal(err)
		}
		got, err := CrossValidate(td, y, opts)
		if err != nil {
			t.Fatal(err)
		}
		if got.Best != want.Best {
			t.Errorf("nonneg %v: CV chose C=%v, dense terms %v", nonneg, got.Best, want.Best)
		}
		for g := range want.Scores {
			if d := math.Abs(got.Scores[g] - want.Scores[g]); d > 1e-12 {
				t.Errorf("nonneg %v: CV score at C=%v differs by %g", nonneg, want.Grid[g], d)
			}
		}
	}
}

func TestNewTermDesignErrors(t *testing.T) {
	tests := []struct {
		name  string
		bins  int
		terms []Term
		want  error
	}{
		{name: "bin out of range", bins: 3, terms: []Term{{Value: 1, Bins: []int{3}}}, want: ErrShape},
		{name: "negative bin", bins: 3, terms: []Term{{Value: 1, Bins: []int{-1}}}, want: ErrShape},
		{name: "bin twice", bins: 3, terms: []Term{{Value: 1, Bins: []int{1, 1}}}, want: ErrShape},
		{name: "too many bins", bins: MaxCols + 1, want: ErrShape},
		{name: "NaN value", bins: 3, terms: []Term{{Value: math.NaN(), Bins: []int{0}}}, want: ErrNotFinite},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := NewTermDesign(tt.bins, tt.terms); !errors.Is(err, tt.want) {
				t.Errorf("NewTermDesign = %v, want %v", err, tt.want)
			}
		})
	}
	d, err := NewTermDesign(3, []Term{{Value: 1, Bins: []int{0, 2}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.SetIndicatorValues([]float64{2}); !errors.Is(err, ErrShape) {
		t.Errorf("SetIndicatorValues on a term design = %v, want ErrShape", err)
	}
}
