package serve

import (
	"cmp"
	"slices"
	"strings"
	"sync"

	"github.com/leadscore/leadscore/features"
	"github.com/leadscore/leadscore/models"
	leadscorev1 "github.com/leadscore/leadscore/proto/leadscore/v1"
)

// binding lays out the properties that one model version and its rules read, so that a contact is
// converted once into a row of values that the model and the rules both read by index, without a
// map lookup per property read: the model's columns first, in the encoder's order (what
// models.Artifact.PredictValues takes), then the properties only the rules read. A binding is made
// once per version and rules (see versionState.bindingFor) and never mutated.
type binding struct {
	rules *loadedRules // the rules it lays out with the model; nil for none
	// slot maps every property the version's spec or the rules know to its index in a row, or to -1
	// for one that the spec lists and nothing reads.
	slot  map[string]int
	width int // the length of a row
	ncols int // row[:ncols] are the values of the model's columns
	// ruleSlots holds, for each of the rules' Properties() (the values rules.ScoreValues takes), its
	// index in a row.
	ruleSlots []int
	used      []int // the indexes in a row of vs.used, the properties the model reads, in that order
	// names and slots list slot: a contact's properties are looked up by them (see fill).
	names []string
	slots []int
}

func newBinding(vs *versionState, lr *loadedRules) *binding {
	enc := vs.artifact.Encoder
	b := &binding{rules: lr, slot: make(map[string]int, len(enc.Columns)+len(enc.Ignore)), ncols: len(enc.Columns)}
	for i := range enc.Columns {
		b.slot[enc.Columns[i].Property] = i
	}
	b.width = b.ncols
	for _, name := range enc.Ignore {
		if _, ok := b.slot[name]; !ok {
			b.slot[name] = -1
		}
	}
	if lr != nil {
		for _, name := range lr.rules.Properties() {
			i, ok := b.slot[name]
			if !ok || i < 0 {
				i = b.width
				b.width++
				b.slot[name] = i
			}
			b.ruleSlots = append(b.ruleSlots, i)
		}
	}
	for _, name := range vs.used {
		i, ok := b.slot[name]
		if !ok || i < 0 {
			// A property the spec uses is one of the encoder's columns; were it not, it would count
			// as missing, as the encoder reads it.
			i = b.width
			b.width++
			b.slot[name] = i
		}
		b.used = append(b.used, i)
	}
	// Names with a slot first, in slot order, then those nothing reads by name: fill stops once it
	// has found every property of a contact, so the properties most contacts have come first.
	for name := range b.slot {
		b.names = append(b.names, name)
	}
	slices.SortFunc(b.names, func(x, y string) int {
		i, j := b.slot[x], b.slot[y]
		if (i < 0) != (j < 0) {
			return cmp.Compare(j, i)
		}
		if i >= 0 {
			return cmp.Compare(i, j)
		}
		return strings.Compare(x, y)
	})
	for _, name := range b.names {
		b.slots = append(b.slots, b.slot[name])
	}
	return b
}

// bindingFor returns the binding of vs with lr, made on first use and again when the rules change.
func (vs *versionState) bindingFor(lr *loadedRules) *binding {
	if b := vs.bound.Load(); b != nil && b.rules == lr {
		return b
	}
	b := newBinding(vs, lr)
	vs.bound.Store(b)
	return b
}

// row is one contact converted by a binding, pooled: its values and, for the rules, the same values
// in their order.
type row struct {
	vals    []features.Value
	rules   []features.Value
	unknown []string        // properties of the contact that neither the spec nor the rules know
	reasons []models.Reason // the model's reasons for the contact, copied into the answer
}

var rowPool = sync.Pool{New: func() any { return new(row) }}

// maxPooledRow bounds the values a pooled row keeps, so that one contact of a huge model or rules
// file does not pin its memory.
const maxPooledRow = 4096

// borrowRow converts pc by b into a pooled row; the caller must release it once nothing refers to
// its values' memory (strings read from them may be kept), even when borrowRow fails. Conversion
// errors are those of valueFromProto and a contact with over MaxProperties properties.
func borrowRow(b *binding, pc *leadscorev1.Contact) (*row, error) {
	r := rowPool.Get().(*row)
	return r, r.fill(b, pc)
}

// fill converts pc by b into r, which must be empty.
func (r *row) fill(b *binding, pc *leadscorev1.Contact) error {
	r.vals = grow(r.vals, b.width)
	if err := checkSize(pc); err != nil {
		return err
	}
	// Most contacts have only properties the binding knows: looking those up costs about half of
	// walking the contact's map and looking each of its names up in the binding's. When some
	// property was not found that way, the walk does it all again and finds the unknown ones.
	props := pc.GetProperties()
	found := 0
	for k, name := range b.names {
		if found == len(props) {
			break // the others are not in the contact
		}
		v, ok := props[name]
		if !ok {
			continue
		}
		found++
		fv, err := valueFromProto(name, v)
		if err != nil {
			return err
		}
		if i := b.slots[k]; i >= 0 && !fv.Missing() {
			r.vals[i] = fv
		}
	}
	if found < len(props) {
		clear(r.vals)
		return r.fillAll(b, props)
	}
	r.fillRules(b)
	return nil
}

// fillAll is fill by walking the contact's properties, which finds those the binding does not know.
func (r *row) fillAll(b *binding, props map[string]*leadscorev1.Value) error {
	for name, v := range props {
		fv, err := valueFromProto(name, v)
		if err != nil {
			return err
		}
		if fv.Missing() {
			continue // an unset value: as if the contact had no such property
		}
		if i, ok := b.slot[name]; ok {
			if i >= 0 {
				r.vals[i] = fv
			}
			continue
		}
		r.unknown = append(r.unknown, name)
	}
	r.fillRules(b)
	return nil
}

// fillRules copies the values the rules read into r.rules, in their order.
func (r *row) fillRules(b *binding) {
	if b.rules != nil {
		r.rules = grow(r.rules, len(b.ruleSlots))
		for i, j := range b.ruleSlots {
			r.rules[i] = r.vals[j]
		}
	}
}

// grow returns s resized to n zero values.
func grow(s []features.Value, n int) []features.Value {
	if cap(s) < n {
		return make([]features.Value, n)
	}
	return s[:n]
}

func (r *row) release() {
	if cap(r.vals) > maxPooledRow || cap(r.rules) > maxPooledRow || cap(r.unknown) > maxPooledRow {
		return
	}
	// The pool must not keep the contact's strings alive.
	clear(r.vals)
	clear(r.rules)
	clear(r.unknown)
	clear(r.reasons)
	r.vals, r.rules, r.unknown, r.reasons = r.vals[:0], r.rules[:0], r.unknown[:0], r.reasons[:0]
	rowPool.Put(r)
}

// present is how many of the properties the model reads the contact has a value for.
func (r *row) present(b *binding) int {
	n := 0
	for _, i := range b.used {
		if !r.vals[i].Missing() {
			n++
		}
	}
	return n
}
