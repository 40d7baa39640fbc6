package rules

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/leadscore/leadscore/features"
	"github.com/leadscore/leadscore/internal/memo"
)

// Result is a contact's manual score, with every rule's outcome when it comes from Score.
type Result struct {
	At         time.Time `json:"at"`                    // the scoring time used
	Excluded   bool      `json:"excluded"`              // an exclusion matched: nothing else is set
	ExcludedBy string    `json:"excluded_by,omitempty"` // the exclusion that matched
	// Total is the sum of the groups' points (each after its limit) and of ungrouped rules' points,
	// then capped by the total limit. It can be negative.
	Total float64 `json:"total"`
	// Groups has every declared group's points, after its limit. Results with the same points may
	// share the map: read it, never change it.
	Groups          map[string]float64 `json:"groups,omitempty"`
	Stage           string             `json:"stage,omitempty"` // StageLead, StageMQL or StageSQL
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
// sets them. The hits' details that were worded in this call are parts of one string, so keeping any
// of them keeps all; a detail already worded for the same value is shared with earlier calls.
func (r *Rules) Score(c features.Contact, at time.Time) Result {
	return r.scoreContact(c, at, true)
}

// ScoreInto is ScoreValues for a contact: Score with the hits appended to hits[:0].
func (r *Rules) ScoreInto(hits []Hit, c features.Contact, at time.Time) Result {
	vals := r.resolve(c)
	defer release(vals)
	return r.score(*vals, at, true, hits[:0])
}

// Summary is Score without Hits: the same total, groups, stage, grade and level, faster, for scoring
// many contacts.
func (r *Rules) Summary(c features.Contact, at time.Time) Result {
	return r.scoreContact(c, at, false)
}

// ScoreValues is Score for a contact resolved against the rules' properties: vals[i] is the value of
// Properties()[i] (the zero Value when the contact has none), as a server that resolves each contact
// once for the model and the rules holds it; len(vals) must be len(Properties()). The hits are
// appended to hits[:0], so that a caller done with them before its next call can reuse their memory.
func (r *Rules) ScoreValues(hits []Hit, vals []features.Value, at time.Time) Result {
	return r.score(vals, at, true, hits[:0])
}

// SummaryValues is Summary for a contact resolved as ScoreValues takes it.
func (r *Rules) SummaryValues(vals []features.Value, at time.Time) Result {
	return r.score(vals, at, false, nil)
}

func (r *Rules) scoreContact(c features.Contact, at time.Time, explain bool) Result {
	vals := r.resolve(c)
	defer release(vals)
	return r.score(*vals, at, explain, nil)
}

// valuesPool holds the values of contacts being scored by Score, ScoreInto and Summary.
var valuesPool = sync.Pool{New: func() any { return new([]features.Value) }}

// resolve reads c's values of the rules' properties into a pooled slice; the caller must release it.
func (r *Rules) resolve(c features.Contact) *[]features.Value {
	vals := valuesPool.Get().(*[]features.Value)
	*vals = slices.Grow((*vals)[:0], len(r.props))[:len(r.props)]
	for i, name := range r.props {
		(*vals)[i] = c.Props[name]
	}
	return vals
}

func release(vals *[]features.Value) {
	clear(*vals) // the pool must not keep the contact's strings alive
	valuesPool.Put(vals)
}

// score scores the contact whose values cvals holds (see ScoreValues); explain lists the hits,
// appended to hits (nil: a new slice).
func (r *Rules) score(cvals []features.Value, at time.Time, explain bool, hits []Hit) Result {
	if len(cvals) != len(r.props) {
		panic(fmt.Sprintf("rules: %d values for %d properties", len(cvals), len(r.props)))
	}
	if at.IsZero() {
		at = time.Now()
	}
	res := Result{At: at}
	var w *wording
	if explain {
		if hits == nil {
			hits = make([]Hit, 0, len(r.Exclusions)+len(r.Rules))
		}
		res.Hits = slices.Grow(hits, len(r.Exclusions)+len(r.Rules))
		w = wordingPool.Get().(*wording)
		defer w.release()
	}
	for i := range r.Exclusions {
		x := &r.Exclusions[i]
		o, key, keep, hit := x.outcomeOf(cvals)
		ok := o.matched
		if !hit {
			var vals []features.Value
			if explain {
				vals = w.values(len(x.Criteria))
			}
			var failed int
			ok, _, failed = matchAll(x.Criteria, cvals, at, vals)
			if explain {
				res.Hits = append(res.Hits, Hit{Rule: x.Name, Exclusion: true, Matched: ok})
				w.word(&res.Hits[len(res.Hits)-1], x, vals, features.Value{}, at, failed, -1, 1)
				w.keep(x, key, keep, outcome{matched: ok, band: -1}, &res.Hits[len(res.Hits)-1])
			}
		} else if explain {
			res.Hits = append(res.Hits, Hit{Rule: x.Name, Exclusion: true, Matched: ok, Detail: o.detail})
			w.ends = append(w.ends, -1)
		}
		if ok {
			res.Excluded, res.ExcludedBy = true, x.Name
			w.fill(res.Hits)
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
		o, key, keep, hit := rule.outcomeOf(cvals)
		if hit {
			points := 0.0
			switch {
			case o.matched && o.band >= 0:
				points = rule.Ranges[o.band].Points
			case o.matched:
				points = rule.Points
			}
			if g := r.groupIndex[i]; g >= 0 {
				groupSums[g] += points
			} else {
				loose += points
			}
			if explain {
				res.Hits = append(res.Hits, Hit{Rule: rule.Name, Group: rule.Group, Matched: o.matched, Points: points, Detail: o.detail})
				w.ends = append(w.ends, -1)
			}
			continue
		}
		var vals []features.Value
		if explain {
			vals = w.values(len(rule.Criteria))
		}
		ok, factor, failed := matchAll(rule.Criteria, cvals, at, vals)
		points := rule.Points
		band := -1
		var rv features.Value // the range rule's property, read when the criteria match
		if ok && len(rule.Ranges) > 0 {
			rv = cvals[rule.slot]
			band = rule.band(rv)
			if band < 0 {
				ok = false
			} else {
				points = rule.Ranges[band].Points
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
			res.Hits = append(res.Hits, Hit{Rule: rule.Name, Group: rule.Group, Matched: ok, Points: points})
			h := &res.Hits[len(res.Hits)-1]
			w.word(h, rule, vals, rv, at, failed, band, factor)
			w.keep(rule, key, keep, outcome{matched: ok, band: band}, h)
		}
	}
	if explain {
		w.fill(res.Hits)
	}
	total := loose
	for i, g := range r.Groups {
		s := min(groupSums[i], g.Limit)
		groupSums[i] = s
		total += s
	}
	res.Groups = r.groupsOf(groupSums)
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

// maxKeptGroups is the most groups for which Result.Groups maps are kept (see groupsOf).
const maxKeptGroups = 8

// groupPoints is the points of each group (their bits, so that every float is its own key), the
// key of a kept Result.Groups map.
type groupPoints [maxKeptGroups]uint64

// groupsOf returns the map of each group's points, sums[i] for r.Groups[i]: one kept from an
// earlier call with the same points (up to maxCachedDetails of them), shared, else a new one. Most
// contacts' group points are among a few sums of the rules' points, so most calls make no map.
func (r *Rules) groupsOf(sums []float64) map[string]float64 {
	var key groupPoints
	if r.groupMaps != nil {
		for i, s := range sums {
			key[i] = math.Float64bits(s)
		}
		if m, ok := r.groupMaps.Get(key); ok {
			return m
		}
	}
	m := make(map[string]float64, len(r.Groups))
	for i, g := range r.Groups {
		m[g.Name] = sums[i]
	}
	if r.groupMaps != nil && r.groupMaps.Len() < maxCachedDetails {
		r.groupMaps.Add(key, m)
	}
	return m
}

// wording collects the details of one Score call. A detail already worded for the same value comes
// from the rule's cache; the rest are written one after the other into text, each ending at the offset
// in ends (-1 for a hit whose detail is set already), so that they become one string and cost one
// allocation together.
type wording struct {
	text []byte
	ends []int
	vals []features.Value // the values of the rule being scored, one per criterion, read once
	one  []byte           // a detail being worded for the cache
}

// detailKey is what decides the detail of a rule that caches them: the value of its one property and
// whether the rule matched.
type detailKey struct {
	v       features.Key
	matched bool
}

// Bounds of the detail caches: the details of up to maxCachedDetails values per rule are kept, the
// first seen, each of a value up to maxCachedValue bytes long. The values of counts, flags and
// categories repeat; a rule on a value that never repeats (an e-mail address) fills its cache once
// and then words its details each time, as without one.
const (
	maxCachedDetails = 256
	maxCachedValue   = 128
)

// keyOf returns the key of a rule's outcome for value v, and false for a value whose details are not
// cached: one without a features.Key, or a text longer than maxCachedValue.
func keyOf(v features.Value, matched bool) (detailKey, bool) {
	k, ok := v.Key()
	return detailKey{v: k, matched: matched}, ok && len(v.Str) <= maxCachedValue
}

// cacheDetails returns a detail cache for a rule whose detail depends only on the value of one
// property and on whether the rule matched (a rule with one criterion and no decay, or a range rule
// without criteria); nil for other rules.
func cacheDetails(rule *Rule) *memo.Map[detailKey, string] {
	switch {
	case len(rule.Criteria) == 1 && len(rule.Ranges) == 0:
		if _, decays := rule.Criteria[0].Decay(); decays {
			return nil
		}
	case len(rule.Criteria) == 0 && len(rule.Ranges) > 0:
	default:
		return nil
	}
	return memo.New[detailKey, string](maxCachedDetails)
}

// outcome is a rule's result for one value of the one property it reads, with its detail.
type outcome struct {
	matched bool
	band    int // the range a range rule's value fell in, or -1
	detail  string
}

// cacheOutcomes returns an outcome cache for a rule whose result and detail depend only on the value
// of its one property: a rule whose details are cached (see cacheDetails) and that does not read the
// scoring time (within_days); nil for other rules.
func cacheOutcomes(rule *Rule) *memo.Split[features.Key, outcome] {
	if rule.details == nil {
		return nil
	}
	for _, c := range rule.Criteria {
		for _, o := range c.ops {
			if o.kind == opWithinDays || o.kind == opDecay {
				return nil
			}
		}
	}
	// Split: texts and numbers, most of the values rules read, are looked up on Go's fast paths.
	return memo.NewSplit[features.Key, outcome](maxCachedDetails)
}

// outcomeOf returns the kept outcome of rule for the contact whose values cvals holds (hit), else the
// key to keep it under once worded (keep false: it is not to be kept).
func (rule *Rule) outcomeOf(cvals []features.Value) (o outcome, key features.Key, keep, hit bool) {
	if rule.outcomes == nil {
		return o, key, false, false
	}
	slot := rule.slot
	if len(rule.Criteria) == 1 {
		slot = rule.Criteria[0].slot
	}
	v := cvals[slot]
	if key, keep = v.Key(); !keep || len(v.Str) > maxCachedValue {
		return o, key, false, false
	}
	o, hit = rule.outcomes.Get(key)
	return o, key, true, hit
}

// keep keeps o, with the detail word set on h, as rule's outcome for key, when keep is set, the
// detail is a string of its own (from the rule's detail cache) and the cache has room.
func (w *wording) keep(rule *Rule, key features.Key, keep bool, o outcome, h *Hit) {
	if !keep || w.ends[len(w.ends)-1] != -1 {
		return
	}
	o.detail = h.Detail
	rule.outcomes.Add(key, o)
}

// word sets the Detail of h, the hit of rule (see appendDetail for the other arguments): from the
// rule's cache when it holds the detail, else worded now, and kept in the cache while it has room.
func (w *wording) word(h *Hit, rule *Rule, vals []features.Value, rv features.Value, at time.Time, failed, band int, factor float64) {
	if rule.details != nil {
		v := rv
		if len(rule.Criteria) == 1 {
			v = vals[0]
		}
		if key, ok := keyOf(v, h.Matched); ok {
			if d, ok := rule.details.Get(key); ok {
				h.Detail = d
				w.ends = append(w.ends, -1)
				return
			}
			if rule.details.Len() < maxCachedDetails {
				w.one = appendDetail(w.one[:0], rule, vals, rv, at, h.Matched, failed, band, factor)
				h.Detail = string(w.one)
				rule.details.Add(key, h.Detail)
				w.ends = append(w.ends, -1)
				return
			}
		}
	}
	w.text = appendDetail(w.text, rule, vals, rv, at, h.Matched, failed, band, factor)
	w.ends = append(w.ends, len(w.text))
}

// values returns room for the values of n criteria.
func (w *wording) values(n int) []features.Value {
	if len(w.vals) < n {
		w.vals = make([]features.Value, n)
	}
	return w.vals[:n]
}

// maxPooledText bounds the buffer a wording keeps for the next call, so that one contact with enormous
// values does not pin its memory.
const maxPooledText = 64 << 10

var wordingPool = sync.Pool{New: func() any { return &wording{text: make([]byte, 0, 2048)} }}

// fill sets the Detail of each hit from the text written so far: hits[i] gets the i-th detail, unless
// its end is -1.
func (w *wording) fill(hits []Hit) {
	if w == nil || len(w.text) == 0 {
		return
	}
	all := string(w.text)
	start := 0
	for i, end := range w.ends {
		if end >= 0 {
			hits[i].Detail = all[start:end]
			start = end
		}
	}
}

func (w *wording) release() {
	if cap(w.text) > maxPooledText || cap(w.one) > maxPooledText {
		return
	}
	w.text, w.ends = w.text[:0], w.ends[:0]
	clear(w.vals) // the pool must not keep the contact's strings alive
	wordingPool.Put(w)
}

// matchAll reports whether every criterion matches the contact whose values cvals holds (see
// ScoreValues), the product of their decay factors, and the
// index of the first criterion that failed (-1 when none did). When vals is not nil (it then has one
// element per criterion) it receives the values read, up to the one that failed.
func matchAll(criteria []Criterion, cvals []features.Value, at time.Time, vals []features.Value) (bool, float64, int) {
	factor := 1.0
	for i := range criteria {
		cr := &criteria[i]
		v := cvals[cr.slot]
		if vals != nil {
			vals[i] = v
		}
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

// band returns the index of the range v, the value of the rule's property, falls in, or -1.
func (rule *Rule) band(v features.Value) int {
	x, ok := number(v)
	if !ok {
		return -1
	}
	for i := range rule.Ranges {
		rg := &rule.Ranges[i]
		if (bounds{rg.Lo, rg.Hi, rg.LoIncl, rg.HiIncl}).contains(x) {
			return i
		}
	}
	return -1
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

// appendDetail appends to b the explanation of a rule's outcome: on a match the values that decided, on
// a miss the first condition that failed and what it wanted. vals holds the values matchAll read for
// the criteria, rv the value of a range rule's property (read when the criteria matched), band the index
// of the range rv fell in, or -1. Only these values are formatted here; the rest was worded by Parse.
func appendDetail(b []byte, rule *Rule, vals []features.Value, rv features.Value, at time.Time, matched bool, failed, band int, factor float64) []byte {
	if !matched && failed >= 0 {
		cr := &rule.Criteria[failed]
		b = appendShow(b, cr.Property, vals[failed])
		if cr.wanted == "" {
			return append(append(b, ", wanted "...), cr.String()...)
		}
		return append(b, cr.wanted...)
	}
	start := len(b)
	for i := range rule.Criteria {
		cr := &rule.Criteria[i]
		if i > 0 {
			b = append(b, "; "...)
		}
		v := vals[i]
		b = appendShow(b, cr.Property, v)
		if d, ok := cr.Decay(); ok {
			if age, ok := ageDays(v, at); ok {
				b = append(b, " ("...)
				b = appendNum(b, max(age, 0))
				b = append(b, " days old, x"...)
				b = appendNum(b, d.factor(age))
				b = append(b, ')')
			}
		}
	}
	if len(rule.Ranges) > 0 {
		if len(b) > start {
			b = append(b, "; "...)
		}
		b = appendShow(b, rule.Property, rv)
		switch {
		case band < 0:
			b = append(b, ", in no range"...)
		case band < len(rule.bands):
			b = append(b, rule.bands[band]...)
		default:
			b = append(append(b, ", in "...), rule.Ranges[band].String()...)
		}
	}
	if matched && factor != 1 && len(rule.Criteria) > 1 {
		b = append(b, "; x"...)
		b = appendNum(b, factor)
		b = append(b, " in all"...)
	}
	return b
}

// appendShow appends "property = value" or "property unknown" to b.
func appendShow(b []byte, property string, v features.Value) []byte {
	b = append(b, property...)
	if !known(v) {
		return append(b, " unknown"...)
	}
	switch v.Kind {
	case features.KindCategory:
		b = append(b, " = \""...)
		b = append(b, v.Str...)
		return append(b, '"')
	case features.KindNumber:
		return appendNum(append(b, " = "...), v.Num)
	case features.KindFlag:
		return strconv.AppendBool(append(b, " = "...), v.Bool)
	case features.KindTime:
		return v.Time.UTC().AppendFormat(append(b, " = "...), time.RFC3339)
	}
	return append(append(b, " = "...), v.Text()...)
}
