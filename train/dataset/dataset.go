package dataset

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/leadscore/leadscore/features"
)

// Errors reported by ReadFile, WriteFile and Outcome.Labels, usually inside a *ParseError.
var (
	ErrFormat          = errors.New("dataset: unknown file format (want .parquet, .csv, .tsv or .txt)")
	ErrEmpty           = errors.New("dataset: empty file")
	ErrNoHeader        = errors.New("dataset: header row has an empty column name")
	ErrDuplicateColumn = errors.New("dataset: duplicate column name")
	ErrRaggedRow       = errors.New("dataset: row has a different number of fields than the header")
	ErrBadValue        = errors.New("dataset: value does not fit the column's kind")
	ErrUnknownColumn   = errors.New("dataset: no such column")
	ErrUnsupported     = errors.New("dataset: unsupported column type")
	ErrCorrupt         = errors.New("dataset: corrupt file")
	ErrNoLabelColumn   = errors.New("dataset: label column not found")
	ErrLabelValue      = errors.New("dataset: label value is neither won, lost nor open")
	ErrOneClass        = errors.New("dataset: labels need both won and lost rows")
)

// ParseError says where a file could not be read or written.
type ParseError struct {
	File   string // path as given by the caller
	Line   int    // 1-based line in a CSV file; 0 when not applicable
	Row    int    // 1-based data row (the header is row 0); 0 when not applicable
	Column string // column name; empty when not applicable
	Err    error  // a sentinel above or an underlying I/O or decoding error
}

func (e *ParseError) Error() string {
	var b strings.Builder
	b.WriteString("dataset: ")
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ": line %d", e.Line)
		if e.Row > 0 {
			fmt.Fprintf(&b, " (row %d)", e.Row)
		}
	} else if e.Row > 0 {
		fmt.Fprintf(&b, ": row %d", e.Row)
	}
	if e.Column != "" {
		fmt.Fprintf(&b, ": column %q", e.Column)
	}
	b.WriteString(": ")
	b.WriteString(strings.TrimPrefix(e.Err.Error(), "dataset: "))
	return b.String()
}

func (e *ParseError) Unwrap() error { return e.Err }

// ReadOptions selects and types the columns read. The zero value reads every column with inferred kinds.
type ReadOptions struct {
	// Columns, if not nil, names the columns to read; the frame keeps file order. A name the file
	// lacks is an error wrapping ErrUnknownColumn.
	Columns []string
	// Kinds forces the kind of the named columns, for example a numeric identifier that must stay a
	// category. Values are converted through their text; one that does not parse is ErrBadValue.
	// A name the file lacks is ErrUnknownColumn.
	Kinds map[string]features.Kind
	// Comma is the CSV field delimiter; 0 detects one of ',', ';' and tab from the start of the file.
	Comma rune
	// MissingValues are the texts read as missing values, matched case-insensitively after
	// trimming spaces, in CSV fields and Parquet strings; nil means features.DefaultMissingValues.
	MissingValues []string
	// Encoding is the text encoding: EncodingAuto (""), EncodingUTF8 or EncodingWindows1252 (see
	// those constants; "latin1" is accepted for the last).
	Encoding string
	// Report, if not nil, is added to: the files read, those decoded, non-finite numbers read as
	// missing.
	Report *Report
	// Progress, if not nil, is called as the read goes on (after each Parquet row group, each CSV
	// block and each file), from the reading goroutine. A CSV file whose encoding is found wrong is
	// read again, and its rows counted again.
	Progress func(ReadProgress)
}

// ReadFile reads a Parquet (.parquet) or CSV (.csv, .tsv, .txt) file, local or an object (IsObject),
// into a frame, choosing the format by extension. See ReadParquet and ReadCSV for how each format
// maps to column kinds.
func ReadFile(path string, opts ReadOptions) (*features.Frame, error) {
	if opts.Report != nil {
		opts.Report.Files = append(opts.Report.Files, path)
	}
	format := formatOf(path)
	if format == "" {
		return nil, &ParseError{File: path, Err: ErrFormat}
	}
	f, err := openData(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if format == "parquet" {
		return ReadParquet(f, f.size, path, opts)
	}
	return ReadCSV(io.NewSectionReader(f, 0, f.size), path, opts)
}

// WriteFile writes f to path as Parquet (.parquet) or CSV (.csv, .tsv, .txt; tab-separated for
// .tsv), choosing the format by extension. The data goes to a temporary file in the same
// directory that is renamed over path only once complete, so readers never see half a file.
// A frame without columns is ErrEmpty; duplicate or empty column names are errors.
func WriteFile(path string, f *features.Frame) error {
	format := formatOf(path)
	if format == "" {
		return &ParseError{File: path, Err: ErrFormat}
	}
	if err := f.Validate(); err != nil {
		return err
	}
	if len(f.Columns) == 0 {
		return &ParseError{File: path, Err: fmt.Errorf("%w: the frame has no columns", ErrEmpty)}
	}
	seen := make(map[string]bool, len(f.Columns))
	for _, c := range f.Columns {
		if c.Name == "" {
			return &ParseError{File: path, Err: ErrNoHeader}
		}
		if seen[c.Name] {
			return &ParseError{File: path, Column: c.Name, Err: ErrDuplicateColumn}
		}
		seen[c.Name] = true
	}
	return WriteAtomic(path, func(w io.Writer) error {
		var err error
		switch format {
		case "parquet":
			err = writeParquet(w, f)
		default:
			comma := ','
			if strings.EqualFold(filepath.Ext(path), ".tsv") {
				comma = '\t'
			}
			err = writeCSV(w, f, comma)
		}
		if err != nil {
			return &ParseError{File: path, Err: err}
		}
		return nil
	})
}

// WriteAtomic writes path through a temporary file beside it, synced and then renamed into place, so
// a failure leaves the old file, or none. An error of write is returned as it is; a failure of the file
// system is a *ParseError naming path.
func WriteAtomic(path string, write func(io.Writer) error) (err error) {
	tmp, err := createTemp(path)
	if err != nil {
		return fileError(path, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err = write(tmp); err != nil {
		return err
	}
	if err = tmp.Sync(); err != nil {
		return fileError(path, err)
	}
	if err = tmp.Close(); err != nil {
		return fileError(path, err)
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return fileError(path, err)
	}
	return nil
}

// fileError wraps an operating-system error on path, dropping the *fs.PathError layer whose
// message would repeat the path.
func fileError(path string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) && pe.Path == path {
		err = fmt.Errorf("%s: %w", pe.Op, pe.Err)
	}
	return &ParseError{File: path, Err: err}
}

func formatOf(path string) string {
	if IsObject(path) {
		path, _, _ = strings.Cut(path, "?")
	}
	switch strings.ToLower(filepath.Ext(path)) {
	case ".parquet", ".pq":
		return "parquet"
	case ".csv", ".tsv", ".txt":
		return "csv"
	}
	return ""
}

// selection checks opts against the columns a file holds and reports which to keep.
func selection(file string, names []string, opts ReadOptions) (map[string]bool, error) {
	have := make(map[string]bool, len(names))
	for _, n := range names {
		have[n] = true
	}
	unknown := func(name string) error {
		return &ParseError{File: file, Column: name,
			Err: fmt.Errorf("%w (the file has %s)", ErrUnknownColumn, listNames(names))}
	}
	for name := range opts.Kinds {
		if !have[name] {
			return nil, unknown(name)
		}
	}
	if opts.Columns == nil {
		return have, nil
	}
	keep := make(map[string]bool, len(opts.Columns))
	for _, name := range opts.Columns {
		if !have[name] {
			return nil, unknown(name)
		}
		keep[name] = true
	}
	return keep, nil
}

// listNames renders column names for an error message, shortened when there are many.
func listNames(names []string) string {
	const most = 30
	quoted := make([]string, 0, min(len(names), most))
	for _, n := range names[:min(len(names), most)] {
		quoted = append(quoted, fmt.Sprintf("%q", n))
	}
	s := strings.Join(quoted, ", ")
	if len(names) > most {
		s += fmt.Sprintf(" and %d more", len(names)-most)
	}
	return s
}

// newColumn returns an empty column of kind k with room for n rows.
func newColumn(name string, k features.Kind, n int) *features.Column {
	c := &features.Column{Name: name, Kind: k, Valid: make([]bool, 0, n)}
	switch k {
	case features.KindCategory:
		c.Str = make([]string, 0, n)
	case features.KindFlag:
		c.Bool = make([]bool, 0, n)
	default:
		c.Num = make([]float64, 0, n)
	}
	return c
}

// appendValue appends v, which is missing or of c's kind, to c.
func appendValue(c *features.Column, v features.Value) {
	c.Valid = append(c.Valid, !v.Missing())
	switch c.Kind {
	case features.KindCategory:
		c.Str = append(c.Str, v.Str)
	case features.KindFlag:
		c.Bool = append(c.Bool, v.Bool)
	case features.KindNumber:
		c.Num = append(c.Num, v.Num)
	case features.KindTime:
		if v.Missing() {
			c.Num = append(c.Num, 0)
		} else {
			c.Num = append(c.Num, features.UnixSeconds(v.Time))
		}
	}
}

// convertColumn returns c converted to kind k through features.Parse; row numbers in errors are
// 1-based.
func convertColumn(file string, c *features.Column, k features.Kind, missing *features.MissingValues) (*features.Column, error) {
	if c.Kind == k {
		return c, nil
	}
	out := newColumn(c.Name, k, c.Len())
	var in interner
	for i := range c.Len() {
		v := c.Value(i)
		p, err := features.Parse(k, v, missing)
		if err != nil {
			return nil, &ParseError{File: file, Row: i + 1, Column: c.Name,
				Err: fmt.Errorf("%w: %q is not a %s", ErrBadValue, v.Text(), k)}
		}
		if p.Kind == features.KindCategory {
			p.Str = in.intern(p.Str)
		}
		appendValue(out, p)
	}
	return out, nil
}

// keepOrder returns names filtered by keep, in their original order.
func keepOrder(names []string, keep map[string]bool) []string {
	return slices.DeleteFunc(slices.Clone(names), func(n string) bool { return !keep[n] })
}

// createTemp creates a new file beside path for writing it atomically. Unlike os.CreateTemp (0600)
// it asks for mode 0666, so the written file gets the usual permissions less the umask.
func createTemp(path string) (*os.File, error) {
	dir, base := filepath.Dir(path), filepath.Base(path)
	for try := 0; ; try++ {
		name := filepath.Join(dir, fmt.Sprintf(".%s.%d-%d.tmp", base, os.Getpid(), time.Now().UnixNano()))
		f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o666)
		if err == nil || !errors.Is(err, fs.ErrExist) || try == 100 {
			return f, err
		}
	}
}
