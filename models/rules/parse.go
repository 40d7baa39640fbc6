package rules

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/leadscore/leadscore/features"
)

// maxErrors bounds how many problems Parse reports at once.
const maxErrors = 20

// Parse reads a rules file. The format is described in testdata/rules.yaml at the repository root; in
// short:
//
//	name: optional title
//	stages: {mql: 35, sql: 65}            # defaults 35 and 65
//	total_limit: 100                      # optional
//	groups:
//	  - {name: fit, limit: 50, grades: {C: 10, B: 20, A: 35}}
//	  - {name: engagement, limit: 80, levels: {3: 10, 2: 25, 1: 45}}
//	exclude:
//	  - {name: Employees, when: {email: {domain_in: [example.com]}}}
//	rules:
//	  - name: Demo request
//	    group: engagement
//	    points: 50
//	    when: {forms_bofu: {at_least: 1}}
//	  - name: Website visits
//	    group: engagement
//	    property: visits
//	    ranges:
//	      - {between: [2, 5], points: 3}
//	      - {at_least: 6, points: 6}
//
// Criteria under when map a property to a value (shorthand for equals) or to operators combined with
// AND: equals, in, not_in, contains_any, domain_in, email_class (free-mail, education, company or
// invalid, as features.EmailDomainClass reads an address), seniority (executive, director, manager,
// individual, student or unknown, as features.TitleSeniority reads a job title), between, at_least,
// above, at_most, below, known, unknown, is, within_days and decay. Every problem is reported as an
// *Error with its line; several are joined with errors.Join. Parse never panics, whatever data holds.
func Parse(data []byte) (*Rules, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &Error{Line: 1, Err: fmt.Errorf("%w: the file is empty", ErrMissing)}
		}
		return nil, syntaxError(err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		if err != nil {
			return nil, syntaxError(err)
		}
		return nil, &Error{Line: extra.Line, Err: fmt.Errorf("%w: a rules file holds one yaml document", ErrSyntax)}
	}
	p := &parser{}
	r := p.file(&doc)
	if len(p.errs) > 0 {
		return nil, errors.Join(p.errs...)
	}
	return r, nil
}

var yamlLine = regexp.MustCompile(`line (\d+)`)

// syntaxError turns a yaml error into an *Error with the line it names.
func syntaxError(err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	e := &Error{Err: fmt.Errorf("%w: %s", ErrSyntax, msg)}
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		e.Line, _ = strconv.Atoi(m[1])
		e.Err = fmt.Errorf("%w: %s", ErrSyntax, strings.TrimPrefix(msg, m[0]+": "))
	}
	return e
}

type parser struct {
	errs []error
}

// fail records a problem at node n (which may be nil).
func (p *parser) fail(n *yaml.Node, rule, property string, sentinel error, format string, args ...any) {
	if len(p.errs) >= maxErrors {
		return
	}
	e := &Error{Rule: rule, Property: property, Err: sentinel}
	if format != "" {
		e.Err = fmt.Errorf("%w: %s", sentinel, fmt.Sprintf(format, args...))
	}
	if n != nil {
		e.Line = n.Line
	}
	p.errs = append(p.errs, e)
}

// checkAliases rejects anchors' aliases anywhere under n: they would let a small file expand enormously.
func (p *parser) checkAliases(n *yaml.Node) bool {
	if n.Kind == yaml.AliasNode {
		p.fail(n, "", "", ErrType, "aliases (*name) are not supported in rules files")
		return false
	}
	for _, c := range n.Content {
		if !p.checkAliases(c) {
			return false
		}
	}
	return true
}

// describe names the kind of a node for error messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.ShortTag() == "!!null" {
			return "nothing"
		}
		return strconv.Quote(n.Value)
	}
	return "an unexpected node"
}

// field is one key and value of a mapping.
type field struct {
	key, val *yaml.Node
}

// mapping returns the fields of mapping n in order, reporting a non-mapping, a non-scalar or repeated key,
// and any key not in allowed (when allowed is not nil). ok is false when n is not a mapping.
func (p *parser) mapping(n *yaml.Node, what, rule string, allowed []string) (fields []field, ok bool) {
	if n.Kind != yaml.MappingNode {
		p.fail(n, rule, "", ErrType, "%s must be a mapping, got %s", what, describe(n))
		return nil, false
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			p.fail(k, rule, "", ErrType, "a key in %s must be a plain name, got %s", what, describe(k))
			continue
		}
		if line, dup := seen[k.Value]; dup {
			p.fail(k, rule, "", ErrDuplicate, "key %q appears twice in %s (first at line %d)", k.Value, what, line)
			continue
		}
		seen[k.Value] = k.Line
		if allowed != nil && !contains(allowed, k.Value) {
			p.fail(k, rule, "", ErrUnknownKey, "%q in %s (allowed: %s)", k.Value, what, strings.Join(allowed, ", "))
			continue
		}
		fields = append(fields, field{k, v})
	}
	return fields, true
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// number reads a finite number from a scalar written as a YAML number (not a quoted string).
func (p *parser) number(n *yaml.Node, rule, property, what string) (float64, bool) {
	tag := n.ShortTag()
	if n.Kind != yaml.ScalarNode || tag != "!!int" && tag != "!!float" {
		p.fail(n, rule, property, ErrType, "%s must be a number, got %s", what, describe(n))
		return 0, false
	}
	var f float64
	if err := n.Decode(&f); err != nil {
		p.fail(n, rule, property, ErrType, "%s must be a number, got %s", what, describe(n))
		return 0, false
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		p.fail(n, rule, property, ErrRange, "%s must be finite, got %s", what, n.Value)
		return 0, false
	}
	return f, true
}

// maxPoints bounds the points of a rule or range, so that no sum of them overflows.
const maxPoints = 1e9

// points reads the points of a rule or a range.
func (p *parser) points(n *yaml.Node, rule, property string) (float64, bool) {
	v, ok := p.number(n, rule, property, "points")
	if ok && math.Abs(v) > maxPoints {
		p.fail(n, rule, property, ErrRange, "points must be between -%g and %g, got %s", maxPoints, maxPoints, n.Value)
		return 0, false
	}
	return v, ok
}

// text reads a non-empty string scalar. Numbers and booleans are accepted as their text.
func (p *parser) text(n *yaml.Node, rule, property, what string) (string, bool) {
	if n.Kind != yaml.ScalarNode || n.ShortTag() == "!!null" || strings.TrimSpace(n.Value) == "" {
		p.fail(n, rule, property, ErrType, "%s must be a text, got %s", what, describe(n))
		return "", false
	}
	return strings.TrimSpace(n.Value), true
}

// boolean reads true or false.
func (p *parser) boolean(n *yaml.Node, rule, property, what string) (bool, bool) {
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" {
		p.fail(n, rule, property, ErrType, "%s must be true or false, got %s", what, describe(n))
		return false, false
	}
	var b bool
	if err := n.Decode(&b); err != nil {
		p.fail(n, rule, property, ErrType, "%s must be true or false, got %s", what, describe(n))
		return false, false
	}
	return b, true
}

// nameOf returns the scalar value under key "name" of mapping n, or "".
func nameOf(n *yaml.Node) string {
	if n.Kind != yaml.MappingNode {
		return ""
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == "name" && n.Content[i+1].Kind == yaml.ScalarNode {
			return strings.TrimSpace(n.Content[i+1].Value)
		}
	}
	return ""
}

// sequence returns the items of list n, reporting a non-list or an empty one.
func (p *parser) sequence(n *yaml.Node, rule, property, what string) ([]*yaml.Node, bool) {
	if n.Kind != yaml.SequenceNode {
		p.fail(n, rule, property, ErrType, "%s must be a list, got %s", what, describe(n))
		return nil, false
	}
	if len(n.Content) == 0 {
		p.fail(n, rule, property, ErrEmpty, "%s is an empty list", what)
		return nil, false
	}
	return n.Content, true
}

// groupRef is a rule's reference to a group, checked once all groups are known.
type groupRef struct {
	node *yaml.Node
	rule string
}

func (p *parser) file(doc *yaml.Node) *Rules {
	r := &Rules{
		Stages:     Stages{MQL: DefaultMQL, SQL: DefaultSQL},
		TotalLimit: math.Inf(1),
	}
	if len(doc.Content) == 0 {
		p.fail(doc, "", "", ErrMissing, "the file is empty")
		return nil
	}
	root := doc.Content[0]
	if !p.checkAliases(root) {
		return nil
	}
	fields, ok := p.mapping(root, "the rules file", "", []string{"name", "stages", "total_limit", "groups", "exclude", "rules"})
	if !ok {
		return nil
	}
	var rulesNode, stagesNode *yaml.Node
	var refs []groupRef
	names := map[string]int{}
	for _, f := range fields {
		switch f.key.Value {
		case "name":
			r.Name, _ = p.text(f.val, "", "", "name")
		case "stages":
			stagesNode = f.val
			p.stages(f.val, &r.Stages)
		case "total_limit":
			if v, ok := p.number(f.val, "", "", "total_limit"); ok {
				if v < 0 {
					p.fail(f.val, "", "", ErrRange, "total_limit must not be negative, got %s", f.val.Value)
				}
				r.TotalLimit = v
			}
		case "groups":
			r.Groups = p.groups(f.val, r)
		case "exclude":
			items, _ := p.sequence(f.val, "", "", "exclude")
			for _, item := range items {
				if rule, ok := p.rule(item, true, nil); ok {
					p.unique(item, rule.Name, names)
					r.Exclusions = append(r.Exclusions, rule)
				}
			}
		case "rules":
			rulesNode = f.val
			items, _ := p.sequence(f.val, "", "", "rules")
			for _, item := range items {
				if rule, ok := p.rule(item, false, &refs); ok {
					p.unique(item, rule.Name, names)
					r.Rules = append(r.Rules, rule)
				}
			}
		}
	}
	if rulesNode == nil {
		p.fail(root, "", "", ErrMissing, "the file has no rules section")
	}
	if stagesNode != nil && r.Stages.MQL >= r.Stages.SQL {
		p.fail(stagesNode, "", "", ErrThresholds, "mql (%s) must be below sql (%s)", num(r.Stages.MQL), num(r.Stages.SQL))
	}
	for _, ref := range refs {
		if !hasGroup(r.Groups, ref.node.Value) {
			p.fail(ref.node, ref.rule, "", ErrUnknownGroup, "%q is not declared under groups", ref.node.Value)
		}
	}
	r.groupIndex = make([]int, len(r.Rules))
	for i, rule := range r.Rules {
		r.groupIndex[i] = -1
		for j, g := range r.Groups {
			if g.Name == rule.Group {
				r.groupIndex[i] = j
			}
		}
	}
	return r
}

func hasGroup(groups []Group, name string) bool {
	for _, g := range groups {
		if g.Name == name {
			return true
		}
	}
	return false
}

// unique reports a name used by an earlier rule or exclusion.
func (p *parser) unique(n *yaml.Node, name string, names map[string]int) {
	if line, dup := names[name]; dup {
		p.fail(n, name, "", ErrDuplicate, "another rule or exclusion is named %q (line %d)", name, line)
		return
	}
	names[name] = n.Line
}

func (p *parser) stages(n *yaml.Node, s *Stages) {
	fields, _ := p.mapping(n, "stages", "", []string{"mql", "sql"})
	for _, f := range fields {
		v, ok := p.number(f.val, "", "", "stages."+f.key.Value)
		if !ok {
			continue
		}
		if f.key.Value == "mql" {
			s.MQL = v
		} else {
			s.SQL = v
		}
	}
}

func (p *parser) groups(n *yaml.Node, r *Rules) []Group {
	items, _ := p.sequence(n, "", "", "groups")
	var groups []Group
	for _, item := range items {
		name := nameOf(item)
		fields, ok := p.mapping(item, "a group", name, []string{"name", "limit", "grades", "levels"})
		if !ok {
			continue
		}
		g := Group{Limit: math.Inf(1), Line: item.Line}
		var gradesKey, levelsKey *yaml.Node
		for _, f := range fields {
			switch f.key.Value {
			case "name":
				g.Name, _ = p.text(f.val, "", "", "a group's name")
			case "limit":
				if v, ok := p.number(f.val, name, "", "limit"); ok {
					if v < 0 {
						p.fail(f.val, name, "", ErrRange, "limit must not be negative, got %s", f.val.Value)
					}
					g.Limit = v
				}
			case "grades":
				g.Grades = p.cuts(f.val, name, "grades", [3]string{"C", "B", "A"}, "D")
				gradesKey = f.key
			case "levels":
				g.Levels = p.cuts(f.val, name, "levels", [3]string{"3", "2", "1"}, "4")
				levelsKey = f.key
			}
		}
		if g.Name == "" {
			if !hasKey(item, "name") {
				p.fail(item, "", "", ErrMissing, "a group needs a name")
			}
			continue
		}
		if hasGroup(groups, g.Name) {
			p.fail(item, g.Name, "", ErrDuplicate, "group %q is declared twice", g.Name)
			continue
		}
		if g.Grades != nil {
			if r.fit > 0 {
				p.fail(gradesKey, g.Name, "", ErrDuplicate, "grades are already set by group %q", groups[r.fit-1].Name)
			}
			r.fit = len(groups) + 1
		}
		if g.Levels != nil {
			if r.engagement > 0 {
				p.fail(levelsKey, g.Name, "", ErrDuplicate, "levels are already set by group %q", groups[r.engagement-1].Name)
			}
			r.engagement = len(groups) + 1
		}
		groups = append(groups, g)
	}
	return groups
}

func hasKey(n *yaml.Node, key string) bool {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return true
		}
	}
	return false
}

// cuts reads three increasing cut points keyed by keys (lowest grade first); rest names the grade below.
func (p *parser) cuts(n *yaml.Node, group, what string, keys [3]string, rest string) *[3]float64 {
	fields, ok := p.mapping(n, what, group, keys[:])
	if !ok {
		return nil
	}
	var c [3]float64
	var set [3]bool
	for _, f := range fields {
		for i, k := range keys {
			if f.key.Value == k {
				c[i], set[i] = p.number(f.val, group, "", what+"."+k)
			}
		}
	}
	for i, k := range keys {
		if !set[i] {
			if !hasKey(n, k) {
				p.fail(n, group, "", ErrMissing, "%s needs the points for %s (%s, %s and %s; below %s it is %s)",
					what, k, keys[0], keys[1], keys[2], keys[0], rest)
			}
			return nil
		}
	}
	if !(c[0] < c[1] && c[1] < c[2]) {
		p.fail(n, group, "", ErrThresholds, "%s %s < %s < %s must hold, got %s, %s, %s",
			what, keys[0], keys[1], keys[2], num(c[0]), num(c[1]), num(c[2]))
		return nil
	}
	return &c
}

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
	if rule.Name == "" && !hasKey(n, "name") {
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
