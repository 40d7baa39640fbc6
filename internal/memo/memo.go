// Package memo keeps values worked out once per key, for hot paths that read them far more often than
// they add them: the words of a rule hit or a reason for a value already seen.
package memo

import (
	"sync"
	"sync/atomic"
)

// Map is a concurrent map from K to V that holds at most the limit it was made with: once full, Add
// keeps nothing more, so what it holds is the first distinct keys added. Get is one atomic load and a
// map lookup, without locks; Add copies the map, so it suits keys that repeat. Keys that are never
// equal to themselves (a NaN float) are never found; callers leave them out. Build it with New.
type Map[K comparable, V any] struct {
	m     atomic.Pointer[map[K]V] // swapped whole, never mutated
	mu    sync.Mutex              // serialises Add
	limit int
}

// New returns an empty Map that holds at most limit entries (limit <= 0: none).
func New[K comparable, V any](limit int) *Map[K, V] {
	return &Map[K, V]{limit: limit}
}

// Get returns the value added for k, if any.
func (m *Map[K, V]) Get(k K) (V, bool) {
	if p := m.m.Load(); p != nil {
		v, ok := (*p)[k]
		return v, ok
	}
	var zero V
	return zero, false
}

// Add keeps v for k unless k is there already or the map is full. v must not be changed afterwards:
// concurrent callers of Get share it.
func (m *Map[K, V]) Add(k K, v V) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var cur map[K]V
	if p := m.m.Load(); p != nil {
		cur = *p
	}
	if _, ok := cur[k]; ok || len(cur) >= m.limit {
		return
	}
	next := make(map[K]V, len(cur)+1)
	for key, val := range cur {
		next[key] = val
	}
	next[k] = v
	m.m.Store(&next)
}

// Len returns the number of entries.
func (m *Map[K, V]) Len() int {
	if p := m.m.Load(); p != nil {
		return len(*p)
	}
	return 0
}
