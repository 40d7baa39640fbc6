package train_test

import (
	"context"
	"math"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/leadscore/leadscore/features"
	"github.com/leadscore/leadscore/models"
	"github.com/leadscore/leadscore/train"
	"github.com/leadscore/leadscore/train/dataset"
	"github.com/leadscore/leadscore/train/synth"
)

// ills generates contacts with the given pathologies and their labels.
func ills(tb testing.TB, rows int, seed uint64, p synth.Pathologies) (*features.Frame, []features.Label) {
	tb.Helper()
	f, err := synth.Generate(synth.Config{Rows: rows, Seed: seed, Pathologies: p})
	if err != nil {
		tb.Fatal(err)
	}
	out := dataset.Outcome{Column: synth.LabelColumn, Positive: []string{synth.StageWon}, Negative: []string{synth.StageLost}}
	labels, _, err := out.Labels(f)
	if err != nil {
		tb.Fatal(err)
	}
	return f, labels
}

// auditOf returns the audit entry of column name, failing the test when there is none.
func auditOf(tb testing.TB, a *models.Artifact, name string) models.AuditEntry {
	tb.Helper()
	for _, e := range a.Audit {
		if e.Column == name {
			return e
		}
	}
	tb.Fatalf("no audit entry for %q", name)
	return models.AuditEntry{}
}

// TestTrainTrendDefaults trains by default on contacts whose conversion rate rises over time, with
// recent contacts still open and a sequential opportunity number: no time column and no identifier
// is a feature, and the holdout of the latest contacts is calibrated within 0.05.
func TestTrainTrendDefaults(t *testing.T) {
	f, labels := ills(t, 12000, 21, synth.Pathologies{Trend: 2.5, Sequence: true})
	res, err := train.Train(context.Background(), f, labels, train.Config{Label: synth.LabelColumn, TimeColumn: "created_at", Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	a := res.Artifact
	for _, cs := range a.Spec.Columns {
		if cs.Use && cs.Kind == features.KindTime {
			t.Errorf("time column %q is a feature by default", cs.Name)
		}
	}
	if e := auditOf(t, a, synth.SequenceColumn); !e.Excluded || e.Rule != models.RuleIdentifier || !strings.Contains(e.Reason, "distinct") {
		t.Errorf("opportunity_number: %+v; want excluded as an identifier with its figure", e)
	}
	if e := auditOf(t, a, "created_at"); !e.Excluded || e.Rule != models.RuleTime {
		t.Errorf("created_at: %+v; want excluded as the column that orders the holdout", e)
	}
	// The trend is real: the latest contacts convert far more than the oldest.
	var early, late [2]float64
	for i, l := range labels {
		if !l.Closed() {
			continue
		}
		k := &early
		if i >= len(labels)/2 {
			k = &late
		}
		k[1]++
		if l == features.Won {
			k[0]++
		}
	}
	if early[0]/early[1]*1.5 > late[0]/late[1] {
		t.Fatalf("conversion %.3f in the older half, %.3f in the newer: the fixture has no trend", early[0]/early[1], late[0]/late[1])
	}
	m := a.Metrics
	mean := 0.0
	for _, i := range res.HoldoutRows {
		p, err := a.Predict(f.Contact(i, ""), a.Spec.ReferenceTime)
		if err != nil {
			t.Fatal(err)
		}
		mean += p.Probability / float64(len(res.HoldoutRows))
	}
	rate := float64(m.Positives) / float64(m.Rows)
	t.Logf("holdout (latest %d contacts): AUC %.4f, ECE %.4f, mean predicted %.4f, rate %.4f", m.Rows, m.AUC, m.ECE, mean, rate)
	if m.ECE > 0.05 || math.Abs(mean-rate) > 0.05 {
		t.Errorf("on the latest contacts ECE %.4f, mean predicted %.4f against rate %.4f: want within 0.05", m.ECE, mean, rate)
	}
}

// TestTrainRecencyCensored asks for created_at's age: recent contacts are more often still open, so
// it is a censoring artefact and stays out, with the figure; allowed too, it is used. The age of the
// last activity, whose idle days are part of the true model, passes the check.
func TestTrainRecencyCensored(t *testing.T) {
	f, labels := ills(t, 4000, 22, synth.Pathologies{})
	cfg := train.Config{Label: synth.LabelColumn, Seed: 1, Recency: []string{"created_at", "last_activity_at"}, Grid: []float64{0.1}}
	res, err := train.Train(context.Background(), f, labels, cfg)
	if err != nil {
		t.Fatal(err)
	}
	e := auditOf(t, res.Artifact, "created_at")
	t.Logf("created_at: %s", e.Reason)
	if !e.Excluded || e.Rule != models.RuleTime || !strings.Contains(e.Reason, "still open") {
		t.Errorf("created_at asked for: %+v; want excluded as a censoring artefact with its figure", e)
	}
	if c := res.Artifact.Spec.Column("last_activity_at"); !c.Use {
		t.Errorf("last_activity_at asked for is not used: %+v", auditOf(t, res.Artifact, "last_activity_at"))
	}
	cfg.Allow = []string{"created_at"}
	if res, err = train.Train(context.Background(), f, labels, cfg); err != nil {
		t.Fatal(err)
	}
	if c := res.Artifact.Spec.Column("created_at"); !c.Use {
		t.Errorf("created_at asked for and allowed is not used: %+v", c)
	}
	if _, err := train.Train(context.Background(), f, labels, train.Config{Label: synth.LabelColumn, TimeColumn: "created_at", Recency: []string{"created_at"}}); err == nil {
		t.Errorf("the column that orders the holdout was accepted as a recency feature")
	}
}

// TestTrainFutureDates bounds the snapshot by the clock: a date in 2030 is warned about and is not
// the reference time.
func TestTrainFutureDates(t *testing.T) {
	f, labels := ills(t, 3000, 23, synth.Pathologies{})
	last := f.Column("last_activity_at")
	want := slices.Max(last.Num)
	last.Num[7] = features.UnixSeconds(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	now := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	res, err := train.Train(context.Background(), f, labels, train.Config{Label: synth.LabelColumn, Seed: 1, Now: now, Grid: []float64{0.1}})
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Artifact.Spec.ReferenceTime; got.After(now) || !got.Equal(features.UnixTime(want)) {
		t.Errorf("reference time %v, want the latest date up to now, %v", got, features.UnixTime(want))
	}
	if !slices.ContainsFunc(res.Warnings, func(w string) bool {
		return strings.Contains(w, `"last_activity_at" has 1 dates after the export snapshot`) && strings.Contains(w, "2030")
	}) {
		t.Errorf("no warning about the date in 2030: %q", res.Warnings)
	}
}

// TestTrainLeaksExcluded trains by default on contacts with a column filled in only for won deals
// and a status tag stating the outcome: both are excluded, by their rule, with the figure.
func TestTrainLeaksExcluded(t *testing.T) {
	f, labels := ills(t, 6000, 24, synth.Pathologies{WonOnly: true, StatusTags: true})
	res, err := train.Train(context.Background(), f, labels, train.Config{Label: synth.LabelColumn, TimeColumn: "created_at", Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	a := res.Artifact
	if e := auditOf(t, a, synth.WonOnlyColumn); !e.Excluded || e.Rule != models.RuleMissingness || !strings.Contains(e.Reason, "100% of won and 0% of lost") {
		t.Errorf("deal_amount: %+v; want excluded for its missingness with the figure", e)
	}
	if e := auditOf(t, a, synth.TagsColumn); !e.Excluded || e.Rule != models.RuleOpenValues || !strings.Contains(e.Reason, `"closed by sales"`) {
		t.Errorf("tags: %+v; want excluded for values never seen among open contacts, named", e)
	}
	if a.Metrics.AUC >= train.DefaultTooGoodAUC {
		t.Errorf("holdout AUC %.4f with the leaks excluded", a.Metrics.AUC)
	}
}

// TestTrainOnlineShoppers trains by default on the UCI Online Shoppers data: PageValues (a page's
// value is computed from the purchases that followed it) is excluded, with its figure.
func TestTrainOnlineShoppers(t *testing.T) {
	if testing.Short() {
		t.Skip("trains on 12,330 rows")
	}
	if _, err := os.Stat(shoppersCSV); err != nil {
		t.Skipf("UCI Online Shoppers data not found at %s", shoppersCSV)
	}
	f, err := dataset.ReadFile(shoppersCSV, dataset.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	labels, _, err := dataset.Outcome{Column: "Revenue"}.Labels(f)
	if err != nil {
		t.Fatal(err)
	}
	res, err := train.Train(context.Background(), f, labels, train.Config{Label: "Revenue", Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	e := auditOf(t, res.Artifact, "PageValues")
	t.Logf("PageValues: %s; holdout AUC %.4f", e.Reason, res.Artifact.Metrics.AUC)
	if !e.Excluded || !e.Leak() || !strings.Contains(e.Reason, "AUC 0.8") {
		t.Errorf("PageValues: %+v; want excluded as a leak with its AUC", e)
	}
}
