package train

import (
	"fmt"

	"github.com/leadscore/leadscore/features"
)

// Source is training data read a column at a time (features.Columns), which can also give whole
// contacts of some rows: a frame held in memory (FrameSource), or Parquet files whose columns are read
// when a step asks for them and dropped after (dataset.OpenColumns), so that training holds one
// column at a time, its design and the holdout instead of the dataset.
type Source interface {
	features.Columns
	// Rows returns a frame holding the named columns (at least; nil: every column) of the given
	// rows (ascending), and where each of them is in that frame, in order.
	Rows(rows []int, names []string) (*features.Frame, []int, error)
	// Close releases what the data holds (files of spilled columns).
	Close() error
}

// FrameSource is the Source of a frame held in memory: its Rows is the frame itself, every column.
func FrameSource(f *features.Frame) Source { return frameSource{f} }

type frameSource struct{ *features.Frame }

func (s frameSource) Rows(rows []int, _ []string) (*features.Frame, []int, error) {
	return s.Frame, rows, nil
}

func (frameSource) Close() error { return nil }

// frameOf returns a frame of the named columns of src (src's own frame when it holds one).
func frameOf(src Source, names []string) (*features.Frame, error) {
	if fs, ok := src.(frameSource); ok {
		return fs.Frame, nil
	}
	f := &features.Frame{}
	for _, name := range names {
		c, err := src.Load(name)
		if err != nil {
			return nil, err
		}
		if c == nil {
			return nil, fmt.Errorf("%w: %q", features.ErrMissingColumn, name)
		}
		f.Columns = append(f.Columns, c)
	}
	return f, nil
}
