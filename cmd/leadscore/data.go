package main

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"time"

	"github.com/spf13/pflag"

	"github.com/leadscore/leadscore/features"
	"github.com/leadscore/leadscore/models"
	"github.com/leadscore/leadscore/train"
	"github.com/leadscore/leadscore/train/dataset"
)

// dataHelp is the --data flag's help for commands that read contacts.
const dataHelp = "contacts: a .parquet or .csv file, several separated by commas, a folder of Parquet parts or a glob such as 'export/part-*.parquet', on disk or on object storage (s3://BUCKET/KEY with the store's ?region=, ?endpoint= ..., gs://, azblob://)"

// readFlags are how every command that reads contacts reads text.
type readFlags struct {
	missing    []string
	missingSet bool // --missing-values was given (an empty list means only blank text is missing)
	encoding   string
}

func (r *readFlags) register(f *pflag.FlagSet) {
	f.StringSliceVar(&r.missing, "missing-values", nil, "texts read as missing values, in any case (default: blank, NA, N/A, null, none, NaN, -, Select, unknown, ...: see README)")
	f.StringVar(&r.encoding, "encoding", "", "text encoding of CSV files: utf-8 or windows-1252/latin1 (default: UTF-8, else Windows-1252, said on stderr)")
}

// options returns the read options of the flags; set is the flag set, to tell an empty
// --missing-values from none.
func (r *readFlags) options(f *pflag.FlagSet, rep *dataset.Report) dataset.ReadOptions {
	opts := dataset.ReadOptions{Encoding: r.encoding, Report: rep}
	if f != nil && f.Changed("missing-values") {
		opts.MissingValues = append([]string{}, r.missing...)
	}
	return opts
}

// outcomeFlags take the outcome from a second file joined by a key.
type outcomeFlags struct {
	file, key, column  string
	positive, negative []string
	window             time.Duration
}

func (o *outcomeFlags) register(f *pflag.FlagSet) {
	f.StringVar(&o.file, "outcomes", "", "take the outcome from this second file (closed deals, customers) joined by --key; only the outcome crosses the join")
	f.StringVar(&o.key, "key", "", "with --outcomes: the column identifying a contact in both files")
	f.StringVar(&o.column, "outcome-label", "", "with --outcomes: the file's outcome column (default: every contact found there is won)")
	f.StringSliceVar(&o.positive, "outcome-positive", nil, "with --outcome-label: its values that mean won")
	f.StringSliceVar(&o.negative, "outcome-negative", nil, "with --outcome-label: its values that mean lost")
	f.DurationVar(&o.window, "outcome-window", 0, "with --outcomes: a contact not found is lost once this old by --time-column (e.g. 2160h for 90 days), open before; 0: lost at once")
}

// source returns the recorded form of the join, nil without --outcomes.
func (o *outcomeFlags) source(timeColumn string) (*models.OutcomesFile, error) {
	if o.file == "" {
		if o.key != "" || o.column != "" || o.window != 0 {
			return nil, usageError{errors.New("--key, --outcome-label and --outcome-window go with --outcomes")}
		}
		return nil, nil
	}
	if o.key == "" {
		return nil, usageError{errors.New("--outcomes needs --key, the column that identifies a contact in both files")}
	}
	if o.window > 0 && timeColumn == "" {
		return nil, usageError{errors.New("--outcome-window needs --time-column, the contacts' time to measure the window from")}
	}
	return train.NewOutcomesFile(dataset.OutcomeJoin{File: o.file, Key: o.key, Column: o.column,
		Positive: o.positive, Negative: o.negative, TimeColumn: timeColumn, Window: o.window})
}

// readLabelled is train.ReadLabelled with the flags that fix an outcome error named.
func readLabelled(d train.Data) (*features.Frame, []features.Label, dataset.OutcomeCounts, error) {
	frame, labels, counts, err := train.ReadLabelled(d)
	return frame, labels, counts, labelledError(err)
}

// openLabelled is train.OpenLabelled with the flags that fix an outcome error named.
func openLabelled(d train.Data) (train.Source, []features.Label, dataset.OutcomeCounts, error) {
	src, labels, counts, err := train.OpenLabelled(d)
	return src, labels, counts, labelledError(err)
}

// labelledError names the flags that fix an error of reading contacts and their outcome.
func labelledError(err error) error {
	switch {
	case errors.Is(err, train.ErrJoinedColumn):
		return usageError{fmt.Errorf("%w; name the joined outcome with --label", err)}
	case err != nil:
		return fmt.Errorf("%w%s", err, outcomeHint(err))
	}
	return nil
}

// outcomeHint names the flags that fix an outcome error.
func outcomeHint(err error) string {
	switch {
	case errors.Is(err, dataset.ErrLabelValue), errors.Is(err, dataset.ErrOneClass):
		return " (name the won and lost values with --positive and --negative)"
	case errors.Is(err, train.ErrTooFewRows):
		return " (lower --min-class to train on fewer)"
	}
	return ""
}

// printReport says on w what reading did beyond parsing: files decoded, inf and nan read as missing.
func printReport(w io.Writer, cmd string, rep *dataset.Report) {
	for _, f := range slices.Sorted(maps.Keys(rep.Decoded)) {
		fmt.Fprintf(w, "%s: %s is not UTF-8; read it as %s (Latin-1); set --encoding to choose\n", cmd, f, rep.Decoded[f])
	}
	for _, c := range slices.Sorted(maps.Keys(rep.NonFinite)) {
		fmt.Fprintf(w, "%s: column %q: %d inf or nan values read as missing\n", cmd, c, rep.NonFinite[c])
	}
}
