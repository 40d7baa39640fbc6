package dataset

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"reflect"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"

	"github.com/leadscore/leadscore/features"
)

// RowGroupRows bounds the rows per Parquet row group written by WriteFile; the writer buffers one
// row group in memory.
const RowGroupRows = 64 << 10

const (
	valueBatch  = 1024    // parquet values decoded per ReadValues call
	preallocMax = 1 << 20 // rows allocated up front, whatever the footer claims
	// rowsPerByte bounds the rows the row groups are believed to claim, per byte of the file, so
	// that a footer that lies costs no more than that before reading finds it out (a column packed
	// tighter, a constant's, grows as it is read).
	rowsPerByte = 1
	julianEpoch = 2440588 // Julian day number of 1970-01-01, for INT96 timestamps
)

// checkFooter checks the magic bytes at both ends and that the footer length fits in the file,
// before parquet-go trusts that length and allocates it (a 16-byte file claiming a 4 GB footer).
func checkFooter(r io.ReaderAt, size int64) error {
	const magic = "PAR1"
	if size < 12 {
		return fmt.Errorf("%d bytes is too short for a Parquet file", size)
	}
	var head [4]byte
	var tail [8]byte
	if _, err := r.ReadAt(head[:], 0); err != nil {
		return err
	}
	if _, err := r.ReadAt(tail[:], size-8); err != nil {
		return err
	}
	if string(head[:]) != magic || string(tail[4:]) != magic {
		return errors.New("not a Parquet file (no PAR1 magic bytes)")
	}
	if n := int64(binary.LittleEndian.Uint32(tail[:4])); n > size-12 {
		return fmt.Errorf("footer length %d exceeds the file (%d bytes)", n, size)
	}
	return nil
}

// ReadParquet reads a Parquet file of size bytes into a frame; name is used in errors only.
//
// Every leaf column that is not repeated becomes a column named by its path joined with dots
// (a top-level column keeps its name). Kinds follow the column types: BOOLEAN is a flag;
// integers of any width and sign, FLOAT, DOUBLE, DECIMAL, FLOAT16 and TIME (as seconds since
// midnight) are numbers; DATE, TIMESTAMP (milli, micro or nano seconds) and INT96 are times;
// BYTE_ARRAY and FIXED_LEN_BYTE_ARRAY (strings, enums, JSON, raw bytes) are categories, with
// UUIDs in their usual text form. A NULL is a missing value, as are NaN and infinite floats.
// A repeated column (a LIST, a MAP) is an error wrapping ErrUnsupported that names it; leave it
// out with opts.Columns.
//
// The file is read one row group at a time through column pages, so memory beyond the frame is
// a page per column. Errors are *ParseError values; a file parquet-go cannot decode, including
// one on which it panics, is ErrCorrupt.
func ReadParquet(r io.ReaderAt, size int64, name string, opts ReadOptions) (frame *features.Frame, err error) {
	defer func() {
		if p := recover(); p != nil {
			frame, err = nil, &ParseError{File: name, Err: fmt.Errorf("%w: %v", ErrCorrupt, p)}
		}
	}()
	if err := checkFooter(r, size); err != nil {
		return nil, &ParseError{File: name, Err: fmt.Errorf("%w: %w", ErrCorrupt, err)}
	}
	pf, err := parquet.OpenFile(r, size, parquet.SkipPageIndex(true), parquet.SkipBloomFilters(true))
	if err != nil {
		return nil, &ParseError{File: name, Err: fmt.Errorf("%w: %w", ErrCorrupt, err)}
	}
	var leaves []*parquet.Column
	var names []string
	var walk func(c *parquet.Column)
	walk = func(c *parquet.Column) {
		if c.Leaf() {
			leaves = append(leaves, c)
			names = append(names, strings.Join(c.Path(), "."))
			return
		}
		for _, child := range c.Columns() {
			walk(child)
		}
	}
	walk(pf.Root())
	keep, err := selection(name, names, opts)
	if err != nil {
		return nil, err
	}
	seen := make(map[string]bool, len(names))
	for _, n := range names {
		if seen[n] {
			return nil, &ParseError{File: name, Column: n, Err: ErrDuplicateColumn}
		}
		seen[n] = true
	}

	missing := features.NewMissingValues(opts.MissingValues)
	enc, err := encodingOf(opts.Encoding)
	if err != nil {
		return nil, &ParseError{File: name, Err: err}
	}
	mode := map[string]textMode{EncodingAuto: textCheck, EncodingUTF8: textStrict, EncodingWindows1252: textDecode}[enc]
	// The rows are those of the row groups (which reading checks), not the file's own claim, and
	// are trusted up to rowsPerByte rows per byte of the file.
	rows := groupRows(pf)
	trusted := max(preallocMax, rowsPerByte*size)
	prealloc := int(min(rows, trusted))
	var readers []*leafReader
	frame = &features.Frame{}
	for i, leaf := range leaves {
		if !keep[names[i]] {
			continue
		}
		if leaf.MaxRepetitionLevel() > 0 {
			return nil, &ParseError{File: name, Column: names[i],
				Err: fmt.Errorf("%w: repeated (list or map) column %s; leave it out with the columns option", ErrUnsupported, leaf.Type())}
		}
		lr, err := newLeafReader(leaf, names[i], prealloc, missing)
		if err != nil {
			return nil, &ParseError{File: name, Column: names[i], Err: err}
		}
		lr.mode = mode
		readers = append(readers, lr)
		frame.Columns = append(frame.Columns, lr.col)
	}

	buf := make([]parquet.Value, valueBatch)
	row := 0
	for g, rg := range pf.RowGroups() {
		n := int(rg.NumRows())
		chunks := rg.ColumnChunks()
		for _, lr := range readers {
			reserve(lr.col, n, int(rows), int(trusted))
		}
		for _, lr := range readers {
			if lr.index >= len(chunks) {
				return nil, &ParseError{File: name, Row: row + 1, Column: lr.col.Name,
					Err: fmt.Errorf("%w: row group %d has no chunk for the column", ErrCorrupt, g)}
			}
			before := lr.col.Len()
			if err := lr.readChunk(chunks[lr.index], buf); err != nil {
				return nil, &ParseError{File: name, Row: row + 1, Column: lr.col.Name, Err: fmt.Errorf("%w: %w", ErrCorrupt, err)}
			}
			if got := lr.col.Len() - before; got != n {
				return nil, &ParseError{File: name, Row: row + 1, Column: lr.col.Name,
					Err: fmt.Errorf("%w: row group %d holds %d values, want %d", ErrCorrupt, g, got, n)}
			}
		}
		row += n
		if opts.Progress != nil {
			opts.Progress(ReadProgress{Rows: int64(row), Bytes: int64(float64(size) * float64(row) / float64(max(rows, 1))), TotalBytes: size})
		}
	}
	decoded := false
	for _, lr := range readers {
		if lr.bad != nil {
			lr.bad.File = name
			return nil, lr.bad
		}
		decoded = decoded || lr.decoded > 0
		if lr.col.Kind == features.KindNumber {
			opts.Report.nonFinite(lr.col.Name, lr.nonFinite)
		}
	}
	if decoded {
		opts.Report.decoded(name, EncodingWindows1252)
	}
	for i, c := range frame.Columns {
		if k, ok := opts.Kinds[c.Name]; ok {
			if frame.Columns[i], err = convertColumn(name, c, k, missing); err != nil {
				return nil, err
			}
		}
	}
	return frame, nil
}

// groupRows returns the rows the file's row groups claim (not negative).
func groupRows(pf *parquet.File) int64 {
	var n int64
	for _, rg := range pf.RowGroups() {
		n += max(rg.NumRows(), 0)
	}
	return n
}

// reserve makes room in c for n more rows, of total rows the file claims, so that the columns end
// with the capacity of the file's rows rather than append's slack, and reading copies each one a few
// times, not at every quarter's growth. The claim is trusted no further than twice the rows read (or
// trusted rows), so that a footer claiming more rows than the file holds costs no more than that.
func reserve(c *features.Column, n, total, trusted int) {
	have, need := len(c.Valid), len(c.Valid)+n
	if need <= cap(c.Valid) {
		return
	}
	size := min(max(need, total), max(2*have, trusted))
	if size < need {
		return // a row group claiming that many rows is left to append, and checked once read
	}
	c.Valid = growTo(c.Valid, size)
	switch c.Kind {
	case features.KindCategory:
		c.Str = growTo(c.Str, size)
	case features.KindFlag:
		c.Bool = growTo(c.Bool, size)
	default:
		c.Num = growTo(c.Num, size)
	}
}

// growTo returns s with capacity exactly size (at least len(s)).
func growTo[T any](s []T, size int) []T {
	out := make([]T, len(s), max(size, len(s)))
	copy(out, s)
	return out
}

// leafReader appends the values of one Parquet leaf column to a frame column.
type leafReader struct {
	index int
	col   *features.Column
	num   func(parquet.Value) float64 // number and time columns; NaN means missing
	str   func(parquet.Value) string  // category columns built from something other than bytes
	in    interner
	// missing are the texts read as missing in string columns, as in a CSV file.
	missing *features.MissingValues
	mode    textMode // what to do with strings that are not UTF-8; textCheck decodes them
	// decoded counts strings decoded from Windows-1252, nonFinite NaN or infinite numbers read as
	// missing; bad is the first string refused in textStrict mode.
	decoded, nonFinite int
	bad                *ParseError
}

func newLeafReader(leaf *parquet.Column, name string, n int, missing *features.MissingValues) (*leafReader, error) {
	t := leaf.Type()
	lr := &leafReader{index: leaf.Index(), missing: missing}
	kind := features.KindNumber
	var lt format.LogicalTypeValue
	if l := t.LogicalType(); l != nil {
		lt = l.Value
	}
	switch l := lt.(type) {
	case *format.DateType:
		kind = features.KindTime
		lr.num = func(v parquet.Value) float64 { return float64(v.Int32()) * 86400 }
	case *format.TimestampType:
		if l.Unit.Value == nil {
			return nil, fmt.Errorf("%w: timestamp without a unit", ErrUnsupported)
		}
		kind = features.KindTime
		lr.num = unixSeconds(l.Unit.Value.Duration())
	case *format.TimeType:
		if l.Unit.Value == nil {
			return nil, fmt.Errorf("%w: time without a unit", ErrUnsupported)
		}
		perSecond := int64(time.Second / l.Unit.Value.Duration())
		lr.num = func(v parquet.Value) float64 { return float64(v.Int64()) / float64(perSecond) }
		if t.Kind() == parquet.Int32 {
			lr.num = func(v parquet.Value) float64 { return float64(v.Int32()) / float64(perSecond) }
		}
	case *format.DecimalType:
		lr.num = decimal(t.Kind(), int(l.Scale))
	case *format.IntType:
		switch {
		case !l.IsSigned && t.Kind() == parquet.Int32:
			lr.num = func(v parquet.Value) float64 { return float64(uint32(v.Int32())) }
		case !l.IsSigned:
			lr.num = func(v parquet.Value) float64 { return float64(uint64(v.Int64())) }
		}
	case *format.UUIDType:
		kind = features.KindCategory
		lr.str = func(v parquet.Value) string { return uuidText(v.ByteArray()) }
	case *format.Float16Type:
		lr.num = func(v parquet.Value) float64 { return float16(v.ByteArray()) }
	}
	if lr.num == nil && lr.str == nil {
		switch t.Kind() {
		case parquet.Boolean:
			kind = features.KindFlag
		case parquet.Int32:
			lr.num = func(v parquet.Value) float64 { return float64(v.Int32()) }
		case parquet.Int64:
			lr.num = func(v parquet.Value) float64 { return float64(v.Int64()) }
		case parquet.Float:
			lr.num = func(v parquet.Value) float64 { return float64(v.Float()) }
		case parquet.Double:
			lr.num = parquet.Value.Double
		case parquet.Int96:
			kind = features.KindTime
			lr.num = int96Seconds
		case parquet.ByteArray, parquet.FixedLenByteArray:
			kind = features.KindCategory
		default:
			return nil, fmt.Errorf("%w: %s", ErrUnsupported, t)
		}
	}
	lr.col = newColumn(name, kind, n)
	return lr, nil
}

// readChunk appends every value of one column chunk, page by page.
func (lr *leafReader) readChunk(chunk parquet.ColumnChunk, buf []parquet.Value) error {
	pages := chunk.Pages()
	defer pages.Close()
	for {
		page, err := pages.ReadPage()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		err = lr.readPage(page, buf)
		parquet.Release(page)
		if err != nil {
			return err
		}
	}
}

func (lr *leafReader) readPage(page parquet.Page, buf []parquet.Value) error {
	values := page.Values()
	c := lr.col
	for {
		n, err := values.ReadValues(buf)
		// Each kind has its own loop over local slices, stored back once per batch.
		valid := c.Valid
		switch c.Kind {
		case features.KindCategory:
			strs := c.Str
			for _, v := range buf[:n] {
				if v.IsNull() {
					strs, valid = append(strs, ""), append(valid, false)
					continue
				}
				s, ok := lr.text(v, len(valid))
				strs, valid = append(strs, s), append(valid, ok)
			}
			c.Str = strs
		case features.KindFlag:
			bools := c.Bool
			for _, v := range buf[:n] {
				null := v.IsNull()
				bools, valid = append(bools, !null && v.Boolean()), append(valid, !null)
			}
			c.Bool = bools
		default:
			nums := c.Num
			for _, v := range buf[:n] {
				if v.IsNull() {
					nums, valid = append(nums, 0), append(valid, false)
					continue
				}
				x := lr.num(v)
				ok := !math.IsNaN(x) && !math.IsInf(x, 0)
				if !ok {
					x = 0
					lr.nonFinite++
				}
				nums, valid = append(nums, x), append(valid, ok)
			}
			c.Num = nums
		}
		c.Valid = valid
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if n == 0 {
			return errors.New("page reader made no progress")
		}
	}
}

// text returns the string of v, a value of a category column at row (from 0), and false when it
// reads as missing.
func (lr *leafReader) text(v parquet.Value, row int) (string, bool) {
	if lr.str != nil {
		return lr.str(v), true
	}
	b := v.ByteArray()
	switch {
	case lr.missing.HasBytes(bytes.TrimSpace(b)):
		return "", false
	case !isASCII(b) && (lr.mode == textDecode || !utf8.Valid(b)):
		if lr.mode == textStrict && lr.bad == nil {
			lr.bad = &ParseError{Row: row + 1, Column: lr.col.Name,
				Err: fmt.Errorf("%w: %q (name the file's encoding, for example windows-1252)", ErrEncoding, strings.ToValidUTF8(string(b), "\uFFFD"))}
		}
		lr.decoded++
		return decode1252(b), true
	}
	return lr.in.internBytes(b), true
}

// internBytes is intern for a byte slice that the caller may reuse.
func (in *interner) internBytes(b []byte) string {
	if in.full {
		return string(b)
	}
	if v, ok := in.m[string(b)]; ok {
		return v
	}
	return in.add(string(b))
}

// unixSeconds converts an INT64 count of unit since the epoch to Unix seconds, keeping the
// sub-second part exact before the final division.
func unixSeconds(unit time.Duration) func(parquet.Value) float64 {
	perSecond := int64(time.Second / unit)
	return func(v parquet.Value) float64 {
		x := v.Int64()
		return float64(x/perSecond) + float64(x%perSecond)/float64(perSecond)
	}
}

// int96Seconds decodes the legacy INT96 timestamp: nanoseconds of the day, then a Julian day.
func int96Seconds(v parquet.Value) float64 {
	i := v.Int96()
	nanos := int64(i[1])<<32 | int64(i[0])
	day := int64(i[2]) - julianEpoch
	return float64(day*86400+nanos/1e9) + float64(nanos%1e9)/1e9
}

// decimal decodes an unscaled decimal stored as kind, divided by 10^scale.
func decimal(kind parquet.Kind, scale int) func(parquet.Value) float64 {
	div := math.Pow10(scale)
	switch kind {
	case parquet.Int32:
		return func(v parquet.Value) float64 { return float64(v.Int32()) / div }
	case parquet.Int64:
		return func(v parquet.Value) float64 { return float64(v.Int64()) / div }
	}
	return func(v parquet.Value) float64 {
		b := v.ByteArray()
		x := new(big.Int).SetBytes(b)
		if len(b) > 0 && b[0]&0x80 != 0 {
			x.Sub(x, new(big.Int).Lsh(big.NewInt(1), uint(8*len(b))))
		}
		f, _ := new(big.Float).Quo(new(big.Float).SetInt(x), big.NewFloat(div)).Float64()
		return f
	}
}

// float16 decodes an IEEE half-precision float stored little-endian in two bytes.
func float16(b []byte) float64 {
	if len(b) != 2 {
		return math.NaN()
	}
	h := binary.LittleEndian.Uint16(b)
	sign := 1.0
	if h&0x8000 != 0 {
		sign = -1
	}
	exp, frac := int(h>>10&0x1f), float64(h&0x3ff)
	switch exp {
	case 0:
		return sign * math.Ldexp(frac, -24)
	case 0x1f:
		return math.NaN()
	}
	return sign * math.Ldexp(1+frac/1024, exp-15)
}

func uuidText(b []byte) string {
	if len(b) != 16 {
		return fmt.Sprintf("%x", b)
	}
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// writeParquet writes f with one optional column per frame column, in frame order: categories
// as STRING, numbers as DOUBLE, flags as BOOLEAN and times as TIMESTAMP(MICROS, UTC).
func writeParquet(w io.Writer, f *features.Frame) error {
	g := orderedGroup{Group: parquet.Group{}}
	for _, c := range f.Columns {
		var node parquet.Node
		switch c.Kind {
		case features.KindCategory:
			node = parquet.String()
		case features.KindNumber:
			node = parquet.Leaf(parquet.DoubleType)
		case features.KindFlag:
			node = parquet.Leaf(parquet.BooleanType)
		case features.KindTime:
			node = parquet.Timestamp(parquet.Microsecond)
		}
		node = parquet.Optional(node)
		g.Group[c.Name] = node
		g.fields = append(g.fields, &groupField{Node: node, name: c.Name})
	}
	pw := parquet.NewWriter(w, parquet.NewSchema("contacts", g),
		parquet.MaxRowsPerRowGroup(RowGroupRows), parquet.Compression(&parquet.Snappy))
	rows := make([]parquet.Row, valueBatch)
	for start := 0; start < f.Len(); start += valueBatch {
		end := min(start+valueBatch, f.Len())
		for i := start; i < end; i++ {
			row := rows[i-start][:0]
			for j, c := range f.Columns {
				if !c.Valid[i] {
					row = append(row, parquet.NullValue().Level(0, 0, j))
					continue
				}
				var v parquet.Value
				switch c.Kind {
				case features.KindCategory:
					v = parquet.ByteArrayValue([]byte(c.Str[i]))
				case features.KindNumber:
					v = parquet.DoubleValue(c.Num[i])
				case features.KindFlag:
					v = parquet.BooleanValue(c.Bool[i])
				case features.KindTime:
					v = parquet.Int64Value(int64(math.Round(c.Num[i] * 1e6)))
				}
				row = append(row, v.Level(0, 1, j))
			}
			rows[i-start] = row
		}
		if _, err := pw.WriteRows(rows[:end-start]); err != nil {
			return err
		}
	}
	return pw.Close()
}

// orderedGroup is a parquet.Group whose fields keep the frame's column order (a plain Group sorts
// them by name).
type orderedGroup struct {
	parquet.Group
	fields []parquet.Field
}

func (g orderedGroup) Fields() []parquet.Field { return g.fields }

type groupField struct {
	parquet.Node
	name string
}

func (f *groupField) Name() string { return f.name }

func (f *groupField) Value(base reflect.Value) reflect.Value {
	return base.MapIndex(reflect.ValueOf(f.name))
}
