package fit

import (
	"errors"
	"fmt"
	"math"
)

// Errors returned by Fit and CrossValidate. Errors about one row or value come wrapped in a *DataError.
var (
	ErrNoRows    = errors.New("fit: no rows")
	ErrShape     = errors.New("fit: lengths do not match rows and columns")
	ErrOneClass  = errors.New("fit: outcome has one class")
	ErrNotFinite = errors.New("fit: value is not finite")
	ErrLabel     = errors.New("fit: outcome is not 0 or 1")
	ErrWeight    = errors.New("fit: sample weight is negative or not finite")
	ErrOption    = errors.New("fit: invalid option")
	ErrFolds     = errors.New("fit: a class has fewer rows than folds")
)

// DataError says which row (and column, for a matrix value) of the input is wrong.
// Row and Column count from 0; Column is -1 when the error is about the outcome or the weight.
type DataError struct {
	Row, Column int
	Err         error
}

func (e *DataError) Error() string {
	if e.Column < 0 {
		return fmt.Sprintf("%v (row %d)", e.Err, e.Row)
	}
	return fmt.Sprintf("%v (row %d, column %d)", e.Err, e.Row, e.Column)
}

func (e *DataError) Unwrap() error { return e.Err }

// Solver is the method that minimises the objective.
type Solver int

const (
	// Newton takes Newton steps with a backtracking line search, solving with the cols x cols
	// Hessian by Cholesky. It needs a handful of passes over the rows.
	Newton Solver = iota
	// LBFGS is gonum/optimize's L-BFGS with the analytic gradient. It needs only gradient
	// passes, but many more of them.
	LBFGS
)

func (s Solver) String() string {
	switch s {
	case Newton:
		return "newton"
	case LBFGS:
		return "lbfgs"
	}
	return fmt.Sprintf("Solver(%d)", int(s))
}

// Options configures Fit. The zero value is scikit-learn's default LogisticRegression (C=1)
// solved by Newton to a tight tolerance.
type Options struct {
	// C is the inverse penalty strength as in scikit-learn's LogisticRegression(C=...):
	// Fit minimises 0.5*||w||^2 + C*sum_i s_i*logloss_i, where the intercept is not in w.
	// Zero means 1; it must otherwise be positive and finite.
	C float64
	// Weights are per-row sample weights s_i, non-negative and finite; nil means all 1.
	Weights []float64
	// MaxIter bounds the solver's iterations; zero means 100 for Newton and 1000 for LBFGS.
	MaxIter int
	// Tol ends the fit when the largest component of the gradient of
	// sum_i s_i*logloss_i + ||w||^2/(2C) (the objective above divided by C), divided by the total
	// sample weight, is at most Tol. Zero means 1e-8, which met scikit-learn's newton-cholesky
	// coefficients to 1e-7.
	Tol float64
	// Solver picks the method; the zero value is Newton.
	Solver Solver
	// HessianRows bounds the rows Newton builds its Hessian from: beyond it, rows at an even stride
	// stand for all (their sum scaled up). The gradient, and so the solution and the convergence
	// test, always use every row; the sampled Hessian only shapes the steps. A Hessian pass costs
	// about cols/2 gradient passes, so on 1e6 x 160 this takes the fit from about 15 s to a few.
	// Zero means 100,000; negative means every row; the sample never has fewer than 50 rows per
	// coefficient.
	HessianRows int
	// Start, if not nil, is where the solver starts: the weights then the intercept (len cols+1),
	// finite, and for FitNonNegative with weights >= 0; CVResult.Start is one. nil starts from zero
	// weights and the intercept at the log-odds of the weighted positive rate. CrossValidate ignores it.
	Start []float64
}

func (o Options) hessianRows() int {
	if o.HessianRows == 0 {
		return 100_000
	}
	return o.HessianRows
}

func (o Options) c() float64 {
	if o.C == 0 {
		return 1
	}
	return o.C
}

func (o Options) tol() float64 {
	if o.Tol == 0 {
		return 1e-8
	}
	return o.Tol
}

func (o Options) maxIter() int {
	switch {
	case o.MaxIter > 0:
		return o.MaxIter
	case o.Solver == LBFGS:
		return 1000
	}
	return 100
}

func (o Options) validate() error {
	if c := o.c(); !(c > 0) || math.IsInf(c, 1) {
		return fmt.Errorf("%w: C is %v, want positive and finite", ErrOption, o.C)
	}
	if o.Tol < 0 || math.IsNaN(o.Tol) {
		return fmt.Errorf("%w: Tol is %v", ErrOption, o.Tol)
	}
	if o.MaxIter < 0 {
		return fmt.Errorf("%w: MaxIter is %d", ErrOption, o.MaxIter)
	}
	if o.Solver != Newton && o.Solver != LBFGS {
		return fmt.Errorf("%w: unknown solver %v", ErrOption, o.Solver)
	}
	return nil
}

// Result is a fitted model: P(y=1 | x) = 1/(1+exp(-(Intercept + Weights.x))).
type Result struct {
	Intercept float64
	Weights   []float64
	// Iterations is the number of solver iterations (Newton steps or L-BFGS major iterations).
	Iterations int
	// Converged is false when MaxIter or the line search stopped the solver before Tol was met;
	// the coefficients are then the best found.
	Converged bool
	// Loss is the mean (sample-weighted) log loss on the training rows at the solution, without the penalty.
	Loss float64
}

// Fit fits L2-penalised logistic regression of y on the rows of the design x.
// y holds 0 or 1 per row. Fit returns an error (never panics) for an empty design or mismatched
// lengths, outcomes other than 0 and 1, negative weights, a single class among rows of positive
// weight, and invalid options. Fit does not modify its inputs.
func Fit(x *Design, y []float64, opts Options) (*Result, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	if err := check(x, y, opts.Weights); err != nil {
		return nil, err
	}
	if err := checkStart(opts.Start, x.cols, false); err != nil {
		return nil, err
	}
	p := newProblem(x, y, opts.Weights, nil, x.rows, 1/opts.c())
	p.hessRows = max(0, opts.hessianRows())
	return p.solve(opts, opts.Start, newtonOpts{}), nil
}

// checkStart validates Options.Start for a design of cols columns.
func checkStart(start []float64, cols int, nonneg bool) error {
	if start == nil {
		return nil
	}
	if len(start) != cols+1 {
		return fmt.Errorf("%w: Start has %d values, want %d (the weights, then the intercept)", ErrOption, len(start), cols+1)
	}
	for j, v := range start {
		if math.IsNaN(v) || math.IsInf(v, 0) || (nonneg && j < cols && v < 0) {
			return fmt.Errorf("%w: Start[%d] is %v", ErrOption, j, v)
		}
	}
	return nil
}

// check validates the outcome and weights of a fit on x (whose values AppendRows checked).
func check(x *Design, y, w []float64) error {
	rows := x.rows
	if rows <= 0 {
		return ErrNoRows
	}
	if len(y) != rows || (w != nil && len(w) != rows) {
		return fmt.Errorf("%w: rows %d, len(y) %d, len(weights) %d", ErrShape, rows, len(y), len(w))
	}
	var pos, neg bool
	for r := range rows {
		if y[r] != 0 && y[r] != 1 {
			return &DataError{Row: r, Column: -1, Err: ErrLabel}
		}
		s := 1.0
		if w != nil {
			s = w[r]
			if !(s >= 0) || math.IsInf(s, 1) {
				return &DataError{Row: r, Column: -1, Err: ErrWeight}
			}
		}
		if s > 0 {
			pos = pos || y[r] == 1
			neg = neg || y[r] == 0
		}
	}
	if !pos || !neg {
		return ErrOneClass
	}
	return nil
}

// solve minimises the objective from init (nil means the usual start), with opts.Solver unless
// no.nonneg (only Newton keeps the constraints).
func (p *problem) solve(opts Options, init []float64, no newtonOpts) *Result {
	beta := p.start()
	if init != nil {
		copy(beta, init)
	}
	var f float64
	var it int
	var converged bool
	if opts.Solver == LBFGS && !no.nonneg {
		beta, f, it, converged = p.lbfgs(beta, opts)
	} else {
		beta, f, it, converged = p.newton(beta, opts, no)
	}
	w := beta[:p.cols]
	loss := (f - 0.5*p.invC*dot(w, w)) / p.totalWeight()
	return &Result{
		Intercept:  beta[p.cols],
		Weights:    append([]float64(nil), w...),
		Iterations: it,
		Converged:  converged,
		Loss:       loss,
	}
}

func dot(a, b []float64) float64 {
	s := 0.0
	for i, v := range a {
		s += v * b[i]
	}
	return s
}
