package features

import (
	"math"
	"time"
)

// Key stands for a Value in a map key: two values with equal keys are the same value (the same kind,
// and the same text, number bits, flag or instant), and a Key hashes faster than a Value. Build it with
// Value.Key.
type Key struct {
	str  string
	bits uint64
	kind Kind
}

// The instants a Key holds besides the zero time: those Time.UnixNano holds.
var (
	minKeyTime = time.Unix(0, math.MinInt64+1)
	maxKeyTime = time.Unix(0, math.MaxInt64)
)

// Key returns v's key, and false for a value that has none: a NaN (never equal to itself), a time
// outside the years 1678 to 2262, or an unknown kind. Times in different locations that are the same
// instant have the same key.
func (v Value) Key() (Key, bool) {
	k := Key{kind: v.Kind}
	switch v.Kind {
	case KindNone:
	case KindCategory:
		k.str = v.Str
	case KindNumber:
		if math.IsNaN(v.Num) {
			return k, false
		}
		k.bits = math.Float64bits(v.Num)
	case KindFlag:
		if v.Bool {
			k.bits = 1
		}
	case KindTime:
		switch {
		case v.Time.IsZero():
			k.str = "zero" // told apart from the Unix epoch, whose bits are 0 too
		case v.Time.Before(minKeyTime) || v.Time.After(maxKeyTime):
			return k, false
		default:
			k.bits = uint64(v.Time.UnixNano())
		}
	default:
		return k, false
	}
	return k, true
}

// Text returns the text of a category value's key: keys of the same kind are equal when their texts
// are.
func (k Key) Text() (string, bool) { return k.str, k.kind == KindCategory }

// Bits returns the bits of a number's key: keys of the same kind are equal when their bits are.
func (k Key) Bits() (uint64, bool) { return k.bits, k.kind == KindNumber }
