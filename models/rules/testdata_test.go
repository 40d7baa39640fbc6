package rules

import (
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/leadscore/leadscore/features"
)

// generatedColumns is the schema `leadscore generate` writes (train/synth.Schema, listed in plan.md).
var generatedColumns = map[string]features.Kind{
	"contact_id": features.KindCategory, "created_at": features.KindTime, "email": features.KindCategory,
	"job_title": features.KindCategory, "industry": features.KindCategory, "employees": features.KindNumber,
	"annual_revenue": features.KindNumber, "country": features.KindCategory, "source": features.KindCategory,
	"visits": features.KindNumber, "page_views": features.KindNumber, "pricing_page_views": features.KindNumber,
	"demo_page_views": features.KindNumber, "careers_page_views": features.KindNumber,
	"email_opens": features.KindNumber, "email_clicks": features.KindNumber, "forms_tofu": features.KindNumber,
	"forms_mofu": features.KindNumber, "forms_bofu": features.KindNumber,
	"days_since_last_activity": features.KindNumber, "last_activity_at": features.KindTime,
	"unsubscribed": features.KindFlag, "deal_stage": features.KindCategory,
	"lifecycle_stage": features.KindCategory, "close_date": features.KindTime,
}

func readRepoRules(tb testing.TB) *Rules {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "rules.yaml"))
	if err != nil {
		tb.Fatal(err)
	}
	r, err := Parse(data)
	if err != nil {
		tb.Fatalf("testdata/rules.yaml: %v", err)
	}
	return r
}

func TestRepoRulesFile(t *testing.T) {
	r := readRepoRules(t)
	if err := r.CheckColumns(generatedColumns); err != nil {
		t.Fatalf("CheckColumns against the generated schema: %v", err)
	}
	if got, want := len(r.Rules), 21; got != want {
		t.Errorf("rules: got %d, want %d", got, want)
	}
	if r.Stages != (Stages{MQL: 35, SQL: 65}) {
		t.Errorf("stages: got %+v, want MQL 35, SQL 65", r.Stages)
	}
	for _, p := range r.Properties() {
		if p == "lifecycle_stage" || p == "deal_stage" || p == "close_date" {
			t.Errorf("the rules read %s, which leaks the outcome", p)
		}
	}
}

// TestRepoRulesContacts scores hand-checked contacts with testdata/rules.yaml. The expected points were
// added up by hand from the file, rule by rule, as commented.
func TestRepoRulesContacts(t *testing.T) {
	r := readRepoRules(t)
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	daysAgo := func(d float64) features.Value {
		return features.Timestamp(at.Add(-time.Duration(d * 24 * float64(time.Hour))))
	}
	n := features.Number
	s := features.String
	tests := []struct {
		name   string
		props  map[string]features.Value
		want   Result
		reason string
	}{
		{
			name: "engaged executive at a target company",
			props: map[string]features.Value{
				"job_title": s("VP Sales"), "email": s("ana@acme-robotics.com"), "industry": s("Computer Software"),
				"employees": n(120), "annual_revenue": n(25e6), "visits": n(8), "pricing_page_views": n(3),
				"demo_page_views": n(1), "email_clicks": n(2), "email_opens": n(6), "forms_tofu": n(1),
				"forms_mofu": n(1), "forms_bofu": n(1), "last_activity_at": daysAgo(10),
				"careers_page_views": n(0), "unsubscribed": features.Flag(false), "source": s("Referrals"),
			},
			// fit 15+6+5+10 = 36 (limit 40); engagement 5+15+50+6+10+10+3+2+10+5 = 116 -> 80;
			// total 116 -> 100.
			want: Result{Total: 100, Groups: map[string]float64{"fit": 36, "engagement": 80}, Stage: StageSQL, FitGrade: "A", EngagementLevel: 1},
		},
		{
			name: "student on free mail, quiet for 45 days",
			props: map[string]features.Value{
				"job_title": s("Marketing Intern"), "email": s("li@gmail.com"), "industry": s("Education Management"),
				"employees": n(5), "visits": n(3), "pricing_page_views": n(1), "demo_page_views": n(0),
				"email_clicks": n(0), "email_opens": n(1), "forms_tofu": n(1), "last_activity_at": daysAgo(45),
				"careers_page_views": n(2), "unsubscribed": features.Flag(false), "source": s("Paid Social"),
			},
			// fit -20-10-10 = -40; engagement 5+3+5*0.5-10 = 0.5.
			want: Result{Total: -39.5, Groups: map[string]float64{"fit": -40, "engagement": 0.5}, Stage: StageLead, FitGrade: "D", EngagementLevel: 4},
		},
		{
			name: "unsubscribed manager",
			props: map[string]features.Value{
				"job_title": s("Marketing Manager"), "email": s("m@bluelabs.io"), "industry": s("Manufacturing"),
				"employees": n(300), "visits": n(6), "pricing_page_views": n(2), "demo_page_views": n(1),
				"email_clicks": n(3), "email_opens": n(2), "forms_mofu": n(1), "last_activity_at": daysAgo(40),
				"unsubscribed": features.Flag(true), "source": s("Organic Search"),
			},
			// fit 8+10 = 18; engagement 15+6+5*0.5+10*0.5+6-50 = -15.5.
			want: Result{Total: 2.5, Groups: map[string]float64{"fit": 18, "engagement": -15.5}, Stage: StageLead, FitGrade: "C", EngagementLevel: 4},
		},
		{
			name: "director reaching MQL, values as JSON strings",
			props: map[string]features.Value{
				"job_title": s("Director of Marketing"), "email": s("d@northcloud.com"), "industry": s("financial services"),
				"employees": s("40"), "visits": s("4"), "email_clicks": n(1), "forms_mofu": n(1),
				"last_activity_at": s(at.Add(-5 * 24 * time.Hour).Format(time.RFC3339)), "source": s("Direct Traffic"),
			},
			// fit 8+3+10 = 21; engagement 15+3+3+10 = 31.
			want: Result{Total: 52, Groups: map[string]float64{"fit": 21, "engagement": 31}, Stage: StageMQL, FitGrade: "B", EngagementLevel: 2},
		},
		{
			name:  "employee excluded",
			props: map[string]features.Value{"email": s("sam@LeadScore.io"), "forms_bofu": n(3)},
			want:  Result{Excluded: true, ExcludedBy: "Our own employees"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := r.Score(features.Contact{Props: tt.props}, at)
			checkResult(t, got, tt.want)
			if got.Excluded {
				return
			}
			if len(got.Hits) != len(r.Exclusions)+len(r.Rules) {
				t.Errorf("hits: got %d, want one per exclusion and rule (%d)", len(got.Hits), len(r.Exclusions)+len(r.Rules))
			}
			summary := r.Summary(features.Contact{Props: tt.props}, at)
			checkResult(t, summary, Result{Total: got.Total, Groups: got.Groups, Stage: got.Stage, FitGrade: got.FitGrade, EngagementLevel: got.EngagementLevel})
		})
	}
}

// checkResult compares the scoring outcome of got with want (At and Hits are not compared).
func checkResult(t *testing.T, got, want Result) {
	t.Helper()
	const tol = 1e-9
	if got.Excluded != want.Excluded || got.ExcludedBy != want.ExcludedBy {
		t.Errorf("excluded: got %v %q, want %v %q", got.Excluded, got.ExcludedBy, want.Excluded, want.ExcludedBy)
	}
	if math.Abs(got.Total-want.Total) > tol {
		t.Errorf("total: got %v, want %v", got.Total, want.Total)
	}
	if len(got.Groups) != len(want.Groups) {
		t.Errorf("groups: got %v, want %v", got.Groups, want.Groups)
	}
	for g, w := range want.Groups {
		if v, ok := got.Groups[g]; !ok || math.Abs(v-w) > tol {
			t.Errorf("group %s: got %v, want %v", g, got.Groups[g], w)
		}
	}
	if got.Stage != want.Stage || got.FitGrade != want.FitGrade || got.EngagementLevel != want.EngagementLevel {
		t.Errorf("stage, grade, level: got %q %q %d, want %q %q %d", got.Stage, got.FitGrade, got.EngagementLevel,
			want.Stage, want.FitGrade, want.EngagementLevel)
	}
}
