package features_test

import (
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
