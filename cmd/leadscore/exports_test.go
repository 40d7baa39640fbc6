package main

import (
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/leadscore/leadscore/models"
)

// TestTrainDefaultsOnRealExportTraits generates contacts with every trait of real exports that
// misleads a naive training (a conversion trend with recent contacts still open, a sequential number,
// an amount filled in only for won deals, a status tag stating the outcome) and trains with only the
// flags a user would type: each is excluded by its rule, no time column is a feature, and the model
// is published (its holdout AUC is not too good to be true).
func TestTrainDefaultsOnRealExportTraits(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "leads.csv")
	mustRun(t, "generate", "--rows", "6000", "--seed", "3", "--trend", "2.5", "--sequence", "--won-only", "--status-tags", "--out", data)
	out := mustRun(t, "train", "--data", data, "--label", "deal_stage", "--positive", "closedwon", "--time-column", "created_at",
		"--models", filepath.Join(dir, "models"), "--name", "leads", "--json")
	var got struct {
		Version int                 `json:"version"`
		Audit   []models.AuditEntry `json:"audit"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("train --json: %v\n%s", err, out)
	}
	if got.Version != 1 {
		t.Errorf("published version %d, want 1", got.Version)
	}
	want := map[string]string{
		"opportunity_number": models.RuleIdentifier,
		"deal_amount":        models.RuleMissingness,
		"tags":               models.RuleOpenValues,
		"created_at":         models.RuleTime,
		"last_activity_at":   models.RuleTime,
		"close_date":         models.RuleTime,
		"lifecycle_stage":    models.RuleStrength,
	}
	for _, e := range got.Audit {
		rule, ok := want[e.Column]
		if !ok {
			continue
		}
		delete(want, e.Column)
		if !e.Excluded || e.Rule != rule {
			t.Errorf("%s: excluded %v by rule %q (%s); want excluded by %q", e.Column, e.Excluded, e.Rule, e.Reason, rule)
		}
	}
	for col := range want {
		t.Errorf("no audit entry for %s", col)
	}
}
