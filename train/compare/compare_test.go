package compare_test

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/leadscore/leadscore/features"
	"github.com/leadscore/leadscore/models"
	"github.com/leadscore/leadscore/models/rules"
	"github.com/leadscore/leadscore/train/compare"
	"github.com/leadscore/leadscore/train/metrics"
)

// handScored is one compared contact scored in the test through Predict and Score (not Summary,
// which Build uses), independently of Build.
type handScored struct {
	won    bool
	prob   float64
	tier   models.Priority
	points float64
	stage  string
	// The fit x engagement cells of each score: grade A-D and level 1-4 (manual: "" and 0 without).
	grade, manGrade string
	level, manLevel int
}

// scoreByHand scores the closed rows the manual rules do not exclude, and counts the excluded.
func scoreByHand(t *testing.T, fx *fixture, r *rules.Rules) (scored []handScored, excluded, excludedWon int) {
	t.Helper()
	at := fx.model.Spec.ReferenceTime
	for _, i := range fx.rows {
		if !fx.labels[i].Closed() {
			continue
		}
		c := fx.frame.Contact(i, "")
		res := r.Score(c, at)
		won := fx.labels[i] == features.Won
		if res.Excluded {
			excluded++
			if won {
				excludedWon++
			}
			continue
		}
		pred, err := fx.model.Predict(c, at)
		if err != nil {
			t.Fatal(err)
		}
		scored = append(scored, handScored{won: won, prob: pred.Probability, tier: pred.Priority, points: res.Total, stage: res.Stage,
			grade: pred.FitGrade, level: pred.EngagementLevel, manGrade: res.FitGrade, manLevel: res.EngagementLevel})
	}
	return scored, excluded, excludedWon
}

// topCustomers counts the customers among the best-ranked percent% of contacts by score (the first
// percent*n/100 of n). Contacts tied
// with the last one called count with the tied group's customers in proportion to the places left
// for them, rounded half up: the expected number under a random order among ties.
func topCustomers(scored []handScored, score func(handScored) float64, percent int) int {
	s := slices.Clone(scored)
	slices.SortStableFunc(s, func(a, b handScored) int { return cmp.Compare(score(b), score(a)) })
	n := percent * len(s) / 100
	last := score(s[n-1])
	var above, aboveWon, tied, tiedWon int
	for _, c := range s {
		switch v := score(c); {
		case v > last:
			above++
			if c.won {
				aboveWon++
			}
		case v == last:
			tied++
			if c.won {
				tiedWon++
			}
		}
	}
	places := n - above
	return aboveWon + int(math.Floor(float64(tiedWon*places)/float64(tied)+0.5))
}

// pairAUC is the AUC by comparing every customer with every non-customer (ties count half).
func pairAUC(scored []handScored, score func(handScored) float64) float64 {
	var wins float64
	var pairs int
	for _, p := range scored {
		if !p.won {
			continue
		}
		for _, q := range scored {
			if q.won {
				continue
			}
			pairs++
			switch {
			case score(p) > score(q):
				wins++
			case score(p) == score(q):
				wins += 0.5
			}
		}
	}
	return wins / float64(pairs)
}

func renderHTML(t *testing.T, r *compare.Report) string {
	t.Helper()
	var b bytes.Buffer
	if err := r.WriteHTML(&b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestReportNumbersAgainstHandCounts(t *testing.T) {
	fx := mustFixture(t)
	rep := fx.report
	hand, excluded, _ := scoreByHand(t, fx, fx.rules)
	prob := func(c handScored) float64 { return c.prob }
	pts := func(c handScored) float64 { return c.points }
	customers := 0
	for _, c := range hand {
		if c.won {
			customers++
		}
	}
	if rep.Contacts != len(hand) || rep.Customers != customers || rep.Excluded.Contacts != excluded {
		t.Fatalf("compared %d contacts, %d customers, %d excluded; want %d, %d, %d",
			rep.Contacts, rep.Customers, rep.Excluded.Contacts, len(hand), customers, excluded)
	}
	html := renderHTML(t, rep)

	// Top 20% by each score, sorted here by hand.
	predTop20, manTop20 := topCustomers(hand, prob, 20), topCustomers(hand, pts, 20)
	predTop10, manTop10 := topCustomers(hand, prob, 10), topCustomers(hand, pts, 10)
	for _, c := range []struct {
		name      string
		got, want int
	}{
		{"predictive top 20%", rep.Headline.Predictive.Top20Customers, predTop20},
		{"manual top 20%", rep.Headline.Manual.Top20Customers, manTop20},
		{"predictive top 10%", rep.Headline.Predictive.Top10Customers, predTop10},
		{"manual top 10%", rep.Headline.Manual.Top10Customers, manTop10},
	} {
		if c.got != c.want {
			t.Errorf("%s: got %d customers, want %d", c.name, c.got, c.want)
		}
	}
	sentence := fmt.Sprintf("Calling the top 20%% by the predictive score reaches %.0f%% of customers; by the manual score, %.0f%%.",
		100*float64(predTop20)/float64(customers), 100*float64(manTop20)/float64(customers))
	if rep.Headline.Sentence != sentence {
		t.Errorf("headline %q, want %q", rep.Headline.Sentence, sentence)
	}
	if !strings.Contains(html, sentence) {
		t.Errorf("the page lacks the headline %q", sentence)
	}
	if want := fmt.Sprintf("%.0f%% <small>%d of %d</small>", 100*float64(predTop20)/float64(customers), predTop20, customers); !strings.Contains(html, want) {
		t.Errorf("the page lacks the predictive top-20%% cell %q", want)
	}

	// AUC by comparing all pairs; metrics.AUC counts exactly the same, so the tolerance is rounding only.
	for _, c := range []struct {
		name      string
		got, want float64
	}{
		{"predictive AUC", rep.Headline.Predictive.AUC, pairAUC(hand, prob)},
		{"manual AUC", rep.Headline.Manual.AUC, pairAUC(hand, pts)},
	} {
		if math.Abs(c.got-c.want) > 1e-12 {
			t.Errorf("%s: got %.15f, want %.15f", c.name, c.got, c.want)
		}
		if want := fmt.Sprintf("%.3f", c.want); !strings.Contains(html, want) {
			t.Errorf("the page lacks the %s %s", c.name, want)
		}
	}

	// Conversion rate per manual stage, counted here.
	type count struct{ contacts, won int }
	stages := map[string]*count{}
	for _, c := range hand {
		if stages[c.stage] == nil {
			stages[c.stage] = &count{}
		}
		stages[c.stage].contacts++
		if c.won {
			stages[c.stage].won++
		}
	}
	for k, name := range []string{rules.StageSQL, rules.StageMQL, rules.StageLead} {
		want := stages[name]
		if want == nil {
			want = &count{}
		}
		got := rep.Stages[k]
		if got.Name != name || got.Contacts != want.contacts || got.Customers != want.won {
			t.Errorf("stage %d: got %s %d contacts, %d customers; want %s %d, %d", k, got.Name, got.Contacts, got.Customers, name, want.contacts, want.won)
			continue
		}
		rate := float64(want.won) / float64(want.contacts)
		if math.Abs(got.Rate-rate) > 1e-15 {
			t.Errorf("stage %s: rate %v, want %v", name, got.Rate, rate)
		}
		row := fmt.Sprintf("<tr><td>%s</td><td>%d</td><td>%.0f%%</td><td>%d</td><td>%.1f%%</td>",
			name, want.contacts, 100*float64(want.contacts)/float64(len(hand)), want.won, 100*rate)
		if !strings.Contains(html, row) {
			t.Errorf("the page lacks the stage row %q", row)
		}
	}

	// One agreement cell: VERY_HIGH by the model and SQL by the points.
	var cell count
	for _, c := range hand {
		if c.tier == models.PriorityVeryHigh && c.stage == rules.StageSQL {
			cell.contacts++
			if c.won {
				cell.won++
			}
		}
	}
	got := rep.Agreement.Cells[0][0]
	if rep.Agreement.Rows[0] != "VERY_HIGH" || rep.Agreement.Cols[0] != "SQL" || got.Contacts != cell.contacts || got.Customers != cell.won {
		t.Errorf("agreement %s x %s: %d contacts, %d customers; want VERY_HIGH x SQL %d, %d",
			rep.Agreement.Rows[0], rep.Agreement.Cols[0], got.Contacts, got.Customers, cell.contacts, cell.won)
	}
	if cell.contacts == 0 {
		t.Fatal("the fixture has no VERY_HIGH x SQL contact; the check above proves nothing")
	}
	want := fmt.Sprintf(`<span class="rate">%.1f%%</span><span class="count">%d of %d</span>`,
		100*float64(cell.won)/float64(cell.contacts), cell.won, cell.contacts)
	if !strings.Contains(html, want) {
		t.Errorf("the page lacks the agreement cell %q", want)
	}

	// Conversion rate per predictive tier, counted here, and the headline's top tier.
	tiers := map[models.Priority]*count{}
	for _, c := range hand {
		if tiers[c.tier] == nil {
			tiers[c.tier] = &count{}
		}
		tiers[c.tier].contacts++
		if c.won {
			tiers[c.tier].won++
		}
	}
	for k, p := range []models.Priority{models.PriorityVeryHigh, models.PriorityHigh, models.PriorityMedium, models.PriorityLow} {
		want := tiers[p]
		if want == nil {
			want = &count{}
		}
		got := rep.Tiers[k]
		if got.Name != p.String() || got.Contacts != want.contacts || got.Customers != want.won {
			t.Errorf("tier %d: got %s %d contacts, %d customers; want %s %d, %d", k, got.Name, got.Contacts, got.Customers, p, want.contacts, want.won)
		}
		if k == 0 && (rep.Headline.Predictive.TopTier.Contacts != want.contacts || rep.Headline.Predictive.TopTier.Customers != want.won) {
			t.Errorf("headline top tier %+v, want %d contacts, %d customers", rep.Headline.Predictive.TopTier, want.contacts, want.won)
		}
	}

	// Every cell of both fit x engagement heat maps, counted here.
	for _, hm := range []struct {
		name   string
		m      *compare.Matrix
		cellOf func(handScored) (string, int)
	}{
		{"predictive", rep.PredictiveFitEngagement, func(c handScored) (string, int) { return c.grade, c.level }},
		{"manual", rep.ManualFitEngagement, func(c handScored) (string, int) { return c.manGrade, c.manLevel }},
	} {
		if hm.m == nil {
			t.Errorf("no %s fit x engagement matrix", hm.name)
			continue
		}
		cells := map[string]*count{}
		for _, c := range hand {
			g, l := hm.cellOf(c)
			key := fmt.Sprintf("%s%d", g, l)
			if cells[key] == nil {
				cells[key] = &count{}
			}
			cells[key].contacts++
			if c.won {
				cells[key].won++
			}
		}
		total := 0
		for r, grade := range hm.m.Rows {
			for col, level := range hm.m.Cols {
				want := cells[grade+level]
				if want == nil {
					want = &count{}
				}
				got := hm.m.Cells[r][col]
				total += got.Contacts
				if got.Contacts != want.contacts || got.Customers != want.won {
					t.Errorf("%s %s%s: %d contacts, %d customers; want %d, %d", hm.name, grade, level, got.Contacts, got.Customers, want.contacts, want.won)
				}
			}
		}
		if total != len(hand) {
			t.Errorf("%s heat map holds %d contacts, want all %d", hm.name, total, len(hand))
		}
	}
}

func TestGainsAgreeWithDeciles(t *testing.T) {
	rep := mustFixture(t).report
	if len(rep.Gains) != 101 {
		t.Fatalf("%d gain points, want 101", len(rep.Gains))
	}
	// metrics.Deciles counts ties the same way, so each tenth of the curve must match it exactly.
	for _, side := range []struct {
		name    string
		deciles []models.Decile
		gain    func(compare.GainPoint) int
	}{
		{"predictive", rep.PredictiveDeciles, func(g compare.GainPoint) int { return g.PredictiveCustomers }},
		{"manual", rep.ManualDeciles, func(g compare.GainPoint) int { return g.ManualCustomers }},
	} {
		cum := 0
		for k, d := range side.deciles {
			cum += d.Positives
			if got := side.gain(rep.Gains[10*(k+1)]); got != cum {
				t.Errorf("%s: %d customers in the top %d%%, deciles say %d", side.name, got, 10*(k+1), cum)
			}
		}
		prev := 0
		for _, g := range rep.Gains {
			if v := side.gain(g); v < prev {
				t.Errorf("%s: gain falls from %d to %d at %d%%", side.name, prev, v, g.Percent)
			} else {
				prev = v
			}
		}
		if prev != rep.Customers {
			t.Errorf("%s: the whole list reaches %d customers, want %d", side.name, prev, rep.Customers)
		}
	}
}

func TestCalibrationMatchesMetrics(t *testing.T) {
	fx := mustFixture(t)
	hand, _, _ := scoreByHand(t, fx, fx.rules)
	p, y := make([]float64, len(hand)), make([]bool, len(hand))
	for k, c := range hand {
		p[k], y[k] = c.prob, c.won
	}
	want, wantECE := metrics.Calibration(p, y)
	if !slices.Equal(fx.report.Calibration, want) || fx.report.ECE != wantECE {
		t.Errorf("calibration %+v (ECE %v), want %+v (ECE %v)", fx.report.Calibration, fx.report.ECE, want, wantECE)
	}
}

// exclusionRules excludes contacts from referrals and scores only bottom-of-funnel forms; it sets no
// groups, so there are no manual grades or levels.
const exclusionRules = `
name: referrals excluded
exclude:
  - name: Referred contacts
    when:
      source: {in: [Referrals]}
rules:
  - name: Asked for a demo
    points: 70
    when:
      forms_bofu: {at_least: 1}
`

func TestExcludedContactsReportedSeparately(t *testing.T) {
	fx := mustFixture(t)
	r, err := rules.Parse([]byte(exclusionRules))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := compare.Build(fx.model, r, fx.frame, fx.labels, fx.rows, fx.model.Spec.ReferenceTime)
	if err != nil {
		t.Fatal(err)
	}
	hand, excluded, excludedWon := scoreByHand(t, fx, r)
	if excluded == 0 {
		t.Fatal("no holdout contact came from a referral; the test proves nothing")
	}
	if rep.Excluded.Contacts != excluded || rep.Excluded.Customers != excludedWon {
		t.Errorf("excluded %d contacts, %d customers; want %d, %d", rep.Excluded.Contacts, rep.Excluded.Customers, excluded, excludedWon)
	}
	if len(rep.Excluded.ByRule) != 1 || rep.Excluded.ByRule[0].Name != "Referred contacts" || rep.Excluded.ByRule[0].Contacts != excluded {
		t.Errorf("excluded by rule %+v, want one row for Referred contacts with %d", rep.Excluded.ByRule, excluded)
	}
	if rep.Contacts != len(hand) {
		t.Errorf("compared %d contacts, want %d (the excluded ones left out of both scores)", rep.Contacts, len(hand))
	}
	tiers := 0
	for _, g := range rep.Tiers {
		tiers += g.Contacts
	}
	if tiers != len(hand) {
		t.Errorf("the predictive tiers hold %d contacts, want the %d compared", tiers, len(hand))
	}
	if rep.ManualFitEngagement != nil {
		t.Errorf("manual fit x engagement drawn for rules without grades: %+v", rep.ManualFitEngagement)
	}
	html := renderHTML(t, rep)
	for _, want := range []string{
		fmt.Sprintf("<tr><td>Referred contacts</td><td>%d</td><td>%d</td>", excluded, excludedWon),
		fmt.Sprintf("%d more closed contacts matched an exclusion", excluded),
		"The rules file sets no fit grades or engagement levels.",
	} {
		if !strings.Contains(html, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
}

func TestBuildErrors(t *testing.T) {
	fx := mustFixture(t)
	at := fx.model.Spec.ReferenceTime
	var open, won []int
	for i, l := range fx.labels {
		switch l {
		case features.Open:
			open = append(open, i)
		case features.Won:
			won = append(won, i)
		}
	}
	// A frame whose employees column holds words: the model cannot encode it.
	broken := &features.Frame{Columns: slices.Clone(fx.frame.Columns)}
	for k, c := range broken.Columns {
		if c.Name == "employees" {
			words := &features.Column{Name: c.Name, Kind: features.KindCategory, Str: make([]string, c.Len()), Valid: make([]bool, c.Len())}
			for i := range words.Str {
				words.Str[i], words.Valid[i] = "many", true
			}
			broken.Columns[k] = words
		}
	}
	for _, c := range []struct {
		name   string
		model  *models.Artifact
		frame  *features.Frame
		labels []features.Label
		rows   []int
		want   error
	}{
		{"no model", nil, fx.frame, fx.labels, fx.rows, compare.ErrInput},
		{"labels too short", fx.model, fx.frame, fx.labels[1:], fx.rows, compare.ErrInput},
		{"row outside the frame", fx.model, fx.frame, fx.labels, []int{0, fx.frame.Len()}, compare.ErrInput},
		{"only open contacts", fx.model, fx.frame, fx.labels, open, compare.ErrNoContacts},
		{"only customers", fx.model, fx.frame, fx.labels, won, compare.ErrOneClass},
		{"value the model cannot read", fx.model, broken, fx.labels, fx.rows, features.ErrWrongType},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := compare.Build(c.model, fx.rules, c.frame, c.labels, c.rows, at)
			if !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
		})
	}
	t.Run("row error names the contact", func(t *testing.T) {
		_, err := compare.Build(fx.model, fx.rules, broken, fx.labels, fx.rows, at)
		var re *compare.RowError
		if !errors.As(err, &re) {
			t.Fatalf("got %v, want a *compare.RowError", err)
		}
		if wantID := fx.frame.Column("contact_id").Str[re.Row]; re.ID != wantID || !fx.labels[re.Row].Closed() {
			t.Errorf("row %d contact %q, want a closed row with its id %q", re.Row, re.ID, wantID)
		}
	})
}

func TestDisagreementsAreExtremes(t *testing.T) {
	rep := mustFixture(t).report
	for _, set := range []compare.Disagreements{rep.SQLButLow, rep.VeryHighButLead} {
		if len(set.Shown) > compare.MaxDisagreements || len(set.Shown) > set.Contacts {
			t.Errorf("%s: %d shown of %d", set.Name, len(set.Shown), set.Contacts)
		}
		for k, d := range set.Shown {
			if k > 0 {
				prev := set.Shown[k-1].Probability
				if (set.Name == rep.SQLButLow.Name && d.Probability < prev) || (set.Name == rep.VeryHighButLead.Name && d.Probability > prev) {
					t.Errorf("%s: contact %d (%v) is out of order after %v", set.Name, k, d.Probability, prev)
				}
			}
			if len(d.Hits) == 0 && d.Points != 0 {
				t.Errorf("%s: contact %s has %v points but no rule hits", set.Name, d.ID, d.Points)
			}
		}
	}
	if rep.VeryHighButLead.Contacts == 0 {
		t.Fatal("the fixture has no VERY_HIGH but LEAD contact; the checks above prove nothing")
	}
	first := rep.VeryHighButLead.Shown[0]
	if first.Priority != "VERY_HIGH" || first.Stage != rules.StageLead || first.ID == "" || len(first.Reasons) == 0 {
		t.Errorf("first disagreement %+v, want a VERY_HIGH LEAD contact with its id and reasons", first)
	}
	for _, r := range first.Reasons {
		if r.Contribution <= 0 {
			t.Errorf("reason %q lowers the score, want only those that raise a VERY_HIGH contact's", r.Text)
		}
	}
}

func TestSummary(t *testing.T) {
	rep := mustFixture(t).report
	var b bytes.Buffer
	rep.Summary(&b)
	out := b.String()
	for _, want := range []string{
		fmt.Sprintf("Compared on %d closed contacts, %d of them customers", rep.Contacts, rep.Customers),
		fmt.Sprintf("AUC                    %.3f", rep.Headline.Predictive.AUC),
		rep.Headline.Sentence,
		fmt.Sprintf("Predictive VERY_HIGH, manual LEAD: %d contacts", rep.VeryHighButLead.Contacts),
	} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
}
