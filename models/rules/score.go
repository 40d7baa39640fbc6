package rules

import (
	"strings"
	"time"

	"github.com/leadscore/leadscore/features"
)

// Result is a contact's manual score, with every rule's outcome when it comes from Score.
type Result struct {
	At         time.Time `json:"at"`                    // the scoring time used
	Excluded   bool      `json:"excluded"`              // an exclusion matched: nothing else is set
	ExcludedBy string    `json:"excluded_by,omitempty"` // the exclusion that matched
	// Total is the sum of the groups' points (each after its limit) and of ungrouped rules' points,
	// then capped by the total limit. It can be negative.
	Total           float64            `json:"total"`
	Groups          map[string]float64 `json:"groups,omitempty"` // every declared group, after its limit
	Stage           string             `json:"stage,omitempty"`  // StageLead, StageMQL or StageSQL
	FitGrade        string             `json:"fit_grade,omitempty"`
	EngagementLevel int                `json:"engagement_level,omitempty"`
	Hits            []Hit              `json:"hits,omitempty"`
}

// Hit is the outcome of one rule or exclusion for one contact, as in HubSpot's test-contact panel.
type Hit struct {
	Rule      string  `json:"rule"`
	Group     string  `json:"group,omitempty"`
	Exclusion bool    `json:"exclusion,omitempty"`
	Matched   bool    `json:"matched"`
	Points    float64 `json:"points"` // what the rule gave, after decay; 0 when missed
	Detail    string  `json:"detail"` // the values that decided, for example "visits = 4, in 2 to 5"
}

// Score scores contact c at time at (the zero time means time.Now()), listing every exclusion and rule
// it evaluated in Hits. Exclusions are checked first, in file order; the first that matches leaves the
// contact unscored (Excluded, ExcludedBy and the hits so far set, nothing else). Otherwise each rule
// gives its points when all its criteria match (a range rule: the points of the one range its property
// falls in), scaled by any decay; each group's sum is cut to the group's limit (negative sums are not
// raised), and the total to the total limit. Stage, fit grade and engagement level follow from the
// total and the groups that set grades and levels; FitGrade is empty and EngagementLevel 0 when no group
// sets them.
func (r *Rules) Score(c features.Contact, at time.Time) Result {
	return r.score(c, at, true)
}

// Summary is Score without Hits: the same total, groups, stage, grade and level, faster, for scoring
// many contacts.
func (r *Rules) Summary(c features.Contact, at time.Time) Result {
	return r.score(c, at, false)
}

func (r *Rules) score(c features.Contact, at time.Time, explain bool) Result {
	if at.IsZero() {
		at = time.Now()
	}
	res := Result{At: at}
	if explain {
		res.Hits = make([]Hit, 0, len(r.Exclusions)+len(r.Rules))
	}
	for i := range r.Exclusions {
		x := &r.Exclusions[i]
		ok, _, failed := matchAll(x.Criteria, c, at)
		if explain {
			res.Hits = append(res.Hits, Hit{Rule: x.Name, Exclusion: true, Matched: ok, Detail: detail(x, c, at, ok, failed, nil, 1)})
		}
		if ok {
			res.Excluded, res.ExcludedBy = true, x.Name
			return res
		}
	}
	var sums [8]float64
	groupSums := sums[:0]
	if len(r.Groups) <= len(sums) {
		groupSums = sums[:len(r.Groups)]
	} else {
		groupSums = make([]float64, len(r.Groups))
	}
	var loose float64
	for i := range r.Rules {
		rule := &r.Rules[i]
		ok, factor, failed := matchAll(rule.Criteria, c, at)
		points := rule.Points
		var band *Range
		if ok && len(rule.Ranges) > 0 {
			band = rule.band(c)
			if band == nil {
				ok = false
			} else {
				points = band.Points
			}
		}
		if ok {
			points *= factor
		} else {
			points = 0
		}
		if g := r.groupIndex[i]; g >= 0 {
			groupSums[g] += points
		} else {
			loose += points
		}
		if explain {
			res.Hits = append(res.Hits, Hit{Rule: rule.Name, Group: rule.Group, Matched: ok, Points: points,
				Detail: detail(rule, c, at, ok, failed, band, factor)})
		}
	}
	res.Groups = make(map[string]float64, len(r.Groups))
	total := loose
	for i, g := range r.Groups {
		s := min(groupSums[i], g.Limit)
		groupSums[i] = s
		res.Groups[g.Name] = s
		total += s
	}
	res.Total = min(total, r.TotalLimit)
	switch {
	case res.Total >= r.Stages.SQL:
		res.Stage = StageSQL
	case res.Total >= r.Stages.MQL:
		res.Stage = StageMQL
	default:
		res.Stage = StageLead
	}
	if r.fit > 0 {
		res.FitGrade = grade(groupSums[r.fit-1], r.Groups[r.fit-1].Grades)
	}
	if r.engagement > 0 {
		res.EngagementLevel = level(groupSums[r.engagement-1], r.Groups[r.engagement-1].Levels)
	}
	return res
}

// matchAll reports whether every criterion matches c, the product of their decay factors, and the
// index of the first criterion that failed (-1 when none did).
func matchAll(criteria []Criterion, c features.Contact, at time.Time) (bool, float64, int) {
	factor := 1.0
	for i := range criteria {
		cr := &criteria[i]
		v := c.Props[cr.Property]
		for j := range cr.ops {
			ok, f := cr.ops[j].eval(v, at)
			if !ok {
				return false, 1, i
			}
			factor *= f
		}
	}
	return true, factor, -1
}

// band returns the range the rule's property falls in, or nil.
func (rule *Rule) band(c features.Contact) *Range {
	x, ok := number(c.Props[rule.Property])
	if !ok {
		return nil
	}
	for i := range rule.Ranges {
		rg := &rule.Ranges[i]
		if (bounds{rg.Lo, rg.Hi, rg.LoIncl, rg.HiIncl}).contains(x) {
			return rg
		}
	}
	return nil
}

func grade(points float64, cuts *[3]float64) string {
	switch {
	case points >= cuts[2]:
		return "A"
	case points >= cuts[1]:
		return "B"
	case points >= cuts[0]:
		return "C"
	}
	return "D"
}

func level(points float64, cuts *[3]float64) int {
	switch {
	case points >= cuts[2]:
		return 1
	case points >= cuts[1]:
		return 2
	case points >= cuts[0]:
		return 3
	}
	return 4
}

// detail explains a rule's outcome: on a match the values that decided, on a miss the first condition
// that failed and what it wanted.
func detail(rule *Rule, c features.Contact, at time.Time, matched bool, failed int, band *Range, factor float64) string {
	if !matched && failed >= 0 {
		cr := &rule.Criteria[failed]
		return show(cr.Property, c.Props[cr.Property]) + ", wanted " + cr.String()
	}
	var b strings.Builder
	for i := range rule.Criteria {
		cr := &rule.Criteria[i]
		if i > 0 {
			b.WriteString("; ")
		}
		v := c.Props[cr.Property]
		b.WriteString(show(cr.Property, v))
		if d, ok := cr.Decay(); ok {
			if age, ok := ageDays(v, at); ok {
				b.WriteString(" (" + num(max(age, 0)) + " days old, x" + num(d.factor(age)) + ")")
			}
		}
	}
	if len(rule.Ranges) > 0 {
		if b.Len() > 0 {
			b.WriteString("; ")
		}
		b.WriteString(show(rule.Property, c.Props[rule.Property]))
		if band != nil {
			b.WriteString(", in " + band.String())
		} else {
			b.WriteString(", in no range")
		}
	}
	if matched && factor != 1 && len(rule.Criteria) > 1 {
		b.WriteString("; x" + num(factor) + " in all")
	}
	return b.String()
}

// show renders "property = value" or "property unknown".
func show(property string, v features.Value) string {
	if !known(v) {
		return property + " unknown"
	}
	switch v.Kind {
	case features.KindCategory:
		return property + " = \"" + v.Str + "\""
	case features.KindNumber:
		return property + " = " + num(v.Num)
	}
	return property + " = " + v.Text()
}
