package features

import (
	"fmt"
	"time"
)

// BinValues is EncodeValues for a binned encoder (a scorecard's, see Binned), whose every column has
// exactly one output that is 1: it writes the index of column i's in dst[i] (ascending with i)
// instead of the whole vector, whose outputs are all 0 but those. For the same values it finds the
// outputs EncodeValues sets to 1, and gives the same errors; a column that is not binned is an error.
// len(vals) and len(dst) must be len(Columns) (else it panics). It allocates only for errors.
func (e *Encoder) BinValues(vals []Value, asOf time.Time, dst []int) error {
	ix, err := e.index()
	if err != nil {
		return err
	}
	if len(vals) != len(e.Columns) || len(dst) != len(e.Columns) {
		panic(fmt.Sprintf("features: BinValues: len(vals) = %d, len(dst) = %d, want len(Columns) = %d", len(vals), len(dst), len(e.Columns)))
	}
	now := e.unixAsOf(asOf)
	for i := range e.Columns {
		if dst[i], err = e.binOf(ix, i, vals[i], now); err != nil {
			return err
		}
	}
	return nil
}

// BinOf is BinValues for column i alone: the index of its output that is 1 for v, counted from the
// encoder's first output, and the error BinValues gives for v. It panics if i is out of range.
func (e *Encoder) BinOf(i int, v Value, asOf time.Time) (int, error) {
	ix, err := e.index()
	if err != nil {
		return 0, err
	}
	return e.binOf(ix, i, v, e.unixAsOf(asOf))
}

// unixAsOf is asOf in Unix seconds, the reference time for the zero time.
func (e *Encoder) unixAsOf(asOf time.Time) float64 {
	if asOf.IsZero() {
		asOf = e.ReferenceTime
	}
	return UnixSeconds(asOf)
}

// binOf is the one step of BinValues and BinOf.
func (e *Encoder) binOf(ix *encoderIndex, i int, v Value, now float64) (int, error) {
	ce := &e.Columns[i]
	if !ce.Binned {
		return 0, fmt.Errorf("features: column %q is not binned: BinValues needs an encoder from Binned", ce.Property)
	}
	c, err := ce.cellOf(v, ix.missing)
	if err != nil {
		return 0, ce.propertyError(v, -1, err)
	}
	return ix.offsets[i] + ce.bin(ix.levels[i], c, now), nil
}
