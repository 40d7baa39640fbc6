package fit

// FitNonNegative fits the model of Fit with every weight constrained to be at least 0 (the intercept
// stays free): the fit of a scorecard, whose columns are weights of evidence, so that each column's
// part in a score has the sign of its evidence. A column whose unconstrained weight would be negative
// (typically one collinear with a stronger column) gets weight 0 instead of a large opposite one.
//
// The solver is a projected Newton method: at each step the quadratic model of the objective (the
// analytic Hessian) is minimised within the constraints, which needs no pass over the rows (projected
// Newton iterations on the model, Bertsekas 1982), and the step is taken in a backtracking line
// search. It is Fit's Newton solver with the constraints, reading the design the same way, so a wide
// one-hot design costs what its nonzeros cost and a term design what its bins cost. Convergence is
// measured on the projected gradient with Options.Tol; Options.Solver and HessianRows are ignored.
// Errors are those of Fit.
func FitNonNegative(x *Design, y []float64, opts Options) (*Result, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	if err := check(x, y, opts.Weights); err != nil {
		return nil, err
	}
	if err := checkStart(opts.Start, x.cols, true); err != nil {
		return nil, err
	}
	p := newProblem(x, y, opts.Weights, nil, x.rows, 1/opts.c())
	return p.solve(opts, opts.Start, newtonOpts{nonneg: true}), nil
}
