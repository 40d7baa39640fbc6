package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/leadscore/leadscore/features"
	"github.com/leadscore/leadscore/models"
	"github.com/leadscore/leadscore/models/rules"
	"github.com/leadscore/leadscore/train"
	"github.com/leadscore/leadscore/train/compare"
	"github.com/leadscore/leadscore/train/dataset"
	"github.com/leadscore/leadscore/train/suggest"
)

type compareFlags struct {
	models, name, rulesFile, data, label, out, asOf string
	version                                         int
	positive, negative                              []string
}

func newCompareCmd(stdout, _ io.Writer) *cobra.Command {
	var fl compareFlags
	cmd := &cobra.Command{
		Use:   "compare",
		Short: "Judge the predictive score against the manual points score on closed contacts: report.html, CSV tables and a summary",
		Long: `compare scores closed contacts with a published model and a manual rules file, exactly as the
server does, and writes report.html (one self-contained page: headline, gains and lift, conversion by
tier and stage, agreement matrix, disagreements, fit x engagement heat maps, calibration, conversion-rate
tables) and one CSV file per table into --out.

Without --data it uses the model's own holdout: the contacts it was evaluated on, found again in the
training data file, which must not have changed since (its sha256 is checked). With --data it uses every
closed contact of that file, labelled with --label/--positive/--negative (by default the model's).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runCompare(fl, stdout, cmd.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	f.StringVar(&fl.models, "models", "", modelsFlagHelp)
	f.StringVar(&fl.name, "name", "", "model name in the store")
	f.IntVar(&fl.version, "version", 0, "model version (0: the serving version)")
	f.StringVar(&fl.rulesFile, "rules", "", "manual rules file (YAML); without it the predictive score is judged alone, against no order")
	f.StringVar(&fl.data, "data", "", "contacts file (.parquet or .csv); default: the model's holdout in its training data")
	f.StringVar(&fl.label, "label", "", "outcome column of --data (default: the model's)")
	f.StringSliceVar(&fl.positive, "positive", nil, "values of the outcome column that mean won (default: the model's)")
	f.StringSliceVar(&fl.negative, "negative", nil, "values that mean lost (default: the model's)")
	f.StringVar(&fl.out, "out", "", "directory for report.html and the CSV files")
	f.StringVar(&fl.asOf, "as-of", "", "score as of this RFC 3339 time (default: now, as everywhere); judge historical contacts as they were with their export's date")
	return cmd
}

func runCompare(fl compareFlags, stdout, stderr io.Writer) error {
	if fl.models == "" || fl.name == "" || fl.out == "" {
		return usageError{errors.New("compare: --models, --name and --out are required")}
	}
	if fl.data == "" && (fl.label != "" || len(fl.positive)+len(fl.negative) > 0) {
		return usageError{errors.New("compare: --label, --positive and --negative describe --data; without it the model's own labels are used")}
	}
	a, err := loadModel(fl.models, fl.name, fl.version, "")
	if err != nil {
		return err
	}
	// Without a rules file the predictive score is judged alone, against no prioritisation at all:
	// a manual side where every contact scores 0 ranks them in no order.
	rs := rules.None()
	if fl.rulesFile != "" {
		if rs, err = rules.ReadFile(fl.rulesFile); err != nil {
			return err
		}
	}
	frame, labels, rows, source, err := compareData(a, fl)
	if err != nil {
		return err
	}
	if err := rs.CheckColumns(frame.Kinds()); err != nil {
		return fmt.Errorf("compare: the rules in %s do not fit the data:\n%w", fl.rulesFile, err)
	}
	asOf, err := timeFlag("compare", "as-of", fl.asOf)
	if err != nil {
		return err
	}
	rep, err := compare.Build(a, rs, frame, labels, rows, asOf)
	if err != nil {
		return err
	}
	rep.Source = source
	if sug, err := compareSuggestion(a, rs, fl, frame, labels, rows); err == nil {
		rep.AddSuggested(sug, frame, labels)
	} else {
		fmt.Fprintf(stderr, "compare: no suggested rules in the report: %v\n", err)
	}
	page, err := rep.WriteFiles(fl.out)
	if err != nil {
		return err
	}
	rep.Summary(stdout)
	fmt.Fprintf(stdout, "\nReport: %s\nTables: %s/*.csv\n", page, fl.out)
	return nil
}

// compareData reads the contacts to compare on: the model's holdout rows in its unchanged training
// data, or every row of --data (Build keeps the closed ones). It also says which they are, for people.
func compareData(a *models.Artifact, fl compareFlags) (*features.Frame, []features.Label, []int, string, error) {
	if fl.data != "" {
		out := train.ModelOutcome(a, dataset.Outcome{Column: fl.label, Positive: fl.positive, Negative: fl.negative})
		if out.Column == "" {
			return nil, nil, nil, "", usageError{fmt.Errorf("compare: model %s version %d records no outcome column; give --label", a.Name, a.Version)}
		}
		frame, labels, _, err := readLabelled(train.Data{Locations: fl.data, Outcome: out,
			Read: dataset.ReadOptions{MissingValues: a.Encoder.MissingValues}})
		if err != nil {
			return nil, nil, nil, "", err
		}
		return frame, labels, nil, "every closed contact of " + fl.data, nil
	}
	frame, labels, rows, err := train.ModelData(a)
	if err != nil {
		return nil, nil, nil, "", fmt.Errorf("compare: %w; pass --data FILE", err)
	}
	return frame, labels, rows, train.DescribeHoldout(a), nil
}

// compareSuggestion suggests rules from the model's training rows: in the data already read when it
// is the model's own (no --data), else in the model's data file.
func compareSuggestion(a *models.Artifact, rs *rules.Rules, fl compareFlags, frame *features.Frame, labels []features.Label, hold []int) (*suggest.Suggestion, error) {
	if fl.data != "" {
		var err error
		if frame, labels, hold, err = train.ModelData(a); err != nil {
			return nil, err
		}
	}
	return suggest.FromModel(a, frame, train.TrainingRows(labels, hold), suggest.Options{Current: rs})
}
