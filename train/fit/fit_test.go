package fit

import (
	"errors"
	"math"
	"runtime"
	"slices"
	"testing"
)

func TestFitErrors(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	X := []float64{1, 2, 3, 4, 5, 6} // 3 rows x 2 cols
	y := []float64{0, 1, 1}
	tests := []struct {
		name    string
		X       []float64
		rows    int
		y       []float64
		opts    Options
		want    error
		row     int // of the *DataError, when want is about one row
		column  int
		dataErr bool
	}{
		{name: "no rows", X: nil, rows: 0, y: nil, want: ErrNoRows},
		{name: "short X", X: X[:5], rows: 3, y: y, want: ErrShape},
		{name: "short y", X: X, rows: 3, y: y[:2], want: ErrShape},
		{name: "short weights", X: X, rows: 3, y: y, opts: Options{Weights: []float64{1, 1}}, want: ErrShape},
		{name: "one class", X: X, rows: 3, y: []float64{1, 1, 1}, want: ErrOneClass},
		{name: "one class among weighted rows", X: X, rows: 3, y: y, opts: Options{Weights: []float64{0, 1, 1}}, want: ErrOneClass},
		{name: "NaN in X", X: []float64{1, 2, 3, nan, 5, 6}, rows: 3, y: y, want: ErrNotFinite, dataErr: true, row: 1, column: 1},
		{name: "Inf in X", X: []float64{1, 2, 3, 4, -inf, 6}, rows: 3, y: y, want: ErrNotFinite, dataErr: true, row: 2, column: 0},
		{name: "label 2", X: X, rows: 3, y: []float64{0, 2, 1}, want: ErrLabel, dataErr: true, row: 1, column: -1},
		{name: "negative weight", X: X, rows: 3, y: y, opts: Options{Weights: []float64{1, -1, 1}}, want: ErrWeight, dataErr: true, row: 1, column: -1},
		{name: "negative C", X: X, rows: 3, y: y, opts: Options{C: -1}, want: ErrOption},
		{name: "infinite C", X: X, rows: 3, y: y, opts: Options{C: inf}, want: ErrOption},
		{name: "unknown solver", X: X, rows: 3, y: y, opts: Options{Solver: 7}, want: ErrOption},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var res *Result
			d, err := Dense(tt.X, tt.rows, 2)
			if err == nil {
				res, err = Fit(d, tt.y, tt.opts)
			}
			if !errors.Is(err, tt.want) || res != nil {
				t.Fatalf("Fit = %v, %v; want error %v", res, err, tt.want)
			}
			var de *DataError
			if got := errors.As(err, &de); got != tt.dataErr {
				t.Fatalf("errors.As(%v, *DataError) = %v, want %v", err, got, tt.dataErr)
			}
			if tt.dataErr && (de.Row != tt.row || de.Column != tt.column) {
				t.Errorf("DataError at row %d column %d, want row %d column %d", de.Row, de.Column, tt.row, tt.column)
			}
		})
	}
}

// TestFitHand checks solutions derived by hand from the stationarity conditions, solved to a
// gradient tolerance far below the default.
func TestFitHand(t *testing.T) {
	const tol = 1e-10
	for _, solver := range []Solver{Newton, LBFGS} {
		t.Run(solver.String(), func(t *testing.T) {
			// No columns: the intercept is not penalised, so the fit is the log-odds of the
			// weighted rate, here (1*1 + 3*1) / (2*1) positives to negatives: log(4/2).
			res, err := Fit(mustDense(t, nil, 4, 0), []float64{1, 0, 1, 0}, Options{Weights: []float64{1, 1, 3, 1}, Solver: solver, Tol: 1e-13})
			if err != nil {
				t.Fatal(err)
			}
			if got, want := res.Intercept, math.Log(2); math.Abs(got-want) > tol || !res.Converged {
				t.Errorf("intercept-only: got %v (converged %v), want %v", got, res.Converged, want)
			}

			// Two rows x=+1 (y=1) and x=-1 (y=0): by symmetry b=0, and w minimises
			// 0.5*w^2 + 2C*softplus(-w), so w = 2C*sigmoid(-w).
			for _, c := range []float64{0.1, 1, 10} {
				res, err := Fit(mustDense(t, []float64{1, -1}, 2, 1), []float64{1, 0}, Options{C: c, Solver: solver, Tol: 1e-13})
				if err != nil {
					t.Fatal(err)
				}
				w := res.Weights[0]
				if got, want := w, 2*c/(1+math.Exp(w)); math.Abs(got-want) > tol || math.Abs(res.Intercept) > tol {
					t.Errorf("C=%v: w = %v, b = %v; want w = 2C*sigmoid(-w) = %v, b = 0", c, w, res.Intercept, want)
				}
				// Loss is the mean log loss: both rows have probability sigmoid(w) of their outcome.
				if got, want := res.Loss, math.Log1p(math.Exp(-w)); math.Abs(got-want) > tol {
					t.Errorf("C=%v: Loss = %v, want %v", c, got, want)
				}
			}
		})
	}
}

// TestGradient compares the analytic gradient and Hessian with central differences.
func TestGradient(t *testing.T) {
	const rows, cols = 300, 7
	X, y := design(3, rows, cols)
	w := make([]float64, rows)
	for i := range w {
		w[i] = 0.5 + float64(i%4)
	}
	p := newProblem(mustDense(t, X, rows, cols), y, w, nil, rows, 1/0.7)
	dim := p.dim()
	beta := []float64{0.3, -0.2, 0.1, 0.05, -0.4, 0.2, 0.7, -0.9}
	g := make([]float64, dim)
	h := make([]float64, dim*dim)
	p.gradient(beta, g)
	p.hessian(h) // without the penalty, which is added here
	for a := range cols {
		h[a*dim+a] += p.invC
	}
	const step = 1e-5
	gp, gm := make([]float64, dim), make([]float64, dim)
	for j := range dim {
		bp, bm := slices.Clone(beta), slices.Clone(beta)
		bp[j] += step
		bm[j] -= step
		fp, fm := p.gradient(bp, gp), p.gradient(bm, gm)
		// Differences of F (about 200 here) carry rounding of ~1e-14/1e-5; tolerances allow for it.
		if got, want := g[j], (fp-fm)/(2*step); math.Abs(got-want) > 1e-5*max(1, math.Abs(want)) {
			t.Errorf("gradient[%d] = %v, central difference %v", j, got, want)
		}
		for k := range dim {
			if got, want := h[k*dim+j], (gp[k]-gm[k])/(2*step); math.Abs(got-want) > 1e-5*max(1, math.Abs(want)) {
				t.Errorf("hessian[%d][%d] = %v, central difference %v", k, j, got, want)
			}
		}
	}
}

// TestFitDeterministic checks that results are bit-identical whatever the number of goroutines.
func TestFitDeterministic(t *testing.T) {
	const rows, cols = 20000, 9
	X, y := design(5, rows, cols)
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	var first *Result
	for _, procs := range []int{1, 2, 3, 8} {
		runtime.GOMAXPROCS(procs)
		res, err := Fit(mustDense(t, X, rows, cols), y, Options{C: 0.3})
		if err != nil {
			t.Fatal(err)
		}
		if first == nil {
			first = res
			continue
		}
		if res.Intercept != first.Intercept || !slices.Equal(res.Weights, first.Weights) || res.Loss != first.Loss {
			t.Errorf("GOMAXPROCS=%d: %v %v, want bit-identical %v %v", procs, res.Intercept, res.Weights, first.Intercept, first.Weights)
		}
	}
}

// TestFitWeights checks that an integer weight equals repeating the row, and that the two
// solvers reach the same optimum.
func TestFitWeights(t *testing.T) {
	const rows, cols = 2000, 6
	X, y := design(7, rows, cols)
	w := make([]float64, rows)
	var Xr, yr []float64
	for r := range rows {
		w[r] = float64(r % 3)
		for range r % 3 {
			Xr = append(Xr, X[r*cols:r*cols+cols]...)
			yr = append(yr, y[r])
		}
	}
	tests := []struct {
		name string
		opts Options
	}{
		{name: "newton", opts: Options{C: 2, Weights: w}},
		{name: "lbfgs", opts: Options{C: 2, Weights: w, Solver: LBFGS}},
	}
	want, err := Fit(mustDense(t, Xr, len(yr), cols), yr, Options{C: 2})
	if err != nil {
		t.Fatal(err)
	}
	const tol = 1e-6 // both fits stop at gradient tolerance 1e-8 of the mean loss
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Fit(mustDense(t, X, rows, cols), y, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if !got.Converged {
				t.Errorf("not converged after %d iterations", got.Iterations)
			}
			if d := math.Abs(got.Intercept - want.Intercept); d > tol {
				t.Errorf("intercept %v, repeated rows give %v", got.Intercept, want.Intercept)
			}
			for j := range cols {
				if d := math.Abs(got.Weights[j] - want.Weights[j]); d > tol {
					t.Errorf("weight %d: %v, repeated rows give %v", j, got.Weights[j], want.Weights[j])
				}
			}
			if d := math.Abs(got.Loss - want.Loss); d > 1e-9 {
				t.Errorf("Loss %v, repeated rows give %v", got.Loss, want.Loss)
			}
		})
	}
}

// TestFitMaxIter checks that a fit stopped early says so.
func TestFitMaxIter(t *testing.T) {
	X, y := design(2, 1000, 5)
	res, err := Fit(mustDense(t, X, 1000, 5), y, Options{MaxIter: 1})
	if err != nil {
		t.Fatal(err)
	}
	if res.Converged || res.Iterations != 1 {
		t.Errorf("MaxIter 1: Converged %v after %d iterations, want false after 1", res.Converged, res.Iterations)
	}
}

// TestFitSeparable checks that perfectly separated classes still give finite weights: the
// penalty bounds them.
func TestFitSeparable(t *testing.T) {
	X := []float64{-3, -2, -1, 1, 2, 3}
	y := []float64{0, 0, 0, 1, 1, 1}
	for _, solver := range []Solver{Newton, LBFGS} {
		res, err := Fit(mustDense(t, X, 6, 1), y, Options{C: 1e4, Solver: solver})
		if err != nil {
			t.Fatal(err)
		}
		if w := res.Weights[0]; !res.Converged || math.IsNaN(w) || w <= 0 || w > 100 {
			t.Errorf("%v: weight %v (converged %v), want finite, positive and converged", solver, w, res.Converged)
		}
	}
}

func TestProbability(t *testing.T) {
	r := &Result{Intercept: -1, Weights: []float64{2, 0.5}}
	// z = -1 + 2*1 + 0.5*(-2) = 0, so the probability is one half.
	if got := r.Probability([]float64{1, -2}); got != 0.5 {
		t.Errorf("Probability = %v, want 0.5", got)
	}
}

// TestNewtonPasses guards the solver's speed, which is its count of passes over the rows: measured
// at 7-11 gradient and 4-6 Hessian passes on this design (L-BFGS needs 70-250 gradient passes).
func TestNewtonPasses(t *testing.T) {
	const rows, cols = 10000, 40
	X, y := design(11, rows, cols)
	for _, c := range []float64{0.001, 0.1, 1, 100} {
		p := newProblem(mustDense(t, X, rows, cols), y, nil, nil, rows, 1/c)
		res := p.solve(Options{C: c}, nil, newtonOpts{})
		if !res.Converged || p.gradPasses > 12 || p.hessPasses > 8 {
			t.Errorf("C=%v: converged %v after %d gradient and %d Hessian passes, want at most 12 and 8",
				c, res.Converged, p.gradPasses, p.hessPasses)
		}
	}
}

// TestSampledHessian checks that a Hessian built from a stride of the rows changes the path, not the
// solution: the coefficients match the full-Hessian fit to 1e-7 (both stop at the default Tol on the
// exact gradient) and the fit converges, at C values from strong to weak penalty.
func TestSampledHessian(t *testing.T) {
	const rows, cols = 6000, 12
	X, y := design(21, rows, cols)
	for _, tc := range []struct {
		name   string
		c      float64
		hrows  int
		maxGap float64
	}{
		{"C=0.01 rows=600", 0.01, 600, 1e-7},
		{"C=1 rows=600", 1, 600, 1e-7},
		{"C=100 rows=1000", 100, 1000, 1e-7},
		{"C=1 rows=7 (tiny sample)", 1, 7, 1e-7},
	} {
		t.Run(tc.name, func(t *testing.T) {
			full, err := Fit(mustDense(t, X, rows, cols), y, Options{C: tc.c, HessianRows: -1})
			if err != nil {
				t.Fatal(err)
			}
			sampled, err := Fit(mustDense(t, X, rows, cols), y, Options{C: tc.c, HessianRows: tc.hrows})
			if err != nil {
				t.Fatal(err)
			}
			if !sampled.Converged {
				t.Fatalf("sampled Hessian did not converge in %d iterations", sampled.Iterations)
			}
			gap := math.Abs(full.Intercept - sampled.Intercept)
			for j := range full.Weights {
				gap = math.Max(gap, math.Abs(full.Weights[j]-sampled.Weights[j]))
			}
			if gap > tc.maxGap {
				t.Errorf("largest coefficient difference %.3g, want <= %.0g (iterations %d vs %d)", gap, tc.maxGap, sampled.Iterations, full.Iterations)
			}
		})
	}
}
