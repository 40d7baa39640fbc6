package fit

import (
	"errors"
	"math"
	"slices"
	"testing"
)

func TestDefaultGrid(t *testing.T) {
	g := DefaultGrid()
	if len(g) != 10 || math.Abs(g[0]-1e-3) > 1e-15 || math.Abs(g[9]-1e2) > 1e-12 {
		t.Fatalf("DefaultGrid() = %v, want 10 values from 1e-3 to 1e2", g)
	}
	for i := 1; i < len(g); i++ {
		if r := g[i] / g[i-1]; math.Abs(r-math.Pow(10, 5.0/9)) > 1e-12 {
			t.Errorf("g[%d]/g[%d] = %v, want 10^(5/9)", i, i-1, r)
		}
	}
}

func TestFolds(t *testing.T) {
	y := make([]float64, 103)
	for i := range 31 {
		y[i*3] = 1
	}
	got := folds(y, 5, 42, -1)
	// Stratified: each fold holds 6 or 7 of the 31 positives and 14 or 15 of the 72 negatives.
	var pos, neg [5]int
	for r, f := range got {
		if y[r] == 1 {
			pos[f]++
		} else {
			neg[f]++
		}
	}
	for f := range 5 {
		if pos[f] < 6 || pos[f] > 7 || neg[f] < 14 || neg[f] > 15 {
			t.Errorf("fold %d: %d positives and %d negatives, want 6-7 and 14-15", f, pos[f], neg[f])
		}
	}
	if again := folds(y, 5, 42, -1); !slices.Equal(again, got) {
		t.Errorf("same seed gave different folds")
	}
	if other := folds(y, 5, 43, -1); slices.Equal(other, got) {
		t.Errorf("seeds 42 and 43 gave the same folds")
	}
	if folds(y, 40, 1, -1) != nil {
		t.Errorf("40 folds of 31 positives: want nil")
	}
}

func TestCrossValidate(t *testing.T) {
	const rows, cols = 3000, 12
	X, y := design(9, rows, cols)
	tests := []struct {
		name string
		opts CVOptions
	}{
		{name: "defaults", opts: CVOptions{Seed: 1}},
		{name: "auc", opts: CVOptions{Seed: 1, Metric: MetricAUC, Folds: 3}},
		{name: "brier lbfgs", opts: CVOptions{Seed: 2, Metric: MetricBrier, Grid: []float64{10, 0.01, 1}, Fit: Options{Solver: LBFGS}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := CrossValidate(mustDense(t, X, rows, cols), y, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.IsSorted(got.Grid) || len(got.Scores) != len(got.Grid) || len(got.StdErr) != len(got.Grid) {
				t.Fatalf("grid %v with %d scores and %d errors", got.Grid, len(got.Scores), len(got.StdErr))
			}
			best := slices.Index(got.Grid, got.Best)
			for i, s := range got.Scores {
				if better(tt.opts.Metric, s, got.Scores[best]) {
					t.Errorf("C=%v scores %v, better than the chosen C=%v with %v", got.Grid[i], s, got.Best, got.Scores[best])
				}
			}
			// 3000 rows of a 12-column logistic design: the strongest penalty of the default grid
			// shrinks the model far more than the data call for, so it must not win.
			if got.Best == got.Grid[0] && len(got.Grid) == 10 {
				t.Errorf("chose the strongest penalty C=%v; scores %v", got.Best, got.Scores)
			}
			again, err := CrossValidate(mustDense(t, X, rows, cols), y, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(again.Scores, got.Scores) {
				t.Errorf("same seed, different scores: %v and %v", got.Scores, again.Scores)
			}
		})
	}
}

// TestCrossValidateWarmStart checks that starting each fit from the previous penalty's solution
// (and its Hessian) changes the scores by no more than the solver tolerance allows, constrained or
// not.
func TestCrossValidateWarmStart(t *testing.T) {
	const rows, cols = 2000, 8
	X, y := design(4, rows, cols)
	grid := []float64{0.01, 1}
	for _, nonneg := range []bool{false, true} {
		cv, err := CrossValidate(mustDense(t, X, rows, cols), y, CVOptions{Grid: grid, Seed: 3, Settle: -1, NonNegative: nonneg})
		if err != nil {
			t.Fatal(err)
		}
		for g, c := range grid {
			one, err := CrossValidate(mustDense(t, X, rows, cols), y, CVOptions{Grid: []float64{c}, Seed: 3, Settle: -1, NonNegative: nonneg})
			if err != nil {
				t.Fatal(err)
			}
			if d := math.Abs(one.Scores[0] - cv.Scores[g]); d > 1e-9 {
				t.Errorf("nonneg %v, C=%v: cold %v, warm %v", nonneg, c, one.Scores[0], cv.Scores[g])
			}
		}
	}
}

// TestCrossValidateSettle checks that ending each fit once the log loss has settled (the default)
// keeps the chosen C and moves no score by more than 1e-6, on the one-hot design and a dense one,
// and that it saves passes.
func TestCrossValidateSettle(t *testing.T) {
	Xo, yo, co := onehot(8, 6000)
	Xd, yd := design(9, 3000, 12)
	for name, x := range map[string]*Design{"onehot": mustDense(t, Xo, 6000, co), "dense": mustDense(t, Xd, 3000, 12)} {
		y := yo
		if name == "dense" {
			y = yd
		}
		for _, nonneg := range []bool{false, true} {
			exact, err := CrossValidate(x, y, CVOptions{Seed: 1, Settle: -1, NonNegative: nonneg})
			if err != nil {
				t.Fatal(err)
			}
			settled, err := CrossValidate(x, y, CVOptions{Seed: 1, NonNegative: nonneg})
			if err != nil {
				t.Fatal(err)
			}
			if settled.Best != exact.Best {
				t.Errorf("%s nonneg %v: settled fits chose C=%v, exact ones C=%v", name, nonneg, settled.Best, exact.Best)
			}
			for g := range exact.Scores {
				if d := math.Abs(settled.Scores[g] - exact.Scores[g]); d > 1e-6 {
					t.Errorf("%s nonneg %v, C=%v: settled score %v, exact %v", name, nonneg, exact.Grid[g], settled.Scores[g], exact.Scores[g])
				}
			}
		}
	}
}

// TestCrossValidateSample checks the stratified sample of MaxRows: each class keeps its share, the
// rows left out are in no fold, and without a bound (or below it) every row is dealt as before.
func TestCrossValidateSample(t *testing.T) {
	y := make([]float64, 10000)
	for i := range 1300 {
		y[i*7] = 1
	}
	all := folds(y, 5, 4, -1)
	if same := folds(y, 5, 4, 20000); !slices.Equal(same, all) {
		t.Errorf("a bound above the rows changed the folds")
	}
	got := folds(y, 5, 4, 2000)
	var pos, neg, out int
	for r, f := range got {
		switch {
		case f < 0:
			out++
		case y[r] == 1:
			pos++
		default:
			neg++
		}
	}
	// 13% positives: 260 of the 2000 sampled rows.
	if pos != 260 || neg != 1740 || out != 8000 {
		t.Errorf("sample of 2000: %d positives, %d negatives, %d left out; want 260, 1740, 8000", pos, neg, out)
	}
	for r, f := range got {
		if f >= 0 && f != all[r] {
			t.Fatalf("row %d: fold %d in the sample, %d without it; the sample should be the first rows dealt", r, f, all[r])
		}
	}
}

func TestCrossValidateErrors(t *testing.T) {
	X, y := design(4, 50, 3)
	tests := []struct {
		name string
		y    []float64
		opts CVOptions
		want error
	}{
		{name: "one fold", y: y, opts: CVOptions{Folds: 1}, want: ErrOption},
		{name: "empty grid", y: y, opts: CVOptions{Grid: []float64{}}, want: ErrOption},
		{name: "zero C", y: y, opts: CVOptions{Grid: []float64{0, 1}}, want: ErrOption},
		{name: "negative C", y: y, opts: CVOptions{Grid: []float64{-1}}, want: ErrOption},
		{name: "unknown metric", y: y, opts: CVOptions{Metric: 9}, want: ErrOption},
		{name: "too many folds", y: y, opts: CVOptions{Folds: 49}, want: ErrFolds},
		{name: "one class", y: make([]float64, 50), want: ErrOneClass},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := CrossValidate(mustDense(t, X, 50, 3), tt.y, tt.opts)
			if !errors.Is(err, tt.want) {
				t.Errorf("CrossValidate error %v, want %v", err, tt.want)
			}
		})
	}
}

// TestCrossValidateStart checks that CVResult.Start, the folds' mean solution at Best, is a start
// from which Fit at Best reaches the same solution in fewer iterations, constrained or not.
func TestCrossValidateStart(t *testing.T) {
	X, y, cols := onehot(12, 8000)
	x := mustDense(t, X, 8000, cols)
	for _, nonneg := range []bool{false, true} {
		cv, err := CrossValidate(x, y, CVOptions{Seed: 5, NonNegative: nonneg})
		if err != nil {
			t.Fatal(err)
		}
		fitFn := Fit
		if nonneg {
			fitFn = FitNonNegative
		}
		cold, err := fitFn(x, y, Options{C: cv.Best})
		if err != nil {
			t.Fatal(err)
		}
		warm, err := fitFn(x, y, Options{C: cv.Best, Start: cv.Start})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("nonneg %v, C=%v: %d iterations from Start, %d from the usual start", nonneg, cv.Best, warm.Iterations, cold.Iterations)
		if d := maxDiff(warm, cold); d > 1e-6 || !warm.Converged || warm.Iterations >= cold.Iterations {
			t.Errorf("nonneg %v: warm start differs by %g after %d iterations (converged %v), cold start %d iterations",
				nonneg, d, warm.Iterations, warm.Converged, cold.Iterations)
		}
	}
	if _, err := Fit(x, y, Options{Start: make([]float64, cols)}); !errors.Is(err, ErrOption) {
		t.Errorf("Start of the wrong length: error %v, want ErrOption", err)
	}
	neg := make([]float64, cols+1)
	neg[0] = -1
	if _, err := FitNonNegative(x, y, Options{Start: neg}); !errors.Is(err, ErrOption) {
		t.Errorf("FitNonNegative from a negative weight: error %v, want ErrOption", err)
	}
}
