package features

import "fmt"

// Columns is a dataset that gives its columns one at a time. A Frame holds them all; a file reader
// may read each column when it is asked for and keep none, so that a step that needs one column at a
// time (spec inference, conversion rates, fitting an encoder, binning) need not hold the dataset.
// Steps drop a loaded column when they are done with it.
type Columns interface {
	// Len returns the number of rows.
	Len() int
	// Names returns the names of the columns, in file order.
	Names() []string
	// Kind returns the kind of the named column, KindNone when there is no such column, without
	// reading its values.
	Kind(name string) Kind
	// Load returns the named column, or nil when there is none.
	Load(name string) (*Column, error)
}

// Names returns the names of f's columns, in order.
func (f *Frame) Names() []string {
	names := make([]string, len(f.Columns))
	for i, c := range f.Columns {
		names[i] = c.Name
	}
	return names
}

// Kind returns the kind of the column named name, KindNone when f has none.
func (f *Frame) Kind(name string) Kind {
	if c := f.Column(name); c != nil {
		return c.Kind
	}
	return KindNone
}

// Load returns the column named name, or nil; it never fails.
func (f *Frame) Load(name string) (*Column, error) { return f.Column(name), nil }

// load returns the named column of src after checking it against src's length (nil when there is
// none).
func load(src Columns, name string) (*Column, error) {
	c, err := src.Load(name)
	if err != nil || c == nil {
		return nil, err
	}
	if err := c.check(src.Len()); err != nil {
		return nil, err
	}
	return c, nil
}

// check checks that c holds n rows and the data slice of its kind.
func (c *Column) check(n int) error {
	if c.Len() != n {
		return fmt.Errorf("features: column %q has %d rows, want %d", c.Name, c.Len(), n)
	}
	var data int
	switch c.Kind {
	case KindCategory:
		data = len(c.Str)
	case KindNumber, KindTime:
		data = len(c.Num)
	case KindFlag:
		data = len(c.Bool)
	default:
		return fmt.Errorf("features: column %q has no kind", c.Name)
	}
	if data != n {
		return fmt.Errorf("features: column %q holds %d %s values, want %d", c.Name, data, c.Kind, n)
	}
	return nil
}

// has reports whether src has a column named name.
func has(src Columns, name string) bool { return src.Kind(name) != KindNone }
