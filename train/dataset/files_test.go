package dataset

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/leadscore/leadscore/features"
)

func TestReadFilesParts(t *testing.T) {
	dir := t.TempDir()
	parts := filepath.Join(dir, "export")
	if err := os.Mkdir(parts, 0o755); err != nil {
		t.Fatal(err)
	}
	part := func(name string, ids []string, visits []float64) {
		t.Helper()
		n := len(ids)
		valid := make([]bool, n)
		for i := range valid {
			valid[i] = true
		}
		f := &features.Frame{Columns: []*features.Column{
			{Name: "contact_id", Kind: features.KindCategory, Str: ids, Valid: valid},
			{Name: "visits", Kind: features.KindNumber, Num: visits, Valid: valid},
		}}
		if err := WriteFile(filepath.Join(parts, name), f); err != nil {
			t.Fatal(err)
		}
	}
	part("part-00001.parquet", []string{"C3"}, []float64{3})
	part("part-00000.parquet", []string{"C1", "C2"}, []float64{1, 2})
	if err := os.WriteFile(filepath.Join(parts, "_SUCCESS"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, loc := range []string{parts, filepath.Join(parts, "part-*.parquet")} {
		f, err := ReadFiles([]string{loc}, ReadOptions{})
		if err != nil {
			t.Fatalf("%s: %v", loc, err)
		}
		if got, want := f.Column("contact_id").Str, []string{"C1", "C2", "C3"}; !slices.Equal(got, want) {
			t.Errorf("%s: ids %q, want %q (parts in name order)", loc, got, want)
		}
		if got, want := f.Column("visits").Num, []float64{1, 2, 3}; !slices.Equal(got, want) {
			t.Errorf("%s: visits %v, want %v", loc, got, want)
		}
	}

	// A part with another schema is refused, naming the file and the column.
	other := filepath.Join(dir, "other.csv")
	if err := os.WriteFile(other, []byte("contact_id,pages\nC9,4\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := ReadFiles([]string{filepath.Join(parts, "part-00000.parquet"), other}, ReadOptions{})
	var pe *ParseError
	if !errors.Is(err, ErrSchema) || !errors.As(err, &pe) || pe.File != other || pe.Column != "visits" {
		t.Errorf("error %v, want ErrSchema naming %s and column visits", err, other)
	}
	// CSV parts typed differently by their values agree on a category.
	a, b := filepath.Join(dir, "a.csv"), filepath.Join(dir, "b.csv")
	if err := os.WriteFile(a, []byte("zip,n\n10001,1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(b, []byte("zip,n\n02134,2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := ReadFiles([]string{a, b}, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if c := f.Column("zip"); c.Kind != features.KindCategory || !slices.Equal(c.Str, []string{"10001", "02134"}) {
		t.Errorf("zip %s %q, want category [10001 02134]", c.Kind, c.Str)
	}
	if _, err := ReadFiles([]string{filepath.Join(dir, "nothing-*.parquet")}, ReadOptions{}); err == nil {
		t.Error("a pattern matching nothing was accepted")
	}
}
