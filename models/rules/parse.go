package rules

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/leadscore/leadscore/internal/memo"
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
	r := p.file(data, &doc)
	if len(p.errs) > 0 {
		return nil, errors.Join(p.errs...)
	}
	if len(r.Groups) <= maxKeptGroups {
		r.groupMaps = memo.New[groupPoints, map[string]float64](maxCachedDetails)
	}
	return r, nil
}

// ReadFile reads and parses the rules file at path. An error reading it names the file; a parse error
// is Parse's, after the file's name and a line break, so each problem keeps its line.
func ReadFile(path string) (*Rules, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("rules: %w", err)
	}
	r, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s:\n%w", path, err)
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

func (p *parser) file(data []byte, doc *yaml.Node) *Rules {
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
	if root.Kind != yaml.MappingNode {
		p.fail(root, "", "", ErrType, "the rules file must be a mapping, got %s", describe(root))
		return nil
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var f fileYAML
	if err := dec.Decode(&f); err != nil {
		p.decodeErrors(err)
	}
	if set(&f.Name) {
		r.Name, _ = p.text(&f.Name, "", "", "name")
	}
	// The decoded structs keep no node of their own: their lines, and a null or empty value (which
	// decodes without error), come from the document's nodes.
	stagesNode, groupsNode := valueOf(root, "stages"), valueOf(root, "groups")
	for _, n := range []struct {
		node *yaml.Node
		what string
	}{{stagesNode, "stages must be a mapping"}, {groupsNode, "groups must be a list"}} {
		if n.node != nil && n.node.Kind == yaml.ScalarNode && n.node.ShortTag() == "!!null" {
			p.fail(n.node, "", "", ErrType, "%s, got nothing", n.what)
		}
	}
	if groupsNode != nil && groupsNode.Kind == yaml.SequenceNode && len(groupsNode.Content) == 0 {
		p.fail(groupsNode, "", "", ErrEmpty, "groups is an empty list")
	}
	if f.Stages != nil {
		p.stages(f.Stages, &r.Stages)
	}
	if set(&f.TotalLimit) {
		if v, ok := p.number(&f.TotalLimit, "", "", "total_limit"); ok {
			if v < 0 {
				p.fail(&f.TotalLimit, "", "", ErrRange, "total_limit must not be negative, got %s", f.TotalLimit.Value)
			}
			r.TotalLimit = v
		}
	}
	if f.Groups != nil {
		// Decoding drops an item that is no mapping (a type error, reported), and only that.
		items := slices.DeleteFunc(slices.Clone(groupsNode.Content), func(n *yaml.Node) bool {
			if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
				p.fail(n, "", "", ErrType, "a group must be a mapping, got nothing")
			}
			return n.Kind != yaml.MappingNode
		})
		r.Groups = p.groups(*f.Groups, items, r)
	}
	var refs []groupRef
	names := map[string]int{}
	// The rules and exclusions are walked in the document: a duplicate key stops the decoding of the
	// rest of its mapping, and they would be missed.
	if n := valueOf(root, "exclude"); n != nil {
		items, _ := p.sequence(n, "", "", "exclude")
		for _, item := range items {
			if rule, ok := p.rule(item, true, nil); ok {
				p.unique(item, rule.Name, names)
				r.Exclusions = append(r.Exclusions, rule)
			}
		}
	}
	if n := valueOf(root, "rules"); n != nil {
		items, _ := p.sequence(n, "", "", "rules")
		for _, item := range items {
			if rule, ok := p.rule(item, false, &refs); ok {
				p.unique(item, rule.Name, names)
				r.Rules = append(r.Rules, rule)
			}
		}
	} else {
		p.fail(root, "", "", ErrMissing, "the file has no rules section")
	}
	if f.Stages != nil && r.Stages.MQL >= r.Stages.SQL {
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
	r.bind()
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

func (p *parser) stages(st *stagesYAML, s *Stages) {
	for _, f := range []struct {
		n    *yaml.Node
		key  string
		into *float64
	}{{&st.MQL, "mql", &s.MQL}, {&st.SQL, "sql", &s.SQL}} {
		if set(f.n) {
			if v, ok := p.number(f.n, "", "", "stages."+f.key); ok {
				*f.into = v
			}
		}
	}
}

// groups reads the decoded groups; nodes are their nodes in the document, for their lines.
func (p *parser) groups(items []groupYAML, nodes []*yaml.Node, r *Rules) []Group {
	var groups []Group
	for i, item := range items {
		at := nodes[i]
		line := at.Line
		name := ""
		if set(&item.Name) {
			name, _ = p.text(&item.Name, "", "", "a group's name")
		}
		g := Group{Name: name, Limit: math.Inf(1), Line: line}
		if set(&item.Limit) {
			if v, ok := p.number(&item.Limit, name, "", "limit"); ok {
				if v < 0 {
					p.fail(&item.Limit, name, "", ErrRange, "limit must not be negative, got %s", item.Limit.Value)
				}
				g.Limit = v
			}
		}
		if set(&item.Grades) {
			g.Grades = p.cuts(&item.Grades, name, "grades", [3]string{"C", "B", "A"}, "D")
		}
		if set(&item.Levels) {
			g.Levels = p.cuts(&item.Levels, name, "levels", [3]string{"3", "2", "1"}, "4")
		}
		if g.Name == "" {
			if !set(&item.Name) {
				p.fail(at, "", "", ErrMissing, "a group needs a name")
			}
			continue
		}
		if hasGroup(groups, g.Name) {
			p.fail(at, g.Name, "", ErrDuplicate, "group %q is declared twice", g.Name)
			continue
		}
		if g.Grades != nil {
			if r.fit > 0 {
				p.fail(&item.Grades, g.Name, "", ErrDuplicate, "grades are already set by group %q", groups[r.fit-1].Name)
			}
			r.fit = len(groups) + 1
		}
		if g.Levels != nil {
			if r.engagement > 0 {
				p.fail(&item.Levels, g.Name, "", ErrDuplicate, "levels are already set by group %q", groups[r.engagement-1].Name)
			}
			r.engagement = len(groups) + 1
		}
		groups = append(groups, g)
	}
	return groups
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
			if valueOf(n, k) == nil {
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
