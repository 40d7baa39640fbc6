package dataset

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/leadscore/leadscore/features"
)

func TestOutcomeJoin(t *testing.T) {
	const W, L, O = features.Won, features.Lost, features.Open
	day := func(d int) float64 {
		return features.UnixSeconds(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, d))
	}
	all := []bool{true, true, true, true, true}
	contacts := &features.Frame{Columns: []*features.Column{
		{Name: "lead_id", Kind: features.KindNumber, Num: []float64{101, 102, 103, 104, 105}, Valid: []bool{true, true, true, true, false}},
		{Name: "created", Kind: features.KindTime, Num: []float64{day(0), day(10), day(100), day(170), day(0)}, Valid: all},
	}}
	dir := t.TempDir()
	deals := filepath.Join(dir, "deals.csv")
	// 101 won, 103 lost (a column with values), 999 matches no contact; amount must never be read.
	if err := os.WriteFile(deals, []byte("lead_id,amount,stage\n101,5000,Closed Won\n103,0,Closed Lost\n999,7,Closed Won\n101,1,Closed Lost\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		join OutcomeJoin
		want []features.Label
		err  error
	}{
		// As of day 170: 102 is 160 days old (lost after a 90-day window), 104 is new (open), 105 has no key.
		{"found is won, old is lost, recent is open", OutcomeJoin{File: deals, Key: "lead_id", TimeColumn: "created", Window: 90 * 24 * time.Hour},
			[]features.Label{W, L, W, O, O}, nil},
		{"the file's outcome column", OutcomeJoin{File: deals, Key: "lead_id", Column: "stage", TimeColumn: "created", Window: 90 * 24 * time.Hour},
			[]features.Label{W, L, L, O, O}, nil},
		{"no window: not found is lost", OutcomeJoin{File: deals, Key: "lead_id"}, []features.Label{W, L, W, L, O}, nil},
		{"window without time", OutcomeJoin{File: deals, Key: "lead_id", Window: time.Hour}, nil, ErrJoin},
		{"no key", OutcomeJoin{File: deals, Key: "contact_id"}, nil, ErrJoin},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, counts, err := tt.join.Labels(contacts, ReadOptions{})
			if !errors.Is(err, tt.err) {
				t.Fatalf("err %v, want %v", err, tt.err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("labels %v, want %v", got, tt.want)
			}
			if err == nil && counts.Unmatched != 1 {
				t.Errorf("unmatched %d, want 1 (key 999)", counts.Unmatched)
			}
		})
	}
}
