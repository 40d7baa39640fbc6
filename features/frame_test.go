package features_test

import (
	"reflect"
	"testing"

	"github.com/leadscore/leadscore/features"
)

// TestFrameKindsFind checks Frame.Kinds and Frame.Find on a small hand-made frame.
func TestFrameKindsFind(t *testing.T) {
	id := features.NewColumn("id", features.KindCategory, 3)
	id.Str = []string{"a", "b", "c"}
	n := features.NewColumn("visits", features.KindNumber, 3)
	n.Num = []float64{1, 2, 3}
	id.Valid, n.Valid = []bool{true, true, true}, []bool{true, true, true}
	f := &features.Frame{Columns: []*features.Column{id, n}}
	if got := f.Kinds(); len(got) != 2 || got["id"] != features.KindCategory || got["visits"] != features.KindNumber {
		t.Errorf("Kinds() = %v", got)
	}
	for _, tt := range []struct {
		column, id string
		row        int
		ok         bool
	}{{"id", "b", 1, true}, {"id", "z", 0, false}, {"nope", "a", 0, false}, {"visits", "3", 2, true}} {
		if row, ok := f.Find(tt.column, tt.id); row != tt.row || ok != tt.ok {
			t.Errorf("Find(%q, %q) = %d, %v; want %d, %v", tt.column, tt.id, row, ok, tt.row, tt.ok)
		}
	}
}

// TestParseKinds checks that every kind name reads and that anything else names its column.
func TestParseKinds(t *testing.T) {
	got, err := features.ParseKinds(map[string]string{"zip": "category", "score": "number"})
	if err != nil || got["zip"] != features.KindCategory || got["score"] != features.KindNumber {
		t.Errorf("ParseKinds = %v, %v", got, err)
	}
	if _, err := features.ParseKinds(map[string]string{"zip": "text"}); err == nil {
		t.Error("ParseKinds(zip=text): no error")
	}
}

// TestFrameSlice: a slice of rows reads as those rows of the frame, for every kind.
func TestFrameSlice(t *testing.T) {
	f := &features.Frame{Columns: []*features.Column{
		{Name: "s", Kind: features.KindCategory, Str: []string{"a", "b", "c"}, Valid: []bool{true, false, true}},
		{Name: "n", Kind: features.KindNumber, Num: []float64{1, 2, 3}, Valid: []bool{true, true, true}},
		{Name: "f", Kind: features.KindFlag, Bool: []bool{true, false, true}, Valid: []bool{true, true, false}},
		{Name: "t", Kind: features.KindTime, Num: []float64{10, 20, 30}, Valid: []bool{true, true, true}},
	}}
	s := f.Slice(1, 3)
	if err := s.Validate(); err != nil || s.Len() != 2 {
		t.Fatalf("Slice(1, 3): %d rows, %v", s.Len(), err)
	}
	for r := range 2 {
		if got, want := s.Contact(r, "s"), f.Contact(r+1, "s"); !reflect.DeepEqual(got, want) {
			t.Errorf("row %d of the slice: %+v, want %+v", r, got, want)
		}
	}
}
