package rules

// The node walk for one rule: its criteria, operators, ranges and decay. Parse (parse.go) reads the
// file's top level, stages and groups and calls rule for each entry of rules and exclude.

import (
	"math"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/leadscore/leadscore/features"
)

// rule reads a rule or, when exclusion is set, an exclusion. refs collects group references.
func (p *parser) rule(n *yaml.Node, exclusion bool, refs *[]groupRef) (Rule, bool) {
	allowed := []string{"name", "group", "points", "when", "property", "ranges"}
	what := "a rule"
	if exclusion {
		allowed, what = []string{"name", "when"}, "an exclusion"
	}
	name := nameOf(n)
	fields, ok := p.mapping(n, what, name, allowed)
	if !ok {
		return Rule{}, false
	}
	before := len(p.errs)
	rule := Rule{Line: n.Line}
	var pointsNode, whenNode, propertyNode, rangesNode *yaml.Node
	for _, f := range fields {
		switch f.key.Value {
		case "name":
			rule.Name, _ = p.text(f.val, "", "", "name")
		case "group":
			if g, ok := p.text(f.val, name, "", "group"); ok {
				rule.Group = g
				*refs = append(*refs, groupRef{f.val, name})
			}
		case "points":
			pointsNode = f.val
			rule.Points, _ = p.points(f.val, name, "")
		case "when":
			whenNode = f.val
		case "property":
			propertyNode = f.val
			rule.Property, _ = p.text(f.val, name, "", "property")
		case "ranges":
			rangesNode = f.val
		}
	}
	if rule.Name == "" && valueOf(n, "name") == nil {
		p.fail(n, "", "", ErrMissing, "%s needs a name", what)
	}
	if whenNode != nil {
		rule.Criteria = p.criteria(whenNode, name, exclusion)
	}
	switch {
	case exclusion:
		if whenNode == nil {
			p.fail(n, name, "", ErrEmpty, "an exclusion needs criteria under when")
		}
	case rangesNode != nil:
		if pointsNode != nil {
			p.fail(pointsNode, name, "", ErrType, "a rule has either points or ranges, not both")
		}
		if propertyNode == nil {
			p.fail(rangesNode, name, "", ErrMissing, "ranges need the property they read (property: visits)")
		}
		rule.Ranges = p.ranges(rangesNode, name, rule.Property)
		rule.bands = make([]string, len(rule.Ranges))
		for i, rg := range rule.Ranges {
			rule.bands[i] = ", in " + rg.String()
		}
	default:
		if pointsNode == nil {
			p.fail(n, name, "", ErrMissing, "a rule needs points (or ranges)")
		}
		if propertyNode != nil {
			p.fail(propertyNode, name, "", ErrUnknownKey, "property is only for ranges; put conditions under when")
		}
		if whenNode == nil {
			p.fail(n, name, "", ErrEmpty, "a rule needs criteria under when")
		}
	}
	rule.details = cacheDetails(&rule)
	rule.outcomes = cacheOutcomes(&rule)
	return rule, len(p.errs) == before
}

// ranges reads the bands of a range rule and rejects empty or overlapping ones.
func (p *parser) ranges(n *yaml.Node, rule, property string) []Range {
	items, _ := p.sequence(n, rule, property, "ranges")
	var out []Range
	for _, item := range items {
		fields, ok := p.mapping(item, "a range", rule, []string{"between", "at_least", "above", "at_most", "below", "points"})
		if !ok {
			continue
		}
		var b *bounds
		var points *float64
		failed := false
		for _, f := range fields {
			if f.key.Value == "points" {
				if v, ok := p.points(f.val, rule, property); ok {
					points = &v
				} else {
					failed = true
				}
				continue
			}
			if !p.bound(f, rule, property, &b) {
				failed = true
			}
		}
		if failed {
			continue
		}
		if b == nil {
			p.fail(item, rule, property, ErrRange, "a range needs a bound: between, at_least, above, at_most or below")
			continue
		}
		if points == nil {
			p.fail(item, rule, property, ErrMissing, "a range needs points")
			continue
		}
		if b.empty() {
			p.fail(item, rule, property, ErrRange, "no number lies in %s (low bound above high bound)", rangeText(*b))
			continue
		}
		rg := Range{Lo: b.lo, Hi: b.hi, LoIncl: b.loIncl, HiIncl: b.hiIncl, Points: *points, Line: item.Line}
		for _, prev := range out {
			pb := bounds{prev.Lo, prev.Hi, prev.LoIncl, prev.HiIncl}
			if pb.overlaps(*b) {
				p.fail(item, rule, property, ErrOverlap, "%s overlaps %s (line %d): a contact gets the points of one range only",
					b, pb, prev.Line)
			}
		}
		out = append(out, rg)
	}
	return out
}

// rangeText shows raw bounds, including impossible ones.
func rangeText(b bounds) string {
	return "[" + num(b.lo) + ", " + num(b.hi) + "]"
}

// bound applies a between/at_least/above/at_most/below field to *b, creating it when nil.
func (p *parser) bound(f field, rule, property string, b **bounds) bool {
	if *b == nil {
		*b = &bounds{lo: math.Inf(-1), hi: math.Inf(1)}
	}
	x := *b
	key := f.key.Value
	lowSet, highSet := !math.IsInf(x.lo, -1), !math.IsInf(x.hi, 1)
	if key == "between" {
		if lowSet || highSet {
			p.fail(f.key, rule, property, ErrRange, "between cannot be combined with another bound")
			return false
		}
		if f.val.Kind != yaml.SequenceNode || len(f.val.Content) != 2 {
			p.fail(f.val, rule, property, ErrType, "between must be a list of two numbers [low, high], got %s", describe(f.val))
			return false
		}
		lo, ok1 := p.number(f.val.Content[0], rule, property, "between's low bound")
		hi, ok2 := p.number(f.val.Content[1], rule, property, "between's high bound")
		if !ok1 || !ok2 {
			return false
		}
		if lo > hi {
			p.fail(f.val, rule, property, ErrRange, "between [%s, %s]: low bound above high bound", num(lo), num(hi))
			return false
		}
		*x = bounds{lo: lo, hi: hi, loIncl: true, hiIncl: true}
		return true
	}
	v, ok := p.number(f.val, rule, property, key)
	if !ok {
		return false
	}
	switch key {
	case "at_least", "above":
		if lowSet {
			p.fail(f.key, rule, property, ErrRange, "%s: the low bound is already set", key)
			return false
		}
		x.lo, x.loIncl = v, key == "at_least"
	case "at_most", "below":
		if highSet {
			p.fail(f.key, rule, property, ErrRange, "%s: the high bound is already set", key)
			return false
		}
		x.hi, x.hiIncl = v, key == "at_most"
	}
	return true
}

var operators = []string{"equals", "in", "not_in", "contains_any", "domain_in", "email_class", "seniority", "between",
	"at_least", "above", "at_most", "below", "known", "unknown", "is", "within_days", "decay"}

// The classes email_class and seniority accept: what features.EmailDomainClass and
// features.TitleSeniority return.
var (
	emailClasses = []string{features.EmailFreeMail, features.EmailEducation, features.EmailCompany, features.EmailInvalid}
	seniorities  = []string{features.SeniorityExecutive, features.SeniorityDirector, features.SeniorityManager,
		features.SeniorityIndividual, features.SeniorityStudent, features.SeniorityUnknown}
)

// criteria reads the when mapping: property -> value or operators.
func (p *parser) criteria(n *yaml.Node, rule string, exclusion bool) []Criterion {
	fields, ok := p.mapping(n, "when", rule, nil)
	if !ok {
		return nil
	}
	if len(fields) == 0 && len(n.Content) == 0 {
		p.fail(n, rule, "", ErrEmpty, "when has no criteria")
		return nil
	}
	var out []Criterion
	for _, f := range fields {
		prop := strings.TrimSpace(f.key.Value)
		if prop == "" {
			p.fail(f.key, rule, "", ErrType, "a property name is empty")
			continue
		}
		c := Criterion{Property: prop, Line: f.key.Line}
		if f.val.Kind == yaml.ScalarNode {
			if f.val.ShortTag() == "!!null" {
				p.fail(f.val, rule, prop, ErrEmpty, "no condition given")
				continue
			}
			lit := p.literal(f.val)
			c.ops = []op{{kind: opEquals, lits: []literal{lit}}}
			if lit.isFlg {
				c.ops[0] = op{kind: opIs, flag: lit.flag}
			}
			out = append(out, c)
			continue
		}
		ops, ok := p.operators(f.val, rule, prop, exclusion)
		if ok {
			c.ops = ops
			out = append(out, c)
		}
	}
	for i := range out {
		out[i].desc = out[i].describe()
		out[i].wanted = ", wanted " + out[i].desc
	}
	return out
}

// operators reads one property's operator mapping.
func (p *parser) operators(n *yaml.Node, rule, prop string, exclusion bool) ([]op, bool) {
	if n.Kind != yaml.MappingNode {
		p.fail(n, rule, prop, ErrType, "a condition must be a value or a mapping of operators (%s), got %s",
			strings.Join(operators, ", "), describe(n))
		return nil, false
	}
	fields, _ := p.mapping(n, "the condition on "+prop, rule, operators)
	if len(n.Content) == 0 {
		p.fail(n, rule, prop, ErrEmpty, "the condition has no operators")
		return nil, false
	}
	before := len(p.errs)
	var ops []op
	var b *bounds
	var boundKey *yaml.Node
	for _, f := range fields {
		switch key := f.key.Value; key {
		case "equals":
			if f.val.Kind != yaml.ScalarNode || f.val.ShortTag() == "!!null" {
				p.fail(f.val, rule, prop, ErrType, "equals must be one value, got %s (use in for a list)", describe(f.val))
				continue
			}
			ops = append(ops, op{kind: opEquals, lits: []literal{p.literal(f.val)}})
		case "in", "not_in":
			items, ok := p.sequence(f.val, rule, prop, key)
			if !ok {
				continue
			}
			o := op{kind: opIn}
			if key == "not_in" {
				o.kind = opNotIn
			}
			for _, it := range items {
				if it.Kind != yaml.ScalarNode || it.ShortTag() == "!!null" {
					p.fail(it, rule, prop, ErrType, "%s items must be values, got %s", key, describe(it))
					continue
				}
				o.lits = append(o.lits, p.literal(it))
			}
			ops = append(ops, o)
		case "contains_any":
			items, ok := p.sequence(f.val, rule, prop, key)
			if !ok {
				continue
			}
			o := op{kind: opContainsAny}
			for _, it := range items {
				s, ok := p.text(it, rule, prop, "a contains_any item")
				if !ok {
					continue
				}
				ws := words(s)
				if len(ws) == 0 {
					p.fail(it, rule, prop, ErrType, "%q has no letters or digits to match", s)
					continue
				}
				o.phrases = append(o.phrases, ws)
				o.texts = append(o.texts, s)
			}
			ops = append(ops, o)
		case "domain_in":
			items, ok := p.sequence(f.val, rule, prop, key)
			if !ok {
				continue
			}
			o := op{kind: opDomainIn}
			for _, it := range items {
				s, ok := p.text(it, rule, prop, "a domain_in item")
				if !ok {
					continue
				}
				d := strings.ToLower(strings.TrimPrefix(strings.TrimPrefix(s, "@"), "."))
				if d == "" || strings.ContainsAny(d, "@/ ") {
					p.fail(it, rule, prop, ErrType, "%q is not a domain like example.com", s)
					continue
				}
				o.domains = append(o.domains, d)
				o.texts = append(o.texts, s)
			}
			ops = append(ops, o)
		case "email_class", "seniority":
			kind, valid := opEmailClass, emailClasses
			if key == "seniority" {
				kind, valid = opSeniority, seniorities
			}
			items, ok := p.sequence(f.val, rule, prop, key)
			if !ok {
				continue
			}
			o := op{kind: kind}
			for _, it := range items {
				s, ok := p.text(it, rule, prop, "a "+key+" item")
				if !ok {
					continue
				}
				s = strings.ToLower(strings.TrimSpace(s))
				if !slices.Contains(valid, s) {
					p.fail(it, rule, prop, ErrType, "%s %q is not one of %s", key, s, strings.Join(valid, ", "))
					continue
				}
				o.texts = append(o.texts, s)
			}
			if len(o.texts) > 0 {
				ops = append(ops, o)
			}
		case "between", "at_least", "above", "at_most", "below":
			if boundKey == nil {
				boundKey = f.key
			}
			p.bound(f, rule, prop, &b)
		case "known", "unknown":
			v, ok := p.boolean(f.val, rule, prop, key)
			if !ok {
				continue
			}
			if v == (key == "known") {
				ops = append(ops, op{kind: opKnown})
			} else {
				ops = append(ops, op{kind: opUnknown})
			}
		case "is":
			if v, ok := p.boolean(f.val, rule, prop, key); ok {
				ops = append(ops, op{kind: opIs, flag: v})
			}
		case "within_days":
			if v, ok := p.number(f.val, rule, prop, key); ok {
				if v <= 0 {
					p.fail(f.val, rule, prop, ErrRange, "within_days must be above 0, got %s", f.val.Value)
					continue
				}
				ops = append(ops, op{kind: opWithinDays, days: v})
			}
		case "decay":
			if exclusion {
				p.fail(f.key, rule, prop, ErrUnknownKey, "decay has no meaning in an exclusion")
				continue
			}
			if d, ok := p.decay(f.val, rule, prop); ok {
				ops = append(ops, op{kind: opDecay, decay: d})
			}
		}
	}
	if b != nil && len(p.errs) == before {
		if b.empty() {
			p.fail(boundKey, rule, prop, ErrRange, "no number lies in %s (low bound above high bound)", rangeText(*b))
		} else {
			ops = append(ops, op{kind: opRange, rng: *b})
		}
	}
	return ops, len(p.errs) == before
}

// decay reads {half_life_days: N} or {after_days: N, factor: F}.
func (p *parser) decay(n *yaml.Node, rule, prop string) (Decay, bool) {
	fields, ok := p.mapping(n, "decay", rule, []string{"half_life_days", "after_days", "factor"})
	if !ok {
		return Decay{}, false
	}
	var d Decay
	has := map[string]bool{}
	for _, f := range fields {
		v, ok := p.number(f.val, rule, prop, "decay."+f.key.Value)
		if !ok {
			return Decay{}, false
		}
		has[f.key.Value] = true
		switch f.key.Value {
		case "half_life_days":
			if v <= 0 {
				p.fail(f.val, rule, prop, ErrRange, "half_life_days must be above 0, got %s", f.val.Value)
				return Decay{}, false
			}
			d.HalfLifeDays = v
		case "after_days":
			if v < 0 {
				p.fail(f.val, rule, prop, ErrRange, "after_days must not be negative, got %s", f.val.Value)
				return Decay{}, false
			}
			d.AfterDays = v
		case "factor":
			if v < 0 || v > 1 {
				p.fail(f.val, rule, prop, ErrRange, "factor must be between 0 and 1, got %s", f.val.Value)
				return Decay{}, false
			}
			d.Factor = v
		}
	}
	switch {
	case has["half_life_days"] && !has["after_days"] && !has["factor"]:
	case !has["half_life_days"] && has["after_days"] && has["factor"]:
	default:
		p.fail(n, rule, prop, ErrMissing, "decay is either {half_life_days: N} or {after_days: N, factor: F}")
		return Decay{}, false
	}
	return d, true
}

// literal reads a value written in the file; quoted or not, a numeric text also compares as a number.
func (p *parser) literal(n *yaml.Node) literal {
	l := literal{text: strings.TrimSpace(n.Value)}
	switch n.ShortTag() {
	case "!!bool":
		var b bool
		if n.Decode(&b) == nil {
			l.flag, l.isFlg = b, true
		}
	case "!!int", "!!float":
		var f float64
		if n.Decode(&f) == nil && !math.IsNaN(f) && !math.IsInf(f, 0) {
			l.num, l.isNum = f, true
		}
	default:
		if f, err := strconv.ParseFloat(l.text, 64); err == nil && !math.IsNaN(f) && !math.IsInf(f, 0) {
			l.num, l.isNum = f, true
		}
	}
	return l
}
