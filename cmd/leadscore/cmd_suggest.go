package main

import (
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/spf13/cobra"

	"github.com/leadscore/leadscore/features"
	"github.com/leadscore/leadscore/models"
	"github.com/leadscore/leadscore/models/rules"
	"github.com/leadscore/leadscore/train"
	"github.com/leadscore/leadscore/train/dataset"
	"github.com/leadscore/leadscore/train/metrics"
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
	s, err := suggestFrom(a, frame, labels, hold, current, fl.pdo)
	if err != nil {
		return err
	}
	at := a.Spec.ReferenceTime
	y := make([]bool, len(hold))
	sugg := make([]float64, len(hold))
	cur := make([]float64, len(hold))
	prob := make([]float64, len(hold))
	for r, i := range hold {
		c := frame.Contact(i, "")
		y[r] = labels[i] == features.Won
		sugg[r] = s.Rules.Score(c, at).Total
		if current != nil {
			cur[r] = current.Score(c, at).Total
		}
		p, err := a.Predict(c, at)
		if err != nil {
			return fmt.Errorf("rules suggest: holdout row %d: %w", i+1, err)
		}
		prob[r] = p.Probability
	}
	if fl.out == "" {
		// Standard output stays a valid rules file: the summary goes into its comments.
		_, err := fmt.Fprintf(stdout, "%s# MQL at %g points (%.0f%% of training contacts), SQL at %g (%.0f%%)\n# %s\n",
			s.YAML, s.MQL, 100*s.MQLShare, s.SQL, 100*s.SQLShare, suggestAUCLine(len(hold), prob, sugg, cur, y, current != nil))
		return err
	}
	if err := dataset.WriteAtomic(fl.out, func(w io.Writer) error { _, err := w.Write(s.YAML); return err }); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s: MQL at %g points (%.0f%% of training contacts), SQL at %g (%.0f%%)\n", fl.out, s.MQL, 100*s.MQLShare, s.SQL, 100*s.SQLShare)
	fmt.Fprintln(stdout, suggestAUCLine(len(hold), prob, sugg, cur, y, current != nil))
	return nil
}

func suggestAUCLine(n int, prob, sugg, cur []float64, y []bool, withCurrent bool) string {
	line := fmt.Sprintf("holdout AUC (%d contacts): model %.4f, suggested rules %.4f", n, metrics.AUC(prob, y), metrics.AUC(sugg, y))
	if withCurrent {
		line += fmt.Sprintf(", current rules %.4f", metrics.AUC(cur, y))
	}
	return line
}

// suggestFrom suggests rules from a model's training rows: the closed rows of its data that are not
// in its holdout.
func suggestFrom(a *models.Artifact, frame *features.Frame, labels []features.Label, hold []int, current *rules.Rules, pdo float64) (*suggest.Suggestion, error) {
	var trainRows []int
	for i, l := range labels {
		if l.Closed() {
			if _, found := slices.BinarySearch(hold, i); !found {
				trainRows = append(trainRows, i)
			}
		}
	}
	return suggest.FromModel(a, frame, trainRows, suggest.Options{PDO: pdo, Current: current})
}
