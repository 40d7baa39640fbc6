package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/leadscore/leadscore/features"
)

// writeRatesCSV writes 130 contacts: 60 from Referrals (30 won), 60 from Paid Search (6 won), 10 open;
// visits carries no signal and contact_id is unique.
func writeRatesCSV(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("contact_id,source,visits,outcome\n")
	for i := range 130 {
		source, outcome := "Referrals", "no"
		switch {
		case i >= 120:
			outcome = "open"
		case i < 60 && i%2 == 0, i >= 60 && i%10 == 0:
			outcome = "yes"
		}
		if i >= 60 && i < 120 {
			source = "Paid Search"
		}
		fmt.Fprintf(&b, "C%03d,%s,%d,%s\n", i, source, i%7, outcome)
	}
	path := filepath.Join(t.TempDir(), "contacts.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func runRatesCmd(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), append([]string{"rates"}, args...), &stdout, &stderr)
	return stdout.String(), err
}

func TestRatesCommandTable(t *testing.T) {
	path := writeRatesCSV(t)
	out, err := runRatesCmd(t, "--data", path, "--label", "outcome", "--positive", "yes", "--negative", "no")
	if err != nil {
		t.Fatal(err)
	}
	// Wilson(36, 120, 1.96) by hand (bc -l): 0.22526, 0.38715.
	wantFirst := "Overall: 36 of 120 closed contacts became customers: 30.00% (95% CI 22.53%-38.72%); 10 open skipped"
	if first, _, _ := strings.Cut(out, "\n"); first != wantFirst {
		t.Errorf("first line %q, want %q", first, wantFirst)
	}
	for _, want := range []string{
		"source (category): strength",
		"Referrals          60         30  50.00%",
		"contact_id (category): 120 distinct values in 120 contacts: an identifier or free text",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "outcome (") {
		t.Errorf("the label column got a table:\n%s", out)
	}
}

func TestRatesCommandFormats(t *testing.T) {
	path := writeRatesCSV(t)
	out, err := runRatesCmd(t, "--data", path, "--label", "outcome", "--positive", "yes", "--format", "json", "--columns", "source")
	if err != nil {
		t.Fatal(err)
	}
	var rep features.RateReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v in %s", err, out)
	}
	// Without --negative, "open" still counts as open (dataset.Outcome recognises it).
	if rep.Contacts != 120 || rep.Customers != 36 || len(rep.Tables) != 1 || rep.Tables[0].Property != "source" {
		t.Errorf("json report: %d of %d, tables %+v; want 36 of 120 and only source", rep.Customers, rep.Contacts, rep.Tables)
	}

	out, err = runRatesCmd(t, "--data", path, "--label", "outcome", "--positive", "yes", "--negative", "no", "--format", "csv", "--min-contacts", "70")
	if err != nil {
		t.Fatal(err)
	}
	records, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var attrs []string
	for _, r := range records[1:] {
		attrs = append(attrs, r[0])
	}
	// With 70 contacts needed, both sources are pooled: no table for source at all.
	if want := []string{"(overall)"}; !slices.Equal(slices.Compact(attrs), want) {
		t.Errorf("csv attributes %q, want %q", attrs, want)
	}
}

func TestRatesCommandErrors(t *testing.T) {
	path := writeRatesCSV(t)
	tests := []struct {
		name  string
		args  []string
		usage bool
	}{
		{name: "no data", args: []string{"--label", "outcome"}, usage: true},
		{name: "no label", args: []string{"--data", path}, usage: true},
		{name: "bad format", args: []string{"--data", path, "--label", "outcome", "--format", "xml"}, usage: true},
		{name: "negative min contacts", args: []string{"--data", path, "--label", "outcome", "--min-contacts", "-1"}, usage: true},
		{name: "unknown flag", args: []string{"--data", path, "--label", "outcome", "--nope"}, usage: true},
		{name: "argument", args: []string{"--data", path, "--label", "outcome", "extra"}, usage: true},
		{name: "missing file", args: []string{"--data", filepath.Join(t.TempDir(), "none.csv"), "--label", "outcome"}},
		{name: "unknown label", args: []string{"--data", path, "--label", "nope"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := runRatesCmd(t, tt.args...)
			if err == nil {
				t.Fatal("no error")
			}
			var u usageError
			if got := errors.As(err, &u); got != tt.usage {
				t.Errorf("usage error %v, want %v: %v", got, tt.usage, err)
			}
		})
	}
}

// TestRatesCommandBankMarketing runs the acceptance check on the UCI bank marketing data when present.
func TestRatesCommandBankMarketing(t *testing.T) {
	path := "/work/shared/data/uci-bank-marketing/bank-additional-full.csv"
	if _, err := os.Stat(path); err != nil {
		t.Skipf("bank marketing data not available: %v", err)
	}
	out, err := runRatesCmd(t, "--data", path, "--label", "y", "--positive", "yes", "--format", "json")
	if err != nil {
		t.Fatal(err)
	}
	var rep features.RateReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	// The data's README: 41,188 contacts, 4,640 of them "yes" (11.27%).
	if rep.Contacts != 41188 || rep.Customers != 4640 || rep.Open != 0 || fmt.Sprintf("%.2f%%", 100*rep.Rate) != "11.27%" {
		t.Errorf("overall %d of %d (%d open) = %.4f, want 4640 of 41188, 11.27%%", rep.Customers, rep.Contacts, rep.Open, rep.Rate)
	}
	// duration leaks the outcome and must come first; poutcome ranks in the stronger half, behind the
	// macro-economic columns that encode the calendar period (see the data's README).
	var order []string
	for _, tab := range rep.Tables {
		order = append(order, tab.Property)
	}
	if len(order) == 0 || order[0] != "duration" {
		t.Errorf("strongest properties %q, want duration first", order)
	}
	if i := slices.Index(order, "poutcome"); i < 0 || i >= len(order)/2 {
		t.Errorf("poutcome ranks %d of %d (%q), want in the stronger half", i+1, len(order), order)
	}
}
