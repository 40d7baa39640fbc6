package report

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/leadscore/leadscore/features"
	"github.com/leadscore/leadscore/models"
)

// OverallLine summarises the overall conversion rate of r in one sentence, for example
// "Overall: 4,640 of 41,188 closed contacts became customers: 11.27% (95% CI 10.96%-11.57%); 0 open skipped".
func OverallLine(r *features.RateReport) string {
	return fmt.Sprintf("Overall: %s of %s closed contacts became customers: %s (95%% CI %s-%s); %s open skipped",
		models.Thousands(r.Customers), models.Thousands(r.Contacts), percent(r.Rate), percent(r.Lower), percent(r.Upper), models.Thousands(r.Open))
}

// StrengthWord names an information value with the usual credit-scoring bands (Siddiqi, Credit Risk
// Scorecards, 2006): below 0.02 not predictive, then weak, medium (from 0.1), strong (from 0.3), and
// above 0.5 very strong, which Siddiqi calls suspicious: in lead data such a column is often only known
// after the outcome (a call's duration, a lifecycle stage) and must not be used to predict it.
func StrengthWord(iv float64) string {
	if band := features.StrengthBand(iv); iv <= 0.5 {
		return band
	}
	return "very strong: check it is known before the outcome"
}

// WriteRatesText writes the overall line, then per property a heading and an aligned table of its
// rows (value or range, contacts, customers, rate, 95% interval, lift), strongest first, then the
// skipped columns with their reasons.
func WriteRatesText(w io.Writer, r *features.RateReport) error {
	var b strings.Builder
	b.WriteString(OverallLine(r))
	b.WriteString("\n")
	for _, t := range r.Tables {
		fmt.Fprintf(&b, "\n%s (%s): strength %.3f, %s\n", t.Property, t.Kind, t.Strength, StrengthWord(t.Strength))
		first := "value"
		if t.Kind == features.KindNumber || t.Kind == features.KindTime {
			first = "range"
		}
		cells := [][]string{{first, "contacts", "customers", "rate", "95% CI", "lift"}}
		for _, row := range t.Rows {
			label := row.Label
			if row.Pooled {
				label = fmt.Sprintf("(other: %s values)", models.Thousands(row.Values))
				if row.Values == 1 {
					label = "(other: 1 value)"
				}
			}
			cells = append(cells, []string{label, models.Thousands(row.Contacts), models.Thousands(row.Customers), percent(row.Rate),
				percent(row.Lower) + "-" + percent(row.Upper), strconv.FormatFloat(row.Lift, 'f', 2, 64)})
		}
		writeAligned(&b, cells)
	}
	if len(r.Skipped) > 0 {
		b.WriteString("\nSkipped:\n")
		for _, s := range r.Skipped {
			fmt.Fprintf(&b, "  %s (%s): %s\n", s.Property, s.Kind, s.Reason)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// writeAligned lays cells out with tabwriter: the first column left-aligned, the others right-aligned
// (padded to their widths first, since tabwriter aligns every column one way).
func writeAligned(w io.Writer, cells [][]string) {
	widths := make([]int, len(cells[0]))
	for _, row := range cells {
		for j, c := range row {
			widths[j] = max(widths[j], len(c))
		}
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, row := range cells {
		fmt.Fprint(tw, "  ", row[0])
		for j, c := range row[1:] {
			fmt.Fprintf(tw, "\t%*s", widths[j+1], c)
		}
		fmt.Fprint(tw, "\n")
	}
	tw.Flush()
}

// WriteRatesCSV writes every table as one flat CSV table with a header and an attribute column; the
// first row, attribute "(overall)", holds the overall rate. lo and hi are the numeric range ends
// ("-Inf", "+Inf"; RFC 3339 for time columns), rates are fractions in full precision.
func WriteRatesCSV(w io.Writer, r *features.RateReport) error {
	cw := csv.NewWriter(w)
	f := func(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }
	b := func(x bool) string { return strconv.FormatBool(x) }
	records := [][]string{
		{"attribute", "kind", "strength", "label", "value", "lo", "hi", "missing", "pooled", "contacts", "customers", "rate", "lower", "upper", "lift"},
		{"(overall)", "", "", "(all)", "", "", "", "false", "false", strconv.Itoa(r.Contacts), strconv.Itoa(r.Customers), f(r.Rate), f(r.Lower), f(r.Upper), "1"},
	}
	for _, t := range r.Tables {
		for _, row := range t.Rows {
			var lo, hi string
			if (t.Kind == features.KindNumber || t.Kind == features.KindTime) && !row.Missing {
				lo, hi = bound(row.Lo, t.Kind), bound(row.Hi, t.Kind)
			}
			records = append(records, []string{t.Property, t.Kind.String(), f(t.Strength), row.Label, row.Value, lo, hi,
				b(row.Missing), b(row.Pooled), strconv.Itoa(row.Contacts), strconv.Itoa(row.Customers),
				f(row.Rate), f(row.Lower), f(row.Upper), f(row.Lift)})
		}
	}
	if err := cw.WriteAll(records); err != nil {
		return fmt.Errorf("report: write rates csv: %w", err)
	}
	return nil
}

func bound(x float64, k features.Kind) string {
	switch {
	case math.IsInf(x, 1):
		return "+Inf"
	case math.IsInf(x, -1):
		return "-Inf"
	case k == features.KindTime:
		return features.UnixTime(x).Format(time.RFC3339Nano)
	}
	return strconv.FormatFloat(x, 'g', -1, 64)
}

// RateFormats are the formats WriteRates writes.
var RateFormats = []string{"table", "csv", "json"}

// WriteRates writes r in format, one of RateFormats: WriteRatesText, WriteRatesCSV or WriteRatesJSON.
func WriteRates(w io.Writer, r *features.RateReport, format string) error {
	switch format {
	case "table":
		return WriteRatesText(w, r)
	case "csv":
		return WriteRatesCSV(w, r)
	case "json":
		return WriteRatesJSON(w, r)
	}
	return fmt.Errorf("report: rates format %q: want table, csv or json", format)
}

// WriteRatesJSON writes r as indented JSON (the features.RateReport encoding).
func WriteRatesJSON(w io.Writer, r *features.RateReport) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		return fmt.Errorf("report: write rates json: %w", err)
	}
	return nil
}

// percent prints a fraction as a percentage with two decimals.
func percent(x float64) string { return strconv.FormatFloat(100*x, 'f', 2, 64) + "%" }
