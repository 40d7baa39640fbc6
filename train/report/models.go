package report

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/leadscore/leadscore/models"
	"github.com/leadscore/leadscore/store"
)

// VersionRow is one version of a model as `leadscore models list` shows it.
type VersionRow struct {
	Name    string   `json:"name"`
	Version int      `json:"version"`
	Valid   bool     `json:"valid"`
	Reason  string   `json:"reason,omitempty"`
	Serving bool     `json:"serving"`
	Labels  []string `json:"labels,omitempty"`
	AUC     float64  `json:"auc,omitempty"`
	Trained string   `json:"trained_at,omitempty"`
}

// Versions lists every version of the named models (all models of s when names is empty), with
// whether it is valid (and why not), serving, its labels, holdout AUC and training time.
func Versions(ctx context.Context, s *store.Store, names []string) ([]VersionRow, error) {
	if len(names) == 0 {
		var err error
		if names, err = s.Names(ctx); err != nil {
			return nil, err
		}
	}
	var rows []VersionRow
	for _, name := range names {
		versions, labels, err := s.Scan(ctx, name)
		if err != nil {
			return nil, err
		}
		serving, _ := s.Serving(ctx, name)
		for _, vi := range versions {
			r := VersionRow{Name: name, Version: vi.Version, Valid: vi.Valid, Reason: vi.Reason, Serving: vi.Version == serving}
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
	return rows, nil
}

// WriteVersions writes rows as a table for people.
func WriteVersions(w io.Writer, rows []VersionRow) error {
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

// WriteModel writes one version for people: provenance, split and penalty, holdout metrics, tier cut
// points, lift by decile, a scorecard's points and the leakage audit.
func WriteModel(w io.Writer, a *models.Artifact) error {
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
		if err := WritePoints(w, pts); err != nil {
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
