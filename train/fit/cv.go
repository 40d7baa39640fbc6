package fit

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"

	"golang.org/x/sync/errgroup"
	"gonum.org/v1/gonum/floats"

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
	// Settle ends each Newton fit once a step's predicted decrease of the mean penalised log loss is
	// at most Settle (or Fit.Tol is met, whichever comes first): held-out scores do not move at that
	// scale. Zero means DefaultSettle; negative solves every fit to Fit.Tol.
	Settle float64
	// MaxRows bounds the rows cross-validation uses: from a larger input it takes a stratified random
	// sample of MaxRows rows (drawn with Seed, the same share of each class) and deals the sample to
	// the folds. C is not rescaled: 1/C is the strength of the penalty against the summed log loss,
	// a prior on the weights whose best strength does not depend on the number of rows. Zero means
	// DefaultMaxRows; negative means every row.
	MaxRows int
}

// DefaultSettle is CVOptions.Settle's default. Against fits solved to Fit.Tol on the one-hot test
// design (TestCrossValidateSettle), constrained or not: the same chosen C and scores within 1.4e-7
// (1e-7 moved a constrained score by 1.3e-6).
const DefaultSettle = 1e-8

// DefaultMaxRows is CVOptions.MaxRows's default. Measured on 300,000 generated contacts (one-hot
// model, 255,000 training rows, seed 7 as in scripts/bench/train-vs-sklearn.sh): samples of 20,000,
// 30,000, 50,000 and 100,000 rows chose the same C as every row.
const DefaultMaxRows = 50_000

func (o CVOptions) settle() float64 {
	switch {
	case o.Settle == 0:
		return DefaultSettle
	case o.Settle < 0:
		return 0
	}
	return o.Settle
}

func (o CVOptions) maxRows() int {
	if o.MaxRows == 0 {
		return DefaultMaxRows
	}
	return o.MaxRows
}

// CVResult is the outcome of CrossValidate.
type CVResult struct {
	// Best is the C with the best mean score; among scores equal within TieTolerance, the smallest C
	// (strongest penalty).
	Best float64
	// Grid holds the values of C tried, ascending.
	Grid []float64
	// Scores holds the mean held-out score across folds for each Grid value.
	Scores []float64
	// StdErr holds the standard error of each mean across folds.
	StdErr []float64

	// Start is the mean over folds of the solutions at Best (the weights, then the intercept): a start
	// for the fit at Best on every row (Options.Start) that is close to its solution.
	Start []float64

	gradRead, hessRead int // rows read by gradient and Hessian passes, for measuring
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

	fold := folds(y, k, opts.Seed, opts.maxRows())
	if fold == nil {
		return nil, fmt.Errorf("%w: %d folds", ErrFolds, k)
	}
	scores := make([][]float64, len(grid)) // [grid][fold]
	for g := range scores {
		scores[g] = make([]float64, k)
	}
	// Folds are independent; each walks the grid from the strongest penalty to the weakest, starting
	// every fit from the previous solution and its Hessian. With folds running side by side each
	// fit's passes run on one goroutine (the sums are the same: see problem).
	workers := min(k, runtime.GOMAXPROCS(0))
	read := make([][2]int, k)
	sols := make([][][]float64, len(grid)) // [grid][fold]: the solution, weights then intercept
	for g := range sols {
		sols[g] = make([][]float64, k)
	}
	var eg errgroup.Group
	eg.SetLimit(workers)
	for f := range k {
		eg.Go(func() error {
			var train, test []int
			for r, fr := range fold {
				switch {
				case fr == f:
					test = append(test, r)
				case fr >= 0:
					train = append(train, r)
				}
			}
			p := newProblem(x, y, opts.Fit.Weights, train, len(train), 1)
			p.hessRows = max(0, opts.Fit.hessianRows())
			if workers > 1 {
				p.workers = 1
			}
			no := newtonOpts{nonneg: opts.NonNegative, settle: opts.settle(), path: &newtonPath{}}
			var beta []float64
			for g, c := range grid {
				p.invC = 1 / c
				o := opts.Fit
				o.C = c
				res := p.solve(o, beta, no)
				beta = append(append(beta[:0], res.Weights...), res.Intercept)
				sols[g][f] = slices.Clone(beta)
				scores[g][f] = score(x, y, opts.Fit.Weights, test, res, opts.Metric)
			}
			read[f] = [2]int{p.gradRead, p.hessRead}
			return nil
		})
	}
	_ = eg.Wait() // the folds return no errors

	out := &CVResult{Grid: grid, Scores: make([]float64, len(grid)), StdErr: make([]float64, len(grid))}
	for _, r := range read {
		out.gradRead += r[0]
		out.hessRead += r[1]
	}
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
	// Scores closer than TieTolerance cannot be told apart (the fits settle to about 1e-7): the
	// strongest penalty among them is chosen, so the choice does not hang on rounding.
	for g, s := range out.Scores {
		if math.Abs(s-out.Scores[best]) <= TieTolerance*math.Abs(out.Scores[best]) {
			out.Best = grid[g]
			out.Start = make([]float64, x.cols+1)
			for _, sol := range sols[g] {
				floats.AddScaled(out.Start, 1/float64(k), sol)
			}
			break
		}
	}
	return out, nil
}

// TieTolerance is the relative difference of mean scores within which CrossValidate counts them
// as equal.
const TieTolerance = 1e-6

func better(m Metric, a, b float64) bool {
	if m == MetricAUC {
		return a > b
	}
	return a < b
}

// folds deals each class's rows, shuffled, to k folds in turn and returns each row's fold; nil when
// a class has fewer than k rows. With maxRows > 0 and more rows than that, only the first rows of
// each shuffled class, the class's share of maxRows, are dealt; the others get fold -1.
func folds(y []float64, k int, seed uint64, maxRows int) []int {
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
		take := len(class)
		if maxRows > 0 && len(y) > maxRows {
			take = max(k, int(math.Round(float64(len(class))*float64(maxRows)/float64(len(y)))))
		}
		for i, r := range class {
			fold[r] = -1
			if i < take {
				fold[r] = i % k
			}
		}
	}
	return fold
}

// score is the metric of a fitted model on the rows in test.
func score(x *Design, y, w []float64, test []int, res *Result, m Metric) float64 {
	u := make([]float64, x.stored+1)
	x.storedWeights(u, append(slices.Clone(res.Weights), res.Intercept))
	p := make([]float64, len(test))
	for i, r := range test {
		p[i] = models.Sigmoid(x.linear(r, u))
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
