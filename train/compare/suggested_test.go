package compare_test

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/leadscore/leadscore/features"
	"github.com/leadscore/leadscore/models/rules"
	"github.com/leadscore/leadscore/train/compare"
	"github.com/leadscore/leadscore/train/metrics"
	"github.com/leadscore/leadscore/train/suggest"
)

// TestSuggestedSection attaches rules suggested from the model and checks the report judges them on
// the compared contacts (AUC recomputed here) and shows them.
func TestSuggestedSection(t *testing.T) {
	fx := mustFixture(t)
	var trainRows []int
	for i, l := range fx.labels {
		if _, held := slices.BinarySearch(fx.rows, i); l.Closed() && !held {
			trainRows = append(trainRows, i)
		}
	}
	s, err := suggest.FromModel(fx.model, fx.frame, trainRows, suggest.Options{Current: fx.rules})
	if err != nil {
		t.Fatal(err)
	}
	// With an exclusion that matches holdout contacts, the suggested rules must be judged on the
	// contacts left after it, as both scores are.
	withExclusion, err := rules.Parse([]byte(exclusionRules))
	if err != nil {
		t.Fatal(err)
	}
	var rep *compare.Report
	var want float64
	for _, tt := range []struct {
		name          string
		manual        *rules.Rules
		wantExclusion bool
	}{
		{"fixture rules", fx.rules, false},
		{"rules with an exclusion", withExclusion, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			at := fx.model.Spec.ReferenceTime
			r, err := compare.Build(fx.model, tt.manual, fx.frame, fx.labels, fx.rows, at)
			if err != nil {
				t.Fatal(err)
			}
			r.AddSuggested(s, fx.frame, fx.labels)
			// The compared contacts: closed, and not excluded by the manual rules.
			var scores []float64
			var y []bool
			excluded := 0
			for _, i := range fx.rows {
				c := fx.frame.Contact(i, "")
				if !fx.labels[i].Closed() {
					continue
				}
				if tt.manual.Score(c, at).ExcludedBy != "" {
					excluded++
					continue
				}
				scores = append(scores, s.Rules.Score(c, at).Total)
				y = append(y, fx.labels[i] == features.Won)
			}
			if (excluded > 0) != tt.wantExclusion {
				t.Fatalf("%d holdout contacts excluded by the manual rules; want some: %v", excluded, tt.wantExclusion)
			}
			if len(scores) != r.Contacts {
				t.Fatalf("%d compared contacts here, the report compares %d", len(scores), r.Contacts)
			}
			if got, w := r.Suggested.AUC, metrics.AUC(scores, y); got != w {
				t.Errorf("suggested AUC %v, want %v", got, w)
			}
			if !tt.wantExclusion {
				rep, want = r, r.Suggested.AUC
			}
		})
	}
	if rep == nil {
		t.FailNow()
	}
	var page bytes.Buffer
	if err := rep.WriteHTML(&page); err != nil {
		t.Fatal(err)
	}
	html := page.String()
	for _, frag := range []string{"Points rules suggested by the model", fmt.Sprintf("AUC of %.3f", want), "visits is "} {
		if !strings.Contains(html, frag) {
			t.Errorf("report lacks %q", frag)
		}
	}
}
