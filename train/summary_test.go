package train_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/leadscore/leadscore/train"
	"github.com/leadscore/leadscore/train/dataset"
)

// TestSummaryQuotesScorecardBins: the summary's strongest points of a scorecard quote each bin's
// own contacts and rate (a bin may be a finer range than its rate table's row, whose rate it used to
// quote: "campaign >= 29: 6.1% of 4018 contacts" for a bin of 37 contacts none of whom bought).
func TestSummaryQuotesScorecardBins(t *testing.T) {
	f, labels := generated(t, 4000, 5)
	res, err := train.Train(context.Background(), f, labels, train.Config{Label: "deal_stage", Seed: 2, Model: train.ModelScorecard,
		Exclude: []string{"true_probability"}, Grid: []float64{0.1}})
	if err != nil {
		t.Fatal(err)
	}
	a := res.Artifact
	var out bytes.Buffer
	train.WriteSummary(&out, a, res, dataset.OutcomeCounts{}, nil)
	want := map[string]string{}
	for j, feat := range a.Encoder.Features() {
		b := a.Scorecard.Bins[j]
		want[feat.Name] = fmt.Sprintf("%.1f%% of %d contacts became customers", 100*b.Rate(), b.Contacts)
	}
	_, rest, ok := strings.Cut(out.String(), "Points that raise a score most")
	if !ok {
		t.Fatalf("no strongest points in\n%s", out.String())
	}
	section, _, _ := strings.Cut(rest, "\n\n")
	checked := 0
	for _, line := range strings.Split(section, "\n")[1:] {
		fields := strings.Split(strings.TrimSpace(line), "  ")
		if len(fields) < 2 || !strings.HasPrefix(line, "  ") {
			continue
		}
		name := ""
		for n := range want {
			if strings.Contains(line, "  "+n+"  ") && len(n) > len(name) {
				name = n
			}
		}
		if name == "" {
			t.Errorf("line %q names no bin of the scorecard", line)
			continue
		}
		if !strings.HasSuffix(strings.TrimSpace(line), want[name]) {
			t.Errorf("line %q: want it to quote the bin's own %q", line, want[name])
		}
		checked++
	}
	if checked < 4 {
		t.Errorf("only %d feature lines checked in\n%s", checked, section)
	}
}
