package compare

import (
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// CSVFiles names the files WriteCSV writes, one per table of the report.
var CSVFiles = []string{
	"headline.csv", "gains.csv", "deciles.csv", "calibration.csv", "tiers.csv", "stages.csv", "agreement.csv",
	"disagreements.csv", "fit_engagement_predictive.csv", "fit_engagement_manual.csv", "excluded.csv", "rates.csv",
}

// WriteCSV writes every table of the report as a CSV file with a header row into dir (created if
// needed): the files CSVFiles names. Shares and rates are fractions (0.25, not 25%).
// fit_engagement_manual.csv has only its header when the rules set no grades and levels.
func (r *Report) WriteCSV(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("compare: %w", err)
	}
	tables := r.csvTables()
	for _, name := range CSVFiles {
		if err := writeCSVFile(filepath.Join(dir, name), tables[name]); err != nil {
			return err
		}
	}
	return nil
}

func writeCSVFile(path string, rows [][]string) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("compare: %w", err)
	}
	w := csv.NewWriter(f)
	if err := w.WriteAll(rows); err != nil {
		f.Close()
		return fmt.Errorf("compare: %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("compare: %s: %w", path, err)
	}
	return nil
}

func (r *Report) csvTables() map[string][][]string {
	itoa, ftoa := strconv.Itoa, csvFloat
	t := map[string][][]string{}

	head := [][]string{{"score", "contacts", "customers", "auc", "top10_customers", "top10_share", "top20_customers", "top20_share",
		"top_tier", "top_tier_contacts", "top_tier_customers", "top_tier_rate"}}
	for _, s := range []Side{r.Headline.Predictive, r.Headline.Manual} {
		head = append(head, []string{s.Name, itoa(r.Contacts), itoa(r.Customers), ftoa(s.AUC), itoa(s.Top10Customers), ftoa(s.Top10),
			itoa(s.Top20Customers), ftoa(s.Top20), s.TopTier.Name, itoa(s.TopTier.Contacts), itoa(s.TopTier.Customers), ftoa(s.TopTier.Rate)})
	}
	t["headline.csv"] = head

	gains := [][]string{{"percent", "contacts", "predictive_customers", "predictive_gain", "predictive_lift", "manual_customers", "manual_gain", "manual_lift"}}
	for _, g := range r.Gains {
		gains = append(gains, []string{itoa(g.Percent), itoa(g.Contacts), itoa(g.PredictiveCustomers), ftoa(g.PredictiveGain), ftoa(g.PredictiveLift),
			itoa(g.ManualCustomers), ftoa(g.ManualGain), ftoa(g.ManualLift)})
	}
	t["gains.csv"] = gains

	dec := [][]string{{"decile", "contacts", "predictive_customers", "predictive_rate", "predictive_min_probability", "manual_customers", "manual_rate", "manual_min_points"}}
	for k, d := range r.PredictiveDeciles {
		m := r.ManualDeciles[k]
		dec = append(dec, []string{itoa(d.Decile), itoa(d.Rows), itoa(d.Positives), ftoa(d.Rate), ftoa(d.MinScore), itoa(m.Positives), ftoa(m.Rate), ftoa(m.MinScore)})
	}
	t["deciles.csv"] = dec

	cal := [][]string{{"lo", "hi", "contacts", "mean_probability", "customers", "rate"}}
	for _, b := range r.Calibration {
		cal = append(cal, []string{ftoa(b.Lo), ftoa(b.Hi), itoa(b.Rows), ftoa(b.MeanProb), itoa(b.Positives), ftoa(b.Rate)})
	}
	t["calibration.csv"] = cal

	group := func(first string, gs []Group) [][]string {
		out := [][]string{{first, "contacts", "share", "customers", "rate", "lower95", "upper95"}}
		for _, g := range gs {
			out = append(out, []string{g.Name, itoa(g.Contacts), ftoa(g.Share), itoa(g.Customers), ftoa(g.Rate), ftoa(g.Lower), ftoa(g.Upper)})
		}
		return out
	}
	t["tiers.csv"] = group("priority", r.Tiers)
	t["stages.csv"] = group("stage", r.Stages)
	t["excluded.csv"] = group("exclusion", r.Excluded.ByRule)

	t["agreement.csv"] = matrixCSV(r.Agreement, "priority", "stage")
	t["fit_engagement_predictive.csv"] = matrixCSV(r.PredictiveFitEngagement, "fit_grade", "engagement_level")
	t["fit_engagement_manual.csv"] = matrixCSV(r.ManualFitEngagement, "fit_grade", "engagement_level")

	dis := [][]string{{"kind", "row", "contact_id", "outcome", "probability", "priority", "manual_points", "stage", "predictive_reasons", "manual_rules"}}
	for _, set := range []Disagreements{r.SQLButLow, r.VeryHighButLead} {
		for _, d := range set.Shown {
			reasons := make([]string, len(d.Reasons))
			for k, x := range d.Reasons {
				reasons[k] = x.Text
			}
			dis = append(dis, []string{set.Name, itoa(d.Row), d.ID, outcomeWord(d.Won), ftoa(d.Probability), d.Priority, ftoa(d.Points), d.Stage,
				strings.Join(reasons, " | "), strings.ReplaceAll(joinHits(d), ", ", " | ")})
		}
	}
	t["disagreements.csv"] = dis

	rates := [][]string{{"property", "kind", "strength", "auc", "value", "contacts", "customers", "rate", "lower95", "upper95", "lift"}}
	for _, tab := range r.RateTables {
		for _, row := range tab.Rows {
			rates = append(rates, []string{tab.Property, tab.Kind.String(), ftoa(tab.Strength), ftoa(tab.AUC), row.Label, itoa(row.Contacts),
				itoa(row.Customers), ftoa(row.Rate), ftoa(row.Lower), ftoa(row.Upper), ftoa(row.Lift)})
		}
	}
	t["rates.csv"] = rates
	return t
}

// matrixCSV lists a matrix's cells, one line each; a nil matrix gives the header alone.
func matrixCSV(m *Matrix, rowName, colName string) [][]string {
	out := [][]string{{rowName, colName, "contacts", "customers", "rate"}}
	if m == nil {
		return out
	}
	for i, row := range m.Cells {
		for j, c := range row {
			out = append(out, []string{m.Rows[i], m.Cols[j], strconv.Itoa(c.Contacts), strconv.Itoa(c.Customers), csvFloat(c.Rate)})
		}
	}
	return out
}
