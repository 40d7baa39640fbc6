package fit

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/leadscore/leadscore/models"
	"github.com/leadscore/leadscore/train/metrics"
)

// Metric is how CrossValidate scores a penalty on the held-out fold.
type Metric int

const (
	// MetricLogLoss is the mean (sample-weighted) log loss, lower is better.
	MetricLogLoss Metric = iota
	// MetricBrier is the mean (sample-weighted) squared error of the probability, lower is better.
	MetricBrier
	// MetricAUC is the area under the ROC curve (unweighted), higher is better.
	MetricAUC
)

func (m Metric) String() string {
	switch m {
	case MetricLogLoss:
		return "log_loss"
	case MetricBrier:
		return "brier"
	case MetricAUC:
		return "auc"
	}
	return fmt.Sprintf("Metric(%d)", int(m))
}

// DefaultGrid returns the penalties CrossValidate tries by default: ten values of C log-spaced
// from 1e-3 to 1e2.
func DefaultGrid() []float64 {
	g := make([]float64, 10)
	for i := range g {
		g[i] = math.Pow(10, -3+5*float64(i)/9)
	}
	return g
}

// CVOptions configures CrossValidate. The zero value tries DefaultGrid over 5 stratified folds
// scored by log loss, with seed 0.
type CVOptions struct {
	// Grid holds the values of C to try; nil means DefaultGrid. Each must be positive and finite.
	Grid []float64
	// Folds is the number of folds k; zero means 5. It must be at least 2 and at most the rows of
	// the smaller class.
	Folds int
	// Seed decides the fold assignment.
	Seed uint64
	// Metric scores each held-out fold; the zero value is MetricLogLoss.
	Metric Metric
	// Fit holds the options of every fit (weights, solver, tolerance); its C is ignored.
	Fit Options
	// NonNegative fits every fold as FitNonNegative does (weights >= 0; Fit.Solver is ignored).
	NonNegative bool
}

// CVResult is the outcome of CrossValidate.
type CVResult struct {
	// Best is the C with the best mean score; among equal scores the smallest C (strongest penalty).
	Best float64
	// Grid holds the values of C tried, ascending.
	Grid []float64
	// Scores holds the mean held-out score across folds for each Grid value.
	Scores []float64
	// StdErr holds the standard error of each mean across folds.
	StdErr []float64
}

// CrossValidate chooses the penalty C of Fit by stratified k-fold cross-validation: rows are
// shuffled within each class by a generator seeded with Seed and dealt to the folds in turn, so the
// folds (and the result) are the same for the same Seed. Within a fold the grid is fitted from the
// strongest penalty to the weakest, each fit starting from the previous solution. It returns the
// same errors as Fit, ErrOption for a bad grid, fold count or metric, and ErrFolds when a class has
// fewer rows than folds.
func CrossValidate(x *Design, y []float64, opts CVOptions) (*CVResult, error) {
	grid := slices.Clone(opts.Grid)
	if grid == nil {
		grid = DefaultGrid()
	}
	slices.Sort(grid)
	grid = slices.Compact(grid)
	k := opts.Folds
	if k == 0 {
		k = 5
	}
	switch {
	case len(grid) == 0:
		return nil, fmt.Errorf("%w: empty grid", ErrOption)
	case k < 2:
		return nil, fmt.Errorf("%w: %d folds, want at least 2", ErrOption, k)
	case opts.Metric < MetricLogLoss || opts.Metric > MetricAUC:
		return nil, fmt.Errorf("%w: unknown metric %v", ErrOption, opts.Metric)
	}
	for _, c := range grid {
		o := opts.Fit
		o.C = c
		if c == 0 {
			return nil, fmt.Errorf("%w: C is 0 in the grid", ErrOption)
		}
		if err := o.validate(); err != nil {
			return nil, err
		}
	}
	if err := check(x, y, opts.Fit.Weights); err != nil {
		return nil, err
	}

	fold := folds(y, k, opts.Seed)
	if fold == nil {
		return nil, fmt.Errorf("%w: %d folds", ErrFolds, k)
	}
	scores := make([][]float64, len(grid)) // [grid][fold]
	for g := range scores {
		scores[g] = make([]float64, k)
	}
	var train, test []int
	for f := range k {
		train, test = train[:0], test[:0]
		for r, fr := range fold {
			if fr == f {
				test = append(test, r)
			} else {
				train = append(train, r)
			}
		}
		var beta []float64
		for g, c := range grid {
			p := newProblem(x, y, opts.Fit.Weights, train, len(train), 1/c)
			p.hessRows = max(0, opts.Fit.hessianRows())
			o := opts.Fit
			o.C = c
			solve := p.solve
			if opts.NonNegative {
				solve = p.solveNonNegative
			}
			res := solve(o, beta)
			beta = append(append(beta[:0], res.Weights...), res.Intercept)
			scores[g][f] = score(x, y, opts.Fit.Weights, test, res, opts.Metric)
		}
	}

	out := &CVResult{Grid: grid, Scores: make([]float64, len(grid)), StdErr: make([]float64, len(grid))}
	best := -1
	for g, s := range scores {
		mean, sd := 0.0, 0.0
		for _, v := range s {
			mean += v
		}
		mean /= float64(k)
		for _, v := range s {
			sd += (v - mean) * (v - mean)
		}
		out.Scores[g] = mean
		out.StdErr[g] = math.Sqrt(sd/float64(k-1)) / math.Sqrt(float64(k))
		if best < 0 || better(opts.Metric, mean, out.Scores[best]) {
			best = g
		}
	}
	out.Best = grid[best]
	return out, nil
}

func better(m Metric, a, b float64) bool {
	if m == MetricAUC {
		return a > b
	}
	return a < b
}

// folds deals each class's rows, shuffled, to k folds in turn and returns each row's fold;
// nil when a class has fewer than k rows.
func folds(y []float64, k int, seed uint64) []int {
	var pos, neg []int
	for r, v := range y {
		if v == 1 {
			pos = append(pos, r)
		} else {
			neg = append(neg, r)
		}
	}
	if len(pos) < k || len(neg) < k {
		return nil
	}
	rng := rand.New(rand.NewPCG(seed, seed))
	fold := make([]int, len(y))
	for _, class := range [][]int{pos, neg} {
		rng.Shuffle(len(class), func(i, j int) { class[i], class[j] = class[j], class[i] })
		for i, r := range class {
			fold[r] = i % k
		}
	}
	return fold
}

// score is the metric of a fitted model on the rows in test.
func score(x *Design, y, w []float64, test []int, res *Result, m Metric) float64 {
	p := make([]float64, len(test))
	for i, r := range test {
		p[i] = models.Sigmoid(x.Linear(r, res.Weights, res.Intercept))
	}
	if m == MetricAUC {
		yb := make([]bool, len(test))
		for i, r := range test {
			yb[i] = y[r] == 1
		}
		return metrics.AUC(p, yb)
	}
	sum, tot := 0.0, 0.0
	for i, r := range test {
		s := 1.0
		if w != nil {
			s = w[r]
		}
		var v float64
		if m == MetricBrier {
			v = (p[i] - y[r]) * (p[i] - y[r])
		} else {
			q := min(max(p[i], 1e-15), 1-1e-15)
			v = -y[r]*math.Log(q) - (1-y[r])*math.Log1p(-q)
		}
		sum += s * v
		tot += s
	}
	return sum / tot
}

// Probability returns the model's probability of y=1 for one row x (len(Weights)).
// It panics if x has the wrong length.
func (r *Result) Probability(x []float64) float64 {
	if len(x) != len(r.Weights) {
		panic("fit: row length differs from the number of weights")
	}
	return models.Sigmoid(dot(r.Weights, x) + r.Intercept)
}
