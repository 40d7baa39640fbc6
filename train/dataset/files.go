package dataset

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/leadscore/leadscore/features"
)

// ErrSchema: files read as one dataset do not have the same columns.
var ErrSchema = errors.New("dataset: files do not have the same columns")

// Locations splits a comma-separated list of data locations (files, folders, globs), as a command
// line gives them, dropping blanks.
func Locations(list string) []string {
	var out []string
	for _, s := range strings.Split(list, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// Expand turns data locations into the files they name, in order: a file is itself; a folder is
// its .parquet and .csv files (a Spark or warehouse export: names starting with "_" or "." such
// as _SUCCESS are skipped), sorted by name; anything else is a glob (filepath.Match syntax) whose
// matches are sorted. A folder or glob that names no data file is an error, as is a file twice.
func Expand(locations []string) ([]string, error) {
	var files []string
	seen := make(map[string]bool)
	add := func(p string) error {
		if seen[p] {
			return &ParseError{File: p, Err: errors.New("dataset: file named twice")}
		}
		seen[p] = true
		files = append(files, p)
		return nil
	}
	for _, loc := range locations {
		st, err := os.Stat(loc)
		switch {
		case err == nil && !st.IsDir():
			if err := add(loc); err != nil {
				return nil, err
			}
			continue
		case err == nil:
			entries, err := os.ReadDir(loc)
			if err != nil {
				return nil, fileError(loc, err)
			}
			n := 0
			for _, e := range entries {
				name := e.Name()
				if e.IsDir() || strings.HasPrefix(name, "_") || strings.HasPrefix(name, ".") || formatOf(name) == "" {
					continue
				}
				if err := add(filepath.Join(loc, name)); err != nil {
					return nil, err
				}
				n++
			}
			if n == 0 {
				return nil, &ParseError{File: loc, Err: errors.New("dataset: folder holds no .parquet or .csv file")}
			}
			continue
		case !strings.ContainsAny(loc, "*?["):
			return nil, fileError(loc, err)
		}
		matches, err := filepath.Glob(loc)
		if err != nil {
			return nil, &ParseError{File: loc, Err: fmt.Errorf("dataset: bad pattern: %w", err)}
		}
		slices.Sort(matches)
		n := 0
		for _, m := range matches {
			if st, err := os.Stat(m); err == nil && !st.IsDir() && formatOf(m) != "" {
				if err := add(m); err != nil {
					return nil, err
				}
				n++
			}
		}
		if n == 0 {
			return nil, &ParseError{File: loc, Err: errors.New("dataset: pattern matches no .parquet or .csv file")}
		}
	}
	if len(files) == 0 {
		return nil, errors.New("dataset: no data file given")
	}
	return files, nil
}

// ReadFiles reads the files that locations name (see Expand) as one dataset, rows in file order.
// Every file must have the columns of the first, in any order; a column missing from a file or one
// the first does not have is an error wrapping ErrSchema that names the file and the column. A
// column read as different kinds in different files (a CSV part whose values all look like numbers
// while another's do not) becomes a category in all of them, each value written as its text; a
// Parquet part whose type differs is an ErrSchema error.
func ReadFiles(locations []string, opts ReadOptions) (*features.Frame, error) {
	files, err := Expand(locations)
	if err != nil {
		return nil, err
	}
	if len(files) == 1 {
		return ReadFile(files[0], opts)
	}
	frames := make([]*features.Frame, len(files))
	for i, path := range files {
		if frames[i], err = ReadFile(path, opts); err != nil {
			return nil, err
		}
	}
	first := frames[0]
	out := &features.Frame{}
	for _, c := range first.Columns {
		kind := c.Kind
		for i, f := range frames[1:] {
			other := f.Column(c.Name)
			if other == nil {
				return nil, &ParseError{File: files[i+1], Column: c.Name,
					Err: fmt.Errorf("%w: the column of %s is missing", ErrSchema, files[0])}
			}
			if other.Kind != kind {
				if formatOf(files[0]) == "parquet" && formatOf(files[i+1]) == "parquet" {
					return nil, &ParseError{File: files[i+1], Column: c.Name,
						Err: fmt.Errorf("%w: %s here, %s in %s", ErrSchema, other.Kind, c.Kind, files[0])}
				}
				kind = features.KindCategory
			}
		}
		out.Columns = append(out.Columns, newColumn(c.Name, kind, 0))
	}
	for i, f := range frames {
		for _, c := range f.Columns {
			if first.Column(c.Name) == nil {
				return nil, &ParseError{File: files[i], Column: c.Name,
					Err: fmt.Errorf("%w: %s has no such column", ErrSchema, files[0])}
			}
		}
		for _, dst := range out.Columns {
			src := f.Column(dst.Name)
			if src.Kind == dst.Kind {
				dst.Valid = append(dst.Valid, src.Valid...)
				dst.Str = append(dst.Str, src.Str...)
				dst.Num = append(dst.Num, src.Num...)
				dst.Bool = append(dst.Bool, src.Bool...)
				continue
			}
			for r := range src.Len() {
				v, err := features.Parse(dst.Kind, src.Value(r), features.NewMissingValues([]string{}))
				if err != nil { // cannot happen: every kind reads as a category
					return nil, &ParseError{File: files[i], Row: r + 1, Column: dst.Name, Err: err}
				}
				appendValue(dst, v)
			}
		}
	}
	return out, nil
}
