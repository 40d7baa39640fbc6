package compare_test

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/leadscore/leadscore/features"
	"github.com/leadscore/leadscore/train"
	"github.com/leadscore/leadscore/train/metrics"
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
	s, err := train.Suggest(fx.model, fx.frame, trainRows, train.SuggestOptions{Current: fx.rules})
	if err != nil {
		t.Fatal(err)
	}
	rep := *fx.report
	rep.AddSuggested(s, fx.frame, fx.labels, fx.rows)
	var scores []float64
	var y []bool
	for _, i := range fx.rows {
		scores = append(scores, s.Rules.Score(fx.frame.Contact(i, ""), fx.model.Spec.ReferenceTime).Total)
		y = append(y, fx.labels[i] == features.Won)
	}
	want := metrics.AUC(scores, y)
	if got := rep.Suggested.AUC; got != want {
		t.Errorf("suggested AUC %v, want %v", got, want)
	}
	var page bytes.Buffer
	if err := rep.WriteHTML(&page); err != nil {
		t.Fatal(err)
	}
	html := page.String()
	for _, frag := range []string{"Points rules suggested by the model", fmt.Sprintf("AUC of %.3f", want), "visits ranges"} {
		if !strings.Contains(html, frag) {
			t.Errorf("report lacks %q", frag)
		}
	}
}
