package main

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/leadscore/leadscore/models"
	"github.com/leadscore/leadscore/train/dataset"
)

// TestScorecardCommands trains a scorecard (train --model scorecard) and checks what the commands
// make of it: models show prints the points sheet, score --reasons writes each contact's strongest
// reasons as Predict gives them, and rules suggest emits the points as a rules file.
func TestScorecardCommands(t *testing.T) {
	dir := t.TempDir()
	store := filepath.Join(dir, "models")
	trainLeads(t, store, "--model", "scorecard")

	show := mustRun(t, "models", "show", "--models", store, "leads")
	for _, want := range []string{"points sheet: 600 points at odds", "every contact starts with", "probability = 1 / (1 + exp(-(score - "} {
		if !strings.Contains(show, want) {
			t.Errorf("models show lacks %q:\n%s", want, show)
		}
	}

	out := filepath.Join(dir, "scored.csv")
	mustRun(t, "score", "--models", store, "--name", "leads", "--data", fixture, "--out", out, "--id", "contact_id", "--reasons", "2")
	header, rows := readCSVTable(t, out)
	if got, want := strings.Join(header, ","), "contact_id,probability,priority,fit_grade,engagement_level,reasons,error"; got != want {
		t.Fatalf("header %s, want %s", got, want)
	}
	a, err := loadStored(store, "leads", 1)
	if err != nil {
		t.Fatal(err)
	}
	data, err := dataset.ReadFile(fixture, dataset.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	withReasons := 0
	for r, row := range rows {
		p, err := a.Predict(data.Contact(r, "contact_id"), time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		if want := models.ReasonsLine(p.Reasons, 2); row["reasons"] != want {
			t.Fatalf("row %d: reasons %q, want %q", r+1, row["reasons"], want)
		}
		if parts := strings.Split(row["reasons"], " | "); row["reasons"] != "" {
			withReasons++
			if len(parts) > 2 {
				t.Errorf("row %d: %d reasons, want at most 2", r+1, len(parts))
			}
		}
	}
	if withReasons < len(rows)/2 {
		t.Errorf("only %d of %d rows have reasons", withReasons, len(rows))
	}

	rulesOut := filepath.Join(dir, "suggested.yaml")
	stdout := mustRun(t, "rules", "suggest", "--models", store, "--name", "leads", "--out", rulesOut)
	if !strings.Contains(stdout, "suggested rules") {
		t.Errorf("rules suggest printed %q", stdout)
	}
	mustRun(t, "rules", "check", "--rules", rulesOut)
}
