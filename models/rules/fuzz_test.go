package rules

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/leadscore/leadscore/features"
)

// FuzzParse checks that Parse never panics, returns either rules or an error starting with "rules:",
// and that rules it accepts score contacts of any kind without panicking or giving NaN, with the details
// referenceDetail gives.
func FuzzParse(f *testing.F) {
	for _, tt := range validFiles {
		f.Add(tt.src)
	}
	for _, tt := range invalidFiles {
		f.Add(tt.src)
	}
	if data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "rules.yaml")); err == nil {
		f.Add(string(data))
	}
	at := time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)
	values := []features.Value{
		features.String("5"), features.String("VP Sales"), features.String("ana@gmail.com"),
		features.Number(3), features.Number(-1e300), features.Number(math.NaN()), features.Flag(true),
		features.Timestamp(at.Add(-48 * time.Hour)), {},
	}
	f.Fuzz(func(t *testing.T, src string) {
		r, err := Parse([]byte(src))
		if err != nil {
			if r != nil {
				t.Fatalf("Parse returned rules and %v", err)
			}
			if !strings.HasPrefix(err.Error(), "rules: ") {
				t.Fatalf("error %q does not start with \"rules: \"", err)
			}
			return
		}
		props := r.Properties()
		for i, v := range values {
			c := features.Contact{Props: map[string]features.Value{}}
			for j, p := range props {
				c.Props[p] = values[(i+j)%len(values)]
			}
			c.Props["first"] = v
			res := r.Score(c, at)
			if math.IsNaN(res.Total) {
				t.Fatalf("total is NaN for %v", c.Props)
			}
			if res.Total != r.Summary(c, at).Total {
				t.Fatalf("Score and Summary disagree")
			}
			want := referenceDetails(r, c, at)
			for j := range want {
				if res.Hits[j].Detail != want[j] {
					t.Fatalf("%s: detail %q, the reference words it %q", res.Hits[j].Rule, res.Hits[j].Detail, want[j])
				}
			}
		}
	})
}
