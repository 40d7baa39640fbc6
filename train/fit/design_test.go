package fit

import (
	"math"
	"math/rand/v2"
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
