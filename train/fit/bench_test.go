package fit

import (
	"fmt"
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
					res, err = Fit(X, rows, cols, y, Options{C: 1, Solver: solver})
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
	p := newProblem(X, cols, y, nil, nil, rows, 1)
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
		if _, err := CrossValidate(X, rows, cols, y, CVOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}
