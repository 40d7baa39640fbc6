package dataset

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/leadscore/leadscore/features"
)

// sampleFrame holds every kind, missing values in each column, and values that are easy to get
// wrong: a category that looks numeric, a quote and delimiters inside a string, fractional
// seconds and negative numbers.
func sampleFrame() *features.Frame {
	t0 := time.Date(2024, 3, 1, 12, 30, 45, 123456000, time.UTC)
	return &features.Frame{Columns: []*features.Column{
		{Name: "contact_id", Kind: features.KindCategory,
			Str:   []string{"C001", "C002", "C003", "C004"},
			Valid: []bool{true, true, true, true}},
		{Name: "zip", Kind: features.KindCategory,
			Str:   []string{"02134", "", "say \"hi\", ok; x\ty", "line1\nline2"},
			Valid: []bool{true, false, true, true}},
		{Name: "employees", Kind: features.KindNumber,
			Num:   []float64{12, 0, -3.25, 1e20},
			Valid: []bool{true, false, true, true}},
		{Name: "unsubscribed", Kind: features.KindFlag,
			Bool:  []bool{true, false, false, false},
			Valid: []bool{true, true, false, true}},
		{Name: "created_at", Kind: features.KindTime,
			Num:   []float64{features.UnixSeconds(t0), 0, features.UnixSeconds(t0.Add(-400 * 24 * time.Hour)), 0},
			Valid: []bool{true, false, true, true}},
	}}
}

// mustEqualFrames fails unless got and want hold the same columns, kinds and values; times may
// differ by less than a microsecond (the Parquet timestamp unit).
func mustEqualFrames(t *testing.T, got, want *features.Frame) {
	t.Helper()
	if err := got.Validate(); err != nil {
		t.Fatalf("invalid frame: %v", err)
	}
	if len(got.Columns) != len(want.Columns) || got.Len() != want.Len() {
		t.Fatalf("got %d columns x %d rows, want %d x %d", len(got.Columns), got.Len(), len(want.Columns), want.Len())
	}
	for j, w := range want.Columns {
		g := got.Columns[j]
		if g.Name != w.Name || g.Kind != w.Kind {
			t.Fatalf("column %d: got %q %s, want %q %s", j, g.Name, g.Kind, w.Name, w.Kind)
		}
		for i := range w.Len() {
			gv, wv := g.Value(i), w.Value(i)
			same := gv == wv
			if gv.Kind == features.KindTime && wv.Kind == features.KindTime {
				same = gv.Time.Sub(wv.Time).Abs() < time.Microsecond
			}
			if !same {
				t.Errorf("column %q row %d: got %+v, want %+v", w.Name, i, gv, wv)
			}
		}
	}
}

func TestWriteReadRoundTrip(t *testing.T) {
	for _, ext := range []string{".parquet", ".csv", ".tsv"} {
		t.Run(ext, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "contacts"+ext)
			want := sampleFrame()
			if err := WriteFile(path, want); err != nil {
				t.Fatal(err)
			}
			// CSV carries no types: inference must give back each kind (the zip codes stay
			// categories because of their leading zero).
			got, err := ReadFile(path, ReadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			mustEqualFrames(t, got, want)
			entries, err := os.ReadDir(filepath.Dir(path))
			if err != nil {
				t.Fatal(err)
			}
			if len(entries) != 1 {
				t.Errorf("directory holds %d entries, want only the written file (no temp file left)", len(entries))
			}
		})
	}
}

func TestWriteReadRoundTripNoRows(t *testing.T) {
	for _, ext := range []string{".parquet", ".csv"} {
		t.Run(ext, func(t *testing.T) {
			want := &features.Frame{Columns: []*features.Column{{Name: "a", Kind: features.KindCategory}, {Name: "b", Kind: features.KindCategory}}}
			path := filepath.Join(t.TempDir(), "empty"+ext)
			if err := WriteFile(path, want); err != nil {
				t.Fatal(err)
			}
			got, err := ReadFile(path, ReadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			mustEqualFrames(t, got, want)
		})
	}
}

func TestWriteReadRoundTripManyRowGroups(t *testing.T) {
	n := RowGroupRows*2 + 17
	c := &features.Column{Name: "x", Kind: features.KindNumber, Num: make([]float64, n), Valid: make([]bool, n)}
	for i := range n {
		c.Num[i], c.Valid[i] = float64(i), i%7 != 0
		if !c.Valid[i] {
			c.Num[i] = 0
		}
	}
	want := &features.Frame{Columns: []*features.Column{c}}
	path := filepath.Join(t.TempDir(), "big.parquet")
	if err := WriteFile(path, want); err != nil {
		t.Fatal(err)
	}
	got, err := ReadFile(path, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	mustEqualFrames(t, got, want)
}

func TestWriteFileErrors(t *testing.T) {
	dir := t.TempDir()
	dup := &features.Frame{Columns: []*features.Column{
		{Name: "a", Kind: features.KindNumber, Num: []float64{1}, Valid: []bool{true}},
		{Name: "a", Kind: features.KindNumber, Num: []float64{1}, Valid: []bool{true}},
	}}
	tests := []struct {
		name string
		path string
		f    *features.Frame
		want error
	}{
		{"unknown extension", filepath.Join(dir, "x.xlsx"), sampleFrame(), ErrFormat},
		{"duplicate column", filepath.Join(dir, "x.parquet"), dup, ErrDuplicateColumn},
		{"no columns", filepath.Join(dir, "x.csv"), &features.Frame{}, ErrEmpty},
		{"missing directory", filepath.Join(dir, "no", "x.csv"), sampleFrame(), os.ErrNotExist},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := WriteFile(tt.path, tt.f)
			if !errors.Is(err, tt.want) {
				t.Errorf("got %v, want %v", err, tt.want)
			}
		})
	}
}

func TestFormatNumberExact(t *testing.T) {
	for _, x := range []float64{0, 1, -1, 0.1, 1.0 / 3, 1e15, 123456789012345, 1e-300, -2.5e20, math.MaxFloat64} {
		got, ok := features.NumberText(features.FormatNumber(x))
		if !ok || got != x {
			t.Errorf("FormatNumber(%v) = %q reads back as %v, %t", x, features.FormatNumber(x), got, ok)
		}
	}
}
