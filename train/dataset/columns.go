package dataset

import (
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/parquet-go/parquet-go"
	"golang.org/x/sync/errgroup"

	"github.com/leadscore/leadscore/features"
)

// ColumnFiles is Parquet data read a column at a time (features.Columns): opening it reads the files'
// footers only, and each column is read from every file when it is asked for, through its own column
// chunks, and kept by no one but the caller. Training from it holds one column at a time instead of
// the dataset; what each column costs to read again is the price.
type ColumnFiles struct {
	files []string
	opts  ReadOptions
	names []string
	kinds map[string]features.Kind
	rows  int

	mu       sync.Mutex
	reported map[string]bool // the columns whose first read went into opts.Report
}

// OpenColumns opens Parquet data (locations as for ReadFiles: files, folders of parts, globs) to be
// read a column at a time, with the options of ReadFiles but Progress (Columns selects the columns
// it has). Every file must be
// Parquet (ErrFormat names the first that is not: read those whole with ReadFiles) with the same
// columns of the same kinds (ErrSchema). opts.Report gets the files now, and each column's
// non-finite numbers and decoding the first time the column is read.
func OpenColumns(locations []string, opts ReadOptions) (*ColumnFiles, error) {
	files, err := Expand(locations)
	if err != nil {
		return nil, err
	}
	cf := &ColumnFiles{files: files, opts: opts, kinds: map[string]features.Kind{}, reported: map[string]bool{}}
	cf.opts.Progress = nil
	missing := features.NewMissingValues(opts.MissingValues)
	for i, path := range files {
		if formatOf(path) != "parquet" {
			return nil, &ParseError{File: path, Err: fmt.Errorf("%w: reading a column at a time needs Parquet", ErrFormat)}
		}
		names, kinds, rows, err := parquetSchema(path, missing)
		if err != nil {
			return nil, err
		}
		keep, err := selection(path, names, ReadOptions{Kinds: opts.Kinds, Columns: opts.Columns})
		if err != nil {
			return nil, err
		}
		cf.rows += rows
		if i == 0 {
			for k, name := range names {
				if !keep[name] {
					continue
				}
				cf.names = append(cf.names, name)
				cf.kinds[name] = kinds[k]
				if forced, ok := opts.Kinds[name]; ok {
					cf.kinds[name] = forced
				}
			}
			continue
		}
		kept := slices.DeleteFunc(slices.Clone(names), func(n string) bool { return !keep[n] })
		if err := sameColumns(files[0], cf.names, path, kept); err != nil {
			return nil, err
		}
		for k, name := range names {
			if keep[name] && cf.kinds[name] != kinds[k] && opts.Kinds[name] == features.KindNone {
				return nil, &ParseError{File: path, Column: name, Err: fmt.Errorf("%w: %s here, %s in %s", ErrSchema, kinds[k], cf.kinds[name], files[0])}
			}
		}
	}
	if opts.Report != nil {
		opts.Report.Files = append(opts.Report.Files, files...)
	}
	return cf, nil
}

// parquetSchema returns the leaf columns of a Parquet file, their kinds as ReadParquet reads them, and
// its rows (those of its row groups, which ReadParquet reads), from its footer.
func parquetSchema(path string, missing *features.MissingValues) (names []string, kinds []features.Kind, rows int, err error) {
	f, err := openData(path)
	if err != nil {
		return nil, nil, 0, err
	}
	defer f.Close()
	defer func() {
		if p := recover(); p != nil {
			err = &ParseError{File: path, Err: fmt.Errorf("%w: %v", ErrCorrupt, p)}
		}
	}()
	if err := checkFooter(f, f.size); err != nil {
		return nil, nil, 0, &ParseError{File: path, Err: fmt.Errorf("%w: %w", ErrCorrupt, err)}
	}
	pf, err := parquet.OpenFile(f, f.size, parquet.SkipPageIndex(true), parquet.SkipBloomFilters(true))
	if err != nil {
		return nil, nil, 0, &ParseError{File: path, Err: fmt.Errorf("%w: %w", ErrCorrupt, err)}
	}
	var walk func(c *parquet.Column) error
	walk = func(c *parquet.Column) error {
		if !c.Leaf() {
			for _, child := range c.Columns() {
				if err := walk(child); err != nil {
					return err
				}
			}
			return nil
		}
		name := strings.Join(c.Path(), ".")
		if slices.Contains(names, name) {
			return &ParseError{File: path, Column: name, Err: ErrDuplicateColumn}
		}
		kind := features.KindNone // a repeated column: an error when it is read
		if c.MaxRepetitionLevel() == 0 {
			lr, err := newLeafReader(c, name, 0, missing)
			if err != nil {
				return &ParseError{File: path, Column: name, Err: err}
			}
			kind = lr.col.Kind
		}
		names, kinds = append(names, name), append(kinds, kind)
		return nil
	}
	if err := walk(pf.Root()); err != nil {
		return nil, nil, 0, err
	}
	return names, kinds, int(groupRows(pf)), nil
}

// Close does nothing: nothing is held between reads.
func (cf *ColumnFiles) Close() error { return nil }

// Len returns the number of rows of every file.
func (cf *ColumnFiles) Len() int { return cf.rows }

// Names returns the columns' names, in the first file's order.
func (cf *ColumnFiles) Names() []string { return slices.Clone(cf.names) }

// Kind returns the kind the named column is read as, KindNone when there is none (or it is a
// repeated column, which cannot be read).
func (cf *ColumnFiles) Kind(name string) features.Kind { return cf.kinds[name] }

// Load reads the named column from every file, or returns nil when there is none.
func (cf *ColumnFiles) Load(name string) (*features.Column, error) {
	if _, ok := cf.kinds[name]; !ok {
		return nil, nil
	}
	opts := cf.opts
	opts.Columns = []string{name}
	opts.Kinds = nil
	if k, ok := cf.opts.Kinds[name]; ok {
		opts.Kinds = map[string]features.Kind{name: k}
	}
	var rep Report
	opts.Report = &rep
	f, err := ReadFiles(cf.files, opts)
	if err != nil {
		return nil, err
	}
	if f.Len() != cf.rows {
		return nil, &ParseError{File: cf.files[0], Column: name, Err: fmt.Errorf("%w: %d rows read, the footers give %d", ErrCorrupt, f.Len(), cf.rows)}
	}
	cf.report(name, &rep)
	return f.Columns[0], nil
}

// report adds what the first read of column name found to the caller's report.
func (cf *ColumnFiles) report(name string, rep *Report) {
	cf.mu.Lock()
	defer cf.mu.Unlock()
	if cf.opts.Report == nil || cf.reported[name] {
		return
	}
	cf.reported[name] = true
	for file, enc := range rep.Decoded {
		cf.opts.Report.decoded(file, enc)
	}
	for col, n := range rep.NonFinite {
		cf.opts.Report.nonFinite(col, n)
	}
}

// Rows reads the named columns (nil: every column; names the files lack are skipped) and keeps the
// given rows (ascending, in range): it returns a frame of them, in order, and where each is in it (0,
// 1, ...). Columns are read one at a time on up to GOMAXPROCS goroutines.
func (cf *ColumnFiles) Rows(rows []int, names []string) (*features.Frame, []int, error) {
	return pickRows(cf, cf.names, rows, names)
}

// pickRows is the Rows of a dataset read a column at a time (src, with columns all): it loads the
// named columns (nil: all) on up to GOMAXPROCS goroutines and keeps the given rows.
func pickRows(src interface {
	Len() int
	Load(string) (*features.Column, error)
}, all []string, rows []int, names []string) (*features.Frame, []int, error) {
	for k, i := range rows {
		if i < 0 || i >= src.Len() || k > 0 && i <= rows[k-1] {
			return nil, nil, fmt.Errorf("dataset: rows must ascend within [0, %d): row %d at %d", src.Len(), i, k)
		}
	}
	keep := all
	if names != nil {
		keep = nil
		for _, name := range all {
			if slices.Contains(names, name) {
				keep = append(keep, name)
			}
		}
	}
	cols := make([]*features.Column, len(keep))
	errs := make([]error, len(keep))
	var g errgroup.Group
	g.SetLimit(runtime.GOMAXPROCS(0))
	for k, name := range keep {
		g.Go(func() error {
			c, err := src.Load(name)
			if err != nil {
				errs[k] = err
				return nil
			}
			sub := features.NewColumn(c.Name, c.Kind, len(rows))
			for r, i := range rows {
				sub.Valid[r] = c.Valid[i]
				switch c.Kind {
				case features.KindCategory:
					sub.Str[r] = c.Str[i]
				case features.KindFlag:
					sub.Bool[r] = c.Bool[i]
				default:
					sub.Num[r] = c.Num[i]
				}
			}
			cols[k] = sub
			return nil
		})
	}
	_ = g.Wait() // errors are kept per column, to report the first in file order
	for _, err := range errs {
		if err != nil {
			return nil, nil, err
		}
	}
	at := make([]int, len(rows))
	for r := range at {
		at[r] = r
	}
	return &features.Frame{Columns: cols}, at, nil
}
