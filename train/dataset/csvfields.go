package dataset

// Splitting the text of CSV records into fields: the fast path for unquoted records, quoted fields
// and encoding/csv as the fallback for anything unusual.

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
)

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
