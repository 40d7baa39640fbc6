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

	"github.com/leadscore/leadscore/models/rules"
)

// exampleRules is a small rules file for the command tests.
const exampleRules = `name: Example
stages: {mql: 20, sql: 40}
groups:
  - {name: fit, limit: 20, grades: {C: 5, B: 10, A: 15}}
  - {name: engagement, levels: {3: 5, 2: 15, 1: 30}}
exclude:
  - {name: Staff, when: {email: {domain_in: [us.example]}}}
rules:
  - name: Executive
    group: fit
    points: 15
    when: {job_title: {contains_any: [vp, chief]}}
  - name: Target industry
    group: fit
    points: 10
    when: {industry: {in: [Software]}}
  - name: Visits
    group: engagement
    property: visits
    ranges:
      - {between: [2, 5], points: 3}
      - {at_least: 6, points: 6}
  - name: Recent
    group: engagement
    points: 10
    when: {last_activity_at: {within_days: 30, decay: {after_days: 7, factor: 0.5}}}
  - name: Unsubscribed
    points: -5
    when: {unsubscribed: true}
`

func writeRulesFile(t *testing.T, src string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "rules.yaml")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func runRulesCmd(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), append([]string{"rules"}, args...), &stdout, &stderr)
	return stdout.String(), err
}

// outputLine returns the value after "key: " on the line that starts with it.
func outputLine(t *testing.T, out, key string) string {
	t.Helper()
	for line := range strings.Lines(out) {
		if v, ok := strings.CutPrefix(line, key+": "); ok {
			return strings.TrimSpace(v)
		}
	}
	t.Fatalf("no %q line in\n%s", key, out)
	return ""
}

// TestRulesTestCommand scores written contacts and compares the printed total with a hand computation.
func TestRulesTestCommand(t *testing.T) {
	path := writeRulesFile(t, exampleRules)
	tests := []struct {
		name    string
		contact string
		// The hand computation, rule by rule.
		total          float64
		stage, grade   string
		level          string
		totalLineExtra string
	}{
		{
			name:    "executive in target industry, active 10 days ago",
			contact: `{"job_title":"VP Sales","industry":"software","visits":4,"last_activity_at":"2025-12-23T00:00:00Z","unsubscribed":false}`,
			// fit: 15 + 10 = 25 -> limit 20; engagement: visits 4 -> 3, recent 10 days (within 30,
			// past 7) -> 10 x 0.5 = 5; total 20 + 8 = 28.
			total: 28, stage: "MQL", grade: "A", level: "3",
		},
		{
			name:    "unsubscribed, numbers as strings",
			contact: `{"job_title":"Engineer","industry":"Retail","visits":"7","last_activity_at":"2026-01-01T00:00:00Z","unsubscribed":true}`,
			// fit 0; engagement: visits 7 -> 6, recent 1 day -> 10; ungrouped -5; total 11.
			total: 11, stage: "LEAD", grade: "D", level: "2",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := runRulesCmd(t, "test", "--rules", path, "--at", "2026-01-02T00:00:00Z", "--contact", tt.contact)
			if err != nil {
				t.Fatal(err)
			}
			got, err := strconv.ParseFloat(strings.Fields(outputLine(t, out, "total"))[0], 64)
			if err != nil || got != tt.total {
				t.Errorf("total: got %v (%v), want %v\n%s", got, err, tt.total, out)
			}
			if got := outputLine(t, out, "stage"); got != tt.stage {
				t.Errorf("stage: got %s, want %s", got, tt.stage)
			}
			if got := outputLine(t, out, "fit grade"); got != tt.grade {
				t.Errorf("fit grade: got %s, want %s", got, tt.grade)
			}
			if got := outputLine(t, out, "engagement level"); got != tt.level {
				t.Errorf("engagement level: got %s, want %s", got, tt.level)
			}

			out, err = runRulesCmd(t, "test", "--rules", path, "--at", "2026-01-02T00:00:00Z", "--contact", tt.contact, "--json")
			if err != nil {
				t.Fatal(err)
			}
			var res rules.Result
			if err := json.Unmarshal([]byte(out), &res); err != nil {
				t.Fatalf("--json output: %v\n%s", err, out)
			}
			if res.Total != tt.total || len(res.Hits) != 6 {
				t.Errorf("--json: got total %v with %d hits, want %v with 6", res.Total, len(res.Hits), tt.total)
			}
		})
	}
}

// TestRulesTestRepoFile scores a written contact with testdata/rules.yaml; the total is added up by
// hand from that file.
func TestRulesTestRepoFile(t *testing.T) {
	contact := `{"contact_id":"C0000042","job_title":"Head of Growth","email":"kim@summit-analytics.io",
		"industry":"Marketing and Advertising","employees":35,"annual_revenue":4200000,"visits":12,
		"pricing_page_views":1,"demo_page_views":0,"email_clicks":4,"email_opens":3,"forms_tofu":2,
		"forms_mofu":0,"forms_bofu":0,"last_activity_at":"2025-12-02T00:00:00Z","careers_page_views":1,
		"unsubscribed":false,"source":"Paid Search"}`
	out, err := runRulesCmd(t, "test", "--rules", filepath.Join("..", "..", "testdata", "rules.yaml"),
		"--at", "2026-01-01T00:00:00Z", "--contact", contact)
	if err != nil {
		t.Fatal(err)
	}
	// fit: Executive title ("head of") +15, Company size 35 -> +3, Target industry +10 = 28 (grade B).
	// engagement: top-of-funnel form +5, visits 12 -> +6, pricing 1 view -> +5 (30 days old: not past
	// 30, no decay), clicks 4 -> +6, active within 30 days +10, careers page -10 = 22 (level 3).
	// total 50: MQL.
	if got := outputLine(t, out, "total"); got != "50" {
		t.Errorf("total: got %s, want 50\n%s", got, out)
	}
	if got := outputLine(t, out, "fit") + " " + outputLine(t, out, "engagement"); got != "28 22" {
		t.Errorf("groups: got %s, want 28 22", got)
	}
	if got := outputLine(t, out, "stage"); got != "MQL" {
		t.Errorf("stage: got %s, want MQL", got)
	}
}

func TestRulesTestLimitsAndExclusion(t *testing.T) {
	path := writeRulesFile(t, exampleRules)
	out, err := runRulesCmd(t, "test", "--rules", path, "--at", "2026-01-02T00:00:00Z",
		"--contact", `{"job_title":"Chief of Staff","industry":"Software"}`)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := outputLine(t, out, "fit"), "20 (25 before the group limit of 20)"; got != want {
		t.Errorf("fit: got %q, want %q", got, want)
	}
	out, err = runRulesCmd(t, "test", "--rules", path, "--contact", `{"email":"jo@us.example","visits":9}`)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := outputLine(t, out, "excluded by"), "Staff (not scored)"; got != want {
		t.Errorf("excluded by: got %q, want %q", got, want)
	}
}

func TestRulesTestFromData(t *testing.T) {
	rulesPath := writeRulesFile(t, exampleRules)
	data := filepath.Join(t.TempDir(), "contacts.csv")
	csv := "contact_id,job_title,industry,visits\nC1,Engineer,Retail,1\nC2,VP Marketing,Software,6\n"
	if err := os.WriteFile(data, []byte(csv), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := runRulesCmd(t, "test", "--rules", rulesPath, "--data", data, "--row", "C2")
	if err != nil {
		t.Fatal(err)
	}
	// fit 15 + 10 -> 20; visits 6 -> 6; total 26.
	if got := outputLine(t, out, "total"); got != "26" {
		t.Errorf("total: got %s, want 26\n%s", got, out)
	}
	if _, err := runRulesCmd(t, "test", "--rules", rulesPath, "--data", data, "--row", "C9"); err == nil {
		t.Errorf("an unknown row: got no error")
	}
}

func TestRulesCheckCommand(t *testing.T) {
	path := writeRulesFile(t, exampleRules)
	out, err := runRulesCmd(t, "check", "--rules", path)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"5 rules, 1 exclusions, 2 groups", "MQL from 20 points, SQL from 40",
		"Visits", "visits ranges 2 to 5: +3, 6 or more: +6"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	columns := "email,job_title,industry,visits,last_activity_at,unsubscribed"
	if _, err := runRulesCmd(t, "check", "--rules", path, "--columns", columns); err != nil {
		t.Errorf("--columns with every property: %v", err)
	}
	_, err = runRulesCmd(t, "check", "--rules", path, "--columns", "email,job_title,visits")
	var re *rules.Error
	if !errors.Is(err, rules.ErrUnknownProperty) || !errors.As(err, &re) || re.Property != "industry" {
		t.Errorf("--columns without industry: got %v, want unknown property industry", err)
	}

	spec := filepath.Join(t.TempDir(), "spec.yaml")
	specYAML := `label: deal_stage
reference_time: 2026-01-01T00:00:00Z
columns:
  - {name: email, kind: category, group: fit, use: true}
  - {name: job_title, kind: category, group: fit, use: true}
  - {name: industry, kind: category, group: fit, use: true}
  - {name: visits, kind: category, group: engagement, use: true}
  - {name: last_activity_at, kind: time, group: engagement, use: true}
  - {name: unsubscribed, kind: flag, group: engagement, use: true}
  - {name: deal_stage, kind: category, use: false}
`
	if err := os.WriteFile(spec, []byte(specYAML), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = runRulesCmd(t, "check", "--rules", path, "--spec", spec)
	if !errors.Is(err, rules.ErrKind) {
		t.Errorf("--spec with visits as a category: got %v, want %v", err, rules.ErrKind)
	}
	specYAML = strings.Replace(specYAML, "visits, kind: category", "visits, kind: number", 1)
	if err := os.WriteFile(spec, []byte(specYAML), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := runRulesCmd(t, "check", "--rules", path, "--spec", spec); err != nil || !strings.Contains(out, "schema: every property") {
		t.Errorf("--spec with every property: got %v\n%s", err, out)
	}
}

func TestRulesCommandErrors(t *testing.T) {
	good := writeRulesFile(t, exampleRules)
	bad := writeRulesFile(t, "rules:\n  - name: a\n    points: 1\n    when: {visits: {between: [5, 2]}}\n")
	tests := []struct {
		name  string
		args  []string
		usage bool
		want  string
	}{
		{"check without --rules", []string{"check"}, true, "--rules is required"},
		{"check two sources", []string{"check", "--rules", good, "--columns", "a", "--spec", "s.yaml"}, true, "at most one"},
		{"check invalid file", []string{"check", "--rules", bad}, false, "line 4"},
		{"check missing file", []string{"check", "--rules", filepath.Join(t.TempDir(), "none.yaml")}, false, "no such file"},
		{"test without contact", []string{"test", "--rules", good}, true, "either --contact or --data"},
		{"test bad time", []string{"test", "--rules", good, "--contact", "{}", "--at", "yesterday"}, true, "RFC 3339"},
		{"test bad JSON", []string{"test", "--rules", good, "--contact", "{visits: 3}"}, true, "JSON object"},
		{"test nested JSON", []string{"test", "--rules", good, "--contact", `{"visits": [3]}`}, true, `"visits"`},
		{"test invalid file", []string{"test", "--rules", bad, "--contact", "{}"}, false, "line 4"},
		{"unknown flag", []string{"test", "--rulez", good}, true, "unknown flag"},
		{"unknown subcommand", []string{"suggestions"}, true, "unknown command"},
		{"suggest without a model", []string{"suggest"}, true, "--models and --name are required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := runRulesCmd(t, tt.args...)
			if err == nil {
				t.Fatalf("got no error, want %q", tt.want)
			}
			var u usageError
			if errors.As(err, &u) != tt.usage {
				t.Errorf("usage error: got %v, want %v (%v)", errors.As(err, &u), tt.usage, err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %q, want it to contain %q", err, tt.want)
			}
		})
	}
}
