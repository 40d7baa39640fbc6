package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/leadscore/leadscore/models/rules"
	"github.com/leadscore/leadscore/train"
	"github.com/leadscore/leadscore/train/dataset"
)

type scoreFlags struct {
	models, name, data, out, id, rulesFile, asOf string
	version, reasons                             int
	label                                        string
	keep                                         []string
	read                                         readFlags
}

func newScoreCmd(stdout, stderr io.Writer) *cobra.Command {
	var fl scoreFlags
	cmd := &cobra.Command{
		Use:   "score",
		Short: "Score every contact of a file with a stored model (and the manual rules) into a new file",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runScore(cmd, fl, stdout, stderr)
		},
	}
	f := cmd.Flags()
	f.StringVar(&fl.models, "models", "", modelsFlagHelp)
	f.StringVar(&fl.name, "name", "", "model name")
	f.IntVar(&fl.version, "version", 0, "model version (0 = the serving one: label stable, else the highest valid)")
	f.StringVar(&fl.label, "label", "", "model version label (stable, canary, ...)")
	f.StringVar(&fl.data, "data", "", dataHelp)
	f.StringVar(&fl.out, "out", "", "output file (.csv or .parquet)")
	f.StringVar(&fl.id, "id", "", "id column copied first to the output under its own name, for a CRM re-import to match on (default: the column the model took for an identifier, else \"id\", else the row number)")
	f.StringSliceVar(&fl.keep, "keep", nil, "further columns copied to the output as they are")
	f.IntVar(&fl.reasons, "reasons", 0, "add a column \"reasons\" with the N strongest reasons of each score in one line, for a CRM field")
	f.StringVar(&fl.rulesFile, "rules", "", "manual rules file: add the manual score and stage")
	fl.read.register(f)
	f.StringVar(&fl.asOf, "as-of", "", "scoring time for recency features and time rules, RFC 3339 (default: now, as everywhere)")
	return cmd
}

func runScore(cmd *cobra.Command, fl scoreFlags, stdout, stderr io.Writer) error {
	if fl.data == "" || fl.out == "" {
		return usageError{errors.New("score: --data and --out are required")}
	}
	a, err := loadModel(fl.models, fl.name, fl.version, fl.label)
	if err != nil {
		return err
	}
	asOf, err := timeFlag("score", "as-of", fl.asOf)
	if err != nil {
		return err
	}
	var rs *rules.Rules
	if fl.rulesFile != "" {
		if rs, err = rules.ReadFile(fl.rulesFile); err != nil {
			return err
		}
	}
	// Text is read as the model was trained: its missing values, unless --missing-values says.
	var rep dataset.Report
	read := fl.read.options(cmd.Flags(), &rep)
	if !cmd.Flags().Changed("missing-values") {
		read.MissingValues = a.Encoder.MissingValues
	}
	frame, err := dataset.ReadFiles(dataset.Locations(fl.data), read)
	printReport(stderr, "score", &rep)
	if err != nil {
		return err
	}
	out, failed, err := train.Score(a, frame, train.ScoreOptions{IDColumn: fl.id, Keep: fl.keep, Rules: rs, AsOf: asOf, Reasons: fl.reasons})
	if err != nil {
		return usageError{fmt.Errorf("score: %s: %w (see --id and --keep)", fl.data, err)}
	}
	if err := dataset.WriteFile(fl.out, out); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "scored %d contacts with %s version %d into %s\n", frame.Len()-len(failed), a.Name, a.Version, fl.out)
	if len(failed) > 0 {
		train.WriteScoreErrors(stderr, failed, 20)
		return fmt.Errorf("score: %d of %d rows could not be scored; they are in %s with the reason in column \"error\"", len(failed), frame.Len(), fl.out)
	}
	return nil
}
