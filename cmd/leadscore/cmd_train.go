package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"time"

	"github.com/spf13/cobra"

	"github.com/leadscore/leadscore/features"
	"github.com/leadscore/leadscore/internal/memlimit"
	"github.com/leadscore/leadscore/models/rules"
	"github.com/leadscore/leadscore/store"
	"github.com/leadscore/leadscore/train"
	"github.com/leadscore/leadscore/train/dataset"
	"github.com/leadscore/leadscore/train/report"
)

type trainFlags struct {
	data, label, models, name, specFile, writeSpec     string
	positive, negative, allow, exclude, recency        []string
	timeColumn, orderBy, rulesFile, model, memoryLimit string
	holdout, c                                         float64
	seed                                               uint64
	minClass, folds, gcPercent                         int
	force, jsonOut, quiet                              bool
	read                                               readFlags
	outcomes                                           outcomeFlags
}

func newTrainCmd(stdout, stderr io.Writer) *cobra.Command {
	var fl trainFlags
	cmd := &cobra.Command{
		Use:   "train",
		Short: "Fit a logistic model on closed deals, evaluate it on a holdout and publish it as a new version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runTrain(cmd, fl, stdout, stderr)
		},
	}
	f := cmd.Flags()
	f.StringVar(&fl.data, "data", "", dataHelp)
	f.StringVar(&fl.label, "label", "", "outcome column (with --outcomes: the joined outcome's name, default outcome)")
	f.StringSliceVar(&fl.positive, "positive", nil, "values of the outcome column that mean won (booleans and 1/0 need none)")
	f.StringSliceVar(&fl.negative, "negative", nil, "values that mean lost; without it every other non-open value is lost")
	f.StringVar(&fl.models, "models", "", modelsFlagHelp)
	f.StringVar(&fl.name, "name", "", "model name in the store")
	f.StringVar(&fl.specFile, "spec", "", "feature spec file (YAML) to use instead of inferring one")
	f.StringVar(&fl.writeSpec, "write-spec", "", "write the inferred feature spec to this file and stop, so it can be edited")
	f.StringVar(&fl.timeColumn, "time-column", "", "time column: hold out the latest contacts")
	f.StringVar(&fl.orderBy, "order-by", "", "numeric column: hold out the highest values")
	f.Float64Var(&fl.holdout, "holdout", 0.2, "share of closed contacts held out for evaluation")
	f.Uint64Var(&fl.seed, "seed", 1, "seed for the random split and cross-validation folds")
	f.StringSliceVar(&fl.allow, "allow", nil, "keep these columns whatever an automatic rule says (identifier, time, leakage audit)")
	f.StringSliceVar(&fl.recency, "recency", nil, "use these time columns' age at the export snapshot as features, if the audit finds it is no censoring artefact")
	f.StringSliceVar(&fl.exclude, "exclude", nil, "columns to leave out of the model")
	f.StringVar(&fl.rulesFile, "rules", "", "manual rules file: judge the manual score on the same holdout")
	f.StringVar(&fl.model, "model", train.ModelScorecard, "model kind: scorecard (points per value and range; reasons always follow the rates) or onehot (one weight per value, range and scaled number)")
	f.IntVar(&fl.minClass, "min-class", 40, "minimum won and lost training contacts")
	f.IntVar(&fl.folds, "folds", 5, "cross-validation folds")
	f.Float64Var(&fl.c, "c", 0, "fix the inverse L2 penalty C instead of choosing it by cross-validation")
	f.BoolVar(&fl.force, "force", false, "publish even if worse than the serving version")
	f.BoolVar(&fl.jsonOut, "json", false, "print the result as JSON")
	f.BoolVar(&fl.quiet, "quiet", false, "no progress bar")
	f.StringVar(&fl.memoryLimit, "memory-limit", "auto", "soft memory limit for the Go runtime (as GOMEMLIMIT), such as 3GiB: the collector works harder as the heap nears it; auto: 90% of the container's memory limit when there is one (GOMEMLIMIT, if set, is left alone); off: none")
	f.IntVar(&fl.gcPercent, "gc-percent", train.DefaultGCPercent, "garbage collector target percentage (as GOGC; ignored when GOGC is set): lower holds less memory beyond the data for more CPU")
	fl.read.register(f)
	fl.outcomes.register(f)
	return cmd
}

func runTrain(cmd *cobra.Command, fl trainFlags, stdout, stderr io.Writer) error {
	if fl.outcomes.file != "" && fl.label == "" {
		fl.label = "outcome"
	}
	if fl.data == "" || fl.label == "" {
		return usageError{errors.New("train: --data and --label (or --outcomes) are required")}
	}
	if fl.writeSpec == "" && (fl.models == "" || fl.name == "") {
		return usageError{errors.New("train: --models and --name are required (or --write-spec)")}
	}
	joined, err := fl.outcomes.source(fl.timeColumn)
	if err != nil {
		return err
	}
	if _, set := os.LookupEnv("GOGC"); !set && fl.gcPercent > 0 {
		defer debug.SetGCPercent(debug.SetGCPercent(fl.gcPercent))
	}
	if limit, err := memlimit.Resolve(fl.memoryLimit); err != nil {
		return usageError{fmt.Errorf("train: --memory-limit %w", err)}
	} else if limit > 0 {
		defer debug.SetMemoryLimit(debug.SetMemoryLimit(limit))
	}
	var rep dataset.Report
	read := fl.read.options(cmd.Flags(), &rep)
	show := report.NewProgress(nil)
	if !fl.quiet {
		show = report.NewProgress(stderr)
	}
	defer show.Finish()
	read.Progress = show.Read
	began := time.Now()
	// Parquet data is read a column at a time as training needs each (train.OpenLabelled); what
	// reading finds (decoding, inf and nan) is printed once training has read every column.
	src, labels, counts, err := openLabelled(train.Data{Locations: fl.data, Read: read, Outcomes: joined,
		Outcome: dataset.Outcome{Column: fl.label, Positive: fl.positive, Negative: fl.negative}})
	readTime := train.StepTime{Step: "read", Seconds: time.Since(began).Seconds()}
	show.Finish()
	defer printReport(stderr, "train", &rep)
	if err != nil {
		return err
	}
	defer src.Close()
	if fl.writeSpec != "" {
		spec, err := features.InferSpecFrom(src, fl.label)
		if err != nil {
			return err
		}
		return dataset.WriteAtomic(fl.writeSpec, func(w io.Writer) error { return spec.WriteYAML(w) })
	}
	cfg := train.Config{
		Label: fl.label, TimeColumn: fl.timeColumn, OrderBy: fl.orderBy, HoldoutShare: fl.holdout,
		Seed: fl.seed, Allow: fl.allow, Exclude: fl.exclude, Recency: fl.recency, MinClass: fl.minClass, Folds: fl.folds,
		Model: fl.model, Encoder: features.EncoderOptions{MissingValues: read.MissingValues},
	}
	if fl.model != train.ModelScorecard && fl.model != train.ModelOneHot {
		return usageError{fmt.Errorf("train: --model %q: want %s or %s", fl.model, train.ModelScorecard, train.ModelOneHot)}
	}
	if fl.c < 0 {
		return usageError{fmt.Errorf("train: --c %v must be positive", fl.c)}
	}
	if fl.c > 0 {
		cfg.Grid = []float64{fl.c}
	}
	if fl.specFile != "" {
		if cfg.Spec, err = features.ReadSpecFile(fl.specFile); err != nil {
			return err
		}
	}
	if fl.rulesFile != "" {
		if cfg.Rules, err = rules.ReadFile(fl.rulesFile); err != nil {
			return err
		}
	}
	cfg.Progress = show.Step
	res, err := train.TrainFrom(cmd.Context(), src, labels, cfg)
	show.Finish()
	if err != nil {
		return fmt.Errorf("%w%s", err, outcomeHint(err))
	}
	a := res.Artifact
	out := dataset.Outcome{Column: fl.label, Positive: fl.positive, Negative: fl.negative}
	if a.Provenance, err = train.NewProvenance(fl.data, src, out, counts, res, fl.seed, version); err != nil {
		return err
	}
	a.Provenance.Outcomes = joined
	st, err := openStore(cmd.Context(), fl.models, store.Options{})
	if err != nil {
		return err
	}
	defer st.Close()
	began = time.Now()
	v, gate, err := train.Publish(cmd.Context(), st, fl.name, res, labels, train.PublishOptions{Force: fl.force})
	timings := append(append([]train.StepTime{readTime}, res.Steps...), train.StepTime{Step: "publish", Seconds: time.Since(began).Seconds()})
	if err != nil && gate == nil {
		return err
	}
	if fl.jsonOut {
		if jerr := writeJSON(stdout, train.NewPublished(st, fl.name, v, res, counts, gate, timings)); jerr != nil {
			return jerr
		}
	} else {
		train.WriteSummary(stdout, a, res, counts, gate)
		fmt.Fprintln(stdout, "\n--allow COL keeps a column an automatic rule excluded; --recency COL asks for a time column's age.")
	}
	if errors.Is(err, train.ErrGate) {
		return fmt.Errorf("%w (--force publishes anyway)", err)
	}
	return err
}
