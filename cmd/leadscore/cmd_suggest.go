package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/leadscore/leadscore/models/rules"
	"github.com/leadscore/leadscore/train"
	"github.com/leadscore/leadscore/train/dataset"
	"github.com/leadscore/leadscore/train/suggest"
)

type suggestFlags struct {
	models, name, current, out string
	version                    int
	pdo                        float64
}

func newRulesSuggestCmd(stdout io.Writer) *cobra.Command {
	var fl suggestFlags
	cmd := &cobra.Command{
		Use:   "suggest",
		Short: "Turn a trained model into a points rules file marketers can read, judged on the model's holdout",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			return runSuggest(fl, stdout)
		},
	}
	f := cmd.Flags()
	f.StringVar(&fl.models, "models", "", modelsFlagHelp)
	f.StringVar(&fl.name, "name", "", "model name")
	f.IntVar(&fl.version, "version", 0, "model version (0 = the serving one)")
	f.StringVar(&fl.current, "rules", "", "the manual rules in use: thresholds keep its MQL and SQL shares, and its AUC is shown")
	f.Float64Var(&fl.pdo, "pdo", 20, "points that double the odds")
	f.StringVar(&fl.out, "out", "", "write the suggested rules here (default: standard output)")
	return cmd
}

func runSuggest(fl suggestFlags, stdout io.Writer) error {
	if fl.pdo <= 0 {
		return usageError{errors.New("rules suggest: --pdo must be positive")}
	}
	a, err := loadModel(fl.models, fl.name, fl.version, "")
	if err != nil {
		return err
	}
	var current *rules.Rules
	if fl.current != "" {
		if current, err = rules.ReadFile(fl.current); err != nil {
			return err
		}
	}
	frame, labels, hold, err := train.ModelData(a)
	if err != nil {
		return fmt.Errorf("rules suggest: %w", err)
	}
	s, err := suggest.FromModel(a, frame, train.TrainingRows(labels, hold), suggest.Options{PDO: fl.pdo, Current: current})
	if err != nil {
		return err
	}
	judged, err := s.Judge(a, current, frame, labels, hold)
	if err != nil {
		return fmt.Errorf("rules %w", err)
	}
	if fl.out == "" {
		// Standard output stays a valid rules file: the summary goes into its comments.
		_, err := fmt.Fprintf(stdout, "%s# MQL at %g points (%.0f%% of training contacts), SQL at %g (%.0f%%)\n# %s\n",
			s.YAML, s.MQL, 100*s.MQLShare, s.SQL, 100*s.SQLShare, judged)
		return err
	}
	if err := dataset.WriteAtomic(fl.out, func(w io.Writer) error { _, err := w.Write(s.YAML); return err }); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s: MQL at %g points (%.0f%% of training contacts), SQL at %g (%.0f%%)\n", fl.out, s.MQL, 100*s.MQLShare, s.SQL, 100*s.SQLShare)
	fmt.Fprintln(stdout, judged)
	return nil
}
