package dataset

import (
	"bytes"
	"cmp"
	"encoding/csv"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"github.com/leadscore/leadscore/features"
)

// The CSV reader cuts the data rows into blocks of whole records, splits and parses each block on
// one of several goroutines, column by column, and joins the blocks in file order. A block ends at
// a line feed after an even number of quotes since the start of the data: in well-formed CSV that
// is always the end of a record, and a malformed record is reported by the block holding it
// before any later block could be misread.

// block is a run of whole records of the data rows.
type block struct {
	index  int
	data   []byte
	offset int64 // position of data[0] in the file
	line   int   // lines of the file before data[0]
}

// splitter reads the data rows as blocks of about size bytes.
type splitter struct {
	r      io.Reader
	size   int
	offset int64 // file position of the next byte not yet in a block
	line   int   // lines of the file before that byte
	carry  []byte
	eof    bool
	free   chan []byte // block buffers the parsers are done with
}

// next returns the next block; io.EOF when there is none.
func (s *splitter) next() (*block, error) {
	var data []byte
	select {
	case data = <-s.free:
	default:
		data = make([]byte, 0, s.size)
	}
	data = append(data[:0], s.carry...)
	cut := -1
	for {
		for len(data) < cap(data) && !s.eof {
			n, err := s.r.Read(data[len(data):cap(data)])
			data = data[:len(data)+n]
			if err == io.EOF {
				s.eof = true
			} else if err != nil {
				return nil, err
			}
		}
		if s.eof {
			cut = len(data)
			break
		}
		if cut = recordEnd(data); cut > 0 {
			break
		}
		data = append(data, make([]byte, cap(data))...)[:len(data)] // no record end yet: grow
	}
	if cut == 0 {
		return nil, io.EOF
	}
	s.carry = append(s.carry[:0], data[cut:]...)
	b := &block{data: data[:cut], offset: s.offset, line: s.line}
	s.offset += int64(cut)
	s.line += bytes.Count(b.data, []byte{'\n'})
	return b, nil
}

// recordEnd returns the length of the longest prefix of data that ends with a line feed after an
// even number of quotes, or 0.
func recordEnd(data []byte) int {
	end := bytes.LastIndexByte(data, '\n')
	if end < 0 {
		return 0
	}
	odd := bytes.Count(data[:end], []byte{'"'})%2 == 1
	for odd {
		prev := bytes.LastIndexByte(data[:end], '\n')
		if prev < 0 {
			return 0
		}
		odd = odd != (bytes.Count(data[prev:end], []byte{'"'})%2 == 1)
		end = prev
	}
	return end + 1
}

// readColumn is a column of the file that goes into the frame.
type readColumn struct {
	name   string
	index  int // field index in each record
	kind   features.Kind
	forced bool // kind comes from ReadOptions.Kinds
}

// part is one column of one block; kind is KindNone while every value is missing.
type part struct {
	kind      features.Kind
	valid     []bool
	num       []float64
	flag      []bool
	str       []string
	nonFinite int // values spelling inf or nan, missing in a number column
}

// blockResult is a parsed block. Errors carry rows counted from the start of the block.
type blockResult struct {
	index  int
	offset int64
	size   int
	line   int
	rows   int
	parts  []part
	err    *ParseError // malformed or ragged record
	bad    *ParseError // first value that does not fit a forced kind, or text that is not UTF-8
	// invalid and multibyte: the block holds bytes that are not UTF-8, and valid characters of
	// several bytes (textCheck only).
	invalid, multibyte bool
}

// blockParser parses blocks of records with width fields into the columns cols.
type blockParser struct {
	width   int
	comma   rune
	cols    []readColumn
	missing *features.MissingValues
	mode    textMode
	// The slices of parts come back here once the assembler has copied them, sparing the
	// garbage collector a frame's worth of short-lived slices.
	bools  slicePool[bool]
	floats slicePool[float64]
	strs   slicePool[string]
}

// slicePool recycles slices of T.
type slicePool[T any] struct{ p sync.Pool }

// get returns n zero values.
func (sp *slicePool[T]) get(n int) []T {
	if v, ok := sp.p.Get().(*[]T); ok && cap(*v) >= n {
		s := (*v)[:n]
		clear(s)
		return s
	}
	return make([]T, n)
}

func (sp *slicePool[T]) put(s []T) {
	if s != nil {
		sp.p.Put(&s)
	}
}

// recycle hands the slices of pt back to the pools.
func (p *blockParser) recycle(pt *part) {
	p.bools.put(pt.valid)
	p.bools.put(pt.flag)
	p.floats.put(pt.num)
	p.strs.put(pt.str)
	*pt = part{}
}

// run parses the blocks of sp on workers goroutines and hands their results to a in file order
// as they come. It stops reading after a block with a malformed record; the error is a read
// error of sp.
func (p *blockParser) run(sp *splitter, workers int, a *assembler) error {
	jobs := make(chan *block)
	done := make(chan *blockResult, workers)
	var stop atomic.Bool
	var wg sync.WaitGroup
	for range max(workers, 1) {
		wg.Go(func() {
			w := p.newWorker()
			for b := range jobs {
				res := w.parse(b)
				if res.err != nil {
					stop.Store(true)
				}
				select {
				case sp.free <- b.data[:0]:
				default:
				}
				done <- res
			}
		})
	}
	collected := make(chan struct{})
	go func() {
		defer close(collected)
		waiting := make(map[int]*blockResult)
		next := 0
		for res := range done {
			waiting[res.index] = res
			for res, ok := waiting[next]; ok; res, ok = waiting[next] {
				delete(waiting, next)
				a.add(res)
				next++
			}
		}
	}()
	var readErr error
	for i := 0; !stop.Load(); i++ {
		b, err := sp.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			readErr = err
			break
		}
		b.index = i
		jobs <- b
	}
	close(jobs)
	wg.Wait()
	close(done)
	<-collected
	return readErr
}

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

// fields holds the records of a block: field j of record i is field(i*width + j).
// span is a field at text[start:end], or at own[^start:^end] when start is negative.
type span struct{ start, end int }

type fields struct {
	width   int
	text    []byte      // the block
	own     []byte      // fields that differ from their bytes in the block (unquoted, CRLF made LF)
	spans   []span      // where each field is
	recLine []int       // line of each record
	lines   map[int]int // line of a field that does not start on its record's line
	n       int
	err     *ParseError // malformed or ragged record; Row counted within the block
}

func (fs *fields) reset(text []byte) {
	fs.text, fs.own = text, fs.own[:0]
	fs.spans, fs.recLine = fs.spans[:0], fs.recLine[:0]
	clear(fs.lines)
	fs.n, fs.err = 0, nil
}

func (fs *fields) field(k int) []byte {
	if sp := fs.spans[k]; sp.start >= 0 {
		return fs.text[sp.start:sp.end]
	}
	return fs.own[^fs.spans[k].start:^fs.spans[k].end]
}

// line returns the line of field k, as csv.Reader.FieldPos does.
func (fs *fields) line(k int) int {
	if l, ok := fs.lines[k]; ok {
		return l
	}
	return fs.recLine[k/fs.width]
}

func (fs *fields) setLine(k, line int) {
	if fs.lines == nil {
		fs.lines = make(map[int]int)
	}
	fs.lines[k] = line
}

// record ends the record whose fields start at field first and whose first line is line.
func (fs *fields) record(first, line int) bool {
	if got := len(fs.spans) - first; got != fs.width {
		fs.err = &ParseError{Line: line, Row: fs.n + 1,
			Err: fmt.Errorf("%w: %d fields, header has %d", ErrRaggedRow, got, fs.width)}
		return false
	}
	fs.recLine = append(fs.recLine, line)
	fs.n++
	return true
}

// splitFast splits data, whose first line is line+1, as encoding/csv (LazyQuotes false) would if
// every record is well formed. It returns false, leaving fs to be reset, where encoding/csv might
// report an error, so that the caller can hand the block to it for the exact message.
func (fs *fields) splitFast(data []byte, line int, comma byte) bool {
	n := len(data)
	for pos := 0; pos < n; {
		line++
		le := lineEnd(data, pos)
		end := le
		if end > pos && data[end-1] == '\r' {
			end--
		}
		if end == pos {
			pos = le + 1 // encoding/csv skips empty lines
			continue
		}
		first, recLine := len(fs.spans), line
		if bytes.IndexByte(data[pos:end], '"') < 0 {
			spans := fs.spans // a local slice spares a write barrier per field
			for p := pos; ; {
				i := bytes.IndexByte(data[p:end], comma)
				if i < 0 {
					spans = append(spans, span{p, end})
					break
				}
				spans = append(spans, span{p, p + i})
				p += i + 1
			}
			fs.spans = spans
			pos = le + 1
		} else {
			var ok bool
			if pos, line, ok = fs.splitQuoted(data, pos, le, line, recLine, comma); !ok {
				return false
			}
		}
		if !fs.record(first, recLine) {
			return true
		}
	}
	return true
}

// splitQuoted splits the record at data[pos:] whose first line ends at le and is numbered line;
// it returns where the next record starts and the line of the record's last line.
func (fs *fields) splitQuoted(data []byte, pos, le, line, recLine int, comma byte) (int, int, bool) {
	n := len(data)
	for p := pos; ; {
		k := len(fs.spans)
		if line != recLine {
			fs.setLine(k, line)
		}
		if p >= n || data[p] != '"' {
			if p > le {
				le = lineEnd(data, p)
			}
			end := le
			if end > p && data[end-1] == '\r' {
				end--
			}
			fe := end
			if i := bytes.IndexByte(data[p:end], comma); i >= 0 {
				fe = p + i
			}
			if bytes.IndexByte(data[p:fe], '"') >= 0 {
				return 0, 0, false // bare quote
			}
			fs.spans = append(fs.spans, span{p, fe})
			if fe == end {
				return le + 1, line, true
			}
			p = fe + 1
			continue
		}
		p++
		s, own := p, -1
		for {
			i := bytes.IndexByte(data[p:], '"')
			if i < 0 {
				return 0, 0, false // quoted field runs to the end of the block
			}
			chunk := data[p : p+i]
			line += bytes.Count(chunk, []byte{'\n'})
			p += i + 1
			escaped := p < n && data[p] == '"'
			if own < 0 && (escaped || bytes.Contains(chunk, []byte("\r\n"))) {
				own = len(fs.own)
				fs.own = append(fs.own, data[s:p-1-len(chunk)]...)
			}
			if own >= 0 {
				fs.own = appendLF(fs.own, chunk)
			}
			if !escaped {
				break
			}
			fs.own = append(fs.own, '"')
			p++
		}
		if own >= 0 {
			fs.spans = append(fs.spans, span{^own, ^len(fs.own)})
		} else {
			fs.spans = append(fs.spans, span{s, p - 1})
		}
		switch {
		case p < n && data[p] == comma:
			p++
		case p == n:
			return n, line, true
		case data[p] == '\n':
			return p + 1, line, true
		case data[p] == '\r' && (p+1 == n || data[p+1] == '\n'):
			return p + 2, line, true
		default:
			return 0, 0, false // quote followed by something else
		}
	}
}

// lineEnd returns the index of the first line feed at or after pos, or len(data).
func lineEnd(data []byte, pos int) int {
	if i := bytes.IndexByte(data[pos:], '\n'); i >= 0 {
		return pos + i
	}
	return len(data)
}

// appendLF appends b to dst with each CRLF turned into LF, as encoding/csv reads quoted lines.
func appendLF(dst, b []byte) []byte {
	for {
		i := bytes.Index(b, []byte("\r\n"))
		if i < 0 {
			return append(dst, b...)
		}
		dst = append(append(dst, b[:i]...), '\n')
		b = b[i+2:]
	}
}

// splitCSV splits data, whose first line is line+1, with encoding/csv.
func (fs *fields) splitCSV(data []byte, line int, comma rune) {
	cr := csv.NewReader(bytes.NewReader(data))
	cr.Comma = comma
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return
		}
		if err != nil {
			fs.err = csvError("", fs.n+1, err)
			if fs.err.Line > 0 {
				fs.err.Line += line
			}
			return
		}
		first := len(fs.spans)
		recLine, _ := cr.FieldPos(0)
		for j, f := range rec {
			fs.spans = append(fs.spans, span{^len(fs.own), ^(len(fs.own) + len(f))})
			fs.own = append(fs.own, f...)
			if l, _ := cr.FieldPos(j); l != recLine {
				fs.setLine(first+j, line+l)
			}
		}
		if !fs.record(first, line+recLine) {
			return
		}
	}
}

// worker parses blocks; its interners live across the blocks it parses.
type worker struct {
	p       *blockParser
	fs      fields
	interns []interner // per column
	arena   []byte     // text of the current column's values that are not interned
	pending []pendingText
	badText *ParseError // first text of the block that is not UTF-8 (textStrict)
}

type pendingText struct{ row, start, end int }

func (p *blockParser) newWorker() *worker {
	return &worker{p: p, fs: fields{width: p.width}, interns: make([]interner, len(p.cols))}
}

// split splits data, whose first line is line+1, into w.fs.
func (w *worker) split(data []byte, line int) {
	w.fs.reset(data)
	comma := w.p.comma
	if comma < utf8.RuneSelf && w.fs.splitFast(data, line, byte(comma)) {
		return
	}
	w.fs.reset(data)
	w.fs.splitCSV(data, line, comma)
}

func (w *worker) parse(b *block) *blockResult {
	w.split(b.data, b.line)
	res := &blockResult{index: b.index, offset: b.offset, size: len(b.data), line: b.line, rows: w.fs.n, err: w.fs.err}
	if res.err != nil {
		return res
	}
	if w.p.mode == textCheck {
		res.invalid, res.multibyte = utf8Stats(b.data)
	}
	w.badText = nil
	res.parts = make([]part, len(w.p.cols))
	for c, col := range w.p.cols {
		var bad *ParseError
		res.parts[c], bad = w.column(c, col)
		if bad != nil && (res.bad == nil || bad.Row < res.bad.Row) {
			res.bad = bad
		}
	}
	if bad := w.badText; bad != nil && (res.bad == nil || bad.Row < res.bad.Row) {
		res.bad = bad
	}
	return res
}

// column parses column c of the split block: as its forced kind, or else as the kind of its first
// value, starting again as a category at the first value of another kind. bad is the first value
// that does not fit a forced kind.
func (w *worker) column(c int, col readColumn) (pt part, bad *ParseError) {
	fs := &w.fs
	kind := features.KindNone
	pt.valid = w.p.bools.get(fs.n)
	if col.forced {
		kind = col.kind
		w.alloc(&pt, kind)
	}
	for i := range fs.n {
		k := i*fs.width + col.index
		raw := fs.field(k)
		t := trimSpace(raw)
		if w.p.missing.HasBytes(t) {
			continue
		}
		if kind == features.KindNone && !col.forced {
			kind = features.InferKind(t)
			w.alloc(&pt, kind)
		}
		ok := true
		switch kind {
		case features.KindFlag:
			pt.flag[i], ok = features.FlagText(t)
		case features.KindNumber:
			if pt.num[i], ok = features.NumberText(t); !ok && features.NonFiniteText(t) {
				pt.nonFinite++ // missing in a number column
				continue
			}
		case features.KindTime:
			pt.num[i], ok = features.TimeText(t)
		case features.KindCategory:
			w.text(&pt, c, i, raw)
		}
		if !ok && col.forced {
			// A forced kind reads the value as any value of a known kind is read (leading zeros
			// allowed in a number, 1 and 0 as a flag).
			if v, err := features.Parse(kind, features.String(string(t)), w.p.missing); err == nil {
				switch v.Kind {
				case features.KindNone:
					continue
				case features.KindNumber:
					pt.num[i], ok = v.Num, true
				case features.KindFlag:
					pt.flag[i], ok = v.Bool, true
				case features.KindTime:
					pt.num[i], ok = features.UnixSeconds(v.Time), true
				}
			}
		}
		if !ok {
			if col.forced {
				return pt, &ParseError{Line: fs.line(k), Row: i + 1, Column: col.name,
					Err: fmt.Errorf("%w: %q is not a %s", ErrBadValue, raw, kind)}
			}
			w.p.recycle(&pt)
			return w.category(c, col), nil
		}
		pt.valid[i] = true
	}
	w.flush(&pt)
	return pt, nil
}

// category parses column c of the split block as a category.
func (w *worker) category(c int, col readColumn) part {
	fs := &w.fs
	pt := part{valid: w.p.bools.get(fs.n)}
	w.alloc(&pt, features.KindCategory)
	for i := range fs.n {
		raw := fs.field(i*fs.width + col.index)
		if w.p.missing.HasBytes(trimSpace(raw)) {
			continue
		}
		w.text(&pt, c, i, raw)
		pt.valid[i] = true
	}
	w.flush(&pt)
	return pt
}

// alloc gives pt, a column of the split block, room for values of kind k.
func (w *worker) alloc(pt *part, k features.Kind) {
	pt.kind = k
	switch n := w.fs.n; k {
	case features.KindCategory:
		pt.str = w.p.strs.get(n)
	case features.KindFlag:
		pt.flag = w.p.bools.get(n)
	case features.KindNumber, features.KindTime:
		pt.num = w.p.floats.get(n)
	}
}

// text sets row i of pt to a copy of raw: a shared one from the column's interner, or else a
// piece of one string holding all such values of the column in this block (see flush).
func (w *worker) text(pt *part, c, i int, raw []byte) {
	if !isASCII(raw) {
		switch w.p.mode {
		case textDecode:
			raw = []byte(decode1252(raw))
		case textStrict:
			if !utf8.Valid(raw) && (w.badText == nil || i+1 < w.badText.Row) {
				col := w.p.cols[c]
				w.badText = &ParseError{Line: w.fs.line(i*w.fs.width + col.index), Row: i + 1, Column: col.name,
					Err: fmt.Errorf("%w: %q (name the file's encoding, for example windows-1252)", ErrEncoding, strings.ToValidUTF8(string(raw), "\uFFFD"))}
			}
		}
	}
	if s, ok := w.interns[c].lookup(raw); ok {
		pt.str[i] = s
		return
	}
	w.pending = append(w.pending, pendingText{i, len(w.arena), len(w.arena) + len(raw)})
	w.arena = append(w.arena, raw...)
}

// flush gives pt the values that text set aside.
func (w *worker) flush(pt *part) {
	if len(w.pending) == 0 {
		return
	}
	s := string(w.arena)
	for _, t := range w.pending {
		pt.str[t.row] = s[t.start:t.end]
	}
	w.arena, w.pending = w.arena[:0], w.pending[:0]
}

// lookup returns the shared copy of b, adding one while the interner is not full; false once it
// is full.
func (in *interner) lookup(b []byte) (string, bool) {
	if in.full {
		return "", false
	}
	if v, ok := in.m[string(b)]; ok {
		return v, true
	}
	return in.add(string(b)), true
}

// trimSpace is bytes.TrimSpace, quicker for text that starts and ends with printable ASCII.
func trimSpace(b []byte) []byte {
	if len(b) == 0 || b[0] > ' ' && b[0] < utf8.RuneSelf && b[len(b)-1] > ' ' && b[len(b)-1] < utf8.RuneSelf {
		return b
	}
	return bytes.TrimSpace(b)
}

// at places an error of a block in the file: name, and rows before the block.
func (e *ParseError) at(name string, rows int) *ParseError {
	e.File = name
	e.Row += rows
	return e
}
