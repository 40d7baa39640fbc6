package dataset

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/leadscore/leadscore/features"
)

const (
	sampleSize = 64 << 10 // bytes read to detect the delimiter
	blockSize  = 1 << 20  // bytes of records handed to one parsing goroutine at a time
	internMax  = 1 << 14  // distinct values shared per category column before values are copied
)

// ReadCSV reads a CSV file with a header row into a frame; name is used in errors only.
//
// The delimiter is opts.Comma, or else whichever of ',', ';' and tab splits the header and the
// rows in the first 64 KiB into the same number of fields (',' when none does). Quoted fields
// may hold delimiters, quotes ("") and line breaks; CRLF line ends and a UTF-8 byte-order mark
// are accepted; header names are trimmed of spaces and must be unique and not empty.
//
// A value is missing when, trimmed of spaces, it is empty or in opts.MissingValues (default
// features.DefaultMissingValues: NA, N/A, null, None, NaN, -, Select, unknown, ..., in any case).
// Each column takes the first kind that fits every one of its non-missing values (trimmed), as
// features.InferKind types one value: flag (true/false or yes/no, any case), number (decimal text
// that strconv.ParseFloat accepts as a finite number; integers written with a leading zero, such
// as 007 or 02134, are identifiers and are not numbers), time (RFC 3339, 2006-01-02,
// 2006-01-02 15:04:05, with T or space, optional fraction and zone; UTC when no zone is given),
// and otherwise category (the raw text). A column with no values is a category. 1 and 0 stay
// numbers. Text spelling an infinite or not-a-number value (inf, -Infinity, nan) is missing in a
// number column. opts.Kinds overrides the inference.
//
// The file is read once, in blocks of whole records that GOMAXPROCS goroutines parse at the
// same time, so memory holds the frame and a few blocks. A block whose values of a column were
// parsed as one kind while the column as a whole turns out to be a category is read again for
// that column. Errors are *ParseError values naming the line, the 1-based data row and the
// column; when a file has several, the first in file order of a malformed or ragged record
// wins over any value that does not fit a forced kind.
func ReadCSV(r io.ReadSeeker, name string, opts ReadOptions) (*features.Frame, error) {
	return readCSV(r, name, opts, blockSize, runtime.GOMAXPROCS(0))
}

// textMode is how one pass of the CSV reader treats bytes that are not UTF-8.
type textMode int

const (
	textCheck  textMode = iota // keep the bytes, and note whether the file is UTF-8
	textStrict                 // refuse them, naming the first value's row and column
	textDecode                 // decode every text from Windows-1252
)

// readCSV is ReadCSV with the block size in bytes and the number of parsing goroutines given.
func readCSV(r io.ReadSeeker, name string, opts ReadOptions, size, workers int) (*features.Frame, error) {
	enc, err := encodingOf(opts.Encoding)
	if err != nil {
		return nil, &ParseError{File: name, Err: err}
	}
	mode := textCheck
	switch enc {
	case EncodingUTF8:
		mode = textStrict
	case EncodingWindows1252:
		mode = textDecode
	}
	f, st, err := readCSVPass(r, name, opts, size, workers, mode)
	if err != nil || mode != textCheck || !st.invalid {
		if err == nil && mode == textDecode {
			opts.Report.decoded(name, EncodingWindows1252)
		}
		if err == nil {
			st.report(opts.Report, f)
		}
		return f, err
	}
	// Not UTF-8. With no UTF-8 characters of more than one byte it is taken for Windows-1252;
	// a file mixing both is refused where the first bad value is.
	mode = textDecode
	if st.multibyte {
		mode = textStrict
	}
	if f, st, err = readCSVPass(r, name, opts, size, workers, mode); err != nil {
		return nil, err
	}
	if mode == textDecode {
		opts.Report.decoded(name, EncodingWindows1252)
	}
	st.report(opts.Report, f)
	return f, nil
}

// passStats is what one pass of the CSV reader learnt besides the frame.
type passStats struct {
	invalid, multibyte bool  // the text holds bytes that are not UTF-8; valid characters of several bytes
	nonFinite          []int // per column of the frame, inf or nan values read as missing numbers
}

func (st passStats) report(r *Report, f *features.Frame) {
	for c, col := range f.Columns {
		if col.Kind == features.KindNumber && c < len(st.nonFinite) {
			r.nonFinite(col.Name, st.nonFinite[c])
		}
	}
}

// readCSVPass reads the file once, treating text as mode says.
func readCSVPass(r io.ReadSeeker, name string, opts ReadOptions, size, workers int, mode textMode) (*features.Frame, passStats, error) {
	var st passStats
	fail := func(err error) (*features.Frame, passStats, error) { return nil, st, err }
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return fail(&ParseError{File: name, Err: err})
	}
	sample := make([]byte, sampleSize)
	n, err := io.ReadFull(r, sample)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return fail(&ParseError{File: name, Err: err})
	}
	complete := n < sampleSize
	sample = sample[:n]
	start := int64(0)
	if bytes.HasPrefix(sample, []byte("\xef\xbb\xbf")) {
		start = 3
		sample = sample[3:]
	}
	if len(bytes.TrimSpace(sample)) == 0 {
		return fail(&ParseError{File: name, Err: ErrEmpty})
	}
	comma := opts.Comma
	if comma == 0 {
		comma = detectComma(sample, complete)
	}

	if _, err := r.Seek(start, io.SeekStart); err != nil {
		return fail(&ParseError{File: name, Err: err})
	}
	cr := csv.NewReader(r)
	cr.Comma = comma
	cr.FieldsPerRecord = -1
	header, err := readHeader(cr, name, mode)
	if err != nil {
		return fail(err)
	}
	if mode == textCheck {
		st.invalid, st.multibyte = utf8Stats([]byte(strings.Join(header, ",")))
	}
	keep, err := selection(name, header, opts)
	if err != nil {
		return fail(err)
	}
	var cols []readColumn
	for j, h := range header {
		if keep[h] {
			k, forced := opts.Kinds[h]
			cols = append(cols, readColumn{name: h, index: j, kind: k, forced: forced})
		}
	}
	// The csv.Reader read ahead: go back to the end of the header and count its lines.
	headerEnd := cr.InputOffset()
	if _, err := r.Seek(start, io.SeekStart); err != nil {
		return fail(&ParseError{File: name, Err: err})
	}
	lines, err := countLines(r, headerEnd)
	if err != nil {
		return fail(&ParseError{File: name, Err: err})
	}

	fileSize, err := r.Seek(0, io.SeekEnd)
	if err != nil {
		return fail(&ParseError{File: name, Err: err})
	}
	if _, err := r.Seek(start+headerEnd, io.SeekStart); err != nil {
		return fail(&ParseError{File: name, Err: err})
	}
	sp := &splitter{r: r, size: size, offset: start + headerEnd, line: lines, free: make(chan []byte, workers+1)}
	p := &blockParser{width: len(header), comma: comma, cols: cols, missing: features.NewMissingValues(opts.MissingValues), mode: mode}
	a := newAssembler(p, fileSize-start-headerEnd)
	if opts.Progress != nil {
		a.progress = func(rows int, end int64) {
			opts.Progress(ReadProgress{Rows: int64(rows), Bytes: end, TotalBytes: fileSize})
		}
	}
	readErr := p.run(sp, workers, a)
	if a.err != nil {
		a.err.File = name
		return fail(a.err)
	}
	if readErr != nil {
		return fail(&ParseError{File: name, Row: a.rows + 1, Err: readErr})
	}
	if a.bad != nil {
		a.bad.File = name
		return fail(a.bad)
	}
	st.invalid, st.multibyte, st.nonFinite = st.invalid || a.invalid, st.multibyte || a.multibyte, a.nonFinite
	f, err := a.frame(r, name)
	return f, st, err
}

// countLines reads n bytes from r and returns how many line feeds they hold.
func countLines(r io.Reader, n int64) (int, error) {
	buf := make([]byte, min(n, 64<<10))
	lines := 0
	for n > 0 {
		k, err := io.ReadFull(r, buf[:min(n, int64(len(buf)))])
		lines += bytes.Count(buf[:k], []byte{'\n'})
		n -= int64(k)
		if err != nil {
			return 0, err
		}
	}
	return lines, nil
}

// readHeader reads the header row; mode says what to do with names that are not UTF-8.
func readHeader(cr *csv.Reader, name string, mode textMode) ([]string, error) {
	rec, err := cr.Read()
	if err == io.EOF {
		return nil, &ParseError{File: name, Err: ErrEmpty}
	}
	if err != nil {
		return nil, csvError(name, 0, err)
	}
	header := make([]string, len(rec))
	seen := make(map[string]bool, len(rec))
	for j, h := range rec {
		h = strings.TrimSpace(h)
		if !utf8.ValidString(h) {
			switch mode {
			case textStrict:
				return nil, &ParseError{File: name, Line: 1, Column: strings.ToValidUTF8(h, "\uFFFD"), Err: ErrEncoding}
			case textDecode:
				h = decode1252([]byte(h))
			}
		}
		if h == "" {
			return nil, &ParseError{File: name, Line: 1,
				Err: fmt.Errorf("%w (field %d of %d)", ErrNoHeader, j+1, len(rec))}
		}
		if seen[h] {
			return nil, &ParseError{File: name, Line: 1, Column: h, Err: ErrDuplicateColumn}
		}
		seen[h] = true
		header[j] = h
	}
	return header, nil
}

// csvError wraps an encoding/csv error; row is the data row being read (0 for the header).
func csvError(name string, row int, err error) *ParseError {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return &ParseError{File: name, Line: pe.Line, Row: row,
			Err: fmt.Errorf("%w (at byte %d of the line)", pe.Err, pe.Column)}
	}
	return &ParseError{File: name, Row: row, Err: err}
}

// detectComma picks the delimiter that splits every complete record of sample into as many
// fields as the header, preferring more fields; complete says sample holds the whole file.
func detectComma(sample []byte, complete bool) rune {
	best, bestFields, bestConsistent := ',', 1, false
	for _, comma := range []rune{',', ';', '\t'} {
		cr := csv.NewReader(bytes.NewReader(sample))
		cr.Comma = comma
		cr.FieldsPerRecord = -1
		var counts []int
		for len(counts) < 200 {
			rec, err := cr.Read()
			if err != nil {
				break
			}
			counts = append(counts, len(rec))
		}
		if !complete && len(counts) > 1 {
			counts = counts[:len(counts)-1]
		}
		if len(counts) == 0 {
			continue
		}
		consistent := true
		for _, c := range counts[1:] {
			consistent = consistent && c == counts[0]
		}
		better := counts[0] > bestFields
		if consistent != bestConsistent {
			better = consistent && counts[0] > 1
		}
		if better {
			best, bestFields, bestConsistent = comma, counts[0], consistent
		}
	}
	return best
}

// parseAs parses text as kind k through features.Parse: the zero Value for a missing value, false
// when it does not fit.
func parseAs(k features.Kind, text string, missing *features.MissingValues, in *interner) (features.Value, bool) {
	v, err := features.Parse(k, features.String(text), missing)
	if err != nil {
		return features.Value{}, false
	}
	if v.Kind == features.KindCategory {
		v.Str = in.intern(v.Str)
	}
	return v, true
}

// interner shares the strings of a category column so that repeated values cost one copy, and
// copies each value out of the reader's buffer. After internMax distinct values the column is
// taken to be an identifier and values are only copied.
type interner struct {
	m    map[string]string
	full bool
}

func (in *interner) intern(s string) string {
	if in.full {
		return strings.Clone(s)
	}
	if v, ok := in.m[s]; ok {
		return v
	}
	return in.add(strings.Clone(s))
}

// add records c, a string nobody else holds, and returns it.
func (in *interner) add(c string) string {
	if in.m == nil {
		in.m = make(map[string]string)
	}
	in.m[c] = c
	if len(in.m) >= internMax {
		in.full, in.m = true, nil
	}
	return c
}

// writeCSV writes f with a header row; missing values are empty fields, numbers are exact,
// times are RFC 3339 in UTC and flags are true/false.
func writeCSV(w io.Writer, f *features.Frame, comma rune) error {
	bw := bufio.NewWriterSize(w, 256<<10)
	cw := csv.NewWriter(bw)
	cw.Comma = comma
	rec := make([]string, len(f.Columns))
	for j, c := range f.Columns {
		rec[j] = c.Name
	}
	if err := cw.Write(rec); err != nil {
		return err
	}
	for i := range f.Len() {
		for j, c := range f.Columns {
			switch {
			case !c.Valid[i]:
				rec[j] = ""
			case c.Kind == features.KindCategory:
				rec[j] = c.Str[i]
			case c.Kind == features.KindNumber:
				rec[j] = features.FormatNumber(c.Num[i])
			case c.Kind == features.KindTime:
				rec[j] = features.FormatTime(features.UnixTime(c.Num[i]))
			case c.Kind == features.KindFlag:
				rec[j] = strconv.FormatBool(c.Bool[i])
			}
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return err
	}
	return bw.Flush()
}
