package rules

import (
	"errors"
	"math"
	"strings"
	"testing"
)

// validFiles are small rules files that must parse; FuzzParse uses them as seeds.
var validFiles = []struct {
	name string
	src  string
}{
	{"minimal", `rules:
  - name: Demo request
    points: 50
    when:
      forms_bofu: {at_least: 1}
`},
	{"everything", `name: Full
stages: {mql: 30, sql: 60}
total_limit: 100
groups:
  - {name: fit, limit: 40, grades: {C: 10, B: 20, A: 30}}
  - name: engagement
    limit: 80
    levels: {3: 10, 2: 25, 1: 50}
exclude:
  - name: Employees
    when: {email: {domain_in: ["@example.com"]}}
rules:
  - name: Executive
    group: fit
    points: 15
    when:
      job_title: {contains_any: [vp, vice president, chief]}
      industry: {not_in: [Government]}
  - name: Visits
    group: engagement
    property: visits
    ranges:
      - {between: [2, 5], points: 3}
      - {above: 5, points: 6}
  - name: Recent
    group: engagement
    points: 10
    when:
      last_activity_at: {within_days: 30, decay: {half_life_days: 30}}
  - name: Unsubscribed
    points: -50
    when: {unsubscribed: true}
  - name: Stepped decay
    points: 4
    when:
      seen_at: {decay: {after_days: 30, factor: 0.5}}
      country: {in: [France, "12", 7], known: true}
      title: {unknown: true}
      ok: {is: false}
      size: {at_least: 2, below: 5}
      code: {equals: "007"}
`},
	{"touching ranges", `rules:
  - name: r
    property: x
    ranges:
      - {at_least: 0, below: 5, points: 1}
      - {at_least: 5, at_most: 10, points: 2}
      - {above: 10, points: 3}
`},
}

// invalidFiles are rules files that must fail with the given cause at the given line; FuzzParse uses
// them as seeds too.
var invalidFiles = []struct {
	name string
	src  string
	want error
	line int
	rule string
}{
	{"yaml syntax", "rules:\n  - name: a\n    points: [1,\n", ErrSyntax, 3, ""},
	{"empty file", "", ErrMissing, 1, ""},
	{"two documents", "rules: []\n---\nrules: []\n", ErrSyntax, 2, ""},
	{"root is a list", "- a\n- b\n", ErrType, 1, ""},
	{"no rules section", "stages: {mql: 10, sql: 20}\n", ErrMissing, 1, ""},
	{"unknown top-level key", "rules:\n  - {name: a, points: 1, when: {x: 1}}\nthresholds: {mql: 3}\n", ErrUnknownKey, 3, ""},
	// The top level, stages and groups are decoded into structs with KnownFields (issue 15).
	{"unknown group key", "groups:\n  - {name: a, colour: red}\nrules:\n  - {name: r, points: 1, when: {x: 1}}\n", ErrUnknownKey, 2, ""},
	{"unknown stages key", "stages: {mql: 10, max: 90}\nrules:\n  - {name: r, points: 1, when: {x: 1}}\n", ErrUnknownKey, 1, ""},
	{"group not a mapping", "groups:\n  - fit\nrules:\n  - {name: r, points: 1, when: {x: 1}}\n", ErrType, 2, ""},
	{"empty groups", "groups: []\nrules:\n  - {name: r, points: 1, when: {x: 1}}\n", ErrEmpty, 1, ""},
	{"duplicate top-level key", "name: x\nname: y\nrules:\n  - {name: r, points: 1, when: {x: 1}}\n", ErrDuplicate, 2, ""},
	{"unknown rule key", `rules:
  - name: a
    points: 1
    pointz: 2
    when: {x: 1}
`, ErrUnknownKey, 4, "a"},
	{"unknown operator", `rules:
  - name: a
    points: 1
    when:
      visits: {atleast: 2}
`, ErrUnknownKey, 5, "a"},
	{"missing points", `rules:
  - name: a
    points: 1
    when: {x: 1}
  - name: b
    when: {x: 1}
`, ErrMissing, 5, "b"},
	{"missing name", `rules:
  - points: 1
    when: {x: 1}
`, ErrMissing, 2, ""},
	{"no when", `rules:
  - name: a
    points: 1
`, ErrEmpty, 2, "a"},
	{"empty when", `rules:
  - name: a
    points: 1
    when: {}
`, ErrEmpty, 4, "a"},
	{"empty condition", `rules:
  - name: a
    points: 1
    when:
      visits: {}
`, ErrEmpty, 5, "a"},
	{"null condition", `rules:
  - name: a
    points: 1
    when:
      visits:
`, ErrEmpty, 5, "a"},
	{"non-numeric between", `rules:
  - name: a
    points: 1
    when:
      visits: {between: [two, 5]}
`, ErrType, 5, "a"},
	{"quoted number bound", `rules:
  - name: a
    points: 1
    when:
      visits:
        at_least: "2"
`, ErrType, 6, "a"},
	{"non-numeric range bound", `rules:
  - name: a
    property: visits
    ranges:
      - {between: [2, 5], points: 3}
      - {at_least: six, points: 6}
`, ErrType, 6, "a"},
	{"overlapping ranges", `rules:
  - name: a
    property: visits
    ranges:
      - {between: [2, 5], points: 3}
      - {at_least: 5, points: 6}
`, ErrOverlap, 6, "a"},
	{"overlap inside", `rules:
  - name: a
    property: visits
    ranges:
      - {at_least: 0, points: 1}
      - {between: [3, 4], points: 2}
`, ErrOverlap, 6, "a"},
	{"range low above high", `rules:
  - name: a
    property: visits
    ranges:
      - {between: [5, 2], points: 3}
`, ErrRange, 5, "a"},
	{"range with no number", `rules:
  - name: a
    property: visits
    ranges:
      - {above: 5, below: 5, points: 3}
`, ErrRange, 5, "a"},
	{"criterion low above high", `rules:
  - name: a
    points: 1
    when:
      visits: {at_least: 5, at_most: 2}
`, ErrRange, 5, "a"},
	{"two low bounds", `rules:
  - name: a
    points: 1
    when:
      visits: {at_least: 5, above: 2}
`, ErrRange, 5, "a"},
	{"between with three numbers", `rules:
  - name: a
    points: 1
    when:
      visits: {between: [1, 2, 3]}
`, ErrType, 5, "a"},
	{"range without points", `rules:
  - name: a
    property: visits
    ranges:
      - {between: [1, 2]}
`, ErrMissing, 5, "a"},
	{"range without bound", `rules:
  - name: a
    property: visits
    ranges:
      - {points: 2}
`, ErrRange, 5, "a"},
	{"ranges without property", `rules:
  - name: a
    ranges:
      - {at_least: 1, points: 2}
`, ErrMissing, 4, "a"},
	{"points and ranges", `rules:
  - name: a
    points: 3
    property: visits
    ranges:
      - {at_least: 1, points: 2}
`, ErrType, 3, "a"},
	{"property without ranges", `rules:
  - name: a
    points: 3
    property: visits
    when: {x: 1}
`, ErrUnknownKey, 4, "a"},
	{"unknown group", `groups:
  - name: fit
rules:
  - name: a
    group: engagment
    points: 1
    when: {x: 1}
`, ErrUnknownGroup, 5, "a"},
	{"stages not increasing", `stages:
  mql: 70
  sql: 65
rules:
  - {name: a, points: 1, when: {x: 1}}
`, ErrThresholds, 2, ""},
	{"mql above default sql", `stages: {mql: 80}
rules:
  - {name: a, points: 1, when: {x: 1}}
`, ErrThresholds, 1, ""},
	{"grades not increasing", `groups:
  - name: fit
    grades: {C: 10, B: 30, A: 20}
rules:
  - {name: a, points: 1, when: {x: 1}}
`, ErrThresholds, 3, "fit"},
	{"levels not increasing", `groups:
  - name: engagement
    levels:
      3: 10
      2: 10
      1: 50
rules:
  - {name: a, points: 1, when: {x: 1}}
`, ErrThresholds, 4, "engagement"},
	{"grade missing", `groups:
  - name: fit
    grades: {C: 10, B: 20}
rules:
  - {name: a, points: 1, when: {x: 1}}
`, ErrMissing, 3, "fit"},
	{"grades twice", `groups:
  - {name: fit, grades: {C: 1, B: 2, A: 3}}
  - {name: fit2, grades: {C: 1, B: 2, A: 3}}
rules:
  - {name: a, points: 1, when: {x: 1}}
`, ErrDuplicate, 3, "fit2"},
	{"duplicate rule names", `rules:
  - name: Visits
    points: 1
    when: {visits: {at_least: 1}}
  - name: Visits
    points: 2
    when: {visits: {at_least: 2}}
`, ErrDuplicate, 5, "Visits"},
	{"exclusion named like a rule", `exclude:
  - name: a
    when: {x: 1}
rules:
  - name: a
    points: 2
    when: {x: 1}
`, ErrDuplicate, 5, "a"},
	{"duplicate group", `groups:
  - name: fit
  - name: fit
rules:
  - {name: a, points: 1, when: {x: 1}}
`, ErrDuplicate, 3, "fit"},
	{"duplicate key", `rules:
  - name: a
    points: 1
    points: 2
    when: {x: 1}
`, ErrDuplicate, 4, "a"},
	{"duplicate property", `rules:
  - name: a
    points: 1
    when:
      x: 1
      x: 2
`, ErrDuplicate, 6, "a"},
	{"points as text", `rules:
  - name: a
    points: five
    when: {x: 1}
`, ErrType, 3, "a"},
	{"points as list", `rules:
  - name: a
    points: [1]
    when: {x: 1}
`, ErrType, 3, "a"},
	{"points infinite", `rules:
  - name: a
    points: .inf
    when: {x: 1}
`, ErrRange, 3, "a"},
	{"contains_any not a list", `rules:
  - name: a
    points: 1
    when:
      job_title: {contains_any: vp}
`, ErrType, 5, "a"},
	{"contains_any no words", `rules:
  - name: a
    points: 1
    when:
      job_title:
        contains_any: [vp, "--"]
`, ErrType, 6, "a"},
	{"empty in", `rules:
  - name: a
    points: 1
    when:
      industry: {in: []}
`, ErrEmpty, 5, "a"},
	{"equals a list", `rules:
  - name: a
    points: 1
    when:
      industry: {equals: [a, b]}
`, ErrType, 5, "a"},
	{"condition a list", `rules:
  - name: a
    points: 1
    when:
      industry: [a, b]
`, ErrType, 5, "a"},
	{"is as text", `rules:
  - name: a
    points: 1
    when:
      unsubscribed: {is: "yes"}
`, ErrType, 5, "a"},
	{"bad domain", `rules:
  - name: a
    points: 1
    when:
      email: {domain_in: [a@b.com]}
`, ErrType, 5, "a"},
	{"unknown email class", `rules:
  - name: a
    points: 1
    when:
      email: {email_class: [freemail]}
`, ErrType, 5, "a"},
	{"unknown seniority", `rules:
  - name: a
    points: 1
    when:
      job_title: {seniority: [boss]}
`, ErrType, 5, "a"},
	{"seniority not a list", `rules:
  - name: a
    points: 1
    when:
      job_title: {seniority: executive}
`, ErrType, 5, "a"},
	{"within_days not positive", `rules:
  - name: a
    points: 1
    when:
      last_activity_at: {within_days: 0}
`, ErrRange, 5, "a"},
	{"decay factor above 1", `rules:
  - name: a
    points: 1
    when:
      last_activity_at:
        decay: {after_days: 30, factor: 2}
`, ErrRange, 6, "a"},
	{"decay incomplete", `rules:
  - name: a
    points: 1
    when:
      last_activity_at:
        decay: {after_days: 30}
`, ErrMissing, 6, "a"},
	{"decay both forms", `rules:
  - name: a
    points: 1
    when:
      last_activity_at:
        decay: {half_life_days: 30, after_days: 30, factor: 0.5}
`, ErrMissing, 6, "a"},
	{"decay in exclusion", `exclude:
  - name: old
    when:
      last_activity_at: {decay: {half_life_days: 30}}
rules:
  - {name: a, points: 1, when: {x: 1}}
`, ErrUnknownKey, 4, "old"},
	{"points in exclusion", `exclude:
  - name: old
    points: 3
    when: {x: 1}
rules:
  - {name: a, points: 1, when: {x: 1}}
`, ErrUnknownKey, 3, "old"},
	{"negative limit", `groups:
  - name: fit
    limit: -5
rules:
  - {name: a, points: 1, when: {x: 1}}
`, ErrRange, 3, "fit"},
	{"total limit as text", `total_limit: lots
rules:
  - {name: a, points: 1, when: {x: 1}}
`, ErrType, 1, ""},
	{"rules not a list", `rules:
  name: a
`, ErrType, 2, ""},
	{"rule not a mapping", `rules:
  - just a name
`, ErrType, 2, ""},
	{"alias", `base: &b {x: 1}
rules:
  - {name: a, points: 1, when: *b}
`, ErrType, 3, ""},
}

func TestParseValid(t *testing.T) {
	for _, tt := range validFiles {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Parse([]byte(tt.src)); err != nil {
				t.Fatalf("Parse: %v", err)
			}
		})
	}
}

func TestParseInvalid(t *testing.T) {
	for _, tt := range invalidFiles {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Parse([]byte(tt.src))
			if err == nil {
				t.Fatalf("Parse: got no error, want %v at line %d", tt.want, tt.line)
			}
			if r != nil {
				t.Errorf("Parse returned rules with an error")
			}
			if !errors.Is(err, tt.want) {
				t.Errorf("got %v, want cause %v", err, tt.want)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("got %T (%v), want *Error", err, err)
			}
			if e.Line != tt.line {
				t.Errorf("line: got %d, want %d (%v)", e.Line, tt.line, err)
			}
			if e.Rule != tt.rule {
				t.Errorf("rule: got %q, want %q (%v)", e.Rule, tt.rule, err)
			}
			if msg := err.Error(); !strings.HasPrefix(msg, "rules: ") || !strings.Contains(msg, "line ") {
				t.Errorf("message %q does not start with \"rules: \" or lacks the line", msg)
			}
		})
	}
}

// TestParseSeveralErrors checks that Parse reports every problem, not only the first.
func TestParseSeveralErrors(t *testing.T) {
	src := `rules:
  - name: a
    pointz: 1
    when: {x: 1}
  - name: b
    points: 1
    when: {x: {between: [3, 1]}}
`
	_, err := Parse([]byte(src))
	var lines []int
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		var re *Error
		if errors.As(e, &re) {
			lines = append(lines, re.Line)
		}
	}
	if want := []int{3, 2, 7}; !equalInts(lines, want) {
		t.Errorf("lines: got %v, want %v (%v)", lines, want, err)
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestParseStructure(t *testing.T) {
	r, err := Parse([]byte(validFiles[1].src))
	if err != nil {
		t.Fatal(err)
	}
	if r.Name != "Full" || r.Stages != (Stages{MQL: 30, SQL: 60}) || r.TotalLimit != 100 {
		t.Errorf("header: got %q %+v %v", r.Name, r.Stages, r.TotalLimit)
	}
	if len(r.Groups) != 2 || r.Groups[0].Limit != 40 || r.Groups[1].Limit != 80 || *r.Groups[0].Grades != [3]float64{10, 20, 30} ||
		*r.Groups[1].Levels != [3]float64{10, 25, 50} || r.Groups[1].Line != 6 {
		t.Errorf("groups: got %+v", r.Groups)
	}
	if len(r.Rules) != 5 || len(r.Exclusions) != 1 {
		t.Fatalf("got %d rules and %d exclusions, want 5 and 1", len(r.Rules), len(r.Exclusions))
	}
	visits := r.Rules[1]
	if visits.Property != "visits" || len(visits.Ranges) != 2 || visits.Line != 19 {
		t.Errorf("visits rule: got property %q, %d ranges, line %d; want visits, 2, 19", visits.Property, len(visits.Ranges), visits.Line)
	}
	if rg := visits.Ranges[1]; rg.Lo != 5 || rg.LoIncl || !math.IsInf(rg.Hi, 1) || rg.Points != 6 {
		t.Errorf("second range: got %+v, want above 5: 6", rg)
	}
	if got, want := r.Rules[0].String(), "job_title contains any of vp, vice president, chief and industry is none of Government"; got != want {
		t.Errorf("String: got %q, want %q", got, want)
	}
	if got, want := visits.String(), "visits ranges 2 to 5: +3, above 5: +6"; got != want {
		t.Errorf("String: got %q, want %q", got, want)
	}
	want := []string{"code", "country", "email", "industry", "job_title", "last_activity_at", "ok", "seen_at", "size", "title", "unsubscribed", "visits"}
	if got := r.Properties(); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("Properties: got %v, want %v", got, want)
	}
}

func TestParseDefaults(t *testing.T) {
	r, err := Parse([]byte(validFiles[0].src))
	if err != nil {
		t.Fatal(err)
	}
	if r.Stages != (Stages{MQL: DefaultMQL, SQL: DefaultSQL}) || !math.IsInf(r.TotalLimit, 1) {
		t.Errorf("defaults: got stages %+v, total limit %v", r.Stages, r.TotalLimit)
	}
}
