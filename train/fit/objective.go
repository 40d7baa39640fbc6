package fit

import (
	"math"
	"runtime"
	"sync"
	"sync/atomic"

	"gonum.org/v1/gonum/floats"
)

// hessBlock is how many rows are transposed at a time when accumulating the Hessian,
// so that each entry is a dot product over a contiguous block.
const hessBlock = 128

// problem is the penalised objective of one fit,
//
//	F(beta) = sum_i s_i*(softplus(z_i) - y_i*z_i) + invC/2*||w||^2,  z_i = x_i.w + b,
//
// with beta = (w, b): the weights first and the intercept last.
//
// Rows are split into lanes, fixed contiguous ranges that depend only on the row and column counts.
// Each lane sums its own rows in order and the lanes are added in order, so every result is the same
// whatever the number of goroutines or their scheduling.
type problem struct {
	x    []float64
	cols int
	y    []float64
	sw   []float64 // sample weights; nil means 1
	idx  []int     // rows in use; nil means 0..n-1
	n    int       // rows in use
	invC float64   // 1/C, the penalty on each weight (never the intercept)

	lanes   []lane
	workers int
	block   [][]float64 // per worker: a transposed block of rows for the Hessian
	d       []float64   // per row in use: s*p*(1-p) from the last gradient pass

	hessRows int // rows the Hessian is built from at most; 0 means all (Options.HessianRows)

	gradPasses, hessPasses int // counts, for measuring solvers
}

// lane is a contiguous range of the rows in use with its partial sums.
type lane struct {
	lo, hi int
	grad   []float64 // loss first, then the gradient (len dim+1)
	hess   []float64 // upper triangle of the Hessian, dim x dim row-major
}

func newProblem(x []float64, cols int, y, sw []float64, idx []int, n int, invC float64) *problem {
	dim := cols + 1
	// At most 32 lanes, fewer for wide problems (to bound the partial Hessians' memory)
	// and for few rows (so that each lane has work worth a goroutine).
	nl := min(32, max(4, (1<<22)/(dim*dim)), (n+1023)/1024)
	nl = max(nl, 1)
	p := &problem{x: x, cols: cols, y: y, sw: sw, idx: idx, n: n, invC: invC, d: make([]float64, n)}
	p.lanes = make([]lane, nl)
	for l := range p.lanes {
		p.lanes[l] = lane{lo: l * n / nl, hi: (l + 1) * n / nl, grad: make([]float64, dim+1)}
	}
	p.workers = max(1, min(runtime.GOMAXPROCS(0), nl))
	return p
}

func (p *problem) dim() int { return p.cols + 1 }

// row returns the index into x/y/sw of the i-th row in use.
func (p *problem) row(i int) int {
	if p.idx == nil {
		return i
	}
	return p.idx[i]
}

// parallel runs fn on every lane over p.workers goroutines.
func (p *problem) parallel(fn func(l *lane, worker int)) {
	if p.workers == 1 {
		for l := range p.lanes {
			fn(&p.lanes[l], 0)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := range p.workers {
		wg.Go(func() {
			for {
				l := int(next.Add(1)) - 1
				if l >= len(p.lanes) {
					return
				}
				fn(&p.lanes[l], w)
			}
		})
	}
	wg.Wait()
}

// gradient returns F(beta) and stores its gradient in g (len dim). It also keeps each row's
// curvature s*p*(1-p) for a following call of hessian at the same beta.
func (p *problem) gradient(beta, g []float64) float64 {
	cols := p.cols
	w, b := beta[:cols], beta[cols]
	p.gradPasses++
	p.parallel(func(l *lane, _ int) {
		part := l.grad
		clear(part)
		loss, gw, gb := 0.0, part[1:1+cols], 0.0
		for i := l.lo; i < l.hi; i++ {
			r := p.row(i)
			xr := p.x[r*cols : r*cols+cols]
			z := floats.Dot(xr, w) + b
			// One exp gives both softplus(z) = max(z,0) + log1p(e) and the sigmoid.
			e := math.Exp(-math.Abs(z))
			sp := math.Log1p(e)
			q := 1 / (1 + e)
			var prob float64
			if z >= 0 {
				sp += z
				prob = q
			} else {
				prob = e * q
			}
			s := 1.0
			if p.sw != nil {
				s = p.sw[r]
			}
			yi := p.y[r]
			loss += s * (sp - yi*z)
			res := s * (prob - yi)
			floats.AddScaled(gw, res, xr)
			gb += res
			p.d[i] = s * e * q * q // p*(1-p) = e/(1+e)^2, exact in both tails
		}
		part[0] = loss
		part[1+cols] = gb
	})
	clear(g)
	f := 0.0
	for l := range p.lanes {
		part := p.lanes[l].grad
		f += part[0]
		floats.Add(g, part[1:])
	}
	f += 0.5 * p.invC * floats.Dot(w, w)
	floats.AddScaled(g[:cols], p.invC, w)
	return f
}

// hessian stores in h (dim x dim, row-major, both triangles) the Hessian of F at the beta of the
// last gradient call.
func (p *problem) hessian(h []float64) {
	dim, cols := p.dim(), p.cols
	if p.block == nil {
		p.block = make([][]float64, p.workers)
		for w := range p.block {
			p.block[w] = make([]float64, dim*hessBlock)
		}
		for l := range p.lanes {
			p.lanes[l].hess = make([]float64, dim*dim)
		}
	}
	p.hessPasses++
	stride := 1
	// Never fewer than 50 rows per coefficient: a thinner sample gives steps too poor to converge.
	if hr := max(p.hessRows, 50*dim); p.hessRows > 0 && p.n > hr {
		stride = (p.n + hr - 1) / hr
	}
	p.parallel(func(l *lane, worker int) {
		hp := l.hess
		clear(hp)
		bt := p.block[worker]
		// The rows of the lane that are multiples of stride, hessBlock at a time.
		first := (l.lo + stride - 1) / stride * stride
		for lo := first; lo < l.hi; lo += hessBlock * stride {
			m := 0
			// bt row j holds sqrt(d_i)*x_ij for the block's rows; row cols is sqrt(d_i) (the intercept).
			for i := lo; i < l.hi && m < hessBlock; i += stride {
				r := p.row(i)
				xr := p.x[r*cols : r*cols+cols]
				sq := math.Sqrt(p.d[i])
				for j, v := range xr {
					bt[j*hessBlock+m] = sq * v
				}
				bt[cols*hessBlock+m] = sq
				m++
			}
			for a := range dim {
				ra := bt[a*hessBlock : a*hessBlock+m]
				for c := a; c < dim; c++ {
					hp[a*dim+c] += floats.Dot(ra, bt[c*hessBlock:c*hessBlock+m])
				}
			}
		}
	})
	clear(h)
	for l := range p.lanes {
		floats.Add(h, p.lanes[l].hess)
	}
	if stride > 1 {
		floats.Scale(float64(p.n)/float64((p.n+stride-1)/stride), h)
	}
	for a := range dim {
		if a < cols {
			h[a*dim+a] += p.invC
		}
		for c := a + 1; c < dim; c++ {
			h[c*dim+a] = h[a*dim+c]
		}
	}
}

// totalWeight is the sum of the sample weights of the rows in use.
func (p *problem) totalWeight() float64 {
	if p.sw == nil {
		return float64(p.n)
	}
	t := 0.0
	for i := range p.n {
		t += p.sw[p.row(i)]
	}
	return t
}

// start returns the usual starting point: zero weights and the intercept at the log-odds of the
// weighted positive rate.
func (p *problem) start() []float64 {
	beta := make([]float64, p.dim())
	pos, tot := 0.0, 0.0
	for i := range p.n {
		r := p.row(i)
		s := 1.0
		if p.sw != nil {
			s = p.sw[r]
		}
		pos += s * p.y[r]
		tot += s
	}
	beta[p.cols] = math.Log(pos / (tot - pos))
	return beta
}
