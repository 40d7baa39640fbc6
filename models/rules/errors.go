package rules

import (
	"errors"
	"fmt"
	"strings"
)

// The causes of a rules error. They always arrive wrapped in an *Error that says where the problem is;
// test for them with errors.Is.
var (
	ErrSyntax          = errors.New("invalid yaml")
	ErrUnknownKey      = errors.New("unknown key")
	ErrMissing         = errors.New("missing field")
	ErrType            = errors.New("wrong type")
	ErrEmpty           = errors.New("empty criteria")
	ErrRange           = errors.New("invalid range")
	ErrOverlap         = errors.New("overlapping ranges")
	ErrUnknownGroup    = errors.New("unknown group")
	ErrDuplicate       = errors.New("duplicate name")
	ErrThresholds      = errors.New("thresholds not increasing")
	ErrUnknownProperty = errors.New("unknown property")
	ErrKind            = errors.New("criterion does not fit the property's kind")
)

// Error is a problem in a rules file, or between a rules file and a model's schema. Parse and the Check
// methods may return several joined with errors.Join; errors.As finds the first.
type Error struct {
	Line     int    // 1-based line in the rules file; 0 when unknown
	Rule     string // the rule, group or exclusion involved, when known
	Property string // the contact property involved, when known
	Err      error  // the cause, wrapping one of the Err* sentinels
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("rules: ")
	if e.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", e.Line)
	}
	if e.Rule != "" {
		fmt.Fprintf(&b, "%q: ", e.Rule)
	}
	if e.Property != "" {
		fmt.Fprintf(&b, "property %s: ", e.Property)
	}
	b.WriteString(e.Err.Error())
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }
