package dataset

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"

	"github.com/leadscore/leadscore/features"
)

// spillGroup is the number of columns SpillCSV reads in one pass over CSV data: memory holds that
// many columns, and the files are parsed once per group.
const spillGroup = 4

// SpilledColumns is CSV data read a column at a time (features.Columns): SpillCSV parses it a few
// columns at a time and keeps each column in a file of its own, which Load reads back. Close
// removes the files.
type SpilledColumns struct {
	dir   string
	names []string
	kinds map[string]features.Kind
	files map[string]string
	rows  int
}

// ErrNoSpill: the data cannot be spilled (a header that is not UTF-8, or no temporary folder to write
// the columns to); read it whole.
var ErrNoSpill = errors.New("dataset: the CSV data cannot be read a column at a time")

// SpillCSV reads CSV data (locations as for ReadFiles; every file CSV, else ErrFormat) with opts, a
// few columns at a time in one pass over the files each, into files of one column each under a new
// folder in dir (the system's temporary folder when ""), so that memory holds a few columns, never
// the dataset. Every column reads as ReadFiles reads it: kinds are inferred, parts reconciled and
// text decoded column by column alike. opts.Report gets each group's findings; opts.Progress is told
// of each pass. A header that is not UTF-8, or a temporary folder that cannot be made or written, is
// ErrNoSpill (wrapping the cause); errors of the data are ReadFiles'.
func SpillCSV(locations []string, opts ReadOptions, dir string) (*SpilledColumns, error) {
	files, err := Expand(locations)
	if err != nil {
		return nil, err
	}
	for _, path := range files {
		if formatOf(path) != "csv" {
			return nil, &ParseError{File: path, Err: fmt.Errorf("%w: spilling needs CSV", ErrFormat)}
		}
	}
	names, err := csvHeader(files[0], opts)
	if err != nil {
		return nil, err
	}
	keep, err := selection(files[0], names, opts)
	if err != nil {
		return nil, err
	}
	if opts.Columns == nil {
		// Every part must have the first's columns, as ReadFiles requires of the columns it reads.
		for _, path := range files[1:] {
			other, err := csvHeader(path, opts)
			if err != nil {
				return nil, err
			}
			if err := sameColumns(files[0], names, path, other); err != nil {
				return nil, err
			}
		}
	}
	names = slices.DeleteFunc(names, func(n string) bool { return !keep[n] })
	tmp, err := os.MkdirTemp(dir, "leadscore-columns-")
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNoSpill, err)
	}
	sc := &SpilledColumns{dir: tmp, kinds: map[string]features.Kind{}, files: map[string]string{}}
	fail := func(err error) (*SpilledColumns, error) {
		sc.Close()
		return nil, err
	}
	for lo := 0; lo < len(names); lo += spillGroup {
		group := names[lo:min(lo+spillGroup, len(names))]
		o := opts
		o.Columns = group
		o.Kinds = nil
		for _, n := range group {
			if k, ok := opts.Kinds[n]; ok {
				if o.Kinds == nil {
					o.Kinds = map[string]features.Kind{}
				}
				o.Kinds[n] = k
			}
		}
		if lo > 0 {
			// The files are recorded once.
			o.Report = reportFindings(opts.Report)
		}
		f, err := ReadFiles(files, o)
		if err != nil {
			return fail(err)
		}
		if lo > 0 && opts.Report != nil {
			mergeFindings(opts.Report, o.Report)
		}
		if lo > 0 && f.Len() != sc.rows {
			return fail(&ParseError{File: files[0], Err: fmt.Errorf("dataset: %d rows read with columns %v, %d before", f.Len(), group, sc.rows)})
		}
		sc.rows = f.Len()
		for _, c := range f.Columns {
			path := filepath.Join(tmp, fmt.Sprintf("%04d.col", len(sc.names)))
			if err := writeSpilled(path, c); err != nil {
				return fail(fmt.Errorf("%w: %w", ErrNoSpill, err))
			}
			sc.names = append(sc.names, c.Name)
			sc.kinds[c.Name], sc.files[c.Name] = c.Kind, path
		}
	}
	return sc, nil
}

// reportFindings returns a report for a later pass over the same files: nil when there is none.
func reportFindings(r *Report) *Report {
	if r == nil {
		return nil
	}
	return &Report{}
}

// mergeFindings adds what a later pass found (decoding, non-finite numbers) to r.
func mergeFindings(r, pass *Report) {
	for file, enc := range pass.Decoded {
		r.decoded(file, enc)
	}
	for col, n := range pass.NonFinite {
		r.nonFinite(col, n)
	}
}

// csvHeader returns the column names of a CSV file as ReadCSV reads them.
func csvHeader(path string, opts ReadOptions) ([]string, error) {
	f, err := openData(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := io.NewSectionReader(f, 0, f.size)
	sample := make([]byte, sampleSize)
	n, err := io.ReadFull(r, sample)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, &ParseError{File: path, Err: err}
	}
	complete := n < sampleSize
	sample, start := sample[:n], int64(0)
	if bytes.HasPrefix(sample, []byte("\xef\xbb\xbf")) {
		sample, start = sample[3:], 3
	}
	comma := opts.Comma
	if comma == 0 {
		comma = detectComma(sample, complete)
	}
	if _, err := r.Seek(start, io.SeekStart); err != nil {
		return nil, &ParseError{File: path, Err: err}
	}
	cr := csv.NewReader(r)
	cr.Comma, cr.FieldsPerRecord = comma, -1
	header, err := readHeader(cr, path, textStrict)
	if errors.Is(err, ErrEncoding) {
		return nil, &ParseError{File: path, Err: ErrNoSpill}
	}
	return header, err
}

// Len returns the number of rows.
func (sc *SpilledColumns) Len() int { return sc.rows }

// Names returns the columns' names, in file order.
func (sc *SpilledColumns) Names() []string { return slices.Clone(sc.names) }

// Kind returns the kind of the named column, KindNone when there is none.
func (sc *SpilledColumns) Kind(name string) features.Kind { return sc.kinds[name] }

// Load reads the named column back, or returns nil when there is none.
func (sc *SpilledColumns) Load(name string) (*features.Column, error) {
	path, ok := sc.files[name]
	if !ok {
		return nil, nil
	}
	return readSpilled(path, name, sc.rows)
}

// Rows reads the named columns (nil: every column) back and keeps the given rows, as
// ColumnFiles.Rows does.
func (sc *SpilledColumns) Rows(rows []int, names []string) (*features.Frame, []int, error) {
	return pickRows(sc, sc.names, rows, names)
}

// Close removes the columns' files.
func (sc *SpilledColumns) Close() error { return os.RemoveAll(sc.dir) }

// writeSpilled writes column c to path: its kind, rows, missing flags, then its values (numbers as
// IEEE 754 bits, flags as bytes, texts each with its length).
func writeSpilled(path string, c *features.Column) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	var buf [binary.MaxVarintLen64]byte
	put := func(x uint64) { w.Write(buf[:binary.PutUvarint(buf[:], x)]) }
	put(uint64(c.Kind))
	put(uint64(c.Len()))
	for _, v := range c.Valid {
		w.WriteByte(byteOf(v))
	}
	switch c.Kind {
	case features.KindCategory:
		for _, s := range c.Str {
			put(uint64(len(s)))
			w.WriteString(s)
		}
	case features.KindFlag:
		for _, b := range c.Bool {
			w.WriteByte(byteOf(b))
		}
	default:
		for _, x := range c.Num {
			binary.LittleEndian.PutUint64(buf[:8], math.Float64bits(x))
			w.Write(buf[:8])
		}
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// readSpilled reads back the column writeSpilled wrote, named name, of rows rows; texts that repeat
// share one string, as ReadCSV's do.
func readSpilled(path, name string, rows int) (*features.Column, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 1<<20)
	corrupt := func(err error) error {
		return &ParseError{File: path, Column: name, Err: fmt.Errorf("%w: spilled column: %v", ErrCorrupt, err)}
	}
	kind, err := binary.ReadUvarint(r)
	if err != nil {
		return nil, corrupt(err)
	}
	n, err := binary.ReadUvarint(r)
	if err != nil || n != uint64(rows) {
		return nil, corrupt(fmt.Errorf("%d rows, want %d (%v)", n, rows, err))
	}
	c := features.NewColumn(name, features.Kind(kind), rows)
	flags := make([]byte, rows)
	if _, err := io.ReadFull(r, flags); err != nil {
		return nil, corrupt(err)
	}
	for i, b := range flags {
		c.Valid[i] = b == 1
	}
	switch c.Kind {
	case features.KindCategory:
		var in interner
		var text []byte
		for i := range rows {
			size, err := binary.ReadUvarint(r)
			if err != nil {
				return nil, corrupt(err)
			}
			text = slices.Grow(text[:0], int(size))[:size]
			if _, err := io.ReadFull(r, text); err != nil {
				return nil, corrupt(err)
			}
			if size > 0 {
				c.Str[i] = in.internBytes(text)
			}
		}
	case features.KindFlag:
		if _, err := io.ReadFull(r, flags); err != nil {
			return nil, corrupt(err)
		}
		for i, b := range flags {
			c.Bool[i] = b == 1
		}
	case features.KindNumber, features.KindTime:
		var word [8]byte
		for i := range rows {
			if _, err := io.ReadFull(r, word[:]); err != nil {
				return nil, corrupt(err)
			}
			c.Num[i] = math.Float64frombits(binary.LittleEndian.Uint64(word[:]))
		}
	default:
		return nil, corrupt(fmt.Errorf("kind %d", kind))
	}
	return c, nil
}

// byteOf is 1 for true, 0 for false.
func byteOf(b bool) byte {
	if b {
		return 1
	}
	return 0
}
