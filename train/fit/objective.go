package fit

import (
	"math"
	"runtime"
	"sync"
	"sync/atomic"

	"gonum.org/v1/gonum/floats"
)

// problem is the penalised objective of one fit,
//
//	F(beta) = sum_i s_i*(softplus(z_i) - y_i*z_i) + invC/2*||w||^2,  z_i = x_i.w + b,
//
// with beta = (w, b): the weights first and the intercept last. Every pass reads the rows through
// the design's index lists, so it costs what the nonzeros cost.
//
// Rows are split into lanes, fixed contiguous ranges that depend only on the row and column counts.
// Each lane sums its own rows in order and the lanes are added in order, so every result is the same
// whatever the number of goroutines or their scheduling.
type problem struct {
	x    *Design
	cols int
	y    []float64
	sw   []float64 // sample weights; nil means 1
	idx  []int     // rows in use; nil means 0..n-1
	n    int       // rows in use
	invC float64   // 1/C, the penalty on each weight (never the intercept)

	lanes   []lane
	workers int
	d       []float64 // per row in use: s*p*(1-p) from the last gradient pass
	wind    []float64 // per column: weight times the indicator's value, for the pass under way
	wval    []float64 // per value column: its weight, for the pass under way
	mix     []float64 // dim x nv: the Hessian's entries of the value columns, being summed

	hessRows int // rows the Hessian is built from at most; 0 means all (Options.HessianRows)

	gradPasses, hessPasses int // counts, for measuring solvers
	gradRead, hessRead     int // rows read by those passes
}

// lane is a contiguous range of the rows in use with its partial sums.
type lane struct {
	lo, hi int
	// grad holds the loss, the gradient of the weights (indicator columns not yet multiplied by
	// their value), the intercept's, then that of each value column (len cols+2+nv).
	grad []float64
	// hess holds the upper triangle of the Hessian's entries between indicator columns and the
	// intercept (dim x dim row-major, not yet multiplied by the indicators' values); mix holds, for
	// every column and the intercept, its entries with each value column (dim x nv).
	hess, mix []float64
	dv        []float64 // scratch: d_i times the row's values
}

func newProblem(x *Design, y, sw []float64, idx []int, n int, invC float64) *problem {
	cols := x.cols
	dim := cols + 1
	// At most 32 lanes, fewer for wide problems (to bound the partial Hessians' memory)
	// and for few rows (so that each lane has work worth a goroutine).
	nl := min(32, max(4, (1<<22)/(dim*dim)), (n+1023)/1024)
	nl = max(nl, 1)
	p := &problem{x: x, cols: cols, y: y, sw: sw, idx: idx, n: n, invC: invC, d: make([]float64, n),
		wind: make([]float64, cols), wval: make([]float64, len(x.valueCols))}
	p.lanes = make([]lane, nl)
	for l := range p.lanes {
		p.lanes[l] = lane{lo: l * n / nl, hi: (l + 1) * n / nl, grad: make([]float64, cols+2+len(x.valueCols))}
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
func (p *problem) parallel(fn func(l *lane)) {
	if p.workers == 1 {
		for l := range p.lanes {
			fn(&p.lanes[l])
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range p.workers {
		wg.Go(func() {
			for {
				l := int(next.Add(1)) - 1
				if l >= len(p.lanes) {
					return
				}
				fn(&p.lanes[l])
			}
		})
	}
	wg.Wait()
}

// setWeights prepares wind and wval for a pass at the weights w.
func (p *problem) setWeights(w []float64) {
	copy(p.wind, w)
	if v := p.x.indVal; v != nil {
		for j := range p.wind {
			p.wind[j] *= v[j]
		}
	}
	for k, c := range p.x.valueCols {
		p.wval[k] = w[c]
	}
}

// gradient returns F(beta) and stores its gradient in g (len dim). It also keeps each row's
// curvature s*p*(1-p) for a following call of hessian at the same beta.
func (p *problem) gradient(beta, g []float64) float64 {
	cols, x := p.cols, p.x
	nv := len(x.valueCols)
	w, b := beta[:cols], beta[cols]
	p.setWeights(w)
	wind, wval := p.wind, p.wval
	p.gradPasses++
	p.gradRead += p.n
	p.parallel(func(l *lane) {
		part := l.grad
		clear(part)
		loss, gw, gb, gv := 0.0, part[1:1+cols], 0.0, part[2+cols:]
		for i := l.lo; i < l.hi; i++ {
			r := p.row(i)
			ind := x.idx[x.ptr[r]:x.ptr[r+1]]
			vals := x.val[r*nv : r*nv+nv]
			z := b
			for _, j := range ind {
				z += wind[j]
			}
			for k, v := range vals {
				z += v * wval[k]
			}
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
			for _, j := range ind {
				gw[j] += res
			}
			for k, v := range vals {
				gv[k] += res * v
			}
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
		floats.Add(g, part[1:2+cols])
		for k, c := range x.valueCols {
			g[c] += part[2+cols+k]
		}
	}
	if v := x.indVal; v != nil {
		for j := range cols {
			g[j] *= v[j] // 1 for value columns
		}
	}
	f += 0.5 * p.invC * floats.Dot(w, w)
	floats.AddScaled(g[:cols], p.invC, w)
	return f
}

// hessian stores in h (dim x dim, row-major, both triangles) the Hessian of F at the beta of the
// last gradient call, without the penalty's invC on the weights' diagonal.
func (p *problem) hessian(h []float64) {
	dim, cols, x := p.dim(), p.cols, p.x
	nv, vc := len(x.valueCols), x.valueCols
	if p.lanes[0].hess == nil {
		for l := range p.lanes {
			p.lanes[l].hess = make([]float64, dim*dim)
			p.lanes[l].mix = make([]float64, dim*nv)
			p.lanes[l].dv = make([]float64, nv)
		}
		p.mix = make([]float64, dim*nv)
	}
	p.hessPasses++
	stride := 1
	// Never fewer than 50 rows per coefficient: a thinner sample gives steps too poor to converge.
	if hr := max(p.hessRows, 50*dim); p.hessRows > 0 && p.n > hr {
		stride = (p.n + hr - 1) / hr
	}
	p.hessRead += (p.n + stride - 1) / stride
	p.parallel(func(l *lane) {
		hp, mix, dv := l.hess, l.mix, l.dv
		clear(hp)
		clear(mix)
		// The rows of the lane that are multiples of stride.
		for i := (l.lo + stride - 1) / stride * stride; i < l.hi; i += stride {
			r := p.row(i)
			di := p.d[i]
			ind := x.idx[x.ptr[r]:x.ptr[r+1]]
			for a, ja := range ind {
				hr := hp[int(ja)*dim : int(ja)*dim+dim]
				for _, jb := range ind[a:] {
					hr[jb] += di
				}
				hr[cols] += di
			}
			hp[cols*dim+cols] += di
			if nv == 0 {
				continue
			}
			vals := x.val[r*nv : r*nv+nv]
			for k, v := range vals {
				dv[k] = di * v
			}
			// Rows of nv numbers are too short for gonum's assembly to pay for its call.
			for _, j := range ind {
				m := mix[int(j)*nv : int(j)*nv+nv]
				for k, v := range dv {
					m[k] += v
				}
			}
			for k, v := range vals {
				m := mix[vc[k]*nv : vc[k]*nv+nv]
				for k2, u := range dv {
					m[k2] += v * u
				}
			}
			m := mix[cols*nv : cols*nv+nv]
			for k, v := range dv {
				m[k] += v
			}
		}
	})
	clear(h)
	clear(p.mix)
	for l := range p.lanes {
		floats.Add(h, p.lanes[l].hess)
		floats.Add(p.mix, p.lanes[l].mix)
	}
	if stride > 1 {
		s := float64(p.n) / float64((p.n+stride-1)/stride)
		floats.Scale(s, h)
		floats.Scale(s, p.mix)
	}
	iv := func(j int) float64 { // the value of column j when present (1 for the intercept)
		if x.indVal == nil || j == cols {
			return 1
		}
		return x.indVal[j]
	}
	for a := range dim {
		sa := iv(a)
		for c := a; c < dim; c++ {
			v := h[a*dim+c]
			if x.indVal != nil {
				v *= sa * iv(c)
			}
			h[a*dim+c], h[c*dim+a] = v, v
		}
	}
	for j := range dim {
		sj := iv(j)
		for k, c := range vc {
			v := p.mix[j*nv+k] * sj
			h[j*dim+c], h[c*dim+j] = v, v
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
