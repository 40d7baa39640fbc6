package memo

// A SplitKey is a key that may stand for a text or for a number's bits (never both), which a Split
// keeps in maps of strings and of uint64s: the keys Go looks up on its fast paths.
type SplitKey interface {
	comparable
	// Text returns the text the key stands for, if it stands for one.
	Text() (string, bool)
	// Bits returns the number the key stands for, if it stands for one.
	Bits() (uint64, bool)
}

// Split is a Map for keys that stand mostly for texts and numbers: a text is looked up by itself and
// a number by its bits, other keys by the whole key. It suits a struct key, whose generic hashing and
// equality cost two to four times as much per lookup as a string or a uint64. Two keys that stand
// for the same text (or number) must be equal. Together its maps hold at most the limit it was made
// with. Build it with NewSplit.
type Split[K SplitKey, V any] struct {
	text  *Map[string, V]
	num   *Map[uint64, V]
	other *Map[K, V]
	limit int
}

// NewSplit returns an empty Split that holds at most limit entries (limit <= 0: none).
func NewSplit[K SplitKey, V any](limit int) *Split[K, V] {
	return &Split[K, V]{text: New[string, V](limit), num: New[uint64, V](limit), other: New[K, V](limit), limit: limit}
}

// Get returns the value added for k, if any.
func (m *Split[K, V]) Get(k K) (V, bool) {
	if s, ok := k.Text(); ok {
		return m.text.Get(s)
	}
	if b, ok := k.Bits(); ok {
		return m.num.Get(b)
	}
	return m.other.Get(k)
}

// Add keeps v for k unless k is there already or the Split is full. v must not be changed
// afterwards: concurrent callers of Get share it.
func (m *Split[K, V]) Add(k K, v V) {
	if m.Len() >= m.limit {
		return
	}
	if s, ok := k.Text(); ok {
		m.text.Add(s, v)
	} else if b, ok := k.Bits(); ok {
		m.num.Add(b, v)
	} else {
		m.other.Add(k, v)
	}
}

// Len returns the number of entries.
func (m *Split[K, V]) Len() int { return m.text.Len() + m.num.Len() + m.other.Len() }
