package rules

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// fileYAML is the top level of a rules file, decoded with KnownFields as features.ReadSpec decodes a
// spec. Scalars stay nodes so that their checks name the field and its line; the rules and exclusions
// stay nodes for the criteria walk (rule, criteria).
type fileYAML struct {
	Name       yaml.Node    `yaml:"name"`
	Stages     *stagesYAML  `yaml:"stages"`
	TotalLimit yaml.Node    `yaml:"total_limit"`
	Groups     *[]groupYAML `yaml:"groups"`
	Exclude    yaml.Node    `yaml:"exclude"` // walked in the document (see file)
	Rules      yaml.Node    `yaml:"rules"`   // walked in the document (see file)
}

type stagesYAML struct {
	MQL yaml.Node `yaml:"mql"`
	SQL yaml.Node `yaml:"sql"`
}

type groupYAML struct {
	Name   yaml.Node `yaml:"name"`
	Limit  yaml.Node `yaml:"limit"`
	Grades yaml.Node `yaml:"grades"` // C, B and A, read by cuts
	Levels yaml.Node `yaml:"levels"` // 3, 2 and 1, read by cuts
}

// yamlTypes names the decoded types for people, with the keys they allow.
var yamlTypes = map[string]struct{ what, allowed string }{
	"rules.fileYAML":    {"the rules file", "name, stages, total_limit, groups, exclude, rules"},
	"rules.stagesYAML":  {"stages", "mql, sql"},
	"rules.groupYAML":   {"a group", "name, limit, grades, levels"},
	"[]rules.groupYAML": {"groups", ""},
}

var (
	yamlUnknownField = regexp.MustCompile(`^line (\d+): field (.+) not found in type (\S+)$`)
	yamlDuplicateKey = regexp.MustCompile(`^line (\d+): mapping key "(.*)" already defined at line (\d+)$`)
	yamlWrongType    = regexp.MustCompile("^line (\\d+): cannot unmarshal !!(\\w+)(?: `(.*)`)? into (\\S+)$")
)

// decodeErrors turns the problems of decoding the top level into *Errors with their lines.
func (p *parser) decodeErrors(err error) {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		p.errs = append(p.errs, syntaxError(err))
		return
	}
	for _, msg := range te.Errors {
		e := &Error{Err: fmt.Errorf("%w: %s", ErrType, msg)}
		if m := yamlUnknownField.FindStringSubmatch(msg); m != nil {
			t := yamlTypes[m[3]]
			e.Err = fmt.Errorf("%w: %q in %s (allowed: %s)", ErrUnknownKey, m[2], t.what, t.allowed)
		} else if m := yamlDuplicateKey.FindStringSubmatch(msg); m != nil {
			e.Err = fmt.Errorf("%w: key %q appears twice (first at line %s)", ErrDuplicate, m[2], m[3])
		} else if m := yamlWrongType.FindStringSubmatch(msg); m != nil {
			got := map[string]string{"map": "a mapping", "seq": "a list", "null": "nothing"}[m[2]]
			if got == "" {
				got = strconv.Quote(m[3])
			}
			want := "a mapping"
			if strings.HasPrefix(m[4], "[]") {
				want = "a list"
			}
			e.Err = fmt.Errorf("%w: %s must be %s, got %s", ErrType, yamlTypes[m[4]].what, want, got)
		}
		if m := yamlLine.FindStringSubmatch(msg); m != nil {
			e.Line, _ = strconv.Atoi(m[1])
		}
		if len(p.errs) < maxErrors {
			p.errs = append(p.errs, e)
		}
	}
}

// valueOf returns the value of key in mapping n, or nil.
func valueOf(n *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// set reports whether the key of a decoded node was in the file.
func set(n *yaml.Node) bool { return n.Kind != 0 }
