package report

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/leadscore/leadscore/features"
	"github.com/leadscore/leadscore/models"
)

// WritePoints writes a scorecard's points sheet: the scaling, the base points every contact starts
// with, then per property (by how far its points reach, widest first) each bin with its whole points,
// training contacts and conversion rate. A contact's score is the base plus the points of its bins;
// the probability is 1 / (1 + exp(-(score - offset) / factor)) with the offset and factor printed.
func WritePoints(w io.Writer, p *models.Points) error {
	if p == nil {
		_, err := fmt.Fprintln(w, "not a scorecard: no points sheet (train with --model scorecard)")
		return err
	}
	var b strings.Builder
	sc := &models.Scorecard{PDO: p.PDO, BaseScore: p.BaseScore, BaseOdds: p.BaseOdds}
	fmt.Fprintf(&b, "points sheet: %g points at odds %.4g, %g more points double the odds; every contact starts with %d points\n",
		p.BaseScore, p.BaseOdds, p.PDO, models.Rounded(p.Base))
	fmt.Fprintf(&b, "probability = 1 / (1 + exp(-(score - %.4f) / %.4f))\n", sc.Offset(), sc.Factor())
	props := slices.Clone(p.Properties)
	slices.SortStableFunc(props, func(a, b models.PropertyPoints) int { return cmp.Compare(b.Range, a.Range) })
	for _, pp := range props {
		fmt.Fprintf(&b, "\n%s (%s, %s)\n", pp.Property, pp.Kind, pp.Group)
		cells := [][]string{{"value", "points", "contacts", "rate"}}
		for _, bin := range pp.Bins {
			cells = append(cells, []string{BinLabel(bin.Feature), signed(models.Rounded(bin.Points)), models.Thousands(bin.Contacts), percent(bin.Rate())})
		}
		writeAligned(&b, cells)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// BinLabel names a scorecard bin for people: the value, the range, "(other)", "(missing)", or
// "(any value)" for the one range of a number without cut points.
func BinLabel(f features.Feature) string {
	if f.Value == "" {
		return "(any value)"
	}
	return f.Value
}

func signed(n int) string {
	if n > 0 {
		return "+" + strconv.Itoa(n)
	}
	return strconv.Itoa(n)
}
