package dataset

import (
	"errors"
	"math"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/leadscore/leadscore/features"
)

// TestColumnFilesReadLikeReadFiles: every column OpenColumns loads, its kind, the names, the rows and
// the contacts of some rows are what ReadFiles reads whole, for every Parquet type the reader knows,
// with a kind forced and for parts.
func TestColumnFilesReadLikeReadFiles(t *testing.T) {
	types := writeFixture(t, typesRows())
	parts := t.TempDir()
	frame := &features.Frame{Columns: []*features.Column{
		{Name: "id", Kind: features.KindCategory, Str: []string{"a", "b", "c", "d", "e"}, Valid: []bool{true, true, true, true, true}},
		{Name: "visits", Kind: features.KindNumber, Num: []float64{1, 0, 3, 4, 5}, Valid: []bool{true, false, true, true, true}},
		{Name: "code", Kind: features.KindNumber, Num: []float64{10, 20, 30, 40, 50}, Valid: []bool{true, true, true, true, true}},
	}}
	for i, cut := range [][2]int{{0, 2}, {2, 5}} {
		if err := WriteFile(filepath.Join(parts, []string{"part-0.parquet", "part-1.parquet"}[i]), frame.Slice(cut[0], cut[1])); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name string
		locs []string
		opts ReadOptions
		rows []int
	}{
		{"every type", []string{types}, ReadOptions{}, []int{0}},
		{"parts", []string{parts}, ReadOptions{}, []int{1, 2, 4}},
		{"a kind forced", []string{parts}, ReadOptions{Kinds: map[string]features.Kind{"code": features.KindCategory}}, []int{0, 3}},
		{"columns selected", []string{parts}, ReadOptions{Columns: []string{"visits", "id"}}, []int{2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want, err := ReadFiles(tc.locs, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			cf, err := OpenColumns(tc.locs, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if cf.Len() != want.Len() || !reflect.DeepEqual(cf.Names(), want.Names()) {
				t.Fatalf("OpenColumns: %d rows, columns %v; ReadFiles: %d rows, columns %v", cf.Len(), cf.Names(), want.Len(), want.Names())
			}
			for _, c := range want.Columns {
				got, err := cf.Load(c.Name)
				if err != nil {
					t.Fatal(err)
				}
				if cf.Kind(c.Name) != c.Kind || !reflect.DeepEqual(got, c) {
					t.Errorf("column %q: kind %s, loaded %+v; ReadFiles reads a %s column %+v", c.Name, cf.Kind(c.Name), got, c.Kind, c)
				}
			}
			sub, at, err := cf.Rows(tc.rows, nil)
			if err != nil {
				t.Fatal(err)
			}
			for r, i := range tc.rows {
				if g, w := sub.Contact(at[r], ""), want.Contact(i, ""); !reflect.DeepEqual(g, w) {
					t.Errorf("Rows: row %d reads %+v, want %+v", i, g, w)
				}
			}
			last := want.Columns[len(want.Columns)-1].Name
			some, _, err := cf.Rows(tc.rows, []string{"no such column", last})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(some.Names(), []string{last}) {
				t.Errorf("Rows of %q and an unknown column: columns %v", last, some.Names())
			}
			if c, err := cf.Load("no such column"); c != nil || err != nil || cf.Kind("no such column") != features.KindNone {
				t.Errorf("an unknown column: %v, %v, kind %s; want none", c, err, cf.Kind("no such column"))
			}
		})
	}
}

// TestColumnFilesReport: what reading finds is reported once per column, however often the column
// is loaded, and the files once.
func TestColumnFilesReport(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nan.parquet")
	f := &features.Frame{Columns: []*features.Column{
		{Name: "x", Kind: features.KindNumber, Num: []float64{1, math.NaN(), math.Inf(1)}, Valid: []bool{true, true, true}},
	}}
	if err := WriteFile(path, f); err != nil {
		t.Fatal(err)
	}
	var rep Report
	cf, err := OpenColumns([]string{path}, ReadOptions{Report: &rep})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := cf.Load("x"); err != nil {
			t.Fatal(err)
		}
	}
	if !reflect.DeepEqual(rep.Files, []string{path}) || rep.NonFinite["x"] != 2 {
		t.Errorf("report: files %v, non-finite %v; want the file once and 2 values of x", rep.Files, rep.NonFinite)
	}
}

// TestOpenColumnsErrors: data that cannot be read a column at a time, or parts that do not agree,
// are errors naming the file and the column.
func TestOpenColumnsErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, cols ...*features.Column) string {
		t.Helper()
		path := filepath.Join(dir, name)
		if err := WriteFile(path, &features.Frame{Columns: cols}); err != nil {
			t.Fatal(err)
		}
		return path
	}
	num := func(name string) *features.Column {
		return &features.Column{Name: name, Kind: features.KindNumber, Num: []float64{1}, Valid: []bool{true}}
	}
	text := func(name string) *features.Column {
		return &features.Column{Name: name, Kind: features.KindCategory, Str: []string{"a"}, Valid: []bool{true}}
	}
	a := write("a.parquet", num("x"), num("y"))
	csv := write("b.csv", num("x"), num("y"))
	lacking := write("c.parquet", num("x"))
	extra := write("d.parquet", num("x"), num("y"), num("z"))
	other := write("e.parquet", num("x"), text("y"))
	for _, tc := range []struct {
		name   string
		locs   []string
		want   error
		file   string
		column string
	}{
		{"CSV", []string{a, csv}, ErrFormat, csv, ""},
		{"a column missing", []string{a, lacking}, ErrSchema, lacking, "y"},
		{"a column too many", []string{a, extra}, ErrSchema, extra, "z"},
		{"a column of another kind", []string{a, other}, ErrSchema, other, "y"},
		{"a forced kind the files lack", []string{a}, ErrUnknownColumn, a, "w"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var opts ReadOptions
			if tc.want == ErrUnknownColumn {
				opts.Kinds = map[string]features.Kind{"w": features.KindCategory}
			}
			_, err := OpenColumns(tc.locs, opts)
			var pe *ParseError
			if !errors.Is(err, tc.want) || !errors.As(err, &pe) || pe.File != tc.file || pe.Column != tc.column {
				t.Errorf("got %v; want %v naming file %s and column %q", err, tc.want, tc.file, tc.column)
			}
		})
	}
	cf, err := OpenColumns([]string{a}, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := cf.Rows([]int{0, 0}, nil); err == nil {
		t.Error("Rows of a repeated row: no error")
	}
	if _, _, err := cf.Rows([]int{1}, nil); err == nil {
		t.Error("Rows of a row past the end: no error")
	}
}
