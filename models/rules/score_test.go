package rules

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/leadscore/leadscore/features"
)

// at is the scoring time of the tests.
var at = time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)

func mustParse(tb testing.TB, src string) *Rules {
	tb.Helper()
	r, err := Parse([]byte(src))
	if err != nil {
		tb.Fatalf("Parse: %v\n%s", err, src)
	}
	return r
}

func contact(props map[string]features.Value) features.Contact {
	return features.Contact{ID: "c", Props: props}
}

func days(d float64) time.Duration { return time.Duration(d * 24 * float64(time.Hour)) }

// TestCriteria checks every operator on one property p, with the value v (the zero Value: p missing).
func TestCriteria(t *testing.T) {
	s, n, f := features.String, features.Number, features.Flag
	ts := func(d time.Duration) features.Value { return features.Timestamp(at.Add(-d)) }
	tests := []struct {
		name string
		cond string // the YAML condition on p
		v    features.Value
		want bool
	}{
		{"equals ignores case", "{equals: software}", s("Software"), true},
		{"equals ignores surrounding spaces", "{equals: Software}", s(" Software "), true},
		{"equals other text", "{equals: Software}", s("Retail"), false},
		{"equals is not a substring match", "{equals: Soft}", s("Software"), false},
		{"equals number", "{equals: 12}", n(12), true},
		{"equals number other", "{equals: 12}", n(12.5), false},
		{"equals number given as text", "{equals: 12}", s("12"), true},
		{"equals number given as other notation", "{equals: 12}", s("12.0"), true},
		{"equals quoted number on a number", `{equals: "12"}`, n(12), true},
		{"equals true on a flag", "{equals: true}", f(true), true},
		{"equals true on text yes", "{equals: true}", s("yes"), true},
		{"equals text on a flag", "{equals: maybe}", f(true), false},
		{"equals on a time", "{equals: 2026-01-01}", ts(days(1)), false},
		{"equals missing", "{equals: Software}", features.Value{}, false},
		{"shorthand equals", "software", s("SOFTWARE"), true},
		{"shorthand number", "3", n(3), true},
		{"shorthand true", "true", f(true), true},
		{"shorthand false on true", "false", f(true), false},
		{"in", "{in: [a, b]}", s("B"), true},
		{"in other", "{in: [a, b]}", s("c"), false},
		{"in numbers", "{in: [1, 2]}", n(2), true},
		{"in numbers as text", "{in: [1, 2]}", s("2"), true},
		{"in missing", "{in: [a, b]}", features.Value{}, false},
		{"not_in", "{not_in: [a, b]}", s("c"), true},
		{"not_in listed", "{not_in: [a, b]}", s("A"), false},
		{"not_in missing", "{not_in: [a, b]}", features.Value{}, false},
		{"not_in blank", "{not_in: [a, b]}", s("  "), false},
		{"contains_any word", "{contains_any: [vp, chief]}", s("VP Sales"), true},
		{"contains_any word later", "{contains_any: [vp, chief]}", s("Chief Marketing Officer"), true},
		{"contains_any none", "{contains_any: [vp, chief]}", s("Marketing Manager"), false},
		{"contains_any whole words only", "{contains_any: [intern]}", s("International Sales"), false},
		{"contains_any after punctuation", "{contains_any: [ceo]}", s("Co-Founder & CEO"), true},
		{"contains_any phrase", "{contains_any: [vice president]}", s("Vice President, Sales"), true},
		{"contains_any phrase with hyphen", "{contains_any: [vice president]}", s("vice-president"), true},
		{"contains_any phrase in part", "{contains_any: [vice president]}", s("President"), false},
		{"contains_any phrase not adjacent", "{contains_any: [head of]}", s("Head Chef of Staff"), false},
		{"contains_any non-ASCII", "{contains_any: [geschäftsführer]}", s("GESCHÄFTSFÜHRER"), true},
		{"contains_any number", "{contains_any: [500]}", n(500), true},
		{"contains_any missing", "{contains_any: [vp]}", features.Value{}, false},
		{"email_class free-mail", "{email_class: [free-mail]}", s("ana@yahoo.co.uk"), true},
		{"email_class company is not free-mail", "{email_class: [free-mail]}", s("ana@acme.com"), false},
		{"email_class one of two", "{email_class: [free-mail, education]}", s("ana@ox.ac.uk"), true},
		{"email_class invalid address", "{email_class: [invalid]}", s("not an address"), true},
		{"email_class missing", "{email_class: [company]}", features.Value{}, false},
		{"email_class on a number", "{email_class: [company]}", n(3), false},
		{"seniority executive", "{seniority: [executive]}", s("VP of Sales"), true},
		{"seniority student before manager words", "{seniority: [student]}", s("Marketing Intern"), true},
		{"seniority other level", "{seniority: [executive, director]}", s("Account Manager"), false},
		{"seniority ignores the case of the level", "{seniority: [Manager]}", s("account manager"), true},
		{"seniority missing", "{seniority: [unknown]}", features.Value{}, false},
		{"domain_in", "{domain_in: [gmail.com]}", s("ana@gmail.com"), true},
		{"domain_in ignores case", "{domain_in: [gmail.com]}", s("ana@GMAIL.COM"), true},
		{"domain_in subdomain", "{domain_in: [gmail.com]}", s("ana@mail.gmail.com"), true},
		{"domain_in suffix only", "{domain_in: [gmail.com]}", s("ana@notgmail.com"), false},
		{"domain_in prefix only", "{domain_in: [gmail.com]}", s("ana@gmail.com.evil.io"), false},
		{"domain_in top level", "{domain_in: [edu]}", s("li@stanford.edu"), true},
		{"domain_in written with @", `{domain_in: ["@gmail.com"]}`, s("ana@gmail.com"), true},
		{"domain_in web address", "{domain_in: [acme.com]}", s("https://www.acme.com/about"), true},
		{"domain_in on a number", "{domain_in: [acme.com]}", n(1), false},
		{"domain_in missing", "{domain_in: [acme.com]}", features.Value{}, false},
		{"between low edge", "{between: [2, 5]}", n(2), true},
		{"between high edge", "{between: [2, 5]}", n(5), true},
		{"between below", "{between: [2, 5]}", n(1.999), false},
		{"between above", "{between: [2, 5]}", n(5.001), false},
		{"between numeric text", "{between: [2, 5]}", s(" 3 "), true},
		{"between text", "{between: [2, 5]}", s("three"), false},
		{"between NaN text", "{between: [2, 5]}", s("NaN"), false},
		{"between flag", "{between: [0, 5]}", f(true), false},
		{"between missing", "{between: [2, 5]}", features.Value{}, false},
		{"at_least edge", "{at_least: 2}", n(2), true},
		{"at_least below", "{at_least: 2}", n(1.9), false},
		{"above edge", "{above: 2}", n(2), false},
		{"above", "{above: 2}", n(2.1), true},
		{"at_most edge", "{at_most: 5}", n(5), true},
		{"at_most above", "{at_most: 5}", n(5.1), false},
		{"below edge", "{below: 5}", n(5), false},
		{"below", "{below: 5}", n(4.9), true},
		{"at_least and below", "{at_least: 2, below: 6}", n(5.5), true},
		{"at_least and below high edge", "{at_least: 2, below: 6}", n(6), false},
		{"negative bound", "{at_most: -1}", n(-3), true},
		{"known", "{known: true}", s("x"), true},
		{"known zero", "{known: true}", n(0), true},
		{"known false flag", "{known: true}", f(false), true},
		{"known missing", "{known: true}", features.Value{}, false},
		{"known blank text", "{known: true}", s("  "), false},
		{"known NaN", "{known: true}", n(math.NaN()), false},
		{"unknown missing", "{unknown: true}", features.Value{}, true},
		{"unknown empty text", "{unknown: true}", s(""), true},
		{"unknown zero", "{unknown: true}", n(0), false},
		{"known false is unknown", "{known: false}", features.Value{}, true},
		{"unknown false is known", "{unknown: false}", n(1), true},
		{"is true", "{is: true}", f(true), true},
		{"is true on false", "{is: true}", f(false), false},
		{"is true on text", "{is: true}", s("TRUE"), true},
		{"is true on yes", "{is: true}", s("Yes"), true},
		{"is true on 1", "{is: true}", n(1), true},
		{"is true on 2", "{is: true}", n(2), false},
		{"is true on other text", "{is: true}", s("maybe"), false},
		{"is false", "{is: false}", f(false), true},
		{"is false on text 0", "{is: false}", s("0"), true},
		{"is false missing", "{is: false}", features.Value{}, false},
		{"within_days inside", "{within_days: 30}", ts(days(1)), true},
		{"within_days edge", "{within_days: 30}", ts(days(30)), true},
		{"within_days just outside", "{within_days: 30}", ts(days(30) + time.Second), false},
		{"within_days future", "{within_days: 30}", ts(-time.Hour), true},
		{"within_days RFC 3339 text", "{within_days: 30}", s(at.Add(-days(10)).Format(time.RFC3339)), true},
		{"within_days date text", "{within_days: 30}", s("2025-12-20"), true},
		{"within_days old date text", "{within_days: 30}", s("2025-11-20"), false},
		{"within_days other text", "{within_days: 30}", s("yesterday"), false},
		{"within_days number", "{within_days: 30}", n(3), false},
		{"within_days missing", "{within_days: 30}", features.Value{}, false},
		{"decay needs a time", "{decay: {half_life_days: 30}}", n(3), false},
		{"decay on a time", "{decay: {half_life_days: 30}}", ts(days(100)), true},
		{"several operators all hold", "{known: true, not_in: [x], contains_any: [sales]}", s("VP Sales"), true},
		{"several operators one fails", "{known: true, not_in: [vp sales], contains_any: [sales]}", s("VP Sales"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := mustParse(t, "rules:\n  - name: r\n    points: 7\n    when:\n      p: "+tt.cond+"\n")
			props := map[string]features.Value{"other": features.Number(1)}
			if !tt.v.Missing() {
				props["p"] = tt.v
			}
			res := r.Score(contact(props), at)
			if got := res.Hits[0].Matched; got != tt.want {
				t.Errorf("matched: got %v, want %v (%s)", got, tt.want, res.Hits[0].Detail)
			}
			if got := res.Total != 0; got != tt.want {
				t.Errorf("total %v: matched %v, want %v", res.Total, got, tt.want)
			}
		})
	}
}

// TestCriteriaAnd checks that a rule's criteria on different properties combine with AND.
func TestCriteriaAnd(t *testing.T) {
	r := mustParse(t, `rules:
  - name: r
    points: 5
    when:
      a: {at_least: 1}
      b: {equals: x}
`)
	tests := []struct {
		name  string
		props map[string]features.Value
		want  float64
	}{
		{"both", map[string]features.Value{"a": features.Number(1), "b": features.String("x")}, 5},
		{"first only", map[string]features.Value{"a": features.Number(1), "b": features.String("y")}, 0},
		{"second only", map[string]features.Value{"a": features.Number(0), "b": features.String("x")}, 0},
		{"none", nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := r.Score(contact(tt.props), at).Total; got != tt.want {
				t.Errorf("total: got %v, want %v", got, tt.want)
			}
		})
	}
}

// TestRanges checks range edges and that ranges do not accumulate: HubSpot's "+3 for 2-5 visits, +6 for
// 6 or more", plus a band written with below to show the difference at 5.5.
func TestRanges(t *testing.T) {
	r := mustParse(t, `rules:
  - name: visits
    property: visits
    ranges:
      - {between: [2, 5], points: 3}
      - {at_least: 6, points: 6}
  - name: pages
    property: pages
    ranges:
      - {at_least: 2, below: 6, points: 3}
      - {at_least: 6, points: 6}
      - {below: 0, points: -1}
`)
	tests := []struct {
		name  string
		v     features.Value
		rule  int
		want  float64
		match bool
	}{
		{"visits 1: below the first range", features.Number(1), 0, 0, false},
		{"visits 2: low edge included", features.Number(2), 0, 3, true},
		{"visits 5: high edge included", features.Number(5), 0, 3, true},
		{"visits 5.5: between the ranges", features.Number(5.5), 0, 0, false},
		{"visits 6: second range only", features.Number(6), 0, 6, true},
		{"visits 8: one range, not both", features.Number(8), 0, 6, true},
		{"visits 1000", features.Number(1000), 0, 6, true},
		{"visits as text", features.String("4"), 0, 3, true},
		{"visits missing", features.Value{}, 0, 0, false},
		{"pages 5.5: below excludes 6 only", features.Number(5.5), 1, 3, true},
		{"pages 6", features.Number(6), 1, 6, true},
		{"pages 0: in no range", features.Number(0), 1, 0, false},
		{"pages -0.5: negative range", features.Number(-0.5), 1, -1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			props := map[string]features.Value{}
			name := []string{"visits", "pages"}[tt.rule]
			if !tt.v.Missing() {
				props[name] = tt.v
			}
			res := r.Score(contact(props), at)
			h := res.Hits[tt.rule]
			if h.Points != tt.want || h.Matched != tt.match {
				t.Errorf("got %v points (matched %v), want %v (%v); %s", h.Points, h.Matched, tt.want, tt.match, h.Detail)
			}
			if res.Total != tt.want {
				t.Errorf("total: got %v, want %v", res.Total, tt.want)
			}
		})
	}
}

// TestRangesWithCriteria checks that a range rule's criteria must hold before any range counts.
func TestRangesWithCriteria(t *testing.T) {
	r := mustParse(t, `rules:
  - name: visits
    property: visits
    ranges:
      - {at_least: 1, points: 4}
    when:
      unsubscribed: false
`)
	tests := []struct {
		name  string
		unsub bool
		want  float64
	}{
		{"subscribed", false, 4},
		{"unsubscribed", true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			props := map[string]features.Value{"visits": features.Number(3), "unsubscribed": features.Flag(tt.unsub)}
			if got := r.Score(contact(props), at).Total; got != tt.want {
				t.Errorf("total: got %v, want %v", got, tt.want)
			}
		})
	}
}

// TestLimits checks group limits (which cut sums above the limit and leave lower sums, negative ones
// included, alone), ungrouped rules and the total limit. Expected totals are added by hand.
func TestLimits(t *testing.T) {
	r := mustParse(t, `total_limit: 25
groups:
  - {name: fit, limit: 10}
  - {name: engagement, limit: 20}
rules:
  - {name: f1, group: fit, points: 8, when: {f1: true}}
  - {name: f2, group: fit, points: 8, when: {f2: true}}
  - {name: f3, group: fit, points: -20, when: {f3: true}}
  - {name: e1, group: engagement, points: 15, when: {e1: true}}
  - {name: e2, group: engagement, points: 15, when: {e2: true}}
  - {name: loose, points: 4, when: {loose: true}}
`)
	tests := []struct {
		name       string
		on         string
		fit, eng   float64
		wantTotal  float64
		wantStage  string
		wantGroups int
	}{
		{"nothing", "", 0, 0, 0, StageLead, 2},
		{"fit under its limit", "f1", 8, 0, 8, StageLead, 2},
		{"fit cut to its limit", "f1 f2", 10, 0, 10, StageLead, 2},
		{"negative points before the limit", "f1 f2 f3", -4, 0, -4, StageLead, 2},
		{"negative sum is not raised", "f3", -20, 0, -20, StageLead, 2},
		{"engagement cut", "e1 e2", 0, 20, 20, StageLead, 2},
		{"ungrouped counts in the total", "f1 loose", 8, 0, 12, StageLead, 2},
		{"total cut to its limit", "f1 f2 e1 e2 loose", 10, 20, 25, StageLead, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			props := map[string]features.Value{}
			for _, k := range strings.Fields(tt.on) {
				props[k] = features.Flag(true)
			}
			res := r.Score(contact(props), at)
			checkResult(t, res, Result{Total: tt.wantTotal, Groups: map[string]float64{"fit": tt.fit, "engagement": tt.eng},
				Stage: tt.wantStage})
		})
	}
}

// TestStagesGradesLevels checks the stage (default MQL 35, SQL 65), fit grade and engagement level at
// and around each cut point; the total is fit + engagement.
func TestStagesGradesLevels(t *testing.T) {
	tests := []struct {
		fit, eng  float64
		wantStage string
		wantGrade string
		wantLevel int
	}{
		{0, 0, StageLead, "D", 4},
		{9.99, 9.99, StageLead, "D", 4},
		{10, 10, StageLead, "C", 3},
		{20, 14.99, StageLead, "B", 3},
		{20, 15, StageMQL, "B", 3},
		{30, 25, StageMQL, "A", 2},
		{15, 49.99, StageMQL, "C", 2},
		{15, 50, StageSQL, "C", 1},
		{-5, 70, StageSQL, "D", 1},
	}
	for _, tt := range tests {
		r := mustParse(t, `groups:
  - {name: fit, grades: {C: 10, B: 20, A: 30}}
  - {name: engagement, levels: {3: 10, 2: 25, 1: 50}}
rules:
  - {name: fit, group: fit, points: `+strconv.FormatFloat(tt.fit, 'g', -1, 64)+`, when: {x: true}}
  - {name: engagement, group: engagement, points: `+strconv.FormatFloat(tt.eng, 'g', -1, 64)+`, when: {x: true}}
`)
		res := r.Score(contact(map[string]features.Value{"x": features.Flag(true)}), at)
		if res.Stage != tt.wantStage || res.FitGrade != tt.wantGrade || res.EngagementLevel != tt.wantLevel {
			t.Errorf("fit %v, engagement %v: got %s %s%d, want %s %s%d", tt.fit, tt.eng,
				res.Stage, res.FitGrade, res.EngagementLevel, tt.wantStage, tt.wantGrade, tt.wantLevel)
		}
	}
}

// TestNoGradesNoLevels checks that a file without grades or levels leaves them unset, and custom stages.
func TestNoGradesNoLevels(t *testing.T) {
	r := mustParse(t, `stages: {mql: 5, sql: 10}
rules:
  - {name: a, points: 7, when: {x: true}}
`)
	res := r.Score(contact(map[string]features.Value{"x": features.Flag(true)}), at)
	if res.FitGrade != "" || res.EngagementLevel != 0 || res.Stage != StageMQL || len(res.Groups) != 0 {
		t.Errorf("got grade %q, level %d, stage %s, groups %v; want none, 0, MQL, none", res.FitGrade, res.EngagementLevel, res.Stage, res.Groups)
	}
}

// TestDecay checks both decay forms on both sides of their boundary. Expected points: after_days 30
// with factor 0.5 halves 10 once the date is more than 30 days old; a 30-day half-life gives
// 10 * 2^(-age/30), computed by hand for ages 0, 15, 30 and 60 days.
func TestDecay(t *testing.T) {
	r := mustParse(t, `rules:
  - name: step
    points: 10
    when:
      seen: {decay: {after_days: 30, factor: 0.5}}
  - name: smooth
    points: 10
    when:
      seen: {decay: {half_life_days: 30}}
  - name: step in a window
    points: 10
    when:
      seen: {within_days: 60, decay: {after_days: 30, factor: 0.5}}
`)
	const tol = 1e-9
	tests := []struct {
		name                     string
		age                      time.Duration
		step, smooth, stepWindow float64
	}{
		{"now", 0, 10, 10, 10},
		{"in the future counts as now", -days(2), 10, 10, 10},
		{"15 days", days(15), 10, 10 / math.Sqrt2, 10},
		{"30 days: the step's last full day", days(30), 10, 5, 10},
		{"30 days and a second: halved", days(30) + time.Second, 5, 10 * math.Exp2(-(30+1.0/86400)/30), 5},
		{"60 days", days(60), 5, 2.5, 5},
		{"61 days: out of the window", days(61), 5, 10 * math.Exp2(-61.0/30), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := r.Score(contact(map[string]features.Value{"seen": features.Timestamp(at.Add(-tt.age))}), at)
			for i, want := range []float64{tt.step, tt.smooth, tt.stepWindow} {
				if got := res.Hits[i].Points; math.Abs(got-want) > tol {
					t.Errorf("%s: got %v, want %v (%s)", res.Hits[i].Rule, got, want, res.Hits[i].Detail)
				}
			}
		})
	}
	res := r.Score(contact(nil), at)
	if res.Total != 0 || res.Hits[0].Matched {
		t.Errorf("without the date: got total %v, matched %v; want 0, false", res.Total, res.Hits[0].Matched)
	}
}

// TestDecayRanges checks that decay scales the points of the range a contact falls in.
func TestDecayRanges(t *testing.T) {
	r := mustParse(t, `rules:
  - name: pricing
    property: pricing
    ranges:
      - {between: [1, 2], points: 5}
      - {at_least: 3, points: 10}
    when:
      seen: {decay: {after_days: 30, factor: 0.5}}
`)
	res := r.Score(contact(map[string]features.Value{
		"pricing": features.Number(4), "seen": features.Timestamp(at.Add(-days(31))),
	}), at)
	if res.Total != 5 {
		t.Errorf("total: got %v, want 10 x 0.5 = 5 (%s)", res.Total, res.Hits[0].Detail)
	}
}

// TestZeroTimeIsNow checks that the zero scoring time means time.Now().
func TestZeroTimeIsNow(t *testing.T) {
	r := mustParse(t, `rules:
  - {name: recent, points: 1, when: {seen: {within_days: 1}}}
`)
	before := time.Now()
	res := r.Score(contact(map[string]features.Value{"seen": features.Timestamp(before.Add(-time.Hour))}), time.Time{})
	if res.Total != 1 || res.At.Before(before) {
		t.Errorf("got total %v at %v, want 1 at about %v", res.Total, res.At, before)
	}
}

// TestExclusions checks that the first matching exclusion leaves the contact unscored.
func TestExclusions(t *testing.T) {
	r := mustParse(t, `groups: [{name: fit, grades: {C: 1, B: 2, A: 3}}]
exclude:
  - name: Employees
    when: {email: {domain_in: [us.example]}}
  - name: Customers
    when: {lifecycle_stage: customer}
  - name: Test contacts
    when: {email: {contains_any: [test]}, job_title: {unknown: true}}
rules:
  - {name: a, group: fit, points: 50, when: {forms: {at_least: 1}}}
`)
	s := features.String
	tests := []struct {
		name  string
		props map[string]features.Value
		want  string // the exclusion; "" when scored
		hits  int
	}{
		{"employee", map[string]features.Value{"email": s("jo@us.example"), "forms": features.Number(2)}, "Employees", 1},
		{"customer, any case", map[string]features.Value{"lifecycle_stage": s("Customer"), "forms": features.Number(2)}, "Customers", 2},
		{"first match wins", map[string]features.Value{"email": s("test@us.example"), "lifecycle_stage": s("customer")}, "Employees", 1},
		{"both criteria of an exclusion", map[string]features.Value{"email": s("test@x.io")}, "Test contacts", 3},
		{"one criterion of an exclusion", map[string]features.Value{"email": s("test@x.io"), "job_title": s("CEO"), "forms": features.Number(1)}, "", 4},
		{"no exclusion", map[string]features.Value{"email": s("ana@acme.com"), "forms": features.Number(1)}, "", 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := r.Score(contact(tt.props), at)
			if tt.want != "" {
				checkResult(t, res, Result{Excluded: true, ExcludedBy: tt.want})
				if res.Hits[len(res.Hits)-1].Rule != tt.want || !res.Hits[len(res.Hits)-1].Exclusion {
					t.Errorf("last hit: got %+v, want the exclusion %q", res.Hits[len(res.Hits)-1], tt.want)
				}
			} else if res.Excluded || res.Total != 50 || res.Stage != StageMQL {
				t.Errorf("got excluded %v (%q), total %v, stage %s; want scored 50, MQL", res.Excluded, res.ExcludedBy, res.Total, res.Stage)
			}
			if len(res.Hits) != tt.hits {
				t.Errorf("hits: got %d, want %d", len(res.Hits), tt.hits)
			}
		})
	}
}

// TestDetails checks the explanations shown beside each rule.
func TestDetails(t *testing.T) {
	r := mustParse(t, `rules:
  - name: title
    points: 15
    when: {job_title: {contains_any: [vp, chief]}}
  - name: visits
    property: visits
    ranges: [{between: [2, 5], points: 3}, {at_least: 6, points: 6}]
  - name: recent
    points: 10
    when: {seen: {decay: {after_days: 30, factor: 0.5}}}
  - name: revenue
    points: 5
    when: {revenue: {at_least: 1000000}}
`)
	res := r.Score(contact(map[string]features.Value{
		"job_title": features.String("Marketing Manager"), "visits": features.Number(4),
		"seen": features.Timestamp(at.Add(-days(40))),
	}), at)
	want := []string{
		`job_title = "Marketing Manager", wanted job_title contains any of vp, chief`,
		"visits = 4, in 2 to 5",
		"seen = 2025-11-23T00:00:00Z (40 days old, x0.5)",
		"revenue unknown, wanted revenue at least 1000000",
	}
	for i, w := range want {
		if got := res.Hits[i].Detail; got != w {
			t.Errorf("%s: got %q, want %q", res.Hits[i].Rule, got, w)
		}
	}
}

func TestCheckColumns(t *testing.T) {
	r := mustParse(t, `exclude:
  - {name: staff, when: {email: {domain_in: [a.io]}}}
rules:
  - name: size
    property: employees
    ranges: [{at_least: 10, points: 1}]
  - name: title
    points: 1
    when:
      job_titel: {contains_any: [vp]}
  - name: recent
    points: 1
    when:
      last_seen: {within_days: 3}
      unsubscribed: {is: false}
`)
	k := features.KindCategory
	tests := []struct {
		name    string
		columns map[string]features.Kind
		want    []error
		lines   []int
	}{
		{"all known with kinds", map[string]features.Kind{"email": k, "employees": features.KindNumber,
			"job_titel": k, "last_seen": features.KindTime, "unsubscribed": features.KindFlag}, nil, nil},
		{"names only", map[string]features.Kind{"email": 0, "employees": 0, "job_titel": 0, "last_seen": 0, "unsubscribed": 0}, nil, nil},
		{"unknown property", map[string]features.Kind{"email": k, "employees": features.KindNumber,
			"job_title": k, "last_seen": features.KindTime, "unsubscribed": features.KindFlag}, []error{ErrUnknownProperty}, []int{10}},
		{"wrong kinds", map[string]features.Kind{"email": features.KindNumber, "employees": k,
			"job_titel": k, "last_seen": features.KindNumber, "unsubscribed": k},
			[]error{ErrKind, ErrKind, ErrKind, ErrKind}, []int{2, 4, 14, 15}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := r.CheckColumns(tt.columns)
			var errs []error
			if err != nil {
				errs = err.(interface{ Unwrap() []error }).Unwrap()
			}
			if len(errs) != len(tt.want) {
				t.Fatalf("got %d errors (%v), want %d", len(errs), err, len(tt.want))
			}
			for i, e := range errs {
				var re *Error
				if !errors.Is(e, tt.want[i]) || !errors.As(e, &re) || re.Line != tt.lines[i] {
					t.Errorf("error %d: got %v, want %v at line %d", i, e, tt.want[i], tt.lines[i])
				}
			}
		})
	}
}

func TestCheckSchema(t *testing.T) {
	r := mustParse(t, "rules:\n  - {name: a, points: 1, when: {visits: {at_least: 2}, sorce: Referrals}}\n")
	spec := &features.Spec{Columns: []features.ColumnSpec{
		{Name: "visits", Kind: features.KindNumber}, {Name: "source", Kind: features.KindCategory},
	}}
	err := r.CheckSchema(spec)
	var re *Error
	if !errors.Is(err, ErrUnknownProperty) || !errors.As(err, &re) || re.Property != "sorce" || re.Line != 2 || re.Rule != "a" {
		t.Errorf("got %v, want unknown property sorce at line 2 in rule a", err)
	}
}
