package compare

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/leadscore/leadscore/features"
	"github.com/leadscore/leadscore/models"
	"github.com/leadscore/leadscore/models/rules"
	"github.com/leadscore/leadscore/train/metrics"
)

// Errors of Build. A contact that cannot be scored is a *RowError.
var (
	ErrNoContacts = errors.New("compare: no closed contacts to compare")
	ErrOneClass   = errors.New("compare: the compared contacts need both customers and non-customers")
	ErrInput      = errors.New("compare: invalid input")
)

// RowError is a contact the predictive model could not score.
type RowError struct {
	Row int    // index of the contact in the frame
	ID  string // the contact's identifier, empty when the frame has no identifier column
	Err error
}

func (e *RowError) Error() string {
	if e.ID != "" {
		return fmt.Sprintf("compare: row %d (contact %s): %v", e.Row, e.ID, e.Err)
	}
	return fmt.Sprintf("compare: row %d: %v", e.Row, e.Err)
}

func (e *RowError) Unwrap() error { return e.Err }

// heatMinContacts is the fewest contacts a heat-map cell needs to set the hottest colour.
const heatMinContacts = 10

// scored is one contact's outcome and both scores.
type scored struct {
	row      int
	won      bool
	prob     float64
	tier     models.Priority
	grade    string
	level    int
	excluded string // the exclusion that matched, empty when scored
	points   float64
	stage    string
	manGrade string
	manLevel int
}

// Build scores each closed contact among rows of f with the model (a.Predict) and the rules
// (r.Summary, Score without the per-rule detail, whose numbers are identical) at asOf and compares
// them. rows index f; nil means every row. Open rows are skipped and counted. The zero asOf means
// models.AsOf's default, the clock, as everywhere. labels has one entry per row of f.
//
// Build returns ErrInput for mismatched inputs, ErrNoContacts when no closed contact is left to
// compare, ErrOneClass when they are all customers or none is, and a *RowError for a contact the
// model cannot encode.
func Build(a *models.Artifact, r *rules.Rules, f *features.Frame, labels []features.Label, rows []int, asOf time.Time) (*Report, error) {
	switch {
	case a == nil || r == nil || f == nil:
		return nil, fmt.Errorf("%w: nil model, rules or frame", ErrInput)
	case len(labels) != f.Len():
		return nil, fmt.Errorf("%w: %d labels for %d rows", ErrInput, len(labels), f.Len())
	case a.Spec == nil:
		return nil, fmt.Errorf("%w: the model has no spec", ErrInput)
	}
	asOf = models.AsOf(asOf)
	if rows == nil {
		rows = make([]int, f.Len())
		for i := range rows {
			rows[i] = i
		}
	}
	rep := &Report{Model: a.Name, Version: a.Version, Rules: r.Name, AsOf: asOf, Given: len(rows), IDColumn: a.Spec.IDColumn(f)}

	var all []scored
	for _, i := range rows {
		if i < 0 || i >= f.Len() {
			return nil, fmt.Errorf("%w: row %d is outside the frame's %d rows", ErrInput, i, f.Len())
		}
		if !labels[i].Closed() {
			rep.Open++
			continue
		}
		c := f.Contact(i, rep.IDColumn)
		pred, err := a.Predict(c, asOf)
		if err != nil {
			return nil, &RowError{Row: i, ID: c.ID, Err: err}
		}
		res := r.Summary(c, asOf)
		all = append(all, scored{
			row: i, won: labels[i] == features.Won, prob: pred.Probability, tier: pred.Priority,
			grade: pred.FitGrade, level: pred.EngagementLevel, excluded: res.ExcludedBy, points: res.Total,
			stage: res.Stage, manGrade: res.FitGrade, manLevel: res.EngagementLevel,
		})
	}

	var comp []scored
	rep.Excluded.Name = "excluded by a manual rule"
	byRule := map[string]*Group{}
	for _, s := range all {
		if s.excluded == "" {
			comp = append(comp, s)
			rep.compared = append(rep.compared, s.row)
			continue
		}
		g := byRule[s.excluded]
		if g == nil {
			g = &Group{Name: s.excluded}
			byRule[s.excluded] = g
		}
		count(g, s.won)
		count(&rep.Excluded.Group, s.won)
	}
	for _, x := range r.Exclusions {
		if g := byRule[x.Name]; g != nil {
			rep.Excluded.ByRule = append(rep.Excluded.ByRule, *g)
		}
	}
	if len(comp) == 0 {
		if len(all) > 0 {
			return nil, fmt.Errorf("%w: all %d closed contacts are excluded by the rules", ErrNoContacts, len(all))
		}
		return nil, ErrNoContacts
	}
	probs := make([]float64, len(comp))
	manual := make([]float64, len(comp))
	y := make([]bool, len(comp))
	for k, s := range comp {
		probs[k], manual[k], y[k] = s.prob, s.points, s.won
		if s.won {
			rep.Customers++
		}
	}
	rep.Contacts = len(comp)
	if rep.Customers == 0 || rep.Customers == rep.Contacts {
		return nil, fmt.Errorf("%w: %d of %d are customers", ErrOneClass, rep.Customers, rep.Contacts)
	}
	rep.Rate = float64(rep.Customers) / float64(rep.Contacts)
	finish(&rep.Excluded.Group, len(all))
	for k := range rep.Excluded.ByRule {
		finish(&rep.Excluded.ByRule[k], len(all))
	}

	predGain, manGain := gainCounts(probs, y), gainCounts(manual, y)
	rep.Gains = make([]GainPoint, 101)
	for p := range rep.Gains {
		g := GainPoint{Percent: p, Contacts: p * rep.Contacts / 100, PredictiveCustomers: predGain[p], ManualCustomers: manGain[p]}
		g.PredictiveGain = float64(g.PredictiveCustomers) / float64(rep.Customers)
		g.ManualGain = float64(g.ManualCustomers) / float64(rep.Customers)
		if g.Contacts > 0 {
			called := float64(g.Contacts) / float64(rep.Contacts)
			g.PredictiveLift, g.ManualLift = g.PredictiveGain/called, g.ManualGain/called
		}
		rep.Gains[p] = g
	}
	rep.PredictiveDeciles, rep.ManualDeciles = metrics.Deciles(probs, y), metrics.Deciles(manual, y)
	rep.Calibration, rep.ECE = metrics.Calibration(probs, y)

	tierNames := []string{models.PriorityVeryHigh.String(), models.PriorityHigh.String(), models.PriorityMedium.String(), models.PriorityLow.String()}
	stageNames := []string{rules.StageSQL, rules.StageMQL, rules.StageLead}
	rep.Tiers = groups(tierNames, comp, func(s scored) string { return s.tier.String() })
	rep.Stages = groups(stageNames, comp, func(s scored) string { return s.stage })
	agree := matrix("Predictive priority x manual stage", "predictive priority", "manual stage", tierNames, stageNames, comp,
		func(s scored) (string, string) { return s.tier.String(), s.stage })
	rep.Agreement = &agree
	grades, levels := []string{"A", "B", "C", "D"}, []string{"1", "2", "3", "4"}
	pfe := matrix("Predictive fit x engagement", "fit grade (A best)", "engagement level (1 most engaged)", grades, levels, comp,
		func(s scored) (string, string) { return s.grade, fmt.Sprint(s.level) })
	rep.PredictiveFitEngagement = &pfe
	if comp[0].manGrade != "" && comp[0].manLevel != 0 {
		mfe := matrix("Manual fit x engagement", "fit grade (A best)", "engagement level (1 most engaged)", grades, levels, comp,
			func(s scored) (string, string) { return s.manGrade, fmt.Sprint(s.manLevel) })
		rep.ManualFitEngagement = &mfe
	}
	rep.HeatMax = heatMax(rep.Rate, rep.Agreement, rep.PredictiveFitEngagement, rep.ManualFitEngagement)

	rep.Headline = headline(rep, predGain, manGain, metrics.AUC(probs, y), metrics.AUC(manual, y))

	var err error
	rep.SQLButLow, err = disagreements(a, r, f, rep, comp, asOf,
		"Manual SQL, predictive LOW",
		func(s scored) bool { return s.stage == rules.StageSQL && s.tier == models.PriorityLow },
		func(x, y scored) int {
			return cmp.Or(cmp.Compare(x.prob, y.prob), cmp.Compare(y.points, x.points), cmp.Compare(x.row, y.row))
		},
		false)
	if err != nil {
		return nil, err
	}
	rep.VeryHighButLead, err = disagreements(a, r, f, rep, comp, asOf,
		"Predictive VERY_HIGH, manual LEAD",
		func(s scored) bool { return s.tier == models.PriorityVeryHigh && s.stage == rules.StageLead },
		func(x, y scored) int {
			return cmp.Or(cmp.Compare(y.prob, x.prob), cmp.Compare(x.points, y.points), cmp.Compare(x.row, y.row))
		},
		true)
	if err != nil {
		return nil, err
	}

	if a.Rates != nil {
		rep.RatesOverall = *a.Rates
		rep.RatesOverall.Tables = nil
		auc := map[string]float64{}
		for _, e := range a.Audit {
			auc[e.Column] = e.AUC
		}
		for _, t := range a.Rates.Tables {
			rep.RateTables = append(rep.RateTables, RateTable{RateTable: t, AUC: auc[t.Property]})
		}
	}
	return rep, nil
}

func count(g *Group, won bool) {
	g.Contacts++
	if won {
		g.Customers++
	}
}

// finish fills a group's share of total and its rate with interval.
func finish(g *Group, total int) {
	if g.Contacts == 0 {
		return
	}
	if total > 0 {
		g.Share = float64(g.Contacts) / float64(total)
	}
	g.Rate = float64(g.Customers) / float64(g.Contacts)
	g.Lower, g.Upper = features.Wilson(g.Customers, g.Contacts, z95)
}

func groups(names []string, comp []scored, key func(scored) string) []Group {
	out := make([]Group, len(names))
	for k, n := range names {
		out[k].Name = n
	}
	for _, s := range comp {
		if k := slices.Index(names, key(s)); k >= 0 {
			count(&out[k], s.won)
		}
	}
	for k := range out {
		finish(&out[k], len(comp))
	}
	return out
}

func matrix(title, rowTitle, colTitle string, rowNames, colNames []string, comp []scored, key func(scored) (string, string)) Matrix {
	m := Matrix{Title: title, RowTitle: rowTitle, ColTitle: colTitle, Rows: rowNames, Cols: colNames,
		Cells: make([][]Cell, len(rowNames)), RowTotals: make([]Cell, len(rowNames)), ColTotals: make([]Cell, len(colNames))}
	for i := range m.Cells {
		m.Cells[i] = make([]Cell, len(colNames))
	}
	add := func(c *Cell, won bool) {
		c.Contacts++
		if won {
			c.Customers++
		}
	}
	for _, s := range comp {
		rk, ck := key(s)
		i, j := slices.Index(rowNames, rk), slices.Index(colNames, ck)
		if i < 0 || j < 0 {
			continue
		}
		add(&m.Cells[i][j], s.won)
		add(&m.RowTotals[i], s.won)
		add(&m.ColTotals[j], s.won)
	}
	rate := func(c *Cell) {
		if c.Contacts > 0 {
			c.Rate = float64(c.Customers) / float64(c.Contacts)
		}
	}
	for i := range m.Cells {
		for j := range m.Cells[i] {
			rate(&m.Cells[i][j])
		}
		rate(&m.RowTotals[i])
	}
	for j := range m.ColTotals {
		rate(&m.ColTotals[j])
	}
	return m
}

// heatMax is the highest rate among the cells with at least heatMinContacts contacts, and never
// below overall (so that a map colours above-average cells hot).
func heatMax(overall float64, ms ...*Matrix) float64 {
	top := overall
	for _, m := range ms {
		if m == nil {
			continue
		}
		for _, row := range m.Cells {
			for _, c := range row {
				if c.Contacts >= heatMinContacts && c.Rate > top {
					top = c.Rate
				}
			}
		}
	}
	return top
}

// gainCounts returns, for p = 0..100, the customers among the best-ranked p*n/100 contacts by score,
// highest first. Contacts tied on the score at the cut count with their customers in proportion to
// how many of them fall above it, rounded half up, exactly as metrics.Deciles counts.
func gainCounts(scores []float64, y []bool) []int {
	n := len(scores)
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return cmp.Compare(scores[b], scores[a]) })
	type tie struct{ size, pos int }
	var ties []tie
	for k := 0; k < n; {
		t := tie{}
		j := k
		for ; j < n && scores[order[j]] == scores[order[k]]; j++ {
			t.size++
			if y[order[j]] {
				t.pos++
			}
		}
		ties = append(ties, t)
		k = j
	}
	out := make([]int, 101)
	ti, start, before := 0, 0, 0
	for p := range out {
		cut := p * n / 100
		for ti < len(ties) && start+ties[ti].size <= cut {
			start += ties[ti].size
			before += ties[ti].pos
			ti++
		}
		got := before
		if ti < len(ties) && cut > start {
			t := ties[ti]
			got += (2*t.pos*(cut-start) + t.size) / (2 * t.size)
		}
		out[p] = got
	}
	return out
}

func headline(rep *Report, predGain, manGain []int, predAUC, manAUC float64) Headline {
	side := func(name string, gain []int, auc float64, top Group) Side {
		s := Side{Name: name, AUC: auc, Top10Customers: gain[10], Top20Customers: gain[20], TopTier: top}
		s.Top10 = float64(gain[10]) / float64(rep.Customers)
		s.Top20 = float64(gain[20]) / float64(rep.Customers)
		return s
	}
	h := Headline{
		Predictive: side("predictive", predGain, predAUC, rep.Tiers[0]),
		Manual:     side("manual", manGain, manAUC, rep.Stages[0]),
	}
	h.Sentence = fmt.Sprintf("Calling the top 20%% by the predictive score reaches %s of customers; by the manual score, %s.",
		wholePercent(h.Predictive.Top20), wholePercent(h.Manual.Top20))
	tier := func(g Group, what string) string {
		if g.Contacts == 0 {
			return "no contact is " + what
		}
		return fmt.Sprintf("%s of %s contacts became customers", wholePercent(g.Rate), what)
	}
	h.TierSentence = fmt.Sprintf("%s; %s (%s overall).",
		upperFirst(tier(h.Predictive.TopTier, h.Predictive.TopTier.Name+" (predictive)")),
		tier(h.Manual.TopTier, h.Manual.TopTier.Name+" (manual)"), wholePercent(rep.Rate))
	return h
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// disagreements counts the compared contacts that match and explains the first MaxDisagreements of
// them in order, scoring them again with Predict and Score for their reasons and rule hits.
func disagreements(a *models.Artifact, r *rules.Rules, f *features.Frame, rep *Report, comp []scored, asOf time.Time,
	title string, match func(scored) bool, order func(x, y scored) int, positive bool) (Disagreements, error) {
	d := Disagreements{Group: Group{Name: title}}
	var picked []scored
	for _, s := range comp {
		if match(s) {
			count(&d.Group, s.won)
			picked = append(picked, s)
		}
	}
	finish(&d.Group, len(comp))
	slices.SortFunc(picked, order)
	for _, s := range picked[:min(len(picked), MaxDisagreements)] {
		c := f.Contact(s.row, rep.IDColumn)
		pred, err := a.Predict(c, asOf)
		if err != nil {
			return d, &RowError{Row: s.row, ID: c.ID, Err: err}
		}
		res := r.Score(c, asOf)
		x := Disagreement{Row: s.row, ID: c.ID, Won: s.won, Probability: pred.Probability, Priority: pred.Priority.String(),
			Points: res.Total, Stage: res.Stage}
		for _, reason := range pred.Reasons {
			if (reason.Contribution > 0) == positive && len(x.Reasons) < shownReasons {
				x.Reasons = append(x.Reasons, reason)
			}
		}
		for _, h := range res.Hits {
			if h.Matched && h.Points != 0 && !h.Exclusion {
				x.Hits = append(x.Hits, h)
			}
		}
		slices.SortStableFunc(x.Hits, func(p, q rules.Hit) int { return cmp.Compare(math.Abs(q.Points), math.Abs(p.Points)) })
		x.Hits = x.Hits[:min(len(x.Hits), shownHits)]
		d.Shown = append(d.Shown, x)
	}
	return d, nil
}
