package rules

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/leadscore/leadscore/features"
	"github.com/leadscore/leadscore/internal/memo"
)

// The stages Score assigns from the total.
const (
	StageLead = "LEAD"
	StageMQL  = "MQL" // marketing qualified lead
	StageSQL  = "SQL" // sales qualified lead
)

// The default stage thresholds, used when the file has no stages section.
const (
	DefaultMQL = 35
	DefaultSQL = 65
)

// Rules is a parsed rules file. Only Parse makes a valid one (its stages, limits and group indexes are
// set there); the fields are exported for reading. It is never mutated after Parse and is safe for
// concurrent use.
type Rules struct {
	Name       string  // the file's optional name
	Stages     Stages  // total points needed for each stage
	TotalLimit float64 // the most points a contact can have in total; +Inf when the file sets none
	Groups     []Group // in file order
	Rules      []Rule  // in file order
	Exclusions []Rule  // in file order; they have criteria but no points

	fit, engagement int   // 1 + the index into Groups of the group with grades, levels; 0 when none
	groupIndex      []int // for each rule, the index into Groups of its group; -1 when none
	// props is Properties(); each criterion and range rule reads its property at its slot in it.
	props []string
	// groupMaps holds the Result.Groups maps made so far, by the groups' points (see groupsOf); nil
	// for rules with more than maxKeptGroups groups. Set by Parse.
	groupMaps *memo.Map[groupPoints, map[string]float64]
}

// None returns rules that score every contact 0 and exclude none: a manual side that ranks contacts in
// no order, to judge a predictive score against when there are no manual rules.
func None() *Rules {
	return &Rules{Name: "no manual rules (every contact scores 0)", Stages: Stages{MQL: 1, SQL: 2}, TotalLimit: math.Inf(1)}
}

// Stages holds the total points at which a contact becomes a marketing qualified lead (MQL) and a sales
// qualified lead (SQL); below MQL it is a LEAD. MQL < SQL.
type Stages struct {
	MQL, SQL float64
}

// Group is a named set of rules (for example fit and engagement) whose points can be limited.
type Group struct {
	Name  string
	Limit float64 // the most points the group can give; +Inf when the file sets none
	// Grades holds the group's points needed for grade C, B and A, ascending; below the first the grade
	// is D. Nil when the group sets no grades (the file's fit group sets them).
	Grades *[3]float64
	// Levels holds the group's points needed for engagement level 3, 2 and 1, ascending; below the first
	// the level is 4, the least engaged. Nil when the group sets no levels.
	Levels *[3]float64
	Line   int
}

// Rule gives points when all its criteria match. A range rule (Ranges not empty) gives the points of the
// single range its Property falls in, and nothing when it falls in none; ranges never add up.
type Rule struct {
	Name     string
	Group    string  // empty: the points count only toward the total
	Points   float64 // negative takes points away; unused by range rules
	Property string  // the numeric property a range rule reads
	Ranges   []Range
	Criteria []Criterion // combined with AND
	Line     int
	slot     int      // index of Property in the rules' Properties(), for a range rule; set by Parse
	bands    []string // for each range, ", in " and its description: Score's wording, set once by Parse
	// details holds the details Score worded for the rule, by the one value that decides it; nil for
	// rules whose detail depends on more (see cacheDetails). Set by Parse.
	details *memo.Map[detailKey, string]
	// outcomes holds the rule's results by the one value that decides them, for rules whose result
	// does not depend on the scoring time either; nil for others (see cacheOutcomes). Set by Parse.
	outcomes *memo.Split[features.Key, outcome]
}

// Range is one band of a range rule. Lo and Hi are -Inf and +Inf when open.
type Range struct {
	Lo, Hi         float64
	LoIncl, HiIncl bool // whether Lo and Hi themselves belong to the range
	Points         float64
	Line           int
}

// Decay scales a rule's points by the age of a timestamp, either continuously (HalfLifeDays > 0: the
// points halve every HalfLifeDays) or in one step (the points are multiplied by Factor once the
// timestamp is more than AfterDays old).
type Decay struct {
	HalfLifeDays float64
	AfterDays    float64
	Factor       float64
}

// factor returns the multiplier for a timestamp ageDays old (negative ages count as 0).
func (d Decay) factor(ageDays float64) float64 {
	ageDays = max(ageDays, 0)
	if d.HalfLifeDays > 0 {
		return math.Exp2(-ageDays / d.HalfLifeDays)
	}
	if ageDays > d.AfterDays {
		return d.Factor
	}
	return 1
}

func (d Decay) String() string {
	if d.HalfLifeDays > 0 {
		return "is known (points halve every " + num(d.HalfLifeDays) + " days of its age)"
	}
	return "is known (points x" + num(d.Factor) + " once over " + num(d.AfterDays) + " days old)"
}

// Criterion is a condition on one property: every operator in it must hold.
type Criterion struct {
	Property string
	Line     int
	slot     int // index of Property in the rules' Properties(); set by Parse
	ops      []op
	desc     string // String, computed once by Parse
	wanted   string // ", wanted " and desc: Score's wording of a miss, set once by Parse
}

// String describes the criterion for people, for example "visits at least 2 and at most 5".
func (c Criterion) String() string {
	if c.desc != "" {
		return c.desc
	}
	return c.describe()
}

func (c Criterion) describe() string {
	parts := make([]string, len(c.ops))
	for i, o := range c.ops {
		parts[i] = o.String()
	}
	return c.Property + " " + strings.Join(parts, " and ")
}

// Decay returns the decay the criterion applies to its rule's points, if any.
func (c Criterion) Decay() (Decay, bool) {
	for _, o := range c.ops {
		if o.kind == opDecay {
			return o.decay, true
		}
	}
	return Decay{}, false
}

// String describes the rule's criteria, for example "forms_bofu at least 1 and unsubscribed is false".
func (r Rule) String() string {
	parts := make([]string, 0, len(r.Criteria)+1)
	for _, c := range r.Criteria {
		parts = append(parts, c.String())
	}
	if len(r.Ranges) > 0 {
		rs := make([]string, len(r.Ranges))
		for i, rg := range r.Ranges {
			rs[i] = rg.String() + ": " + signed(rg.Points)
		}
		parts = append(parts, r.Property+" ranges "+strings.Join(rs, ", "))
	}
	return strings.Join(parts, " and ")
}

// String describes the range, for example "2 to 5", "6 or more" or "at least 2 and below 6".
func (rg Range) String() string {
	return bounds{lo: rg.Lo, hi: rg.Hi, loIncl: rg.LoIncl, hiIncl: rg.HiIncl}.String()
}

// KeepsDetails reports whether the i-th hit of a Score (exclusions first, then rules: the order of
// Result.Hits) has a detail that depends on one value alone, kept once worded: for a value seen
// before (up to the first 256), its Detail is then the very string the earlier call had. False for
// rules that read the scoring time or several values, whose details are worded at every call.
func (r *Rules) KeepsDetails(i int) bool {
	if i < len(r.Exclusions) {
		return r.Exclusions[i].details != nil
	}
	return r.Rules[i-len(r.Exclusions)].details != nil
}

// Properties returns the contact properties the rules and exclusions read, sorted and without repeats:
// the order of the values ScoreValues and SummaryValues take.
func (r *Rules) Properties() []string {
	if r.props != nil {
		return slices.Clone(r.props)
	}
	return r.properties()
}

func (r *Rules) properties() []string {
	var names []string
	for _, list := range [][]Rule{r.Exclusions, r.Rules} {
		for _, rule := range list {
			if rule.Property != "" {
				names = append(names, rule.Property)
			}
			for _, c := range rule.Criteria {
				names = append(names, c.Property)
			}
		}
	}
	slices.Sort(names)
	return slices.Compact(names)
}

// bind sets props and the slot of every criterion and range rule.
func (r *Rules) bind() {
	r.props = r.properties()
	if r.props == nil {
		r.props = []string{}
	}
	for _, list := range [][]Rule{r.Exclusions, r.Rules} {
		for i := range list {
			rule := &list[i]
			if rule.Property != "" {
				rule.slot, _ = slices.BinarySearch(r.props, rule.Property)
			}
			for j := range rule.Criteria {
				rule.Criteria[j].slot, _ = slices.BinarySearch(r.props, rule.Criteria[j].Property)
			}
		}
	}
}

// CheckColumns checks the rules against the columns a model or a data file has, by name and kind. A
// column whose kind is features.KindNone is checked by name only. It returns one *Error per problem,
// joined: an unknown property (ErrUnknownProperty), or a criterion that cannot match the column's kind
// (ErrKind), such as a numeric range on a category or within_days on a number.
func (r *Rules) CheckColumns(columns map[string]features.Kind) error {
	var errs []error
	seen := map[string]bool{}
	for _, list := range [][]Rule{r.Exclusions, r.Rules} {
		for _, rule := range list {
			if rule.Property != "" {
				kind, ok := columns[rule.Property]
				switch {
				case !ok:
					if !seen[rule.Property] {
						seen[rule.Property] = true
						errs = append(errs, &Error{Line: rule.Line, Rule: rule.Name, Property: rule.Property, Err: ErrUnknownProperty})
					}
				case kind != features.KindNone && kind != features.KindNumber:
					errs = append(errs, &Error{Line: rule.Line, Rule: rule.Name, Property: rule.Property,
						Err: fmt.Errorf("%w: ranges need a number, the column is a %s", ErrKind, kind)})
				}
			}
			for _, c := range rule.Criteria {
				kind, ok := columns[c.Property]
				if !ok {
					if !seen[c.Property] {
						seen[c.Property] = true
						errs = append(errs, &Error{Line: c.Line, Rule: rule.Name, Property: c.Property, Err: ErrUnknownProperty})
					}
					continue
				}
				if kind == features.KindNone {
					continue
				}
				for _, o := range c.ops {
					if want, ok := o.needs(kind); !ok {
						errs = append(errs, &Error{Line: c.Line, Rule: rule.Name, Property: c.Property,
							Err: fmt.Errorf("%w: %s needs %s, the column is a %s", ErrKind, o.name(), want, kind)})
					}
				}
			}
		}
	}
	return errors.Join(errs...)
}

// CheckSchema checks the rules against a model's schema: every property they read must be one of the
// spec's columns (used by the model or not), with a kind the criteria can match. See CheckColumns.
func (r *Rules) CheckSchema(spec *features.Spec) error {
	columns := make(map[string]features.Kind, len(spec.Columns))
	for _, c := range spec.Columns {
		columns[c.Name] = c.Kind
	}
	return r.CheckColumns(columns)
}

// num formats a number for people: integers without a decimal point, others rounded to 2 decimals.
func num(f float64) string {
	return string(appendNum(make([]byte, 0, 24), f))
}

// appendNum appends num(f) to b.
func appendNum(b []byte, f float64) []byte {
	switch {
	case math.IsInf(f, 1):
		return append(b, "no limit"...)
	case f == math.Trunc(f) && math.Abs(f) < 1e15:
		if f == 0 && math.Signbit(f) {
			return append(b, "-0"...) // as AppendFloat writes it
		}
		// The digits AppendFloat(f, 'f', 0) writes for a whole number, at a tenth of the cost.
		return strconv.AppendInt(b, int64(f), 10)
	}
	if x := math.Round(f * 100); x != 0 && math.Abs(x) < 1e9 {
		// The hundredths x/100 as a decimal, its fraction's trailing zeros dropped: what AppendFloat
		// writes below (the shortest decimal that reads back as the float x/100, and below 1e7,
		// where floats are far closer together than 0.01, no other decimal that short does), at a
		// fifth of the cost. Zero goes below, for its sign.
		n := int64(x)
		if n < 0 {
			b, n = append(b, '-'), -n
		}
		b = strconv.AppendInt(b, n/100, 10)
		if frac := n % 100; frac != 0 {
			b = append(b, '.', byte('0'+frac/10))
			if frac%10 != 0 {
				b = append(b, byte('0'+frac%10))
			}
		}
		return b
	}
	return strconv.AppendFloat(b, math.Round(f*100)/100, 'f', -1, 64)
}

// signed formats points with their sign: "+5", "-20", "0".
func signed(f float64) string {
	if f > 0 {
		return "+" + num(f)
	}
	return num(f)
}
