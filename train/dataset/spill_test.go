package dataset

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/leadscore/leadscore/features"
)

// writeText writes text to the file name (folders made as needed) under dir and returns its path.
func writeText(t *testing.T, dir, name, text string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestSpillCSVReadsLikeReadFiles: CSV spilled a few columns at a time reads back, column by column,
// as ReadFiles reads it whole: kinds inferred and forced, parts whose column kinds differ, a
// Windows-1252 file, a byte-order mark, another delimiter, quoted line breaks, missing and
// non-finite values, a selection of columns; and the report says the same. Close removes the files.
func TestSpillCSVReadsLikeReadFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string { return writeText(t, dir, name, text) }
	plain := write("plain.csv", "id,visits,when,on,note,score,stage\n"+
		"a,1,2024-01-02,true,\"two\nlines\",inf,won\n"+
		"b,,2024-01-03T10:00:00Z,false,,2.5,lost\n"+
		"c,3,,yes,x,nan,\n"+
		"d,4,2024-01-05,,\"q,\"\"uote\"\"\",-1,won\n"+
		"e,5,2024-01-06,no,y,7,lost\n")
	// Four columns to a pass: the last ones are read in a second pass over the files.
	bom := write("bom.csv", "\xef\xbb\xbfid;visits;city;a;b;street\n1;2;K\xf6ln;1;2;Stra\xdfe\n2;3;Z\xfcrich;3;4;Gasse\n")
	write("parts/part-0.csv", "id,code,x,y,z\n1,10,0.5,1,7\n2,20,1.5,2,8\n")
	write("parts/part-1.csv", "id,code,x,y,z\n3,A7,2.5,3,B\n4,,3.5,4,9\n5,50,,5,\n")
	parts := filepath.Join(dir, "parts")
	for _, tc := range []struct {
		name string
		loc  string
		opts ReadOptions
	}{
		{"kinds inferred", plain, ReadOptions{}},
		{"a kind forced", plain, ReadOptions{Kinds: map[string]features.Kind{"stage": features.KindCategory, "visits": features.KindCategory}}},
		{"columns selected", plain, ReadOptions{Columns: []string{"stage", "id", "score"}}},
		{"Windows-1252 with a byte-order mark and semicolons", bom, ReadOptions{}},
		{"parts whose kinds differ", parts, ReadOptions{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var wantRep, gotRep Report
			o := tc.opts
			o.Report = &wantRep
			want, err := ReadFiles([]string{tc.loc}, o)
			if err != nil {
				t.Fatal(err)
			}
			o.Report = &gotRep
			sc, err := SpillCSV([]string{tc.loc}, o, t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			if sc.Len() != want.Len() || !reflect.DeepEqual(sc.Names(), want.Names()) {
				t.Fatalf("spilled: %d rows, columns %v; whole: %d rows, %v", sc.Len(), sc.Names(), want.Len(), want.Names())
			}
			for _, c := range want.Columns {
				got, err := sc.Load(c.Name)
				if err != nil {
					t.Fatal(err)
				}
				if sc.Kind(c.Name) != c.Kind || !reflect.DeepEqual(got, c) {
					t.Errorf("column %q: spilled %s %+v; whole %s %+v", c.Name, sc.Kind(c.Name), got, c.Kind, c)
				}
			}
			if !reflect.DeepEqual(gotRep, wantRep) {
				t.Errorf("report: spilled %+v; whole %+v", gotRep, wantRep)
			}
			rows := []int{0, want.Len() - 1}
			sub, at, err := sc.Rows(rows, nil)
			if err != nil {
				t.Fatal(err)
			}
			for r, i := range rows {
				if g, w := sub.Contact(at[r], ""), want.Contact(i, ""); !reflect.DeepEqual(g, w) {
					t.Errorf("Rows: row %d reads %+v, want %+v", i, g, w)
				}
			}
			if err := sc.Close(); err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(sc.dir); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("after Close the spilled files remain: %v", err)
			}
		})
	}
	if _, err := SpillCSV([]string{write("data.parquet.csv", "a\n1\n"), filepath.Join(dir, "x.parquet")}, ReadOptions{}, t.TempDir()); err == nil {
		t.Error("a missing file: no error")
	}
}

// TestSpillCSVNoRoom: a temporary folder that cannot be made is ErrNoSpill, so the caller reads the
// data whole instead of failing.
func TestSpillCSVNoRoom(t *testing.T) {
	path := writeText(t, t.TempDir(), "c.csv", "a,b\n1,2\n")
	notDir := writeText(t, t.TempDir(), "file", "")
	if _, err := SpillCSV([]string{path}, ReadOptions{}, notDir); !errors.Is(err, ErrNoSpill) {
		t.Errorf("spilling into a file: %v; want ErrNoSpill", err)
	}
}

// TestSpillCSVRefusesWhatReadFilesRefuses: parts whose columns differ and a forced kind of a column
// the data lacks are the errors ReadFiles gives, naming the file and the column, spilled or not.
func TestSpillCSVRefusesWhatReadFilesRefuses(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string { return writeText(t, dir, name, text) }
	write("extra/part-0.csv", "id,x\n1,10\n2,20\n")
	write("extra/part-1.csv", "id,x,amount\n3,30,a\n4,40,b\n")
	write("lacking/part-0.csv", "id,x,amount\n1,10,a\n")
	write("lacking/part-1.csv", "id,x\n3,30\n")
	one := write("one.csv", "id,x\n1,10\n")
	for _, tc := range []struct {
		name string
		loc  string
		opts ReadOptions
		want error
	}{
		{"a later part with a column more", filepath.Join(dir, "extra"), ReadOptions{}, ErrSchema},
		{"a later part with a column less", filepath.Join(dir, "lacking"), ReadOptions{}, ErrSchema},
		{"a forced kind of a column the data lacks", one, ReadOptions{Kinds: map[string]features.Kind{"stage": features.KindCategory}}, ErrUnknownColumn},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, whole := ReadFiles([]string{tc.loc}, tc.opts)
			sc, spilled := SpillCSV([]string{tc.loc}, tc.opts, t.TempDir())
			if sc != nil {
				sc.Close()
			}
			var pw, ps *ParseError
			if !errors.Is(whole, tc.want) || !errors.Is(spilled, tc.want) || !errors.As(whole, &pw) || !errors.As(spilled, &ps) ||
				pw.File != ps.File || pw.Column != ps.Column {
				t.Errorf("read whole: %v\nspilled:    %v\nwant both %v, naming the same file and column", whole, spilled, tc.want)
			}
		})
	}
}
