package main

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/leadscore/leadscore/features"
	"github.com/leadscore/leadscore/models"
	"github.com/leadscore/leadscore/models/rules"
	"github.com/leadscore/leadscore/train/dataset"
)

type scoreFlags struct {
	models, name, data, out, id, rulesFile, asOf string
	version                                      int
	label                                        string
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
	f.StringVar(&fl.models, "models", "", "model store directory")
	f.StringVar(&fl.name, "name", "", "model name")
	f.IntVar(&fl.version, "version", 0, "model version (0 = the serving one: label stable, else the highest valid)")
	f.StringVar(&fl.label, "label", "", "model version label (stable, canary, ...)")
	f.StringVar(&fl.data, "data", "", dataHelp)
	f.StringVar(&fl.out, "out", "", "output file (.csv or .parquet)")
	f.StringVar(&fl.id, "id", "", "id column copied to the output (default: row number)")
	f.StringVar(&fl.rulesFile, "rules", "", "manual rules file: add the manual score and stage")
	fl.read.register(f)
	f.StringVar(&fl.asOf, "as-of", "", "scoring time for recency features and time rules, RFC 3339 (default: the model's reference time)")
	return cmd
}

// loadModel resolves a model version from flags and loads it.
func loadModel(root, name string, version int, label string) (*models.Artifact, error) {
	if root == "" || name == "" {
		return nil, usageError{errors.New("--models and --name are required")}
	}
	store := &models.Store{Root: root}
	switch {
	case version > 0:
	case label != "":
		labels, err := store.Labels(name)
		if err != nil {
			return nil, err
		}
		v, ok := labels[label]
		if !ok {
			return nil, fmt.Errorf("%w: model %q has no label %q", models.ErrNotFound, name, label)
		}
		version = v
	default:
		v, err := store.Serving(name)
		if err != nil {
			return nil, err
		}
		version = v
	}
	a, err := store.Load(name, version)
	if err != nil {
		return nil, err
	}
	a.Version = version
	return a, nil
}

func runScore(cmd *cobra.Command, fl scoreFlags, stdout, stderr io.Writer) error {
	if fl.data == "" || fl.out == "" {
		return usageError{errors.New("score: --data and --out are required")}
	}
	a, err := loadModel(fl.models, fl.name, fl.version, fl.label)
	if err != nil {
		return err
	}
	var asOf time.Time
	if fl.asOf != "" {
		if asOf, err = time.Parse(time.RFC3339, fl.asOf); err != nil {
			return usageError{fmt.Errorf("score: --as-of: %w", err)}
		}
	}
	var rs *rules.Rules
	if fl.rulesFile != "" {
		if rs, err = readRulesFile(fl.rulesFile); err != nil {
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
	if fl.id != "" && frame.Column(fl.id) == nil {
		return fmt.Errorf("score: %s has no id column %q", fl.data, fl.id)
	}
	out, failed := scoreFrame(a, rs, frame, fl.id, asOf)
	if err := dataset.WriteFile(fl.out, out); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "scored %d contacts with %s version %d into %s\n", frame.Len()-len(failed), a.Name, a.Version, fl.out)
	if len(failed) > 0 {
		for _, f := range failed[:min(20, len(failed))] {
			fmt.Fprintf(stderr, "row %d: %v\n", f.row, f.err)
		}
		if len(failed) > 20 {
			fmt.Fprintf(stderr, "... and %d more\n", len(failed)-20)
		}
		return fmt.Errorf("score: %d of %d rows could not be scored; they are in %s with the reason in column \"error\"", len(failed), frame.Len(), fl.out)
	}
	return nil
}

type rowError struct {
	row int // 1-based data row
	err error
}

// scoreFrame scores every row through the same Predict path the server uses.
func scoreFrame(a *models.Artifact, rs *rules.Rules, frame *features.Frame, idCol string, asOf time.Time) (*features.Frame, []rowError) {
	n := frame.Len()
	newCol := func(name string, kind features.Kind) *features.Column {
		c := &features.Column{Name: name, Kind: kind, Valid: make([]bool, n)}
		if kind == features.KindCategory {
			c.Str = make([]string, n)
		} else {
			c.Num = make([]float64, n)
		}
		return c
	}
	id := newCol("id", features.KindCategory)
	prob := newCol("probability", features.KindNumber)
	prio := newCol("priority", features.KindCategory)
	fitGrade := newCol("fit_grade", features.KindCategory)
	engLevel := newCol("engagement_level", features.KindNumber)
	errCol := newCol("error", features.KindCategory)
	out := &features.Frame{Columns: []*features.Column{id, prob, prio, fitGrade, engLevel}}
	var manual, stage *features.Column
	if rs != nil {
		manual = newCol("manual_score", features.KindNumber)
		stage = newCol("manual_stage", features.KindCategory)
		out.Columns = append(out.Columns, manual, stage)
	}
	out.Columns = append(out.Columns, errCol)
	ruleTime := asOf
	if ruleTime.IsZero() {
		ruleTime = a.Spec.ReferenceTime
	}
	var failed []rowError
	for i := 0; i < n; i++ {
		c := frame.Contact(i, idCol)
		id.Valid[i] = true
		if idCol == "" {
			id.Str[i] = fmt.Sprint(i + 1)
		} else {
			id.Str[i] = c.ID
		}
		if rs != nil {
			r := rs.Score(c, ruleTime)
			if !r.Excluded {
				manual.Num[i], manual.Valid[i] = r.Total, true
				stage.Str[i], stage.Valid[i] = r.Stage, true
			} else {
				stage.Str[i], stage.Valid[i] = "EXCLUDED", true
			}
		}
		p, err := a.Predict(c, asOf)
		if err != nil {
			failed = append(failed, rowError{i + 1, err})
			errCol.Str[i], errCol.Valid[i] = err.Error(), true
			continue
		}
		prob.Num[i], prob.Valid[i] = p.Probability, true
		prio.Str[i], prio.Valid[i] = p.Priority.String(), true
		fitGrade.Str[i], fitGrade.Valid[i] = p.FitGrade, true
		engLevel.Num[i], engLevel.Valid[i] = float64(p.EngagementLevel), true
	}
	return out, failed
}
