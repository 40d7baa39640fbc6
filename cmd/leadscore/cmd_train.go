package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/leadscore/leadscore/features"
	"github.com/leadscore/leadscore/models"
	"github.com/leadscore/leadscore/train"
	"github.com/leadscore/leadscore/train/dataset"
)

// trainSteps is the number of progress steps train.Train reports.
const trainSteps = 7

// gateShare is the share of the serving model's holdout AUC a new version must reach.
const gateShare = 0.95

type trainFlags struct {
	data, label, models, name, specFile, writeSpec string
	positive, negative, allow, exclude             []string
	timeColumn, orderBy, rulesFile                 string
	holdout, c                                     float64
	seed                                           uint64
	minClass, folds                                int
	force, jsonOut, quiet                          bool
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
	f.StringVar(&fl.data, "data", "", "contacts file (.parquet or .csv)")
	f.StringVar(&fl.label, "label", "", "outcome column")
	f.StringSliceVar(&fl.positive, "positive", nil, "values of the outcome column that mean won (booleans and 1/0 need none)")
	f.StringSliceVar(&fl.negative, "negative", nil, "values that mean lost; without it every other non-open value is lost")
	f.StringVar(&fl.models, "models", "", "model store directory")
	f.StringVar(&fl.name, "name", "", "model name in the store")
	f.StringVar(&fl.specFile, "spec", "", "feature spec file (YAML) to use instead of inferring one")
	f.StringVar(&fl.writeSpec, "write-spec", "", "write the inferred feature spec to this file and stop, so it can be edited")
	f.StringVar(&fl.timeColumn, "time-column", "", "time column: hold out the latest contacts")
	f.StringVar(&fl.orderBy, "order-by", "", "numeric column: hold out the highest values")
	f.Float64Var(&fl.holdout, "holdout", 0.2, "share of closed contacts held out for evaluation")
	f.Uint64Var(&fl.seed, "seed", 1, "seed for the random split and cross-validation folds")
	f.StringSliceVar(&fl.allow, "allow", nil, "keep these columns even if the leakage audit would exclude them")
	f.StringSliceVar(&fl.exclude, "exclude", nil, "columns to leave out of the model")
	f.StringVar(&fl.rulesFile, "rules", "", "manual rules file: judge the manual score on the same holdout")
	f.IntVar(&fl.minClass, "min-class", 40, "minimum won and lost training contacts")
	f.IntVar(&fl.folds, "folds", 5, "cross-validation folds")
	f.Float64Var(&fl.c, "c", 0, "fix the inverse L2 penalty C instead of choosing it by cross-validation")
	f.BoolVar(&fl.force, "force", false, "publish even if worse than the serving version")
	f.BoolVar(&fl.jsonOut, "json", false, "print the result as JSON")
	f.BoolVar(&fl.quiet, "quiet", false, "no progress bar")
	return cmd
}

func runTrain(cmd *cobra.Command, fl trainFlags, stdout, stderr io.Writer) error {
	if fl.data == "" || fl.label == "" {
		return usageError{errors.New("train: --data and --label are required")}
	}
	if fl.writeSpec == "" && (fl.models == "" || fl.name == "") {
		return usageError{errors.New("train: --models and --name are required (or --write-spec)")}
	}
	frame, labels, counts, err := readLabelled(fl.data, fl.label, fl.positive, fl.negative)
	if err != nil {
		return err
	}
	if fl.writeSpec != "" {
		spec := features.InferSpec(frame, fl.label)
		return writeFileAtomic(fl.writeSpec, func(w io.Writer) error { return spec.WriteYAML(w) })
	}
	cfg := train.Config{
		Label: fl.label, TimeColumn: fl.timeColumn, OrderBy: fl.orderBy, HoldoutShare: fl.holdout,
		Seed: fl.seed, Allow: fl.allow, Exclude: fl.exclude, MinClass: fl.minClass, Folds: fl.folds,
	}
	if fl.c < 0 {
		return usageError{fmt.Errorf("train: --c %v must be positive", fl.c)}
	}
	if fl.c > 0 {
		cfg.Grid = []float64{fl.c}
	}
	if fl.specFile != "" {
		if cfg.Spec, err = readSpecFile(fl.specFile); err != nil {
			return err
		}
	}
	if fl.rulesFile != "" {
		if cfg.Rules, err = readRulesFile(fl.rulesFile); err != nil {
			return err
		}
	}
	if !fl.quiet && !fl.jsonOut && isTerminal(stderr) {
		bar := progressbar.NewOptions(trainSteps, progressbar.OptionSetWriter(stderr),
			progressbar.OptionSetDescription("training"), progressbar.OptionClearOnFinish(),
			progressbar.OptionShowCount())
		cfg.Progress = func(step string) {
			bar.Describe(step)
			_ = bar.Add(1)
		}
		defer func() { _ = bar.Finish() }()
	}
	sum, err := fileSHA256(fl.data)
	if err != nil {
		return err
	}
	res, err := train.Train(cmd.Context(), frame, labels, cfg)
	if err != nil {
		return err
	}
	a := res.Artifact
	a.Name = fl.name
	// An absolute path, so that compare and rules suggest find the data again from any directory.
	a.Provenance = models.Provenance{
		DataFile: absPath(fl.data), DataSHA256: sum, Rows: frame.Len(), Won: counts.Won, Lost: counts.Lost,
		Open: counts.Open, Label: fl.label, Positive: fl.positive, Negative: fl.negative,
		TrainedAt: time.Now().UTC(), LeadscoreVersion: version, Seed: fl.seed, Split: a.Holdout.Method,
	}
	store := &models.Store{Root: fl.models}
	if serving, err := store.Serving(fl.name); err == nil {
		a.Provenance.ParentVersion = serving
		prev, err := store.Load(fl.name, serving)
		if err != nil {
			return err
		}
		if floor := gateShare * prev.Metrics.AUC; a.Metrics.AUC < floor && !fl.force {
			return fmt.Errorf("%w: holdout AUC %.4f is below %.0f%% of version %d's %.4f; nothing published (--force publishes anyway)",
				train.ErrGate, a.Metrics.AUC, gateShare*100, serving, prev.Metrics.AUC)
		}
	} else if !errors.Is(err, models.ErrNotFound) {
		return err
	}
	v, err := store.Publish(fl.name, a)
	if err != nil {
		return err
	}
	a.Version = v
	if fl.jsonOut {
		return writeJSON(stdout, struct {
			Name     string                `json:"name"`
			Version  int                   `json:"version"`
			Path     string                `json:"path"`
			Metrics  models.Metrics        `json:"metrics"`
			Penalty  float64               `json:"c"`
			CV       []train.CVPoint       `json:"cross_validation"`
			Audit    []models.AuditEntry   `json:"audit"`
			Warnings []string              `json:"warnings"`
			Counts   dataset.OutcomeCounts `json:"counts"`
		}{fl.name, v, filepath.Join(fl.models, fl.name, fmt.Sprint(v)), a.Metrics, a.Penalty, res.CV, a.Audit, res.Warnings, counts})
	}
	printTrainSummary(stdout, a, res, counts)
	return nil
}

func printTrainSummary(w io.Writer, a *models.Artifact, res *train.Result, counts dataset.OutcomeCounts) {
	m := a.Metrics
	fmt.Fprintf(w, "Published %s version %d\n\n", a.Name, a.Version)
	fmt.Fprintf(w, "Data: %d contacts: %d won, %d lost, %d open (skipped); trained on %d, held out %d (%s split)\n",
		counts.Won+counts.Lost+counts.Open, counts.Won, counts.Lost, counts.Open, len(res.TrainRows), len(res.HoldoutRows), a.Holdout.Method)
	if len(counts.OpenValues) > 0 {
		fmt.Fprintf(w, "Open (outcome values taken as still open, or missing): %s\n", strings.Join(counts.OpenValues, ", "))
	}
	if len(res.CV) > 0 {
		fmt.Fprintf(w, "Penalty: C = %.4g, chosen by %d-point cross-validation\n\n", a.Penalty, len(res.CV))
	} else {
		fmt.Fprintf(w, "Penalty: C = %.4g, as given\n\n", a.Penalty)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "Holdout (%d contacts, %d customers)\tpredictive\tmanual\n", m.Rows, m.Positives)
	manual := func(f func(*models.ManualMetrics) string) string {
		if m.Manual == nil {
			return "-"
		}
		return f(m.Manual)
	}
	fmt.Fprintf(tw, "AUC\t%.4f\t%s\n", m.AUC, manual(func(mm *models.ManualMetrics) string { return fmt.Sprintf("%.4f", mm.AUC) }))
	if len(m.Deciles) > 0 {
		fmt.Fprintf(tw, "customers in top 10%%\t%.1f%%\t%s\n", 100*m.Deciles[0].CumGain,
			manual(func(mm *models.ManualMetrics) string { return pct(mm.Deciles, 0) }))
	}
	if len(m.Deciles) > 1 {
		fmt.Fprintf(tw, "customers in top 20%%\t%.1f%%\t%s\n", 100*m.Deciles[1].CumGain,
			manual(func(mm *models.ManualMetrics) string { return pct(mm.Deciles, 1) }))
	}
	fmt.Fprintf(tw, "PR-AUC\t%.4f\t\n", m.PRAUC)
	fmt.Fprintf(tw, "log loss\t%.4f\t\n", m.LogLoss)
	fmt.Fprintf(tw, "Brier\t%.4f\t\n", m.Brier)
	fmt.Fprintf(tw, "calibration error (ECE)\t%.4f\t\n", m.ECE)
	fmt.Fprintf(tw, "F1-best threshold\t%.3f (precision %.2f, recall %.2f)\t\n", m.Threshold, m.Confusion.Precision, m.Confusion.Recall)
	_ = tw.Flush()

	type effect struct {
		feat features.Feature
		w    float64
	}
	feats := a.Encoder.Features()
	effects := make([]effect, len(a.Weights))
	for j, wt := range a.Weights {
		effects[j] = effect{feats[j], wt}
	}
	sort.SliceStable(effects, func(i, j int) bool { return effects[i].w > effects[j].w })
	ew := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	line := func(e effect) {
		fmt.Fprintf(ew, "  %+.3f\t%s\t%s\n", e.w, e.feat.Name, rateWords(a.Rates, e.feat))
	}
	fmt.Fprintln(ew, "\nStrongest positive features (log-odds per unit of the encoded feature; the conversion rate of such contacts in training):")
	for _, e := range effects[:min(5, len(effects))] {
		if e.w > 0 {
			line(e)
		}
	}
	fmt.Fprintln(ew, "Strongest negative features:")
	for i := len(effects) - 1; i >= max(0, len(effects)-5); i-- {
		if effects[i].w < 0 {
			line(effects[i])
		}
	}
	_ = ew.Flush()
	if a.Rates != nil && len(a.Rates.Tables) > 0 {
		fmt.Fprintf(w, "\nConversion rate overall %.2f%%; attributes that separate won from lost best: ", 100*a.Rates.Rate)
		var names []string
		for _, t := range a.Rates.Tables[:min(5, len(a.Rates.Tables))] {
			names = append(names, t.Property)
		}
		fmt.Fprintln(w, strings.Join(names, ", "))
	}
	fmt.Fprintln(w, "\nLeakage audit (single-column AUC on the training rows):")
	for _, e := range a.Audit {
		if e.Excluded || e.Suspect || e.AUC >= 0.7 {
			state := "kept"
			if e.Excluded {
				state = "EXCLUDED"
			}
			fmt.Fprintf(w, "  %-28s AUC %.3f  %-8s %s\n", e.Column, e.AUC, state, e.Reason)
		}
	}
	for _, warn := range res.Warnings {
		fmt.Fprintln(w, "warning:", warn)
	}
}

// rateWords gives the conversion rate of the contacts a one-hot, flag, missing or range feature
// stands for ("24.1% of 1,203 contacts"), or "" for a scaled number or when no rate row fits.
func rateWords(r *features.RateReport, f features.Feature) string {
	if r == nil || (f.Value == "" && !f.Range()) {
		return ""
	}
	t := r.Table(f.Property)
	if t == nil {
		return ""
	}
	var v features.Value // missing
	switch {
	case f.Range() && !math.IsInf(f.Lo, -1):
		v = features.Number(f.Lo)
	case f.Range():
		v = features.Number(math.Nextafter(f.Hi, math.Inf(-1)))
	case f.Value != features.LevelMissing:
		v = features.String(f.Value)
	}
	row, ok := t.Lookup(v)
	if !ok || row.Contacts == 0 {
		return ""
	}
	return fmt.Sprintf("%.1f%% of %d contacts became customers", 100*row.Rate, row.Contacts)
}

func pct(d []models.Decile, i int) string {
	if i >= len(d) {
		return "-"
	}
	return fmt.Sprintf("%.1f%%", 100*d[i].CumGain)
}

// readLabelled reads a contacts file and its outcome labels.
func readLabelled(path, label string, positive, negative []string) (*features.Frame, []features.Label, dataset.OutcomeCounts, error) {
	opts := dataset.ReadOptions{}
	if len(positive)+len(negative) > 0 {
		// Read the outcome as text so --positive yes matches a column the reader would call a flag.
		opts.Kinds = map[string]features.Kind{label: features.KindCategory}
	}
	frame, err := dataset.ReadFile(path, opts)
	if err != nil {
		return nil, nil, dataset.OutcomeCounts{}, err
	}
	out := dataset.Outcome{Column: label, Positive: positive, Negative: negative}
	labels, counts, err := out.Labels(frame)
	if err != nil {
		return nil, nil, counts, fmt.Errorf("%s: %w", path, err)
	}
	return frame, labels, counts, nil
}

func readSpecFile(path string) (*features.Spec, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	spec, err := features.ReadSpec(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return spec, nil
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// writeFileAtomic writes path through a temporary file renamed into place, so a failure leaves the
// old file, or nothing.
func writeFileAtomic(path string, write func(io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := write(tmp); err != nil {
		tmp.Close()
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return os.Rename(tmp.Name(), path)
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// finiteOr returns x, or alt when x is NaN or infinite (JSON cannot carry those).
func finiteOr(x, alt float64) float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return alt
	}
	return x
}

// isTerminal reports whether w is a terminal, where a progress bar can redraw itself.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
