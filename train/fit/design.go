package fit

import (
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/gonum/floats"
)

// MaxCols is the widest design: column indices are stored as uint16. The solvers hold a dense
// cols x cols Hessian, so a design near this width would not fit in memory anyway.
const MaxCols = math.MaxUint16

// Design is the matrix a fit reads, stored by rows in compressed form. Each column is either a
// value column, which holds a number in every row, or an indicator column, which is present in some
// rows and absent (0) in the others. A row stores the indices of its present indicators (ascending,
// two bytes each) and the numbers of the value columns (in the order of ValueCols). A present
// indicator is 1 unless SetIndicatorValues gives its column another constant (a scorecard's weight
// of evidence, say). A one-hot row of 20 indicators and 14 numbers thus costs 40+112 bytes, not
// 8 bytes per column, and a Newton pass costs what the nonzeros cost.
//
// Rows are added with AppendRows, chunk by chunk; the storage is three flat arrays. A Design is not
// safe for concurrent AppendRows; once built, fits may read it from many goroutines.
type Design struct {
	cols      int     // columns of a fit
	stored    int     // columns of the stored rows: cols, or the bins of a term design
	valueCols []int   // ascending
	isValue   []bool  // per stored column
	terms     *colMap // how stored columns make the fit's columns; nil: column j is stored column j
	termed    bool    // made by NewTermDesign
	rows      int
	ptr       []int     // row r's indicators are idx[ptr[r]:ptr[r+1]]; len rows+1
	idx       []uint16  // stored indicator indices, ascending within a row
	val       []float64 // rows x len(valueCols), row-major
}

// colMap is the linear map from stored columns to the columns of a fit, the intercept last on both
// sides (stored index stored, fit index cols; it maps to itself). Stored column j adds coef[k] times
// its entry to fit column col[k], for k in byStored[j]:byStored[j+1]; the same entries listed by fit
// column are those of the transposed map t.
type colMap struct {
	byStored []int
	col      []int
	coef     []float64
	t        *colMap // nil in a transposed map
}

// newColMap returns the map of the (from+1) x (to+1) matrix whose entries are listed, per column of
// the fit, as lists of stored columns and their coefficients; the intercept entry is added.
func newColMap(from, to int, of [][]int, coefs [][]float64) *colMap {
	// Transposed first: by fit column.
	t := &colMap{byStored: make([]int, 0, to+2)}
	for c := range to {
		t.byStored = append(t.byStored, len(t.col))
		for k, j := range of[c] {
			t.col, t.coef = append(t.col, j), append(t.coef, coefs[c][k])
		}
	}
	t.byStored = append(t.byStored, len(t.col))
	t.col, t.coef = append(t.col, from), append(t.coef, 1)
	t.byStored = append(t.byStored, len(t.col))
	m := &colMap{byStored: make([]int, from+2), col: make([]int, len(t.col)), coef: make([]float64, len(t.col)), t: t}
	for _, j := range t.col {
		m.byStored[j+1]++
	}
	for j := range from + 1 {
		m.byStored[j+1] += m.byStored[j]
	}
	next := slices.Clone(m.byStored[:from+1])
	for c := range to + 1 {
		for k := t.byStored[c]; k < t.byStored[c+1]; k++ {
			j := t.col[k]
			m.col[next[j]], m.coef[next[j]] = c, t.coef[k]
			next[j]++
		}
	}
	return m
}

// apply sets out (len to+1) to the map applied to in (len from+1): out[c] = sum over stored j of
// coef(j, c)*in[j]. On the transposed map it goes the other way.
func (m *colMap) apply(out, in []float64) {
	clear(out)
	for j, v := range in {
		if v == 0 {
			continue
		}
		for k := m.byStored[j]; k < m.byStored[j+1]; k++ {
			out[m.col[k]] += m.coef[k] * v
		}
	}
}

// sandwich sets h (dim x dim, dim = to+1) to T' hs T, where T is the map and hs (ds x ds, ds =
// from+1) a symmetric matrix; a (ds x dim) is scratch.
func (m *colMap) sandwich(h, hs, a []float64) {
	ds, dim := len(m.byStored)-1, len(m.t.byStored)-1
	t := m.t
	// a = hs T: column c of a sums the columns of hs that make fit column c.
	clear(a)
	for j := range ds {
		row := hs[j*ds : j*ds+ds]
		out := a[j*dim : j*dim+dim]
		for c := range dim {
			s := 0.0
			for k := t.byStored[c]; k < t.byStored[c+1]; k++ {
				s += t.coef[k] * row[t.col[k]]
			}
			out[c] = s
		}
	}
	// h = T' a.
	clear(h)
	for c := range dim {
		out := h[c*dim : c*dim+dim]
		for k := t.byStored[c]; k < t.byStored[c+1]; k++ {
			floats.AddScaled(out, t.coef[k], a[t.col[k]*dim:t.col[k]*dim+dim])
		}
	}
}

// A Term is a column of a term design (NewTermDesign): in a row it is Value times the number of its
// Bins the row holds. A scorecard's term is its sign in the rows whose bin of one property is one
// of Bins.
type Term struct {
	Value float64
	Bins  []int
}

// NewTermDesign returns an empty design whose rows are stored as bins, the indicator columns 0 to
// bins-1 that AppendRows takes, and whose columns are the terms: what fits weigh, Cols and At
// report. A pass of a fit reads the bins, so it costs what the bins cost however many terms hold
// each (a Hessian of the bins is mapped onto the terms once per pass). It returns ErrShape when bins
// is negative or above MaxCols, there are more than MaxCols terms, or a term lists a bin out of range
// or twice, and ErrNotFinite for a NaN or infinite Value.
func NewTermDesign(bins int, terms []Term) (*Design, error) {
	d, err := NewDesign(bins, nil)
	if err != nil {
		return nil, err
	}
	if len(terms) > MaxCols {
		return nil, fmt.Errorf("%w: %d terms, want at most %d", ErrShape, len(terms), MaxCols)
	}
	of, coefs := make([][]int, len(terms)), make([][]float64, len(terms))
	for t, tm := range terms {
		if math.IsNaN(tm.Value) || math.IsInf(tm.Value, 0) {
			return nil, fmt.Errorf("%w: value of term %d is %v", ErrNotFinite, t, tm.Value)
		}
		seen := map[int]bool{}
		for _, b := range tm.Bins {
			if b < 0 || b >= bins || seen[b] {
				return nil, fmt.Errorf("%w: term %d: bin %d of %d is out of range or listed twice", ErrShape, t, b, bins)
			}
			seen[b] = true
			of[t], coefs[t] = append(of[t], b), append(coefs[t], tm.Value)
		}
	}
	d.cols, d.termed = len(terms), true
	d.terms = newColMap(bins, len(terms), of, coefs)
	return d, nil
}

// NewDesign returns an empty design of cols columns of which valueCols hold numbers and the rest are
// indicators. It returns ErrShape when cols is negative or above MaxCols, or a value column is out of
// range or listed twice.
func NewDesign(cols int, valueCols []int) (*Design, error) {
	if cols < 0 || cols > MaxCols {
		return nil, fmt.Errorf("%w: %d columns, want 0 to %d", ErrShape, cols, MaxCols)
	}
	d := &Design{cols: cols, stored: cols, isValue: make([]bool, cols), ptr: []int{0}}
	for _, c := range valueCols {
		if c < 0 || c >= cols || d.isValue[c] {
			return nil, fmt.Errorf("%w: value column %d of %d columns is out of range or listed twice", ErrShape, c, cols)
		}
		d.isValue[c] = true
	}
	d.valueCols = slices.Sorted(slices.Values(valueCols))
	return d, nil
}

// Dense returns the design of the rows x cols row-major matrix X: columns whose values are all 0 or
// 1 become indicator columns and the others value columns, so the design is exactly X. It returns
// ErrShape for mismatched lengths and a *DataError wrapping ErrNotFinite for a NaN or infinite value.
func Dense(X []float64, rows, cols int) (*Design, error) {
	if rows < 0 || cols < 0 || len(X) != rows*cols {
		return nil, fmt.Errorf("%w: rows %d, cols %d, len(X) %d", ErrShape, rows, cols, len(X))
	}
	binary := make([]bool, cols)
	for c := range binary {
		binary[c] = true
	}
	for r := range rows {
		for c, v := range X[r*cols : r*cols+cols] {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, &DataError{Row: r, Column: c, Err: ErrNotFinite}
			}
			binary[c] = binary[c] && (v == 0 || v == 1)
		}
	}
	var valueCols []int
	for c, b := range binary {
		if !b {
			valueCols = append(valueCols, c)
		}
	}
	d, err := NewDesign(cols, valueCols)
	if err != nil {
		return nil, err
	}
	nv := len(valueCols)
	ends := make([]int, rows)
	var idx []uint16
	val := make([]float64, 0, rows*nv)
	for r := range rows {
		for c, v := range X[r*cols : r*cols+cols] {
			if d.isValue[c] {
				val = append(val, v)
			} else if v == 1 {
				idx = append(idx, uint16(c))
			}
		}
		ends[r] = len(idx)
	}
	if err := d.AppendRows(ends, idx, val); err != nil {
		return nil, err
	}
	return d, nil
}

// Rows returns the number of rows.
func (d *Design) Rows() int { return d.rows }

// Cols returns the number of columns.
func (d *Design) Cols() int { return d.cols }

// ValueCols returns the value columns, ascending. The slice must not be modified.
func (d *Design) ValueCols() []int { return d.valueCols }

// Grow makes room for rows more rows with nnz more indicators in all, so that appending them does not
// reallocate.
func (d *Design) Grow(rows, nnz int) {
	d.ptr = slices.Grow(d.ptr, rows)
	d.idx = slices.Grow(d.idx, nnz)
	d.val = slices.Grow(d.val, rows*len(d.valueCols))
}

// AppendRows adds len(ends) rows: row r's present indicators are indices[ends[r-1]:ends[r]] (from 0
// for the first row), strictly ascending, and its value columns' numbers are
// values[r*len(ValueCols()) : (r+1)*len(ValueCols())]. It copies what it keeps. On an error nothing is
// added: ErrShape for mismatched lengths, decreasing ends, or an index that is out of range, a value
// column, or not above the previous one; a *DataError (row counted over the whole design) wrapping
// ErrNotFinite for a NaN or infinite value.
func (d *Design) AppendRows(ends []int, indices []uint16, values []float64) error {
	n, nv := len(ends), len(d.valueCols)
	if len(values) != n*nv || (n > 0 && ends[n-1] != len(indices)) || (n == 0 && len(indices) != 0) {
		return fmt.Errorf("%w: %d rows with %d value columns need %d values and ends[last] = len(indices); got %d values, %d indices",
			ErrShape, n, nv, n*nv, len(values), len(indices))
	}
	lo := 0
	for r, hi := range ends {
		if hi < lo || hi > len(indices) {
			return fmt.Errorf("%w: row %d: ends %d after %d", ErrShape, d.rows+r, hi, lo)
		}
		prev := -1
		for _, j := range indices[lo:hi] {
			if int(j) >= d.stored || d.isValue[j] || int(j) <= prev {
				return fmt.Errorf("%w: row %d: indicator index %d (of %d stored columns) is out of range, a value column or not ascending",
					ErrShape, d.rows+r, j, d.stored)
			}
			prev = int(j)
		}
		for k, v := range values[r*nv : r*nv+nv] {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return &DataError{Row: d.rows + r, Column: d.valueCols[k], Err: ErrNotFinite}
			}
		}
		lo = hi
	}
	base := len(d.idx)
	for _, e := range ends {
		d.ptr = append(d.ptr, base+e)
	}
	d.idx = append(d.idx, indices...)
	d.val = append(d.val, values...)
	d.rows += n
	return nil
}

// SetIndicatorValues sets, per column, the number a present indicator stands for (len Cols(); the
// entries of value columns are ignored); nil restores 1. It returns ErrShape for a wrong length or a
// term design (whose terms carry their values) and ErrNotFinite for a NaN or infinite entry.
func (d *Design) SetIndicatorValues(v []float64) error {
	if d.termed {
		return fmt.Errorf("%w: a term design's indicator values are its terms'", ErrShape)
	}
	if v == nil {
		d.terms = nil
		return nil
	}
	if len(v) != d.cols {
		return fmt.Errorf("%w: %d indicator values for %d columns", ErrShape, len(v), d.cols)
	}
	of, coefs := make([][]int, d.cols), make([][]float64, d.cols)
	for c, x := range v {
		if !d.isValue[c] && (math.IsNaN(x) || math.IsInf(x, 0)) {
			return fmt.Errorf("%w: indicator value of column %d is %v", ErrNotFinite, c, x)
		}
		if d.isValue[c] {
			x = 1
		}
		of[c], coefs[c] = []int{c}, []float64{x}
	}
	d.terms = newColMap(d.cols, d.cols, of, coefs)
	return nil
}

// rowAt returns row r's present stored indicators and its value columns' numbers. The slices alias
// the design and must not be modified.
func (d *Design) rowAt(r int) (indices []uint16, values []float64) {
	nv := len(d.valueCols)
	return d.idx[d.ptr[r]:d.ptr[r+1]], d.val[r*nv : r*nv+nv]
}

// stored returns the entry of row r and stored column j.
func (d *Design) storedAt(r, j int) float64 {
	if d.isValue[j] {
		k, _ := slices.BinarySearch(d.valueCols, j)
		return d.val[r*len(d.valueCols)+k]
	}
	if _, ok := slices.BinarySearch(d.idx[d.ptr[r]:d.ptr[r+1]], uint16(j)); ok {
		return 1
	}
	return 0
}

// At returns the entry of row r and column c.
func (d *Design) At(r, c int) float64 {
	if d.terms == nil {
		return d.storedAt(r, c)
	}
	t, v := d.terms.t, 0.0
	for k := t.byStored[c]; k < t.byStored[c+1]; k++ {
		v += t.coef[k] * d.storedAt(r, t.col[k])
	}
	return v
}

// ColumnMeans returns the mean of each column over all rows (nil for a design without rows).
func (d *Design) ColumnMeans() []float64 {
	if d.rows == 0 {
		return nil
	}
	m := make([]float64, d.stored+1)
	for _, j := range d.idx {
		m[j]++
	}
	nv := len(d.valueCols)
	for r := range d.rows {
		for k, v := range d.val[r*nv : r*nv+nv] {
			m[d.valueCols[k]] += v
		}
	}
	if d.terms != nil {
		out := make([]float64, d.cols+1)
		d.terms.apply(out, m)
		m = out
	}
	m = m[:d.cols]
	for c := range m {
		m[c] /= float64(d.rows)
	}
	return m
}

// storedWeights sets u (len stored+1) to the weight each stored column adds to the linear predictor
// per unit of its entry, the intercept last, from the fit's weights then intercept beta (len cols+1).
func (d *Design) storedWeights(u, beta []float64) {
	if d.terms == nil {
		copy(u, beta)
		return
	}
	d.terms.t.apply(u, beta)
}

// linear returns the linear predictor of row r from the stored weights u (storedWeights).
func (d *Design) linear(r int, u []float64) float64 {
	ind, vals := d.rowAt(r)
	z := u[d.stored]
	for _, j := range ind {
		z += u[j]
	}
	for k, v := range vals {
		z += v * u[d.valueCols[k]]
	}
	return z
}

// Sums returns, for each row, the sums of w[j] times the row's entry of stored column j over the
// stored columns of each of n groups (group[j] in [0, n); len(w) and len(group) are the stored
// columns: Cols(), or the bins of a term design), rows x n, row-major. A model that weighs the stored
// columns, as a model weighs the encoder outputs its design was built from, thus scores the rows
// without encoding them again. It panics if a length or a group is out of range.
func (d *Design) Sums(w []float64, group []int, n int) []float64 {
	if len(w) != d.stored || len(group) != d.stored {
		panic("fit: Sums needs a weight and a group per stored column")
	}
	out := make([]float64, d.rows*n)
	nv := len(d.valueCols)
	for r := range d.rows {
		s := out[r*n : r*n+n]
		for _, j := range d.idx[d.ptr[r]:d.ptr[r+1]] {
			s[group[j]] += w[j]
		}
		for k, v := range d.val[r*nv : r*nv+nv] {
			c := d.valueCols[k]
			s[group[c]] += w[c] * v
		}
	}
	return out
}
