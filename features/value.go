package features

import (
	"fmt"
	"math"
	"time"
)

// Kind is the type of a property or column.
type Kind uint8

// The kinds a property can have. KindNone marks a missing value.
const (
	KindNone     Kind = iota // missing
	KindCategory             // free string or category
	KindNumber               // float64
	KindFlag                 // boolean
	KindTime                 // timestamp
)

var kindNames = [...]string{"none", "category", "number", "flag", "time"}

// String returns the kind's name as written in spec files.
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", k)
}

// ParseKind is the inverse of Kind.String.
func ParseKind(s string) (Kind, error) {
	for i, n := range kindNames {
		if n == s {
			return Kind(i), nil
		}
	}
	return KindNone, fmt.Errorf("features: unknown kind %q", s)
}

// ParseKinds reads a kind (category, number, flag or time) for each column of kinds.
func ParseKinds(kinds map[string]string) (map[string]Kind, error) {
	out := make(map[string]Kind, len(kinds))
	for name, kind := range kinds {
		k, err := ParseKind(kind)
		if err != nil || k == KindNone {
			return nil, fmt.Errorf("features: column %s: kind %q: want category, number, flag or time", name, kind)
		}
		out[name] = k
	}
	return out, nil
}

// MarshalText implements encoding.TextMarshaler.
func (k Kind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (k *Kind) UnmarshalText(b []byte) error {
	v, err := ParseKind(string(b))
	if err != nil {
		return err
	}
	*k = v
	return nil
}

// Value is one property value of a contact. The zero Value is missing.
// Only the field that matches Kind is meaningful.
type Value struct {
	Kind Kind
	Str  string
	Num  float64
	Bool bool
	Time time.Time
}

// String returns a category value.
func String(s string) Value { return Value{Kind: KindCategory, Str: s} }

// Number returns a numeric value.
func Number(f float64) Value { return Value{Kind: KindNumber, Num: f} }

// Flag returns a boolean value.
func Flag(b bool) Value { return Value{Kind: KindFlag, Bool: b} }

// Timestamp returns a time value.
func Timestamp(t time.Time) Value { return Value{Kind: KindTime, Time: t} }

// Missing reports whether v holds no value.
func (v Value) Missing() bool { return v.Kind == KindNone }

// Text renders the value for people: reports, reasons and CSV output.
func (v Value) Text() string {
	switch v.Kind {
	case KindCategory:
		return v.Str
	case KindNumber:
		if v.Num == math.Trunc(v.Num) && math.Abs(v.Num) < 1e15 {
			return fmt.Sprintf("%.0f", v.Num)
		}
		return fmt.Sprintf("%g", v.Num)
	case KindFlag:
		if v.Bool {
			return "true"
		}
		return "false"
	case KindTime:
		return v.Time.UTC().Format(time.RFC3339)
	}
	return ""
}

// Contact is one lead: an identifier and its properties by name.
// A property absent from Props is missing, as is one whose Value is the zero Value.
type Contact struct {
	ID    string
	Props map[string]Value
}
