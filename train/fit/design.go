package fit

import (
	"fmt"
	"math"
	"slices"
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
	cols      int
	valueCols []int     // ascending
	isValue   []bool    // per column
	indVal    []float64 // per column: an indicator's value when present; nil means 1
	rows      int
	ptr       []int     // row r's indicators are idx[ptr[r]:ptr[r+1]]; len rows+1
	idx       []uint16  // indicator indices, ascending within a row
	val       []float64 // rows x len(valueCols), row-major
}

// NewDesign returns an empty design of cols columns of which valueCols hold numbers and the rest are
// indicators. It returns ErrShape when cols is negative or above MaxCols, or a value column is out of
// range or listed twice.
func NewDesign(cols int, valueCols []int) (*Design, error) {
	if cols < 0 || cols > MaxCols {
		return nil, fmt.Errorf("%w: %d columns, want 0 to %d", ErrShape, cols, MaxCols)
	}
	d := &Design{cols: cols, isValue: make([]bool, cols), ptr: []int{0}}
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
			if int(j) >= d.cols || d.isValue[j] || int(j) <= prev {
				return fmt.Errorf("%w: row %d: indicator index %d (of %d columns) is out of range, a value column or not ascending",
					ErrShape, d.rows+r, j, d.cols)
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
// entries of value columns are ignored); nil restores 1. It returns ErrShape for a wrong length and
// ErrNotFinite for a NaN or infinite entry.
func (d *Design) SetIndicatorValues(v []float64) error {
	if v == nil {
		d.indVal = nil
		return nil
	}
	if len(v) != d.cols {
		return fmt.Errorf("%w: %d indicator values for %d columns", ErrShape, len(v), d.cols)
	}
	for c, x := range v {
		if !d.isValue[c] && (math.IsNaN(x) || math.IsInf(x, 0)) {
			return fmt.Errorf("%w: indicator value of column %d is %v", ErrNotFinite, c, x)
		}
	}
	d.indVal = slices.Clone(v)
	for c := range d.indVal {
		if d.isValue[c] {
			d.indVal[c] = 1
		}
	}
	return nil
}

// rowAt returns row r's present indicators and its value columns' numbers. The slices alias the
// design and must not be modified.
func (d *Design) rowAt(r int) (indices []uint16, values []float64) {
	nv := len(d.valueCols)
	return d.idx[d.ptr[r]:d.ptr[r+1]], d.val[r*nv : r*nv+nv]
}

// At returns the entry of row r and column c.
func (d *Design) At(r, c int) float64 {
	if d.isValue[c] {
		k, _ := slices.BinarySearch(d.valueCols, c)
		return d.val[r*len(d.valueCols)+k]
	}
	if _, ok := slices.BinarySearch(d.idx[d.ptr[r]:d.ptr[r+1]], uint16(c)); ok {
		return d.indicatorValue(c)
	}
	return 0
}

func (d *Design) indicatorValue(c int) float64 {
	if d.indVal == nil {
		return 1
	}
	return d.indVal[c]
}

// ColumnMeans returns the mean of each column over all rows (nil for a design without rows).
func (d *Design) ColumnMeans() []float64 {
	if d.rows == 0 {
		return nil
	}
	m := make([]float64, d.cols)
	for _, j := range d.idx {
		m[j]++
	}
	nv := len(d.valueCols)
	for r := range d.rows {
		for k, v := range d.val[r*nv : r*nv+nv] {
			m[d.valueCols[k]] += v
		}
	}
	for c := range m {
		if !d.isValue[c] {
			m[c] *= d.indicatorValue(c)
		}
		m[c] /= float64(d.rows)
	}
	return m
}

// linear returns the linear predictor b + x_r.w of row r; w has length Cols().
func (d *Design) linear(r int, w []float64, b float64) float64 {
	ind, vals := d.rowAt(r)
	z := b
	if d.indVal == nil {
		for _, j := range ind {
			z += w[j]
		}
	} else {
		for _, j := range ind {
			z += w[j] * d.indVal[j]
		}
	}
	for k, v := range vals {
		z += v * w[d.valueCols[k]]
	}
	return z
}
