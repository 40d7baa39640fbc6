package train

import (
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/leadscore/leadscore/features"
	"github.com/leadscore/leadscore/models"
	"github.com/leadscore/leadscore/store"
	"github.com/leadscore/leadscore/train/dataset"
)

// WriteSummary writes what a person reads after training: the data, the penalty, the holdout metrics
// beside the manual score's, the strongest features, the audit, the warnings and the publish gate.
// g may be nil (nothing was judged); a.Version 0 means not published.
func WriteSummary(w io.Writer, a *models.Artifact, res *Result, counts dataset.OutcomeCounts, g *Gate) {
	m := a.Metrics
	if a.Version > 0 {
		fmt.Fprintf(w, "Published %s version %d\n\n", a.Name, a.Version)
	} else {
		fmt.Fprintf(w, "NOT published: %s\n\n", a.Name)
	}
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

	ew := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	if pts := a.Points(); pts != nil {
		writeStrongestPoints(ew, pts)
	} else {
		writeStrongestWeights(ew, a)
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
	fmt.Fprintln(w, "\nAudit (single-column AUC on the training rows; the rule that decided):")
	for _, e := range a.Audit {
		if e.Excluded || e.Suspect || e.AUC >= 0.7 || e.Rule != "" {
			state := "kept"
			if e.Excluded {
				state = "EXCLUDED"
			}
			if e.Rule != "" {
				state += " (" + e.Rule + ")"
			}
			fmt.Fprintf(w, "  %-28s AUC %.3f  %-24s %s\n", e.Column, e.AUC, state, e.Reason)
		}
	}
	for _, warn := range res.Warnings {
		fmt.Fprintln(w, "warning:", warn)
	}
	writeGate(w, g, a.Version > 0)
}

// writeStrongestWeights lists a one-hot model's five largest weights each way with the conversion
// rate of the contacts each feature stands for.
func writeStrongestWeights(ew io.Writer, a *models.Artifact) {
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
}

// writeStrongestPoints lists a scorecard's properties that raise and lower a score most: each
// property's bin with the most points (and the one with the fewest), five each way, with the
// conversion rate of the bin's own training contacts.
func writeStrongestPoints(ew io.Writer, pts *models.Points) {
	var ups, downs []models.BinPoints
	for _, pp := range pts.Properties {
		hi, lo := -1, -1
		for k, b := range pp.Bins {
			if b.Points > 0 && (hi < 0 || b.Points > pp.Bins[hi].Points) {
				hi = k
			}
			if b.Points < 0 && (lo < 0 || b.Points < pp.Bins[lo].Points) {
				lo = k
			}
		}
		if hi >= 0 {
			ups = append(ups, pp.Bins[hi])
		}
		if lo >= 0 {
			downs = append(downs, pp.Bins[lo])
		}
	}
	sort.SliceStable(ups, func(i, j int) bool { return ups[i].Points > ups[j].Points })
	sort.SliceStable(downs, func(i, j int) bool { return downs[i].Points < downs[j].Points })
	line := func(b models.BinPoints) {
		fmt.Fprintf(ew, "  %+d\t%s\t%.1f%% of %d contacts became customers\n", models.Rounded(b.Points), b.Feature.Name, 100*b.Rate(), b.Contacts)
	}
	fmt.Fprintf(ew, "\nPoints that raise a score most (%g more points double the odds; the conversion rate of the bin's training contacts; models show prints every bin):\n", pts.PDO)
	for _, b := range ups[:min(5, len(ups))] {
		line(b)
	}
	fmt.Fprintln(ew, "Points that lower it most:")
	for _, b := range downs[:min(5, len(downs))] {
		line(b)
	}
}

// writeGate says what the publish gate measured.
func writeGate(w io.Writer, g *Gate, published bool) {
	if g == nil {
		return
	}
	fmt.Fprintln(w, "\nPublish gate:")
	if g.Serving > 0 && g.ServingAUC > 0 {
		fmt.Fprintf(w, "  on the same %d holdout contacts: this model AUC %.4f, serving version %d AUC %.4f\n", g.Rows, g.AUC, g.Serving, g.ServingAUC)
		if len(g.Leaky) > 0 {
			fmt.Fprintf(w, "  version %d uses %s, which this audit excludes as leakage: its AUC is no fair bar\n", g.Serving, strings.Join(g.Leaky, ", "))
		}
	} else if g.Serving > 0 {
		fmt.Fprintf(w, "  holdout AUC %.4f; serving version %d could not be scored on the same contacts\n", g.AUC, g.Serving)
	} else {
		fmt.Fprintf(w, "  holdout AUC %.4f; no version serving yet\n", g.AUC)
	}
	switch {
	case g.Passed:
		fmt.Fprintln(w, "  passed")
	case published:
		fmt.Fprintf(w, "  would refuse, published because forced: %s\n", g.Reason)
	default:
		fmt.Fprintf(w, "  refused: %s\n", g.Reason)
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

// Published is a training run and its publication for tools (train --json): the version published
// (0 when the gate refused it) and its location, holdout metrics, penalty, cross-validation, audit,
// warnings, outcome counts, the gate's verdict and the time of every step.
type Published struct {
	Name     string                `json:"name"`
	Version  int                   `json:"version"`
	Path     string                `json:"path,omitempty"`
	Metrics  models.Metrics        `json:"metrics"`
	Penalty  float64               `json:"c"`
	CV       []CVPoint             `json:"cross_validation"`
	Audit    []models.AuditEntry   `json:"audit"`
	Warnings []string              `json:"warnings"`
	Counts   dataset.OutcomeCounts `json:"counts"`
	Gate     *Gate                 `json:"gate"`
	Timings  []StepTime            `json:"timings"`
}

// NewPublished gathers a run published as version v of name in st (see Publish).
func NewPublished(st *store.Store, name string, v int, res *Result, counts dataset.OutcomeCounts, g *Gate, timings []StepTime) Published {
	p := Published{Name: name, Version: v, Metrics: res.Artifact.Metrics, Penalty: res.Artifact.Penalty, CV: res.CV,
		Audit: res.Artifact.Audit, Warnings: res.Warnings, Counts: counts, Gate: g, Timings: timings}
	if v > 0 {
		p.Path = st.VersionLocation(name, v)
	}
	return p
}
