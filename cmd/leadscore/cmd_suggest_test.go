package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/leadscore/leadscore/models"
	"github.com/leadscore/leadscore/models/rules"
)

// aucLine is the summary rules suggest prints, with the current rules given.
var aucLine = regexp.MustCompile(`holdout AUC \((\d+) contacts\): model (\S+), suggested rules (\S+), current rules (\S+)\n`)

// checkAUCLine finds the AUC summary in out and checks it against the model: the same holdout
// size, the model's holdout AUC and the manual rules' AUC that train measured on the same rows, all
// in (0.5, 1].
func checkAUCLine(tb testing.TB, out string, a *models.Artifact) {
	tb.Helper()
	m := aucLine.FindStringSubmatch(out)
	if m == nil {
		tb.Fatalf("no AUC line in:\n%s", out)
	}
	if got, want := m[1], strconv.Itoa(a.Metrics.Rows); got != want {
		tb.Errorf("AUC on %s contacts, want the model's holdout of %s", got, want)
	}
	for i, what := range []string{"model", "suggested rules", "current rules"} {
		auc, err := strconv.ParseFloat(m[i+2], 64)
		if err != nil || !(auc > 0.5 && auc <= 1) {
			tb.Errorf("%s AUC %q, want a number in (0.5, 1]", what, m[i+2])
		}
	}
	if got, want := m[2], strconv.FormatFloat(a.Metrics.AUC, 'f', 4, 64); got != want {
		tb.Errorf("model AUC %s, the model recorded %s", got, want)
	}
	if got, want := m[4], strconv.FormatFloat(a.Metrics.Manual.AUC, 'f', 4, 64); got != want {
		tb.Errorf("current rules AUC %s, train measured %s on the same holdout", got, want)
	}
}

// TestSuggest turns a model into a rules file, written to a file and to standard output, and
// checks that the file parses with thresholds as printed and that the AUC summary is right.
func TestSuggest(t *testing.T) {
	dir := t.TempDir()
	store := filepath.Join(dir, "models")
	trainLeads(t, store, "--rules", rulesFixture)
	a, err := loadStored(store, "leads", 1)
	if err != nil {
		t.Fatal(err)
	}
	if a.Metrics.Manual == nil {
		t.Fatal("train --rules recorded no manual metrics")
	}
	base := []string{"rules", "suggest", "--models", store, "--name", "leads", "--rules", rulesFixture}

	outFile := filepath.Join(dir, "suggested.yaml")
	stdout := mustRun(t, append(base, "--out", outFile)...)
	written, err := os.ReadFile(outFile)
	if err != nil {
		t.Fatal(err)
	}
	r, err := rules.Parse(written)
	if err != nil {
		t.Fatalf("suggested rules do not parse: %v\n%s", err, written)
	}
	if len(r.Rules) == 0 {
		t.Errorf("suggested rules file has no rules:\n%s", written)
	}
	if props := r.Properties(); len(props) < 3 {
		t.Errorf("suggested rules read only %v", props)
	}
	want := "wrote " + outFile + ": MQL at " + strconv.FormatFloat(r.Stages.MQL, 'g', -1, 64) + " points ("
	if !strings.HasPrefix(stdout, want) {
		t.Errorf("stdout %q, want it to start %q (the file's MQL threshold)", stdout, want)
	}
	if !strings.Contains(stdout, "), SQL at "+strconv.FormatFloat(r.Stages.SQL, 'g', -1, 64)+" (") {
		t.Errorf("stdout %q does not give the file's SQL threshold %g", stdout, r.Stages.SQL)
	}
	if !(r.Stages.MQL < r.Stages.SQL) {
		t.Errorf("MQL at %g, SQL at %g: want MQL below SQL", r.Stages.MQL, r.Stages.SQL)
	}
	checkAUCLine(t, stdout, a)

	t.Run("standard output", func(t *testing.T) {
		out := mustRun(t, base...)
		// The same rules, then the summary as comments, so the whole output is a rules file too.
		if !strings.HasPrefix(out, string(written)) {
			t.Fatalf("standard output does not start with the rules --out wrote:\n%s", out)
		}
		tail := strings.TrimPrefix(out, string(written))
		if lines := strings.Split(strings.TrimSuffix(tail, "\n"), "\n"); len(lines) != 2 || !strings.HasPrefix(lines[0], "# MQL at ") || !strings.HasPrefix(lines[1], "# holdout AUC") {
			t.Errorf("after the rules, want two comment lines, got %q", tail)
		}
		if _, err := rules.Parse([]byte(out)); err != nil {
			t.Errorf("standard output does not parse as rules: %v", err)
		}
		checkAUCLine(t, out, a)
	})
}

// TestSuggestErrors checks that suggest refuses when the model's training data cannot be found
// again, and for an unknown model. The cases run in order on one copy of the fixture.
func TestSuggestErrors(t *testing.T) {
	dir := t.TempDir()
	store := filepath.Join(dir, "models")
	data := filepath.Join(dir, "contacts.parquet")
	src, err := os.ReadFile(fixture)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(data, src, 0o644); err != nil {
		t.Fatal(err)
	}
	mustRun(t, "train", "--data", data, "--label", "deal_stage", "--positive", "closedwon", "--models", store,
		"--name", "leads", "--time-column", "created_at", "--exclude", "true_probability", "--quiet")
	tests := []struct {
		name    string
		prepare func(t *testing.T)
		model   string
		want    string
	}{
		{"unknown model", func(*testing.T) {}, "nope", `"nope"`},
		{"data changed", func(t *testing.T) {
			if err := os.WriteFile(data, append(src, 0), 0o644); err != nil {
				t.Fatal(err)
			}
		}, "leads", "has changed since model leads version 1"},
		{"data gone", func(t *testing.T) {
			if err := os.Remove(data); err != nil {
				t.Fatal(err)
			}
		}, "leads", "which is gone"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.prepare(t)
			out := filepath.Join(dir, "suggested.yaml")
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), []string{"rules", "suggest", "--models", store, "--name", tt.model, "--out", out}, &stdout, &stderr)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error mentioning %q", err, tt.want)
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Errorf("a failed suggest wrote %s", out)
			}
		})
	}
}
