package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/leadscore/leadscore/models"
	"github.com/leadscore/leadscore/store"
)

// trainLeads trains model "leads" on the fixture into store through the CLI and returns the
// version published. extra flags are appended to the train command line.
func trainLeads(tb testing.TB, store string, extra ...string) int {
	tb.Helper()
	args := append([]string{"train", "--data", fixture, "--label", "deal_stage", "--positive", "closedwon",
		"--models", store, "--name", "leads", "--time-column", "created_at", "--exclude", "true_probability", "--json"}, extra...)
	out := mustRun(tb, args...)
	var summary struct {
		Version int `json:"version"`
	}
	if err := json.Unmarshal([]byte(out), &summary); err != nil {
		tb.Fatalf("train --json: %v\n%s", err, out)
	}
	return summary.Version
}

// trainTwoVersions trains versions 1 and 2 of "leads"; the second drops visits and fixes C, and
// --force keeps the publish gate from refusing it whatever its AUC.
func trainTwoVersions(tb testing.TB) string {
	tb.Helper()
	store := filepath.Join(tb.TempDir(), "models")
	if v := trainLeads(tb, store); v != 1 {
		tb.Fatalf("first train published version %d, want 1", v)
	}
	if v := trainLeads(tb, store, "--exclude", "visits", "--c", "0.1", "--force"); v != 2 {
		tb.Fatalf("second train published version %d, want 2", v)
	}
	return store
}

// listed is one version as `models list` shows it.
type listed struct {
	Serving bool
	Labels  string // as the text table prints them: "[canary stable]"
}

// parseModelsTable reads the text table of `models list` into version -> row, finding each cell
// by the offset of its column header (tabwriter pads every cell to the header's column).
func parseModelsTable(tb testing.TB, out string) map[int]listed {
	tb.Helper()
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	header := lines[0]
	cols := []string{"MODEL", "VERSION", "STATUS", "SERVING", "LABELS", "HOLDOUT AUC"}
	starts := make([]int, len(cols))
	for i, c := range cols {
		if starts[i] = strings.Index(header, c); starts[i] < 0 {
			tb.Fatalf("models list header %q has no column %s", header, c)
		}
	}
	cell := func(line string, i int) string {
		end := len(line)
		if i+1 < len(starts) {
			end = min(end, starts[i+1])
		}
		if starts[i] >= end {
			return ""
		}
		return strings.TrimSpace(line[starts[i]:end])
	}
	rows := map[int]listed{}
	for _, line := range lines[1:] {
		v, err := strconv.Atoi(cell(line, 1))
		if err != nil {
			tb.Fatalf("models list row %q: version: %v", line, err)
		}
		if got := cell(line, 0); got != "leads" {
			tb.Errorf("models list row %q: model %q, want leads", line, got)
		}
		if got := cell(line, 2); got != "valid" {
			tb.Errorf("models list row %q: status %q, want valid", line, got)
		}
		rows[v] = listed{Serving: cell(line, 3) == "*", Labels: cell(line, 4)}
	}
	return rows
}

// listJSON runs `models list --json` and returns version -> row.
func listJSON(tb testing.TB, store string) map[int]listed {
	tb.Helper()
	out := mustRun(tb, "models", "list", "--models", store, "--json")
	var rows []struct {
		Name    string   `json:"name"`
		Version int      `json:"version"`
		Valid   bool     `json:"valid"`
		Serving bool     `json:"serving"`
		Labels  []string `json:"labels"`
		AUC     float64  `json:"auc"`
	}
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		tb.Fatalf("models list --json: %v\n%s", err, out)
	}
	got := map[int]listed{}
	for _, r := range rows {
		if r.Name != "leads" || !r.Valid || !(r.AUC > 0.5 && r.AUC <= 1) {
			tb.Errorf("models list --json row %+v: want model leads, valid, AUC in (0.5, 1]", r)
		}
		got[r.Version] = listed{Serving: r.Serving, Labels: "[" + strings.Join(r.Labels, " ") + "]"}
	}
	return got
}

// TestModelsPromoteRollback walks a store through promote and rollback; each step checks the
// command's output, the labels file and what `models list` says in text and JSON. The steps run
// in order on one store.
func TestModelsPromoteRollback(t *testing.T) {
	store := trainTwoVersions(t)
	labelsFile := filepath.Join(store, "leads", "labels")
	steps := []struct {
		name       string
		args       []string // nil: only look at the store
		wantOut    string
		wantErr    string // "" for success
		wantLog    string // the log line's part after its time; "" means no log line
		wantLabels string // the labels file; "" means there is none
		wantList   map[int]listed
	}{
		{
			name:     "fresh store serves the highest version",
			wantList: map[int]listed{1: {false, "[]"}, 2: {true, "[]"}},
		},
		{
			name:       "promote defaults to stable",
			args:       []string{"promote", "leads", "1"},
			wantOut:    "leads: stable -> version 1\n",
			wantLog:    `level=INFO msg="store: label set" model=leads label=stable version=1 was=0 store=STORE`,
			wantLabels: "stable 1\n",
			wantList:   map[int]listed{1: {true, "[stable]"}, 2: {false, "[]"}},
		},
		{
			name:       "promote another label as JSON",
			args:       []string{"promote", "leads", "2", "canary", "--json", "--log-format", "json"},
			wantLog:    `"level":"INFO","msg":"store: label set","model":"leads","label":"canary","version":2,"was":0,"store":"STORE"}`,
			wantOut:    `{"label":"canary","name":"leads","version":2}`,
			wantLabels: "canary 2\nstable 1\n",
			wantList:   map[int]listed{1: {true, "[stable]"}, 2: {false, "[canary]"}},
		},
		{
			name:       "promote version 2 to stable",
			args:       []string{"promote", "leads", "2", "stable"},
			wantOut:    "leads: stable -> version 2\n",
			wantLog:    `level=INFO msg="store: label set" model=leads label=stable version=2 was=1 store=STORE`,
			wantLabels: "canary 2\nstable 2\n",
			wantList:   map[int]listed{1: {false, "[]"}, 2: {true, "[canary stable]"}},
		},
		{
			name:       "rollback moves stable back",
			args:       []string{"rollback", "leads", "--json"},
			wantLog:    `level=INFO msg="store: rolled back" model=leads label=stable version=1 was_serving=2 store=STORE`,
			wantOut:    `{"label":"stable","name":"leads","version":1}`,
			wantLabels: "canary 2\nstable 1\n",
			wantList:   map[int]listed{1: {true, "[stable]"}, 2: {false, "[canary]"}},
		},
		{
			name:       "rollback below the first version fails and changes nothing",
			args:       []string{"rollback", "leads"},
			wantErr:    "below 1",
			wantLabels: "canary 2\nstable 1\n",
			wantList:   map[int]listed{1: {true, "[stable]"}, 2: {false, "[canary]"}},
		},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			if st.args != nil {
				var out, errOut bytes.Buffer
				err := run(context.Background(), append([]string{"models", "--models", store}, st.args...), &out, &errOut)
				switch {
				case st.wantErr == "" && err != nil:
					t.Fatalf("models %s: %v", strings.Join(st.args, " "), err)
				case st.wantErr != "" && (err == nil || !strings.Contains(err.Error(), st.wantErr)):
					t.Fatalf("models %s: got error %v, want one mentioning %q", strings.Join(st.args, " "), err, st.wantErr)
				}
				got := out.String()
				if strings.HasPrefix(st.wantOut, "{") {
					got = compactJSON(t, got)
				}
				if got != st.wantOut {
					t.Errorf("output %q, want %q", got, st.wantOut)
				}
				// One line, from its level on (its time comes first).
				log := errOut.String()
				if i := strings.Index(log, "level="); i >= 0 {
					log = log[i:]
				} else if i := strings.Index(log, `"level"`); i >= 0 {
					log = log[i:]
				}
				want := strings.ReplaceAll(st.wantLog, "STORE", store)
				if want != "" {
					want += "\n"
				}
				if log != want {
					t.Errorf("log %q, want %q", errOut.String(), want)
				}
			}
			labels, err := os.ReadFile(labelsFile)
			if err != nil && !errors.Is(err, os.ErrNotExist) {
				t.Fatal(err)
			}
			if got := string(labels); got != st.wantLabels {
				t.Errorf("labels file %q, want %q", got, st.wantLabels)
			}
			text := mustRun(t, "models", "list", "--models", store)
			if diff := cmp.Diff(st.wantList, parseModelsTable(t, text)); diff != "" {
				t.Errorf("models list (-want +got):\n%s\n%s", diff, text)
			}
			if diff := cmp.Diff(st.wantList, listJSON(t, store)); diff != "" {
				t.Errorf("models list --json (-want +got):\n%s", diff)
			}
		})
	}
}

func compactJSON(tb testing.TB, s string) string {
	tb.Helper()
	var b bytes.Buffer
	if err := json.Compact(&b, []byte(s)); err != nil {
		tb.Fatalf("not JSON: %v\n%s", err, s)
	}
	return b.String()
}

// TestModelsShow checks that show prints the metrics and provenance the store holds, for the
// serving version by default and for a version given, in text and JSON.
func TestModelsShow(t *testing.T) {
	dir := trainTwoVersions(t)
	s := store.OpenDir(dir)
	tests := []struct {
		name    string
		args    []string
		version int // the version show must describe
	}{
		{"serving by default", []string{"leads"}, 2},
		{"version given", []string{"leads", "1"}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want, err := s.Load(context.Background(), "leads", tt.version)
			if err != nil {
				t.Fatal(err)
			}
			text := mustRun(t, append([]string{"models", "show", "--models", dir}, tt.args...)...)
			p, m := want.Provenance, want.Metrics
			// The fixture's counts are in testdata/README.md.
			wantLines := []string{
				"leads version " + strconv.Itoa(tt.version) + "\n",
				"from " + mustAbs(t, fixture) + " (sha256 " + p.DataSHA256[:12] + "...), 5000 rows: 549 won, 3691 lost, 760 open\n",
				"label deal_stage, positive [closedwon]; time split",
				"holdout: " + strconv.Itoa(m.Rows) + " rows, AUC " + strconv.FormatFloat(m.AUC, 'f', 4, 64) + ", PR-AUC " + strconv.FormatFloat(m.PRAUC, 'f', 4, 64),
				"\nleakage audit:\n",
				"  true_probability ",
			}
			if tt.version == 2 {
				wantLines = append(wantLines, "parent version 1\n")
			}
			for _, w := range wantLines {
				if !strings.Contains(text, w) {
					t.Errorf("models show does not contain %q:\n%s", w, text)
				}
			}
			if tt.version == 1 && strings.Contains(text, "parent version") {
				t.Errorf("version 1 has no parent, show says:\n%s", text)
			}

			out := mustRun(t, append([]string{"models", "show", "--models", dir, "--json"}, tt.args...)...)
			var got models.Artifact
			if err := json.Unmarshal([]byte(out), &got); err != nil {
				t.Fatalf("models show --json: %v\n%s", err, out)
			}
			if got.Name != "leads" {
				t.Errorf("name %q, want leads", got.Name)
			}
			var head struct {
				Version int `json:"version"`
			}
			if err := json.Unmarshal([]byte(out), &head); err != nil || head.Version != tt.version {
				t.Errorf("models show --json: version %d (%v), want %d", head.Version, err, tt.version)
			}
			if diff := cmp.Diff(want.Metrics, got.Metrics); diff != "" {
				t.Errorf("metrics (-store +show):\n%s", diff)
			}
			if diff := cmp.Diff(want.Provenance, got.Provenance); diff != "" {
				t.Errorf("provenance (-store +show):\n%s", diff)
			}
			if wantParent := tt.version - 1; got.Provenance.ParentVersion != wantParent {
				t.Errorf("parent version %d, want %d", got.Provenance.ParentVersion, wantParent)
			}
		})
	}
}

// TestModelsErrors checks that unknown models and versions fail with an error naming them, and
// leave the labels alone.
func TestModelsErrors(t *testing.T) {
	store := filepath.Join(t.TempDir(), "models")
	trainLeads(t, store)
	tests := []struct {
		name     string
		args     []string
		want     string
		notFound bool // errors.Is(err, models.ErrNotFound)
		usage    bool // a usageError (exit code 2)
	}{
		{"list unknown model", []string{"list", "nope"}, `"nope"`, true, false},
		{"show unknown model", []string{"show", "nope"}, `"nope"`, true, false},
		{"show unknown version", []string{"show", "leads", "9"}, "version 9", true, false},
		{"show version not a number", []string{"show", "leads", "abc"}, `"abc"`, false, true},
		{"promote unknown model", []string{"promote", "nope", "1"}, `"nope"`, true, false},
		{"promote unknown version", []string{"promote", "leads", "7"}, "version 7", true, false},
		{"promote invalid label", []string{"promote", "leads", "1", "Bad Label"}, "Bad Label", false, false},
		{"rollback unknown model", []string{"rollback", "nope"}, `"nope"`, true, false},
		{"rollback with one version", []string{"rollback", "leads"}, "below 1", true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			err := run(context.Background(), append([]string{"models", "--models", store}, tt.args...), &out, &errOut)
			if err == nil {
				t.Fatalf("got no error, output %q", out.String())
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not mention %s", err, tt.want)
			}
			if got := errors.Is(err, models.ErrNotFound); got != tt.notFound {
				t.Errorf("errors.Is(%v, ErrNotFound) = %v, want %v", err, got, tt.notFound)
			}
			var u usageError
			if got := errors.As(err, &u); got != tt.usage {
				t.Errorf("usage error %v, want %v", got, tt.usage)
			}
			if _, err := os.Stat(filepath.Join(store, "leads", "labels")); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("a failed command wrote a labels file (stat: %v)", err)
			}
		})
	}

	t.Run("no store", func(t *testing.T) {
		var out, errOut bytes.Buffer
		err := run(context.Background(), []string{"models", "list"}, &out, &errOut)
		var u usageError
		if !errors.As(err, &u) || !strings.Contains(err.Error(), "--models") {
			t.Errorf("got %v, want a usage error naming --models", err)
		}
	})
}

// mustAbs is path made absolute, as train records its data file.
func mustAbs(t *testing.T, path string) string {
	t.Helper()
	abs, err := filepath.Abs(path)
	if err != nil {
		t.Fatal(err)
	}
	return abs
}
