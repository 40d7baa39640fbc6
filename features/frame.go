package features

import "time"

// Column is one typed column of a dataset. Exactly one of Str, Num or Bool holds the data, chosen by
// Kind: KindCategory uses Str, KindNumber uses Num, KindFlag uses Bool and KindTime uses Num holding
// Unix seconds (fractional seconds allowed). Valid[i] is false where row i is missing; the data slot
// of a missing row holds the zero value and must be ignored.
type Column struct {
	Name  string
	Kind  Kind
	Str   []string
	Num   []float64
	Bool  []bool
	Valid []bool
}

// NewColumn returns a column of n missing rows with the data slice its kind uses.
func NewColumn(name string, kind Kind, n int) *Column {
	c := &Column{Name: name, Kind: kind, Valid: make([]bool, n)}
	switch kind {
	case KindCategory:
		c.Str = make([]string, n)
	case KindFlag:
		c.Bool = make([]bool, n)
	default:
		c.Num = make([]float64, n)
	}
	return c
}

// Len returns the number of rows in c.
func (c *Column) Len() int { return len(c.Valid) }

// Value returns row i as a Value (the zero Value when missing).
func (c *Column) Value(i int) Value {
	if !c.Valid[i] {
		return Value{}
	}
	switch c.Kind {
	case KindCategory:
		return String(c.Str[i])
	case KindNumber:
		return Number(c.Num[i])
	case KindFlag:
		return Flag(c.Bool[i])
	case KindTime:
		return Timestamp(UnixTime(c.Num[i]))
	}
	return Value{}
}

// UnixTime converts Unix seconds, as stored in a KindTime column, to a UTC time.
func UnixTime(sec float64) time.Time {
	whole := int64(sec)
	return time.Unix(whole, int64((sec-float64(whole))*1e9)).UTC()
}

// UnixSeconds converts t to the Unix seconds stored in a KindTime column.
func UnixSeconds(t time.Time) float64 {
	return float64(t.Unix()) + float64(t.Nanosecond())/1e9
}

// Frame is a columnar dataset: columns of equal length, in file order.
type Frame struct {
	Columns []*Column
}

// Len returns the number of rows; 0 for a frame with no columns.
func (f *Frame) Len() int {
	if len(f.Columns) == 0 {
		return 0
	}
	return f.Columns[0].Len()
}

// Slice returns rows [lo, hi) of f, sharing f's storage.
func (f *Frame) Slice(lo, hi int) *Frame {
	out := &Frame{Columns: make([]*Column, len(f.Columns))}
	for i, c := range f.Columns {
		s := &Column{Name: c.Name, Kind: c.Kind, Valid: c.Valid[lo:hi]}
		switch {
		case c.Str != nil:
			s.Str = c.Str[lo:hi]
		case c.Bool != nil:
			s.Bool = c.Bool[lo:hi]
		case c.Num != nil:
			s.Num = c.Num[lo:hi]
		}
		out.Columns[i] = s
	}
	return out
}

// Column returns the column named name, or nil.
func (f *Frame) Column(name string) *Column {
	for _, c := range f.Columns {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// Kinds maps the name of each column to its kind.
func (f *Frame) Kinds() map[string]Kind {
	kinds := make(map[string]Kind, len(f.Columns))
	for _, c := range f.Columns {
		kinds[c.Name] = c.Kind
	}
	return kinds
}

// Find returns the first row whose value in column idColumn reads id (as Value.Text), and whether
// there is one; none when the frame has no such column.
func (f *Frame) Find(idColumn, id string) (int, bool) {
	if col := f.Column(idColumn); col != nil {
		for i := range col.Len() {
			if col.Value(i).Text() == id {
				return i, true
			}
		}
	}
	return 0, false
}

// Contact returns row i as a contact; idColumn, if not empty, names the column that gives Contact.ID.
func (f *Frame) Contact(i int, idColumn string) Contact {
	c := Contact{Props: make(map[string]Value, len(f.Columns))}
	for _, col := range f.Columns {
		v := col.Value(i)
		if col.Name == idColumn {
			c.ID = v.Text()
		}
		if !v.Missing() {
			c.Props[col.Name] = v
		}
	}
	return c
}

// Validate checks that every column is consistent with its kind and the frame's length.
func (f *Frame) Validate() error {
	n := f.Len()
	for _, c := range f.Columns {
		if err := c.check(n); err != nil {
			return err
		}
	}
	return nil
}
