package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/leadscore/leadscore/models"
	"github.com/leadscore/leadscore/store"
	"github.com/leadscore/leadscore/train"
	"github.com/leadscore/leadscore/train/compare"
	"github.com/leadscore/leadscore/train/dataset"
	"github.com/leadscore/leadscore/train/synth"
)

// publishCompareModel writes generated contacts to a Parquet file, trains a model on them, and
// publishes it into a store as version 1 (with true provenance), version 2 (recording a different
// sha256, as if the file had changed) and version 3 (recording a data file that does not exist).
// It returns the store root, the data file and the number of its closed and holdout contacts.
func publishCompareModel(t *testing.T) (root, data string, closed, holdout int) {
	t.Helper()
	dir := t.TempDir()
	f, err := synth.Generate(synth.Config{Rows: 2000, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	data = filepath.Join(dir, "contacts.parquet")
	if err := dataset.WriteFile(data, f); err != nil {
		t.Fatal(err)
	}
	frame, labels, counts, err := readLabelled(train.Data{Locations: data, Outcome: dataset.Outcome{Column: "deal_stage", Positive: []string{"closedwon"}, Negative: []string{"closedlost"}}})
	if err != nil {
		t.Fatal(err)
	}
	res, err := train.Train(context.Background(), frame, labels, train.Config{Label: "deal_stage", TimeColumn: "created_at", Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	sum, err := train.FileSHA256(data)
	if err != nil {
		t.Fatal(err)
	}
	root = filepath.Join(dir, "models")
	st := store.OpenDir(root)
	a := res.Artifact
	for _, p := range []models.Provenance{
		{DataFile: data, DataSHA256: sum},
		{DataFile: data, DataSHA256: strings.Repeat("0", 64)},
		{DataFile: filepath.Join(dir, "gone.parquet"), DataSHA256: sum},
	} {
		p.Label, p.Positive, p.Negative, p.Won, p.Lost, p.Open = "deal_stage", []string{"closedwon"}, []string{"closedlost"}, counts.Won, counts.Lost, counts.Open
		a.Provenance = p
		if _, err := st.Publish(context.Background(), "leads", a); err != nil {
			t.Fatal(err)
		}
	}
	return root, data, counts.Won + counts.Lost, len(res.HoldoutRows)
}

func TestCompareCommand(t *testing.T) {
	root, data, closed, holdout := publishCompareModel(t)
	rulesFile := filepath.Join("..", "..", "testdata", "rules.yaml")
	for _, tc := range []struct {
		name     string
		args     []string
		usage    bool   // want a usage error
		fails    string // want an error containing this
		is       error  // and, if set, wrapping this
		contacts int    // compared contacts the summary must report
		source   string // in the summary's first line
	}{
		{"holdout of the training data", []string{"--version", "1"}, false, "", nil, holdout, "the holdout of contacts.parquet (time split on created_at), contacts the model never saw in training"},
		{"every closed contact of --data", []string{"--version", "1", "--data", data}, false, "", nil, closed, "every closed contact of " + data},
		{"data file changed", []string{"--version", "2"}, false, "has changed since model leads version 2 was trained", nil, 0, ""},
		{"data file gone", []string{"--version", "3"}, false, "which is gone; pass --data FILE", nil, 0, ""},
		{"missing --out", []string{"--version", "1", "--out", ""}, true, "", nil, 0, ""},
		{"label without data", []string{"--version", "1", "--label", "deal_stage"}, true, "", nil, 0, ""},
		{"no such version", []string{"--version", "9"}, false, "leads", models.ErrNotFound, 0, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "report")
			args := append([]string{"compare", "--models", root, "--name", "leads", "--rules", rulesFile, "--out", out}, tc.args...)
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), args, &stdout, &stderr)
			var u usageError
			switch {
			case tc.usage:
				if !errors.As(err, &u) {
					t.Fatalf("got %v, want a usage error", err)
				}
				return
			case tc.fails != "":
				if err == nil || errors.As(err, &u) || !strings.Contains(err.Error(), tc.fails) {
					t.Fatalf("got %v, want an error containing %q", err, tc.fails)
				}
				if tc.is != nil && !errors.Is(err, tc.is) {
					t.Errorf("got %v, want it to wrap %v", err, tc.is)
				}
				return
			case err != nil:
				t.Fatal(err)
			}
			text := stdout.String()
			first, _, _ := strings.Cut(text, "\n")
			if want := fmt.Sprintf("Compared on %s closed contacts", thousandsText(tc.contacts)); !strings.HasPrefix(first, want) || !strings.HasSuffix(first, tc.source) {
				t.Errorf("summary starts %q, want %q ... %q", first, want, tc.source)
			}
			page := filepath.Join(out, "report.html")
			if !strings.Contains(text, "Report: "+page) {
				t.Errorf("output does not name %s:\n%s", page, text)
			}
			html, err := os.ReadFile(page)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Contains(html, []byte("Calling the top 20% by the predictive score reaches")) || bytes.Count(html, []byte("<svg")) != 4 {
				t.Errorf("report.html lacks the headline or its 4 charts")
			}
			for _, name := range compare.CSVFiles {
				if st, err := os.Stat(filepath.Join(out, name)); err != nil || st.Size() == 0 {
					t.Errorf("%s: %v (size %v)", name, err, st)
				}
			}
		})
	}
}

// thousandsText writes n with comma separators, as the summary does.
func thousandsText(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// TestCompareWithoutRules: a team with no manual rules file still gets the report, the predictive
// score judged against no order (issue 10, case 8).
func TestCompareWithoutRules(t *testing.T) {
	root, _, _, _ := publishCompareModel(t)
	out := filepath.Join(t.TempDir(), "report")
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), []string{"compare", "--models", root, "--name", "leads", "--version", "1", "--out", out}, &stdout, &stderr); err != nil {
		t.Fatalf("compare without --rules: %v", err)
	}
	if _, err := os.Stat(filepath.Join(out, "report.html")); err != nil {
		t.Error(err)
	}
	if !strings.Contains(stdout.String(), "predictive") {
		t.Errorf("summary %q says nothing of the predictive score", stdout.String())
	}
}
