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
	if asOf.IsZero() {
		asOf = e.ReferenceTime
	}
	now := UnixSeconds(asOf)
	for i := range e.Columns {
		ce := &e.Columns[i]
		if !ce.Binned {
			return fmt.Errorf("features: column %q is not binned: BinValues needs an encoder from Binned", ce.Property)
		}
		c, err := ce.cellOf(vals[i], ix.missing)
		if err != nil {
			return ce.propertyError(vals[i], -1, err)
		}
		dst[i] = ix.offsets[i] + ce.bin(ix.levels[i], c, now)
	}
	return nil
}
