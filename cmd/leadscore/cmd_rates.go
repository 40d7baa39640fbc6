package main

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/leadscore/leadscore/features"
	"github.com/leadscore/leadscore/train"
	"github.com/leadscore/leadscore/train/dataset"
	"github.com/leadscore/leadscore/train/report"
)

type ratesFlags struct {
	data, label, format string
	positive, negative  []string
	columns             []string
	minContacts         int
	timeColumn          string
	read                readFlags
	outcomes            outcomeFlags
}

func newRatesCmd(stdout, _ io.Writer) *cobra.Command {
	var fl ratesFlags
	cmd := &cobra.Command{
		Use:   "rates --data FILE --label COLUMN",
		Short: "Show the conversion rate of closed contacts by value and by range of every property",
		Long: `Show the conversion rate of closed contacts by value and by range of every property.

Open contacts (outcome not known yet) are skipped. Category values with fewer than --min-contacts
closed contacts are pooled into "(other)"; numbers and times are cut into ranges where the rate
changes (entropy splits with the Fayyad-Irani MDL stopping rule). Properties are ordered by
information value, strongest first: above 0.5, suspect the property leaks the outcome.`,
		Args: noArgs("rates"),
		RunE: func(cmd *cobra.Command, _ []string) error { return runRates(cmd, fl, stdout, cmd.ErrOrStderr()) },
	}
	f := cmd.Flags()
	f.StringVar(&fl.data, "data", "", dataHelp+" (required)")
	f.StringVar(&fl.label, "label", "", "outcome column (required, unless --outcomes)")
	f.StringVar(&fl.timeColumn, "time-column", "", "with --outcome-window: the contacts' time column")
	f.StringSliceVar(&fl.positive, "positive", nil, "outcome values that mean won (default: true/1 for flags and 0/1 columns)")
	f.StringSliceVar(&fl.negative, "negative", nil, "outcome values that mean lost; with it, any other value is open")
	f.StringVar(&fl.format, "format", "table", "output format: table, csv or json")
	f.IntVar(&fl.minContacts, "min-contacts", 0, fmt.Sprintf("fewest closed contacts for a value row or a range (0: %d)", features.DefaultMinContacts))
	f.StringSliceVar(&fl.columns, "columns", nil, "only these properties (default: all but the outcome)")
	fl.read.register(f)
	fl.outcomes.register(f)
	return cmd
}

func runRates(cmd *cobra.Command, fl ratesFlags, stdout, stderr io.Writer) error {
	if fl.outcomes.file != "" && fl.label == "" {
		fl.label = "outcome"
	}
	switch {
	case fl.data == "":
		return usageError{errors.New("rates: --data is required")}
	case fl.label == "":
		return usageError{errors.New("rates: --label is required")}
	case fl.minContacts < 0:
		return usageError{fmt.Errorf("rates: --min-contacts must not be negative, got %d", fl.minContacts)}
	case !slices.Contains(report.RateFormats, fl.format):
		return usageError{fmt.Errorf("rates: --format must be table, csv or json, got %q", fl.format)}
	}
	joined, err := fl.outcomes.source(fl.timeColumn)
	if err != nil {
		return err
	}
	var rep dataset.Report
	read := fl.read.options(cmd.Flags(), &rep)
	data := train.Data{Locations: fl.data, Read: read, Outcomes: joined,
		Outcome: dataset.Outcome{Column: fl.label, Positive: fl.positive, Negative: fl.negative}}
	data.Read.Columns = data.Columns(fl.columns)
	// The outcome is read as text, so --positive and --negative name values as the file writes them
	// ("yes", not the "true" a yes/no column would otherwise be inferred as).
	// Parquet is read a column at a time, as train reads it (train.OpenLabelled); what reading
	// finds is printed once every column has been read.
	src, labels, counts, err := openLabelled(data)
	defer printReport(stderr, "rates", &rep)
	if err != nil {
		return err
	}
	defer src.Close()
	if len(counts.OpenValues) > 0 {
		// On stderr, so CSV and JSON on stdout stay machine-readable.
		fmt.Fprintf(stderr, "rates: %d rows are still open and left out (%s = %s, or missing)\n", counts.Open, fl.label, strings.Join(counts.OpenValues, ", "))
	}
	exclude := []string{fl.label}
	if joined != nil {
		exclude = append(exclude, joined.Key)
	}
	rates, err := features.ComputeRates(src, labels, features.RateOptions{
		MinContacts: fl.minContacts,
		Exclude:     exclude,
	})
	if err != nil {
		return fmt.Errorf("rates: %w", err)
	}
	return report.WriteRates(stdout, rates, fl.format)
}
