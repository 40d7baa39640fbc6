package features

import (
	"fmt"
	"math"
	"runtime"
	"slices"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"
)

// cell is one property value read as its column's kind: s for a category, x for a number, Unix
// seconds for a time, 1 or 0 for a flag. ok is false for a missing value.
type cell struct {
	ok bool
	s  string
	x  float64
}

// catCell reads a category value; blank text and missing values are missing.
func catCell(s string, missing *MissingValues) cell {
	if hasMissing(missing, strings.TrimSpace(s)) {
		return cell{}
	}
	return cell{ok: true, s: s}
}

func numCell(x float64) (cell, error) {
	if !isFiniteNum(x) {
		return cell{}, ErrNotFinite
	}
	return cell{ok: true, x: x}, nil
}

func flagCell(b bool) cell {
	if b {
		return cell{ok: true, x: 1}
	}
	return cell{ok: true}
}

// timeCell reads Unix seconds as a contact's time.Time would hold them, so that both encoding paths
// see the same float.
func timeCell(sec float64) cell { return cell{ok: true, x: UnixSeconds(UnixTime(sec))} }

// cellOf reads a contact's value as the column's kind through Parse. It returns ErrWrongType or
// ErrNotFinite (bare; the caller adds the property).
func (ce *ColumnEncoding) cellOf(v Value, missing *MissingValues) (cell, error) {
	p, err := Parse(ce.Kind, v, missing)
	if err != nil || p.Missing() {
		return cell{}, err
	}
	switch p.Kind {
	case KindCategory:
		return cell{ok: true, s: p.Str}, nil
	case KindNumber:
		return cell{ok: true, x: p.Num}, nil
	case KindFlag:
		return flagCell(p.Bool), nil
	}
	return cell{ok: true, x: UnixSeconds(p.Time)}, nil
}

// frameCell reads row i of col as the column's kind: directly from the column's slice when the kinds
// agree, else through cellOf, exactly as EncodeContact would read f.Contact(i, ""). A nil col (a
// column absent from the frame) is missing in every row; an error names the property, row and value.
func (ce *ColumnEncoding) frameCell(col *Column, i int, missing *MissingValues) (cell, error) {
	if col == nil || !col.Valid[i] {
		return cell{}, nil
	}
	var c cell
	var err error
	switch {
	case col.Kind != ce.Kind:
		c, err = ce.cellOf(col.Value(i), missing)
	case col.Kind == KindCategory:
		c = catCell(col.Str[i], missing)
	case col.Kind == KindNumber:
		c, err = numCell(col.Num[i])
	case col.Kind == KindFlag:
		c = flagCell(col.Bool[i])
	case col.Kind == KindTime:
		c = timeCell(col.Num[i])
	default:
		c, err = ce.cellOf(col.Value(i), missing)
	}
	if err != nil {
		return cell{}, ce.propertyError(col.Value(i), i, err)
	}
	return c, nil
}

func (ce *ColumnEncoding) propertyError(v Value, row int, err error) error {
	return &PropertyError{Property: ce.Property, Row: row, Value: v.Text(), Kind: ce.Kind, Err: err}
}

// key is the vocabulary key of a category value: the value, or its derived class.
func (ce *ColumnEncoding) key(s string) string {
	if ce.Derive == "" {
		return Fold(s)
	}
	return DerivedClass(ce.Derive, s)
}

// DerivedClass returns the class a derived category property is encoded by: the e-mail domain class
// for DeriveEmailDomain, the title seniority for DeriveTitleSeniority, and s itself otherwise.
func DerivedClass(derive, s string) string {
	switch derive {
	case DeriveEmailDomain:
		return EmailDomainClass(s)
	case DeriveTitleSeniority:
		return TitleSeniority(s)
	}
	return s
}

// numberValue is the transformed value of a number: x, or log1p(max(x, 0)) when log.
func numberValue(x float64, log bool) float64 {
	if !log {
		return x
	}
	if !(x > 0) {
		x = 0
	}
	return math.Log1p(x)
}

// scale standardises a transformed value and clips it to ±clipZ.
func (ce *ColumnEncoding) scale(t float64) float64 {
	z := (t - ce.Mean) / ce.SD
	switch {
	case z > clipZ:
		return clipZ
	case z < -clipZ:
		return -clipZ
	}
	return z
}

// level returns the output of category value s among levels (the index's map of the column).
func (ce *ColumnEncoding) level(levels map[string]int, s string) (int, bool) {
	j, ok := levels[s] // a level's own spelling needs no folding
	if !ok || ce.Derive != "" {
		j, ok = levels[ce.key(s)]
	}
	return j, ok
}

// put writes the outputs of one value into dst, the column's zeroed slice of the vector. Both
// EncodeContact and EncodeFrame go through it.
func (ce *ColumnEncoding) put(levels map[string]int, c cell, asOf float64, dst []float64) {
	if ce.Binned {
		ce.putBin(levels, c, asOf, dst)
		return
	}
	switch ce.Kind {
	case KindCategory:
		if !c.ok {
			if ce.Missing {
				dst[len(dst)-1] = 1
			}
			return
		}
		if j, ok := ce.level(levels, c.s); ok {
			dst[j] = 1
		} else if ce.Other {
			dst[len(ce.Levels)] = 1
		}
		return
	case KindNumber:
		t := ce.Impute
		if c.ok {
			t = numberValue(c.x, ce.Log)
		}
		dst[0] = ce.scale(t)
	case KindFlag:
		dst[0] = c.x
	case KindTime:
		t := ce.Impute
		if c.ok {
			t = recencyDays(asOf, c.x)
		}
		dst[0] = ce.scale(t)
	}
	if ce.Missing && !c.ok {
		dst[1] = 1
	}
	if len(ce.Cuts) > 0 && c.ok {
		off := 1
		if ce.Missing {
			off = 2
		}
		k, _ := slices.BinarySearch(ce.Cuts, c.x)
		if k < len(ce.Cuts) && ce.Cuts[k] == c.x {
			k++ // a value on a cut point belongs to the range it starts
		}
		dst[off+k] = 1
	}
}

// EncodeContact writes the feature vector of c into dst, which must have length Width (else it
// panics). asOf is the "now" of recency features; the zero time means ReferenceTime. Values are read
// leniently: numeric strings (" 3.5 ") for number columns; true/false/yes/no/1/0 strings and 0/1
// numbers for flags; RFC 3339 or "2006-01-02" strings for times; any value's Text for a category.
// Blank strings are missing. A value that cannot be read, or a NaN or infinite number, is a
// *PropertyError wrapping ErrWrongType or ErrNotFinite (the first in spec order). Properties the spec
// does not know give warnings, sorted by property; known but unused ones are ignored. It allocates
// only for warnings and errors.
func (e *Encoder) EncodeContact(c Contact, asOf time.Time, dst []float64) ([]Warning, error) {
	ix, err := e.index()
	if err != nil {
		return nil, err
	}
	if len(dst) != ix.width {
		panic(fmt.Sprintf("features: EncodeContact: len(dst) = %d, want Width() = %d", len(dst), ix.width))
	}
	if asOf.IsZero() {
		asOf = e.ReferenceTime
	}
	now := UnixSeconds(asOf)
	clear(dst)
	for i := range e.Columns {
		if err := e.encodeColumn(ix, i, c.Props[e.Columns[i].Property], now, dst); err != nil {
			return nil, err
		}
	}
	return e.unknown(ix, c), nil
}

// Unknown returns the warnings EncodeContact gives for c: one per property the spec does not list,
// sorted by property (see UnknownWarning); nil when there are none, or when the encoder is invalid.
func (e *Encoder) Unknown(c Contact) []Warning {
	ix, err := e.index()
	if err != nil {
		return nil
	}
	return e.unknown(ix, c)
}

func (e *Encoder) unknown(ix *encoderIndex, c Contact) []Warning {
	known := 0
	for i := range e.Columns {
		if _, ok := c.Props[e.Columns[i].Property]; ok {
			known++
		}
	}
	for _, name := range ix.ignore {
		if _, ok := c.Props[name]; ok {
			known++
		}
	}
	if known == len(c.Props) {
		return nil
	}
	var warnings []Warning
	for name := range c.Props {
		if !e.knows(ix, name) {
			warnings = append(warnings, UnknownWarning(name))
		}
	}
	slices.SortFunc(warnings, func(a, b Warning) int { return strings.Compare(a.Property, b.Property) })
	return warnings
}

// EncodeValues is EncodeContact for a contact already resolved against the encoder's columns:
// vals[i] is the value of Columns[i].Property, the zero Value when the contact has none; len(vals)
// must be len(Columns) and len(dst) Width (else it panics). It gives no warnings, since the caller
// knows which properties it did not place in vals (see UnknownWarning), and allocates only for errors.
// For the same values it writes exactly what EncodeContact writes.
func (e *Encoder) EncodeValues(vals []Value, asOf time.Time, dst []float64) error {
	ix, err := e.index()
	if err != nil {
		return err
	}
	if len(dst) != ix.width || len(vals) != len(e.Columns) {
		panic(fmt.Sprintf("features: EncodeValues: len(vals) = %d, len(dst) = %d, want %d and Width() = %d", len(vals), len(dst), len(e.Columns), ix.width))
	}
	if asOf.IsZero() {
		asOf = e.ReferenceTime
	}
	now := UnixSeconds(asOf)
	clear(dst)
	for i := range e.Columns {
		if err := e.encodeColumn(ix, i, vals[i], now, dst); err != nil {
			return err
		}
	}
	return nil
}

// encodeColumn writes the outputs of column i for value v into their part of dst, which must be
// zeroed: the one step of EncodeContact and EncodeValues.
func (e *Encoder) encodeColumn(ix *encoderIndex, i int, v Value, now float64, dst []float64) error {
	ce := &e.Columns[i]
	cl, err := ce.cellOf(v, ix.missing)
	if err != nil {
		return ce.propertyError(v, -1, err)
	}
	ce.put(ix.levels[i], cl, now, dst[ix.offsets[i]:ix.offsets[i+1]])
	return nil
}

// UnknownWarning is the warning for a property that the model's spec does not list, which
// EncodeContact gives.
func UnknownWarning(name string) Warning {
	return Warning{Property: name, Message: "not in the model's spec; ignored"}
}

func (e *Encoder) knows(ix *encoderIndex, name string) bool {
	for _, ce := range e.Columns {
		if ce.Property == name {
			return true
		}
	}
	return slices.Contains(ix.ignore, name)
}

// EncodeFrame encodes the given rows of f (nil: every row) into a row-major len(rows) x Width()
// matrix, reading each column's slice directly. Row r of the result is bit-identical to what
// EncodeContact writes for f.Contact(rows[r], ""). A used column absent from f is missing in every
// row (see MissingColumns); columns the encoder does not use are ignored. Errors are those of
// EncodeContact, with the row index set. Blocks of rows are encoded on up to GOMAXPROCS goroutines.
func (e *Encoder) EncodeFrame(f *Frame, rows []int, asOf time.Time) ([]float64, error) {
	ix, rows, now, err := e.frameSetup(rows, f.Len(), asOf)
	if err != nil {
		return nil, err
	}
	out := make([]float64, len(rows)*ix.width)
	cols := make([]*Column, len(e.Columns))
	for ci := range e.Columns {
		cols[ci] = f.Column(e.Columns[ci].Property)
	}
	// Blocks of rows, column by column within a block: each column's loop stays simple while the
	// block's output stays in cache.
	blocks := (len(rows) + blockRows - 1) / blockRows
	errs := make([]error, blocks)
	var g errgroup.Group
	g.SetLimit(runtime.GOMAXPROCS(0))
	for b := range blocks {
		g.Go(func() error {
			errs[b] = e.encodeBlock(ix, cols, rows, b*blockRows, min((b+1)*blockRows, len(rows)), now, out)
			return nil
		})
	}
	_ = g.Wait() // errors are kept per block, to report the lowest failing one
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// frameSetup is what EncodeFrame and BinFrame start with: the encoder's index, the rows of a frame of
// n (see encodeRows) and the scoring time asOf (the zero time: ReferenceTime) in Unix seconds.
func (e *Encoder) frameSetup(rows []int, n int, asOf time.Time) (*encoderIndex, []int, float64, error) {
	ix, err := e.index()
	if err != nil {
		return nil, nil, 0, err
	}
	if rows, err = encodeRows(rows, n); err != nil {
		return nil, nil, 0, err
	}
	if asOf.IsZero() {
		asOf = e.ReferenceTime
	}
	return ix, rows, UnixSeconds(asOf), nil
}

// BinFrame is EncodeFrame for a binned encoder (Binned), whose every column has exactly one output
// that is 1 in each row: it returns the index of that output, so row r's outputs that are not 0 are
// out[r*len(e.Columns):(r+1)*len(e.Columns)], ascending. It costs two bytes per row and column where
// EncodeFrame's matrix costs eight per output. The columns are binned one at a time, each loaded
// when its turn comes (Columns), on up to GOMAXPROCS goroutines; the error reported is the one
// EncodeFrame would report: the first, in column order, of the lowest block of rows that fails.
func (e *Encoder) BinFrame(f Columns, rows []int, asOf time.Time) ([]uint16, error) {
	for i := range e.Columns {
		if !e.Columns[i].Binned {
			return nil, fmt.Errorf("features: column %q is not binned: BinFrame needs an encoder from Binned", e.Columns[i].Property)
		}
	}
	if w := e.Width(); w > math.MaxUint16+1 {
		return nil, fmt.Errorf("features: %d bins do not fit BinFrame's two-byte indices", w)
	}
	ix, rows, now, err := e.frameSetup(rows, f.Len(), asOf)
	if err != nil {
		return nil, err
	}
	n := len(e.Columns)
	out := make([]uint16, len(rows)*n)
	// failed[ci] is the position in rows of column ci's first failing row (-1: none) and its error.
	type failure struct {
		at  int
		err error
	}
	failed := make([]failure, n)
	var g errgroup.Group
	g.SetLimit(runtime.GOMAXPROCS(0))
	for ci := range e.Columns {
		g.Go(func() error {
			failed[ci].at = -1
			col, err := load(f, e.Columns[ci].Property)
			if err != nil {
				failed[ci] = failure{0, err}
				return nil
			}
			ce, levels, lo := &e.Columns[ci], ix.levels[ci], ix.offsets[ci]
			for r, i := range rows {
				c, err := ce.frameCell(col, i, ix.missing)
				if err != nil {
					failed[ci] = failure{r, err}
					return nil
				}
				out[r*n+ci] = uint16(lo + ce.bin(levels, c, now))
			}
			return nil
		})
	}
	_ = g.Wait() // errors are kept per column, to report EncodeFrame's
	first := -1
	for ci, fl := range failed {
		if fl.err != nil && (first < 0 || fl.at/blockRows < failed[first].at/blockRows) {
			first = ci
		}
	}
	if first >= 0 {
		return nil, failed[first].err
	}
	return out, nil
}

// blockRows is the number of rows EncodeFrame encodes at a time.
const blockRows = 256

// encodeBlock encodes rows[start:end] into their rows of out.
func (e *Encoder) encodeBlock(ix *encoderIndex, cols []*Column, rows []int, start, end int, now float64, out []float64) error {
	w := ix.width
	for ci := range e.Columns {
		ce, col, levels := &e.Columns[ci], cols[ci], ix.levels[ci]
		lo, hi := ix.offsets[ci], ix.offsets[ci+1]
		for r := start; r < end; r++ {
			c, err := ce.frameCell(col, rows[r], ix.missing)
			if err != nil {
				return err
			}
			ce.put(levels, c, now, out[r*w+lo:r*w+hi])
		}
	}
	return nil
}
