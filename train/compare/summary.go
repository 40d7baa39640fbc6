package compare

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/leadscore/leadscore/models"
)

// Summary writes the comparison in a few lines for a terminal: what was compared, the headline
// numbers of both scores side by side, the headline sentence and the disagreement counts.
// Write errors are ignored, as for fmt.Fprintf to a terminal.
func (r *Report) Summary(w io.Writer) {
	fmt.Fprintf(w, "Compared on %s closed contacts, %s of them customers (%s)", models.Thousands(r.Contacts), models.Thousands(r.Customers), percent1(r.Rate))
	if r.Source != "" {
		fmt.Fprintf(w, ": %s", r.Source)
	}
	fmt.Fprintln(w)
	if r.Excluded.Contacts > 0 {
		fmt.Fprintf(w, "%s more closed contacts matched a manual exclusion and are left out of both scores (%s of them customers).\n",
			models.Thousands(r.Excluded.Contacts), models.Thousands(r.Excluded.Customers))
	}
	fmt.Fprintln(w)
	h := r.Headline
	tw := tabwriter.NewWriter(w, 0, 0, 3, ' ', 0)
	fmt.Fprintf(tw, "\tpredictive\tmanual\n")
	fmt.Fprintf(tw, "AUC\t%s\t%s\n", decimal3(h.Predictive.AUC), decimal3(h.Manual.AUC))
	fmt.Fprintf(tw, "customers in top 10%%\t%s (%s)\t%s (%s)\n", wholePercent(h.Predictive.Top10), models.Thousands(h.Predictive.Top10Customers),
		wholePercent(h.Manual.Top10), models.Thousands(h.Manual.Top10Customers))
	fmt.Fprintf(tw, "customers in top 20%%\t%s (%s)\t%s (%s)\n", wholePercent(h.Predictive.Top20), models.Thousands(h.Predictive.Top20Customers),
		wholePercent(h.Manual.Top20), models.Thousands(h.Manual.Top20Customers))
	fmt.Fprintf(tw, "top tier converts\t%s of %s %s\t%s of %s %s\n",
		percent1(h.Predictive.TopTier.Rate), models.Thousands(h.Predictive.TopTier.Contacts), h.Predictive.TopTier.Name,
		percent1(h.Manual.TopTier.Rate), models.Thousands(h.Manual.TopTier.Contacts), h.Manual.TopTier.Name)
	_ = tw.Flush()
	fmt.Fprintln(w)
	fmt.Fprintln(w, h.Sentence)
	for _, d := range []Disagreements{r.SQLButLow, r.VeryHighButLead} {
		fmt.Fprintf(w, "%s: %s contacts, %s became customers (%s).\n", d.Name, models.Thousands(d.Contacts), models.Thousands(d.Customers), percent1(d.Rate))
	}
}
