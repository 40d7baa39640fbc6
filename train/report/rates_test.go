package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"flag"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/leadscore/leadscore/features"
	"github.com/leadscore/leadscore/models"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// sampleReport is a hand-made report: 30 of 100 closed contacts won, one category table with pooled
// and missing rows, one number table, one skipped column.
func sampleReport() *features.RateReport {
	row := func(label string, n, k int) features.RateRow {
		r := features.RateRow{Label: label, Value: label, Contacts: n, Customers: k, Rate: float64(k) / float64(n)}
		r.Lower, r.Upper = features.Wilson(k, n, 1.96)
		r.Lift = r.Rate / 0.3
		return r
	}
	other := row("(other)", 15, 5)
	other.Value, other.Pooled, other.Values = "", true, 1
	missing := row("(missing)", 5, 1)
	missing.Value, missing.Missing = "", true
	low, high := row("< 10", 60, 6), row(">= 10", 40, 24)
	low.Value, high.Value = "", ""
	low.Lo, low.Hi, high.Lo, high.Hi = math.Inf(-1), 10, 10, math.Inf(1)
	lo, hi := features.Wilson(30, 100, 1.96)
	return &features.RateReport{
		Contacts: 100, Customers: 30, Open: 7, Rate: 0.3, Lower: lo, Upper: hi,
		Tables: []features.RateTable{
			{Property: "source", Kind: features.KindCategory, Strength: 0.767, Rows: []features.RateRow{row("Referrals", 40, 20), row("Paid Search", 40, 4), other, missing}},
			{Property: "visits", Kind: features.KindNumber, Strength: 0.25, Rows: []features.RateRow{low, high}},
		},
		Skipped: []features.SkippedColumn{{Property: "email", Kind: features.KindCategory, Reason: "100 distinct values in 100 contacts: an identifier or free text"}},
	}
}

func TestWriteRatesTextGolden(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteRatesText(&buf, sampleReport()); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "rates.golden.txt")
	if *update {
		if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./train/report -update to create it)", err)
	}
	if got := buf.String(); got != string(want) {
		t.Errorf("text output differs from %s (run go test ./train/report -update after checking it):\n got:\n%s\nwant:\n%s", golden, got, want)
	}
}

func TestWriteRatesCSV(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteRatesCSV(&buf, sampleReport()); err != nil {
		t.Fatal(err)
	}
	records, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(records) != 1+1+4+2 {
		t.Fatalf("got %d records, want header, overall and 6 rows", len(records))
	}
	tests := []struct {
		name string
		row  int
		want []string // attribute, label, lo, hi, contacts, customers, rate
	}{
		{name: "overall", row: 1, want: []string{"(overall)", "(all)", "", "", "100", "30", "0.3"}},
		{name: "category value", row: 2, want: []string{"source", "Referrals", "", "", "40", "20", "0.5"}},
		{name: "missing", row: 5, want: []string{"source", "(missing)", "", "", "5", "1", "0.2"}},
		{name: "first range", row: 6, want: []string{"visits", "< 10", "-Inf", "10", "60", "6", "0.1"}},
		{name: "last range", row: 7, want: []string{"visits", ">= 10", "10", "+Inf", "40", "24", "0.6"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := records[tt.row]
			got := []string{r[0], r[3], r[5], r[6], r[9], r[10], r[11]}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestWriteRatesJSONRoundTrip(t *testing.T) {
	want := sampleReport()
	var buf bytes.Buffer
	if err := WriteRatesJSON(&buf, want); err != nil {
		t.Fatal(err)
	}
	var got features.RateReport
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(&got, want) {
		t.Errorf("round trip differs:\n got %+v\nwant %+v", got, *want)
	}
}

func TestThousands(t *testing.T) {
	tests := []struct {
		n    int
		want string
	}{
		{0, "0"}, {999, "999"}, {1000, "1,000"}, {41188, "41,188"}, {1234567, "1,234,567"}, {-4640, "-4,640"},
	}
	for _, tt := range tests {
		if got := models.Thousands(tt.n); got != tt.want {
			t.Errorf("models.Thousands(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
}

func TestStrengthWord(t *testing.T) {
	tests := []struct {
		iv   float64
		want string
	}{
		{0, "not predictive"}, {0.05, "weak"}, {0.2, "medium"}, {0.5, "strong"}, {2.1, "very strong: check it is known before the outcome"},
	}
	for _, tt := range tests {
		if got := StrengthWord(tt.iv); got != tt.want {
			t.Errorf("StrengthWord(%g) = %q, want %q", tt.iv, got, tt.want)
		}
	}
}
