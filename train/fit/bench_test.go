package fit

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
)

// benchRows are the row counts BenchmarkFit sweeps; LEADSCORE_BENCH_ROWS adds one (e.g. 1000000).
func benchRows(b *testing.B) []int {
	rows := []int{1e4, 1e5}
	if s := os.Getenv("LEADSCORE_BENCH_ROWS"); s != "" {
		n, err := strconv.ParseFloat(s, 64)
		if err != nil || n < 1 {
			b.Fatalf("LEADSCORE_BENCH_ROWS=%q: want a row count", s)
		}
		rows = append(rows, int(n))
	}
	return rows
}

func BenchmarkFit(b *testing.B) {
	const cols = 40
	for _, rows := range benchRows(b) {
		X, y := design(11, rows, cols)
		for _, solver := range []Solver{Newton, LBFGS} {
			b.Run(fmt.Sprintf("solver=%v/rows=%.0e/cols=%d", solver, float64(rows), cols), func(b *testing.B) {
				var res *Result
				for b.Loop() {
					var err error
					res, err = Fit(mustDense(b, X, rows, cols), y, Options{C: 1, Solver: solver})
					if err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(res.Iterations), "iterations")
			})
		}
	}
}

// BenchmarkPass times one gradient pass and one Hessian pass, the units the solvers are made of.
func BenchmarkPass(b *testing.B) {
	const rows, cols = 100000, 40
	X, y := design(11, rows, cols)
	p := newProblem(mustDense(b, X, rows, cols), y, nil, nil, rows, 1)
	beta := p.start()
	g := make([]float64, p.dim())
	h := make([]float64, p.dim()*p.dim())
	b.Run("gradient/rows=1e5/cols=40", func(b *testing.B) {
		for b.Loop() {
			p.gradient(beta, g)
		}
	})
	b.Run("hessian/rows=1e5/cols=40", func(b *testing.B) {
		for b.Loop() {
			p.hessian(h)
		}
	})
}

func BenchmarkCrossValidate(b *testing.B) {
	const rows, cols = 20000, 40
	X, y := design(11, rows, cols)
	for b.Loop() {
		if _, err := CrossValidate(mustDense(b, X, rows, cols), y, CVOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

// wide returns a seeded one-hot problem shaped like the encoder's default design on generated
// contacts: 141 columns, of which 14 are numbers and the rest indicators of 26 blocks (categories
// and numeric ranges, one present per block in most rows), row-major.
func wide(seed uint64, rows int) (X, y []float64, cols int) {
	rng := rand.New(rand.NewPCG(seed, seed))
	blocks := []int{12, 20, 8, 6, 5, 9, 4, 4, 4, 5, 5, 4, 4, 3, 3, 3, 3, 3, 3, 3, 3, 3, 2, 2, 2, 2}
	const nums = 14
	cols = nums
	for _, n := range blocks {
		cols += n
	}
	effect := make([]float64, cols)
	for j := range effect {
		effect[j] = 0.5 * rng.NormFloat64()
	}
	X = make([]float64, rows*cols)
	y = make([]float64, rows)
	for r := range rows {
		x := X[r*cols : r*cols+cols]
		eta := -2.0
		for k := range nums {
			x[k] = rng.NormFloat64()
			eta += effect[k] * x[k]
		}
		off := nums
		for _, n := range blocks {
			if rng.Float64() >= 0.03 {
				l := min(int(rng.ExpFloat64()*float64(n)/3), n-1)
				x[off+l] = 1
				eta += effect[off+l]
			}
			off += n
		}
		if rng.Float64() < 1/(1+math.Exp(-eta)) {
			y[r] = 1
		}
	}
	return X, y, cols
}

// BenchmarkPassWide times a gradient and a Hessian pass over the one-hot design of wide.
func BenchmarkPassWide(b *testing.B) {
	const rows = 100000
	X, y, cols := wide(3, rows)
	p := newProblem(mustDense(b, X, rows, cols), y, nil, nil, rows, 1)
	beta := p.start()
	g := make([]float64, p.dim())
	h := make([]float64, p.dim()*p.dim())
	p.gradient(beta, g)
	b.Run("gradient/rows=1e5/cols=141", func(b *testing.B) {
		for b.Loop() {
			p.gradient(beta, g)
		}
	})
	b.Run("hessian/rows=1e5/cols=141", func(b *testing.B) {
		for b.Loop() {
			p.hessian(h)
		}
	})
}

// BenchmarkFitWide fits the one-hot design of wide at C=0.1 with every row in the Hessian.
func BenchmarkFitWide(b *testing.B) {
	const rows = 250000
	X, y, cols := wide(3, rows)
	d := mustDense(b, X, rows, cols)
	for b.Loop() {
		if _, err := Fit(d, y, Options{C: 0.1, HessianRows: -1}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCrossValidateWide cross-validates the default grid on the one-hot design of wide:
// fits solved to Fit.Tol on every row, fits ended once the log loss settles, and with the default
// sample of DefaultMaxRows rows.
func BenchmarkCrossValidateWide(b *testing.B) {
	const rows = 250000
	X, y, cols := wide(3, rows)
	d := mustDense(b, X, rows, cols)
	for _, tc := range []struct {
		name string
		opts CVOptions
	}{
		{"exact/all-rows", CVOptions{Settle: -1, MaxRows: -1}},
		{"settle/all-rows", CVOptions{MaxRows: -1}},
		{"settle/sample", CVOptions{}},
		{"settle/sample/nonneg", CVOptions{NonNegative: true}},
	} {
		b.Run(tc.name+"/rows=2.5e5/cols=141", func(b *testing.B) {
			var res *CVResult
			for b.Loop() {
				var err error
				if res, err = CrossValidate(d, y, tc.opts); err != nil {
					b.Fatal(err)
				}
			}
			// Rows read are the cost that does not depend on the machine's load.
			b.ReportMetric(float64(res.gradRead)/1e6, "Mrows-gradient")
			b.ReportMetric(float64(res.hessRead)/1e6, "Mrows-hessian")
		})
	}
}
