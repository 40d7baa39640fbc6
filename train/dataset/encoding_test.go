package dataset

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/leadscore/leadscore/features"
)

// latin1CSV is a CSV file written in Windows-1252: "Köln" and "Müller & Söhne" as single bytes.
const latin1CSV = "contact_id,city,company,visits\nC1,K\xf6ln,M\xfcller & S\xf6hne,3\nC2,Berlin,Acme,Inf\nC3,K\xf6ln,Acme,4\n"

func TestReadLatin1(t *testing.T) {
	dir := t.TempDir()
	csvPath := filepath.Join(dir, "latin1.csv")
	if err := os.WriteFile(csvPath, []byte(latin1CSV), 0o644); err != nil {
		t.Fatal(err)
	}
	var rep Report
	f, err := ReadFile(csvPath, ReadOptions{Report: &rep})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := f.Column("city").Str, []string{"Köln", "Berlin", "Köln"}; !slices.Equal(got, want) {
		t.Errorf("city %q, want %q", got, want)
	}
	if got := f.Column("company").Str[0]; got != "Müller & Söhne" {
		t.Errorf("company %q, want Müller & Söhne", got)
	}
	if rep.Decoded[csvPath] != EncodingWindows1252 {
		t.Errorf("report %+v does not say the file was decoded", rep)
	}
	if rep.NonFinite["visits"] != 1 || f.Column("visits").Kind != features.KindNumber {
		t.Errorf("visits: kind %s, non-finite %v; want a number column with 1 missing inf", f.Column("visits").Kind, rep.NonFinite)
	}

	// The same bytes in Parquet strings read the same (the case: the model stored
	// "K\ufffdln" while batch scoring read the raw bytes).
	raw := &features.Frame{Columns: []*features.Column{
		{Name: "city", Kind: features.KindCategory, Str: []string{"K\xf6ln", "Berlin", "K\xf6ln"}, Valid: []bool{true, true, true}},
	}}
	pqPath := filepath.Join(dir, "latin1.parquet")
	if err := WriteFile(pqPath, raw); err != nil {
		t.Fatal(err)
	}
	var pqRep Report
	pq, err := ReadFile(pqPath, ReadOptions{Report: &pqRep})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := pq.Column("city").Str, f.Column("city").Str; !slices.Equal(got, want) {
		t.Errorf("Parquet city %q, CSV %q", got, want)
	}
	if pqRep.Decoded[pqPath] != EncodingWindows1252 {
		t.Errorf("Parquet report %+v does not say it decoded", pqRep)
	}

	// Asked for UTF-8, the file is refused at its first bad value.
	for _, path := range []string{csvPath, pqPath} {
		_, err = ReadFile(path, ReadOptions{Encoding: "utf-8"})
		var pe *ParseError
		if !errors.Is(err, ErrEncoding) || !errors.As(err, &pe) || pe.Row != 1 || pe.Column != "city" {
			t.Errorf("%s as UTF-8: error %v, want ErrEncoding at row 1 column city", path, err)
		}
	}
	// Named as Latin-1, it is decoded without guessing.
	if f, err := ReadFile(csvPath, ReadOptions{Encoding: "latin1"}); err != nil || f.Column("city").Str[0] != "Köln" {
		t.Errorf("as latin1: %v", err)
	}
}

func TestReadMixedEncodingRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mixed.csv")
	// Row 1 is UTF-8 ("Köln" in two bytes for ö), row 2 is Windows-1252: no one encoding reads both.
	if err := os.WriteFile(path, []byte("id,city\n1,K\xc3\xb6ln\n2,K\xf6ln\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := ReadFile(path, ReadOptions{})
	var pe *ParseError
	if !errors.Is(err, ErrEncoding) || !errors.As(err, &pe) || pe.Row != 2 || pe.Column != "city" || pe.Line != 3 {
		t.Fatalf("error %v, want ErrEncoding at line 3, row 2, column city", err)
	}
}
