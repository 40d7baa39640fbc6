package fit

import (
	"math"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
)

// FitNonNegative fits the model of Fit with every weight constrained to be at least 0 (the intercept
// stays free): the fit of a scorecard, whose columns are weights of evidence, so that each column's
// part in a score has the sign of its evidence. A column whose unconstrained weight would be negative
// (typically one collinear with a stronger column) gets weight 0 instead of a large opposite one.
//
// The solver is a projected Newton method (Bertsekas, 1982): at each step the weights at 0 whose
// gradient pushes them below 0 are held, a Newton step is taken in the others with the analytic
// Hessian, and the trial point is projected back onto the constraints in a backtracking line search.
// It reads the design as Fit does, so a wide one-hot design costs what its nonzeros cost. Convergence is measured on the projected
// gradient with Options.Tol; Options.Solver and HessianRows are ignored. Errors are those of Fit.
func FitNonNegative(x *Design, y []float64, opts Options) (*Result, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	if err := check(x, y, opts.Weights); err != nil {
		return nil, err
	}
	p := newProblem(x, y, opts.Weights, nil, x.rows, 1/opts.c())
	return p.solveNonNegative(opts, nil), nil
}

// solveNonNegative minimises the objective over weights >= 0 from init (nil means the usual start;
// otherwise it must satisfy the constraints).
func (p *problem) solveNonNegative(opts Options, init []float64) *Result {
	beta := p.start()
	if init != nil {
		copy(beta, init)
	}
	beta, f, it, converged := p.projectedNewton(beta, opts)
	w := beta[:p.cols]
	return &Result{
		Intercept:  beta[p.cols],
		Weights:    append([]float64(nil), w...),
		Iterations: it,
		Converged:  converged,
		Loss:       (f - 0.5*p.invC*dot(w, w)) / p.totalWeight(),
	}
}

// projectedNewton minimises F over weights >= 0 from beta, which must satisfy the constraints.
func (p *problem) projectedNewton(beta []float64, opts Options) ([]float64, float64, int, bool) {
	dim, cols := p.dim(), p.cols
	thresh := opts.tol() * p.totalWeight()
	g := make([]float64, dim)
	gt := make([]float64, dim)
	h := make([]float64, dim*dim)
	trial := make([]float64, dim)
	free := make([]int, 0, dim)
	var chol mat.Cholesky

	f := p.gradient(beta, g)
	for it := 0; ; it++ {
		// The projected gradient: zero for a weight at its bound that the gradient pushes out.
		free = free[:0]
		gmax := 0.0
		for j := range dim {
			if j < cols && beta[j] <= 0 && g[j] >= 0 {
				continue
			}
			free = append(free, j)
			gmax = max(gmax, math.Abs(g[j]))
		}
		if gmax <= thresh {
			return beta, f, it, true
		}
		if it == opts.maxIter() {
			return beta, f, it, false
		}
		p.hessian(h)
		nf := len(free)
		sub := make([]float64, nf*nf)
		gf := make([]float64, nf)
		for a, ja := range free {
			gf[a] = g[ja]
			for b, jb := range free {
				sub[a*nf+b] = h[ja*dim+jb]
			}
		}
		d := make([]float64, dim)
		step := mat.NewVecDense(nf, nil)
		if factorize(&chol, sub, nf) && chol.SolveVecTo(step, mat.NewVecDense(nf, gf)) == nil {
			for a, j := range free {
				d[j] = -step.AtVec(a)
			}
		} else {
			for _, j := range free {
				d[j] = -g[j] / max(h[j*dim+j], 1e-12) // a scaled gradient step
			}
		}
		accepted := false
		var ft float64
		for t := 1.0; t > 1e-12; t /= 2 {
			floats.AddScaledTo(trial, beta, t, d)
			for j := range cols {
				trial[j] = max(trial[j], 0)
			}
			ft = p.gradient(trial, gt)
			// Armijo's condition along the projected path.
			var dec float64
			for j := range dim {
				dec += g[j] * (trial[j] - beta[j])
			}
			if ft <= f+1e-4*dec || (ft <= f+1e-12*math.Abs(f) && p.projectedMax(trial, gt) < gmax) {
				accepted = true
				break
			}
		}
		if !accepted {
			f = p.gradient(beta, g)
			return beta, f, it, false
		}
		beta, trial = trial, beta
		g, gt = gt, g
		f = ft
	}
}

// projectedMax is the largest component of the projected gradient g at beta.
func (p *problem) projectedMax(beta, g []float64) float64 {
	m := 0.0
	for j, v := range g {
		if j < p.cols && beta[j] <= 0 && v >= 0 {
			continue
		}
		m = max(m, math.Abs(v))
	}
	return m
}
