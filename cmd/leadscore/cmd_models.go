package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/leadscore/leadscore/models"
	"github.com/leadscore/leadscore/serve"
	"github.com/leadscore/leadscore/store"
	"github.com/leadscore/leadscore/train/report"
)

func newModelsCmd(stdout, stderr io.Writer) *cobra.Command {
	var root string
	var jsonOut bool
	cmd := &cobra.Command{
		Use:   "models",
		Short: "List, show, promote and roll back model versions in a store",
	}
	logFormat, logLevel := "text", "info"
	cmd.PersistentFlags().StringVar(&root, "models", "", modelsFlagHelp)
	cmd.PersistentFlags().BoolVar(&jsonOut, "json", false, "print JSON")
	cmd.PersistentFlags().StringVar(&logFormat, "log-format", logFormat, "format of the log line promote and rollback write to stderr: text or json")
	cmd.PersistentFlags().StringVar(&logLevel, "log-level", logLevel, "log level: debug, info, warn or error")
	open := func(cmd *cobra.Command, opts store.Options) (*store.Store, error) {
		if root == "" {
			return nil, usageError{errors.New("models: --models is required")}
		}
		return openStore(cmd.Context(), root, opts)
	}
	// openLogged is open with a logger, so that a label change leaves a log line, as the server's
	// changes do.
	openLogged := func(cmd *cobra.Command) (*store.Store, error) {
		log, err := serve.NewLogger(stderr, logFormat, logLevel)
		var ce *serve.ConfigError
		if errors.As(err, &ce) {
			return nil, usageError{fmt.Errorf("models %s: --%s %s", cmd.Name(), strings.Join(ce.Options, ", --"), ce.Problem)}
		}
		return open(cmd, store.Options{Logger: log})
	}

	list := &cobra.Command{
		Use:   "list [NAME]",
		Short: "List models, or the versions of one model with their status and holdout AUC",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := open(cmd, store.Options{})
			if err != nil {
				return err
			}
			defer s.Close()
			names := args
			if len(names) == 0 {
				if names, err = s.Names(cmd.Context()); err != nil {
					return err
				}
			}
			return listModels(cmd.Context(), stdout, s, names, jsonOut)
		},
	}
	show := &cobra.Command{
		Use:   "show NAME [VERSION]",
		Short: "Show one version (default: the serving one): metrics, audit, provenance",
		Args:  cobra.RangeArgs(1, 2),
		RunE: func(_ *cobra.Command, args []string) error {
			v := 0
			if len(args) == 2 {
				n, err := strconv.Atoi(args[1])
				if err != nil || n <= 0 {
					return usageError{fmt.Errorf("models show: version %q is not a positive integer", args[1])}
				}
				v = n
			}
			a, err := loadModel(root, args[0], v, "")
			if err != nil {
				return err
			}
			if jsonOut {
				// The artifact does not store its own number: it is the directory's name.
				return writeJSON(stdout, struct {
					Name    string `json:"name"`
					Version int    `json:"version"`
					*models.Artifact
				}{a.Name, a.Version, a})
			}
			return showModel(stdout, a)
		},
	}
	promote := &cobra.Command{
		Use:   "promote NAME VERSION [LABEL]",
		Short: "Point a label (default: stable) at a valid version",
		Args:  cobra.RangeArgs(2, 3),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := openLogged(cmd)
			if err != nil {
				return err
			}
			defer s.Close()
			v, err := strconv.Atoi(args[1])
			if err != nil || v <= 0 {
				return usageError{fmt.Errorf("models promote: version %q is not a positive integer", args[1])}
			}
			label := models.StableLabel
			if len(args) == 3 {
				label = args[2]
			}
			if err := s.SetLabel(cmd.Context(), args[0], label, v); err != nil {
				return err
			}
			return printLabelChange(stdout, jsonOut, args[0], label, v)
		},
	}
	rollback := &cobra.Command{
		Use:   "rollback NAME",
		Short: "Point stable at the valid version before the one serving now",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := openLogged(cmd)
			if err != nil {
				return err
			}
			defer s.Close()
			v, err := s.Rollback(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return printLabelChange(stdout, jsonOut, args[0], models.StableLabel, v)
		},
	}
	cmd.AddCommand(list, show, promote, rollback)
	return cmd
}

func printLabelChange(w io.Writer, jsonOut bool, name, label string, v int) error {
	if jsonOut {
		return writeJSON(w, map[string]any{"name": name, "label": label, "version": v})
	}
	fmt.Fprintf(w, "%s: %s -> version %d\n", name, label, v)
	return nil
}

type versionRow struct {
	Name    string   `json:"name"`
	Version int      `json:"version"`
	Valid   bool     `json:"valid"`
	Reason  string   `json:"reason,omitempty"`
	Serving bool     `json:"serving"`
	Labels  []string `json:"labels,omitempty"`
	AUC     float64  `json:"auc,omitempty"`
	Trained string   `json:"trained_at,omitempty"`
}

func listModels(ctx context.Context, w io.Writer, s *store.Store, names []string, jsonOut bool) error {
	var rows []versionRow
	for _, name := range names {
		versions, labels, err := s.Scan(ctx, name)
		if err != nil {
			return err
		}
		serving, _ := s.Serving(ctx, name)
		for _, vi := range versions {
			r := versionRow{Name: name, Version: vi.Version, Valid: vi.Valid, Reason: vi.Reason, Serving: vi.Version == serving}
			r.Labels = models.LabelsOf(labels, vi.Version)
			if vi.Valid {
				if a, err := s.Load(ctx, name, vi.Version); err == nil {
					r.AUC = a.Metrics.AUC
					r.Trained = a.Provenance.TrainedAt.Format("2006-01-02 15:04")
				}
			}
			rows = append(rows, r)
		}
	}
	if jsonOut {
		return writeJSON(w, rows)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "MODEL\tVERSION\tSTATUS\tSERVING\tLABELS\tHOLDOUT AUC\tTRAINED")
	for _, r := range rows {
		status := "valid"
		if !r.Valid {
			status = "INVALID: " + r.Reason
		}
		serving := ""
		if r.Serving {
			serving = "*"
		}
		auc := "-"
		if r.AUC > 0 {
			auc = fmt.Sprintf("%.4f", r.AUC)
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%v\t%s\t%s\n", r.Name, r.Version, status, serving, r.Labels, auc, r.Trained)
	}
	return tw.Flush()
}

func showModel(w io.Writer, a *models.Artifact) error {
	p := a.Provenance
	m := a.Metrics
	fmt.Fprintf(w, "%s version %d\n", a.Name, a.Version)
	fmt.Fprintf(w, "trained %s by leadscore %s from %s (sha256 %.12s...), %d rows: %d won, %d lost, %d open\n",
		p.TrainedAt.Format("2006-01-02 15:04:05 MST"), p.LeadscoreVersion, p.DataFile, p.DataSHA256, p.Rows, p.Won, p.Lost, p.Open)
	if p.ParentVersion > 0 {
		fmt.Fprintf(w, "parent version %d\n", p.ParentVersion)
	}
	fmt.Fprintf(w, "label %s, positive %v; %s split, seed %d; C = %.4g; %d encoded features\n",
		p.Label, p.Positive, a.Holdout.Method, p.Seed, a.Penalty, len(a.Weights))
	fmt.Fprintf(w, "holdout: %d rows, AUC %.4f, PR-AUC %.4f, log loss %.4f, Brier %.4f, ECE %.4f\n",
		m.Rows, m.AUC, m.PRAUC, m.LogLoss, m.Brier, m.ECE)
	if m.Manual != nil {
		fmt.Fprintf(w, "manual rules on the same rows: AUC %.4f\n", m.Manual.AUC)
	}
	fmt.Fprintf(w, "priority cut points: LOW < %.3f <= MEDIUM < %.3f <= HIGH < %.3f <= VERY_HIGH\n", a.Tiers[0], a.Tiers[1], a.Tiers[2])
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "\nDECILE\tCONTACTS\tCUSTOMERS\tRATE\tLIFT\tCUM. GAIN")
	for _, d := range m.Deciles {
		fmt.Fprintf(tw, "%d\t%d\t%d\t%.1f%%\t%.2f\t%.1f%%\n", d.Decile, d.Rows, d.Positives, 100*d.Rate, d.Lift, 100*d.CumGain)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if pts := a.Points(); pts != nil {
		fmt.Fprintln(w)
		if err := report.WritePoints(w, pts); err != nil {
			return err
		}
	}
	fmt.Fprintln(w, "\nleakage audit:")
	for _, e := range a.Audit {
		state := "kept"
		if e.Excluded {
			state = "excluded"
		}
		fmt.Fprintf(w, "  %-28s AUC %.3f  %-8s %s\n", e.Column, e.AUC, state, e.Reason)
	}
	return nil
}
