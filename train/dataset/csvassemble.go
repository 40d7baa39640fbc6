package dataset

// The assembler puts the parsed blocks of a CSV file back in order into one frame.

import (
	"cmp"
	"fmt"
	"io"
	"slices"

	"github.com/leadscore/leadscore/features"
)

// assembler appends the columns of parsed blocks to the frame's, in file order, so that a block's
// copy can go as soon as it is added.
type assembler struct {
	p     *blockParser
	cols  []*features.Column // Kind is KindNone until a block has a value
	typed [][]blockSpan      // per column, the blocks added with values of the column's kind
	stale [][]blockSpan      // per column turned category, the blocks whose text must be read again
	size  int64              // bytes of data rows in the file, for guessing the row count
	read  int64              // bytes of the blocks added
	rows  int
	err   *ParseError // first malformed or ragged record
	bad   *ParseError // first value that does not fit a forced kind
	// invalid and multibyte gather the blocks' (see blockResult); nonFinite counts, per column,
	// inf or nan values read as missing numbers.
	invalid, multibyte bool
	nonFinite          []int
	// progress, if not nil, is told the rows added and the file offset they end at.
	progress func(rows int, end int64)
}

// blockSpan says where a block is in the file and in the frame.
type blockSpan struct {
	offset     int64
	size, line int
	row, rows  int
}

func newAssembler(p *blockParser, size int64) *assembler {
	a := &assembler{p: p, cols: make([]*features.Column, len(p.cols)), size: size, nonFinite: make([]int, len(p.cols)),
		typed: make([][]blockSpan, len(p.cols)), stale: make([][]blockSpan, len(p.cols))}
	for c, col := range p.cols {
		a.cols[c] = &features.Column{Name: col.name}
	}
	return a
}

// add appends the next block of the file.
func (a *assembler) add(res *blockResult) {
	if a.err != nil {
		return
	}
	if res.err != nil {
		a.err = res.err.at("", a.rows)
		return
	}
	if a.bad == nil && res.bad != nil {
		a.bad = res.bad.at("", a.rows)
	}
	a.invalid, a.multibyte = a.invalid || res.invalid, a.multibyte || res.multibyte
	if a.bad != nil {
		a.rows += res.rows // the values are no longer needed, only the count for later errors
		return
	}
	a.read += int64(res.size)
	// Room for the rows the file seems to hold, from the rows per byte so far, with some slack.
	room := int(float64(a.rows+res.rows)/float64(max(a.read, 1))*float64(a.size)*1.05) + 64
	sp := blockSpan{offset: res.offset, size: res.size, line: res.line, row: a.rows, rows: res.rows}
	for c := range a.cols {
		if res.parts[c].kind == features.KindNumber {
			a.nonFinite[c] += res.parts[c].nonFinite
		}
		a.append(c, &res.parts[c], sp, room)
		a.p.recycle(&res.parts[c])
	}
	a.rows += res.rows
	if a.progress != nil {
		a.progress(a.rows, res.offset+int64(res.size))
	}
}

func (a *assembler) append(c int, pt *part, sp blockSpan, room int) {
	col := a.cols[c]
	if col.Valid == nil {
		col.Valid = make([]bool, 0, max(room, sp.rows))
	}
	col.Valid = append(col.Valid, pt.valid...)
	k := pt.kind
	switch {
	case k == features.KindNone:
	case col.Kind == features.KindNone:
		col.Kind = k
		switch k {
		case features.KindCategory:
			col.Str = make([]string, sp.row, max(room, sp.row+sp.rows))
		case features.KindFlag:
			col.Bool = make([]bool, sp.row, max(room, sp.row+sp.rows))
		case features.KindNumber, features.KindTime:
			col.Num = make([]float64, sp.row, max(room, sp.row+sp.rows))
		}
	case col.Kind == k:
	case col.Kind == features.KindCategory:
		a.stale[c] = append(a.stale[c], sp)
		k = features.KindNone
	default:
		// Values of two kinds: the column is a category, and every block added so far with
		// values is read again for their text.
		a.stale[c], a.typed[c] = a.typed[c], nil
		col.Kind, col.Num, col.Bool = features.KindCategory, nil, nil
		col.Str = make([]string, sp.row, max(room, sp.row+sp.rows))
		if k != features.KindCategory {
			a.stale[c] = append(a.stale[c], sp)
			k = features.KindNone
		}
	}
	if k != features.KindNone && k != features.KindCategory {
		a.typed[c] = append(a.typed[c], sp)
	}
	switch col.Kind {
	case features.KindCategory:
		col.Str = extend(col.Str, pt.str, sp.rows)
	case features.KindFlag:
		col.Bool = extend(col.Bool, pt.flag, sp.rows)
	case features.KindNumber, features.KindTime:
		col.Num = extend(col.Num, pt.num, sp.rows)
	}
}

// extend appends add to s, or n zero values when add is nil.
func extend[T any](s, add []T, n int) []T {
	if add != nil {
		return append(s, add...)
	}
	return slices.Grow(s, n)[:len(s)+n]
}

// frame finishes the columns: it reads again the blocks of columns that turned out to be
// categories, and makes a category of each column without values.
func (a *assembler) frame(r io.ReadSeeker, name string) (*features.Frame, error) {
	var w *worker
	var data []byte
	byBlock := make(map[int64][]int)
	var spans []blockSpan
	for c := range a.cols {
		for _, sp := range a.stale[c] {
			if byBlock[sp.offset] == nil {
				spans = append(spans, sp)
			}
			byBlock[sp.offset] = append(byBlock[sp.offset], c)
		}
	}
	slices.SortFunc(spans, func(x, y blockSpan) int { return cmp.Compare(x.offset, y.offset) })
	for _, sp := range spans {
		if w == nil {
			w = a.p.newWorker()
		}
		changed := &ParseError{File: name, Err: fmt.Errorf("%w: file changed while reading", ErrCorrupt)}
		if _, err := r.Seek(sp.offset, io.SeekStart); err != nil {
			return nil, &ParseError{File: name, Err: err}
		}
		data = slices.Grow(data[:0], sp.size)[:sp.size]
		if _, err := io.ReadFull(r, data); err != nil {
			return nil, changed
		}
		w.split(data, sp.line)
		if w.fs.err != nil || w.fs.n != sp.rows {
			return nil, changed
		}
		for _, c := range byBlock[sp.offset] {
			pt := w.category(c, a.p.cols[c])
			copy(a.cols[c].Str[sp.row:], pt.str)
			copy(a.cols[c].Valid[sp.row:], pt.valid) // text such as "Inf" was missing as a number
		}
	}
	f := &features.Frame{Columns: a.cols}
	for c, col := range a.cols {
		if col.Valid == nil {
			col.Valid = []bool{}
		}
		switch {
		case a.p.cols[c].forced:
			k := a.p.cols[c].kind
			if col.Kind == features.KindNone {
				col.Kind = k
				switch k {
				case features.KindCategory:
					col.Str = make([]string, a.rows)
				case features.KindFlag:
					col.Bool = make([]bool, a.rows)
				case features.KindNumber, features.KindTime:
					col.Num = make([]float64, a.rows)
				}
			}
		case col.Kind == features.KindNone:
			col.Kind, col.Str = features.KindCategory, make([]string, a.rows)
		}
	}
	return f, nil
}
