package memo

import (
	"math"
	"strconv"
	"sync"
	"testing"
	"unsafe"
)

func TestMap(t *testing.T) {
	m := New[string, int](3)
	if _, ok := m.Get("a"); ok {
		t.Fatal("empty map found a")
	}
	m.Add("a", 1)
	m.Add("a", 9) // present: kept as it was
	m.Add("b", 2)
	m.Add("c", 3)
	m.Add("d", 4) // full
	for _, tc := range []struct {
		key    string
		want   int
		wantOK bool
	}{{"a", 1, true}, {"b", 2, true}, {"c", 3, true}, {"d", 0, false}} {
		got, ok := m.Get(tc.key)
		if got != tc.want || ok != tc.wantOK {
			t.Errorf("Get(%q) = %d, %v; want %d, %v", tc.key, got, ok, tc.want, tc.wantOK)
		}
	}
	if got := m.Len(); got != 3 {
		t.Errorf("Len() = %d, want 3", got)
	}
}

func TestMapNaNNeverFound(t *testing.T) {
	m := New[float64, string](4)
	m.Add(math.NaN(), "nan")
	if _, ok := m.Get(math.NaN()); ok {
		t.Error("found a NaN key")
	}
}

func TestMapZeroLimit(t *testing.T) {
	m := New[int, int](0)
	m.Add(1, 1)
	if _, ok := m.Get(1); ok || m.Len() != 0 {
		t.Errorf("a map of limit 0 kept an entry (Len %d)", m.Len())
	}
}

// TestMapConcurrent adds and reads from several goroutines (run with -race): every value read is the
// one added for its key, and the limit holds.
func TestMapConcurrent(t *testing.T) {
	const limit, goroutines, keys = 50, 8, 100
	m := New[string, string](limit)
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range keys {
				k := strconv.Itoa((i + g*7) % keys)
				m.Add(k, "v"+k)
				if v, ok := m.Get(k); ok && v != "v"+k {
					t.Errorf("Get(%q) = %q", k, v)
				}
			}
		}()
	}
	wg.Wait()
	if got := m.Len(); got != limit {
		t.Errorf("Len() = %d after %d distinct keys, want the limit %d", got, keys, limit)
	}
}

// splitKey stands for a text (kind 't'), a number's bits (kind 'n') or something else.
type splitKey struct {
	kind byte
	s    string
	n    uint64
}

func (k splitKey) Text() (string, bool) { return k.s, k.kind == 't' }
func (k splitKey) Bits() (uint64, bool) { return k.n, k.kind == 'n' }

// TestSplit checks that a Split finds what was added by each kind of key, tells the kinds apart
// where their text or bits are the same, and holds at most its limit across its maps.
func TestSplit(t *testing.T) {
	m := NewSplit[splitKey, int](4)
	adds := []struct {
		k splitKey
		v int
	}{
		{splitKey{kind: 't', s: "a"}, 1},
		{splitKey{kind: 'n', n: 7}, 2},
		{splitKey{kind: 'f', n: 7}, 3},   // the bits of the number, another kind
		{splitKey{kind: 't', s: "a"}, 9}, // present: kept as it was
		{splitKey{kind: 'z', s: "a"}, 4}, // the text of the first, another kind
		{splitKey{kind: 'n', n: 8}, 5},   // full
	}
	for _, a := range adds {
		m.Add(a.k, a.v)
	}
	for _, tc := range []struct {
		k      splitKey
		want   int
		wantOK bool
	}{
		{splitKey{kind: 't', s: "a"}, 1, true},
		{splitKey{kind: 'n', n: 7}, 2, true},
		{splitKey{kind: 'f', n: 7}, 3, true},
		{splitKey{kind: 'z', s: "a"}, 4, true},
		{splitKey{kind: 'n', n: 8}, 0, false},
		{splitKey{kind: 't', s: "b"}, 0, false},
	} {
		got, ok := m.Get(tc.k)
		if got != tc.want || ok != tc.wantOK {
			t.Errorf("Get(%+v) = %d, %v; want %d, %v", tc.k, got, ok, tc.want, tc.wantOK)
		}
	}
	if got := m.Len(); got != 4 {
		t.Errorf("Len() = %d, want 4", got)
	}
}

func TestTexts(t *testing.T) {
	texts := NewTexts(2, 4)
	a := texts.String([]byte("ab"))
	if b := texts.String([]byte("ab")); b != "ab" || unsafe.StringData(a) != unsafe.StringData(b) {
		t.Fatalf("equal bytes gave %q and %q, not one string", a, b)
	}
	if long := texts.String([]byte("abcde")); long != "abcde" || texts.m.Len() != 1 {
		t.Fatalf("a text over maxLen: %q, %d kept", long, texts.m.Len())
	}
	texts.String([]byte("cd"))
	x, y := texts.String([]byte("ef")), texts.String([]byte("ef")) // full: new strings each time
	if x != "ef" || y != "ef" || unsafe.StringData(x) == unsafe.StringData(y) || texts.m.Len() != 2 {
		t.Fatalf("full: %q, %q, %d kept", x, y, texts.m.Len())
	}
	if n := testing.AllocsPerRun(100, func() { texts.String([]byte("cd")) }); n != 0 {
		t.Fatalf("a kept text cost %v allocations", n)
	}
}
