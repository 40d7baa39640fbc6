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

// Expand turns data locations into the files they name, in order (objects on object storage as
// IsObject says): a file is itself; a folder is its .parquet and .csv files (a Spark or warehouse export: names starting with "_" or "." such
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
		if IsObject(loc) {
			objects, err := expandObject(loc)
			if err != nil {
				return nil, err
			}
			for _, o := range objects {
				if err := add(o); err != nil {
					return nil, err
				}
			}
			continue
		}
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

// Size returns the size in bytes of the files that locations name (see Expand).
func Size(locations []string) (int64, error) {
	files, err := Expand(locations)
	if err != nil {
		return 0, err
	}
	var total int64
	for _, path := range files {
		f, err := openData(path)
		if err != nil {
			return 0, err
		}
		total += f.size
		f.Close()
	}
	return total, nil
}

// ReadFiles reads the files that locations name (see Expand) as one dataset, rows in file order.
// Every file must have the columns of the first, in any order; a column missing from a file or one
// the first does not have is an error wrapping ErrSchema that names the file and the column. A
// column read as different kinds in different files (a CSV part whose values all look like numbers
// while another's do not) becomes a category in all of them, each value written as its text; a
// Parquet part whose type differs is an ErrSchema error.
//
// The files are read one after the other and each is appended to the dataset as soon as it is read,
// so memory holds the dataset and one file's frame, not every file's frame.
func ReadFiles(locations []string, opts ReadOptions) (*features.Frame, error) {
	files, err := Expand(locations)
	if err != nil {
		return nil, err
	}
	track, err := newTracker(files, opts.Progress)
	if err != nil {
		return nil, err
	}
	var out *features.Frame
	for i, path := range files {
		fo := opts
		fo.Progress = track.file(i)
		f, err := ReadFile(path, fo)
		if err != nil {
			return nil, err
		}
		track.finish(i, f.Len())
		if i == 0 {
			out = f
			continue
		}
		if err := appendFrame(out, f, files[0], path); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// appendFrame appends the rows of f, read from path, to out, read from first.
func appendFrame(out, f *features.Frame, first, path string) error {
	if err := sameColumns(first, out.Names(), path, f.Names()); err != nil {
		return err
	}
	for i, dst := range out.Columns {
		src := f.Column(dst.Name)
		if src.Kind != dst.Kind {
			if formatOf(first) == "parquet" && formatOf(path) == "parquet" {
				return &ParseError{File: path, Column: dst.Name, Err: fmt.Errorf("%w: %s here, %s in %s", ErrSchema, src.Kind, dst.Kind, first)}
			}
			// The column becomes a category in every file, read so far and to come.
			var err error
			if dst, err = asText(first, dst); err != nil {
				return err
			}
			if src, err = asText(path, src); err != nil {
				return err
			}
			out.Columns[i] = dst
		}
		dst.Valid = append(dst.Valid, src.Valid...)
		dst.Str = append(dst.Str, src.Str...)
		dst.Num = append(dst.Num, src.Num...)
		dst.Bool = append(dst.Bool, src.Bool...)
	}
	return nil
}

// sameColumns checks that the columns of path are those of first, in any order (appendFrame's
// errors).
func sameColumns(first string, want []string, path string, have []string) error {
	for _, name := range want {
		if !slices.Contains(have, name) {
			return &ParseError{File: path, Column: name, Err: fmt.Errorf("%w: the column of %s is missing", ErrSchema, first)}
		}
	}
	for _, name := range have {
		if !slices.Contains(want, name) {
			return &ParseError{File: path, Column: name, Err: fmt.Errorf("%w: %s has no such column", ErrSchema, first)}
		}
	}
	return nil
}

// asText returns c as a category column, each value written as its text.
func asText(file string, c *features.Column) (*features.Column, error) {
	return convertColumn(file, c, features.KindCategory, features.NewMissingValues([]string{}))
}
