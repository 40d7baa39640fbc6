package train

import (
	"slices"
	"testing"
	"time"

	"github.com/leadscore/leadscore/features"
	"github.com/leadscore/leadscore/train/synth"
)

// TestEncodeDesignIsTheDenseMatrix checks that the design encoded a chunk at a time holds exactly the
// dense encoding of the same rows (every entry equal, not close), over several chunks and a last
// partial one, with rows taken out of order and some skipped.
func TestEncodeDesignIsTheDenseMatrix(t *testing.T) {
	f, err := synth.Generate(synth.Config{Rows: 2*encodeChunk + 1000, Seed: 9})
	if err != nil {
		t.Fatal(err)
	}
	spec := features.InferSpec(f, "deal_stage")
	bins := map[string][]float64{"visits": {1, 3, 10}, "employees": {50, 500}}
	enc, err := features.FitEncoder(spec, f, nil, features.EncoderOptions{Bins: bins})
	if err != nil {
		t.Fatal(err)
	}
	var rows []int
	for i := f.Len() - 1; i >= 0; i-- {
		if i%7 != 3 {
			rows = append(rows, i)
		}
	}
	d, err := encodeDesign(enc, f, rows)
	if err != nil {
		t.Fatal(err)
	}
	dense, err := enc.EncodeFrame(f, rows, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	w := enc.Width()
	if d.Rows() != len(rows) || d.Cols() != w {
		t.Fatalf("design %d x %d, want %d x %d", d.Rows(), d.Cols(), len(rows), w)
	}
	if len(d.ValueCols()) == 0 || len(d.ValueCols()) == w {
		t.Fatalf("%d value columns of %d: want both numbers and indicators", len(d.ValueCols()), w)
	}
	bad := 0
	for r := range rows {
		for c := range w {
			if got, want := d.At(r, c), dense[r*w+c]; got != want && bad < 5 {
				bad++
				t.Errorf("row %d (frame row %d), column %d: %v, want %v", r, rows[r], c, got, want)
			}
		}
	}
}

// TestBinRowsAreTheDenseMatrix checks that a scorecard's bins encoded a chunk at a time (binRows)
// are exactly the outputs that are not 0 in the dense encoding of the same rows, over several chunks
// and a last partial one, and that binCounts counts them.
func TestBinRowsAreTheDenseMatrix(t *testing.T) {
	f, err := synth.Generate(synth.Config{Rows: 2*encodeChunk + 1000, Seed: 9})
	if err != nil {
		t.Fatal(err)
	}
	spec := features.InferSpec(f, "deal_stage")
	plain, err := features.FitEncoder(spec, f, nil, features.EncoderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	enc, err := plain.Binned(nil, map[string][]float64{"visits": {1, 3, 10}, "employees": {50, 500}})
	if err != nil {
		t.Fatal(err)
	}
	var rows []int
	for i := f.Len() - 1; i >= 0; i-- {
		if i%7 != 3 {
			rows = append(rows, i)
		}
	}
	x, err := binRows(enc, f, rows)
	if err != nil {
		t.Fatal(err)
	}
	dense, err := enc.EncodeFrame(f, rows, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	w := enc.Width()
	if len(x.ends) != len(rows) {
		t.Fatalf("%d rows of bins, want %d", len(x.ends), len(rows))
	}
	y := make([]float64, len(rows))
	want := make([]binCount, w)
	for r := range rows {
		y[r] = float64(r % 3 % 2)
		var set []uint16
		for c, v := range dense[r*w : (r+1)*w] {
			if v != 0 {
				set = append(set, uint16(c))
				want[c].n++
				want[c].k += int(y[r])
			}
		}
		if got := x.row(r); !slices.Equal(got, set) {
			t.Fatalf("row %d (frame row %d): bins %v, want %v", r, rows[r], got, set)
		}
	}
	if got := binCounts(x, w, y); !slices.Equal(got, want) {
		t.Errorf("bin counts %v, want %v", got, want)
	}
}
