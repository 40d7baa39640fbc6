package features

import (
	"math"
	"testing"
	"time"
)

// TestValueKey checks that values that differ never share a key, that the same instant in two
// locations does, and which values have none.
func TestValueKey(t *testing.T) {
	distinct := []Value{
		{}, {Kind: KindTime}, Timestamp(time.Unix(0, 0)), Number(0), Number(math.Copysign(0, -1)),
		Flag(false), Flag(true), String(""), String("0"), String("zero"), Timestamp(time.Unix(0, 1)),
		Number(1), String("1"),
	}
	seen := map[Key]int{}
	for i, v := range distinct {
		k, ok := v.Key()
		if !ok {
			t.Errorf("value %d (%+v) has no key", i, v)
			continue
		}
		if j, dup := seen[k]; dup {
			t.Errorf("values %d and %d share the key %+v", j, i, k)
		}
		seen[k] = i
	}
	at := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	k1, _ := Timestamp(at).Key()
	k2, _ := Timestamp(at.In(time.FixedZone("x", 3600))).Key()
	if k1 != k2 {
		t.Errorf("the same instant in two locations has keys %+v and %+v", k1, k2)
	}
	for _, v := range []Value{Number(math.NaN()), Timestamp(time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC)), {Kind: 9}} {
		if k, ok := v.Key(); ok {
			t.Errorf("value %+v has the key %+v", v, k)
		}
	}
}
