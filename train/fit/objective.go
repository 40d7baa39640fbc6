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
	x      *Design
	cols   int // the fit's columns
	stored int // the design's stored columns, which the passes read (cols unless x maps them)
	y      []float64
	sw     []float64 // sample weights; nil means 1
	idx    []int     // rows in use; nil means 0..n-1
	n      int       // rows in use
	invC   float64   // 1/C, the penalty on each weight (never the intercept)

	lanes   []lane
	workers int
	d       []float64 // per row in use: s*p*(1-p) from the last gradient pass
	u       []float64 // per stored column, the intercept last: its weight, for the pass under way
	gs      []float64 // per stored column, the intercept last: the gradient's sums
	mix     []float64 // ds x nv: the Hessian's entries of the value columns, being summed
	hs, ha  []float64 // ds x ds and ds x dim: the stored columns' Hessian and scratch, when x maps columns

	hessRows int // rows the Hessian is built from at most; 0 means all (Options.HessianRows)

	gradPasses, hessPasses int // counts, for measuring solvers
	gradRead, hessRead     int // rows read by those passes
}

// lane is a contiguous range of the rows in use with its partial sums, over the stored columns.
type lane struct {
	lo, hi int
	// grad holds the loss, the gradient of the stored indicator columns, the intercept's, then that
	// of each value column (len stored+2+nv).
	grad []float64
	// hess holds the upper triangle of the Hessian's entries between stored indicator columns and
	// the intercept (ds x ds row-major, ds = stored+1); mix holds, for every stored column and the
	// intercept, its entries with each value column (ds x nv).
	hess, mix []float64
	dv        []float64 // scratch: d_i times the row's values
}

func newProblem(x *Design, y, sw []float64, idx []int, n int, invC float64) *problem {
	cols, stored := x.cols, x.stored
	ds := stored + 1
	// At most 32 lanes, fewer for wide problems (to bound the partial Hessians' memory)
	// and for few rows (so that each lane has work worth a goroutine).
	nl := min(32, max(4, (1<<22)/(ds*ds)), (n+1023)/1024)
	nl = max(nl, 1)
	p := &problem{x: x, cols: cols, stored: stored, y: y, sw: sw, idx: idx, n: n, invC: invC, d: make([]float64, n),
		u: make([]float64, ds), gs: make([]float64, ds)}
	p.lanes = make([]lane, nl)
	for l := range p.lanes {
		p.lanes[l] = lane{lo: l * n / nl, hi: (l + 1) * n / nl, grad: make([]float64, stored+2+len(x.valueCols))}
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

// gradient returns F(beta) and stores its gradient in g (len dim). It also keeps each row's
// curvature s*p*(1-p) for a following call of hessian at the same beta.
func (p *problem) gradient(beta, g []float64) float64 {
	stored, x := p.stored, p.x
	vc := x.valueCols
	nv := len(vc)
	x.storedWeights(p.u, beta)
	u := p.u
	b := u[stored]
	wval := make([]float64, nv)
	for k, c := range vc {
		wval[k] = u[c]
	}
	p.gradPasses++
	p.gradRead += p.n
	p.parallel(func(l *lane) {
		part := l.grad
		clear(part)
		loss, gw, gb, gv := 0.0, part[1:1+stored], 0.0, part[2+stored:]
		for i := l.lo; i < l.hi; i++ {
			r := p.row(i)
			ind := x.idx[x.ptr[r]:x.ptr[r+1]]
			vals := x.val[r*nv : r*nv+nv]
			z := b
			for _, j := range ind {
				z += u[j]
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
		part[1+stored] = gb
	})
	gs := p.gs
	clear(gs)
	f := 0.0
	for l := range p.lanes {
		part := p.lanes[l].grad
		f += part[0]
		floats.Add(gs, part[1:2+stored])
		for k, c := range vc {
			gs[c] += part[2+stored+k]
		}
	}
	if x.terms == nil {
		copy(g, gs)
	} else {
		x.terms.apply(g, gs)
	}
	w := beta[:p.cols]
	f += 0.5 * p.invC * floats.Dot(w, w)
	floats.AddScaled(g[:p.cols], p.invC, w)
	return f
}

// hessian stores in h (dim x dim, row-major, both triangles) the Hessian of F at the beta of the
// last gradient call, without the penalty's invC on the weights' diagonal. It sums the Hessian of the
// stored columns over the rows and, when the design maps them to the fit's columns, maps it.
func (p *problem) hessian(h []float64) {
	stored, x := p.stored, p.x
	ds := stored + 1
	nv, vc := len(x.valueCols), x.valueCols
	if p.lanes[0].hess == nil {
		for l := range p.lanes {
			p.lanes[l].hess = make([]float64, ds*ds)
			p.lanes[l].mix = make([]float64, ds*nv)
			p.lanes[l].dv = make([]float64, nv)
		}
		p.mix = make([]float64, ds*nv)
		if x.terms != nil {
			p.hs, p.ha = make([]float64, ds*ds), make([]float64, ds*p.dim())
		}
	}
	hs := h
	if x.terms != nil {
		hs = p.hs
	}
	p.hessPasses++
	stride := 1
	// Never fewer than 50 rows per coefficient: a thinner sample gives steps too poor to converge.
	if hr := max(p.hessRows, 50*p.dim()); p.hessRows > 0 && p.n > hr {
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
				hr := hp[int(ja)*ds : int(ja)*ds+ds]
				for _, jb := range ind[a:] {
					hr[jb] += di
				}
				hr[stored] += di
			}
			hp[stored*ds+stored] += di
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
			m := mix[stored*nv : stored*nv+nv]
			for k, v := range dv {
				m[k] += v
			}
		}
	})
	clear(hs)
	clear(p.mix)
	for l := range p.lanes {
		floats.Add(hs, p.lanes[l].hess)
		floats.Add(p.mix, p.lanes[l].mix)
	}
	if stride > 1 {
		s := float64(p.n) / float64((p.n+stride-1)/stride)
		floats.Scale(s, hs)
		floats.Scale(s, p.mix)
	}
	for a := range ds {
		for c := a + 1; c < ds; c++ {
			hs[c*ds+a] = hs[a*ds+c]
		}
	}
	for j := range ds {
		for k, c := range vc {
			v := p.mix[j*nv+k]
			hs[j*ds+c], hs[c*ds+j] = v, v
		}
	}
	if x.terms != nil {
		x.terms.sandwich(h, hs, p.ha)
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
