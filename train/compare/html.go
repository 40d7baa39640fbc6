package compare

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/leadscore/leadscore/features"
	"github.com/leadscore/leadscore/models"
	"github.com/leadscore/leadscore/train/dataset"
)

//go:embed report.tmpl
var reportTemplate string

var pageTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"pct0":    wholePercent,
	"pct1":    percent1,
	"dec3":    decimal3,
	"num":     models.Thousands,
	"points":  points,
	"signed":  signedPoints,
	"heat":    heatStyle,
	"better":  better,
	"outcome": outcomeWord,
	"date":    func(r *Report) string { return r.AsOf.UTC().Format("2 January 2006") },
	// The leakage audit has already dropped the columns too strong to be true, so "very strong"
	// carries no warning here, unlike report.StrengthWord.
	"strength": features.StrengthBand,
	"joinHits": joinHits,
	"list":     func(ds ...Disagreements) []Disagreements { return ds },
	"heatArgs": func(m *Matrix, overall, top float64, id string) heatArgs {
		return heatArgs{M: m, Overall: overall, Top: top, ID: id}
	},
}).Parse(reportTemplate))

// heatArgs is what the "heat" template draws: a matrix, its colour scale and the table's id.
type heatArgs struct {
	M            *Matrix
	Overall, Top float64
	ID           string
}

// page is what the template renders.
type page struct {
	*Report
	Charts map[string]Chart
}

// WriteHTML writes the report as one self-contained HTML page: inline CSS, charts as inline SVG, no
// script and nothing fetched from the network. It reads well on a laptop screen and prints.
func (r *Report) WriteHTML(w io.Writer) error {
	charts, err := r.charts()
	if err != nil {
		return err
	}
	pg := page{Report: r, Charts: map[string]Chart{}}
	for _, c := range charts {
		pg.Charts[c.ID] = c
	}
	if err := pageTemplate.Execute(w, pg); err != nil {
		return fmt.Errorf("compare: writing the report: %w", err)
	}
	return nil
}

// The heat-map palette: cold (no customers), neutral (the overall rate) and hot (the hottest rate).
var (
	heatCold    = [3]float64{0x2b, 0x6c, 0xb0}
	heatNeutral = [3]float64{0xf5, 0xf2, 0xe8}
	heatHot     = [3]float64{0xc8, 0x2a, 0x1e}
)

// heatColour returns the background of a cell whose conversion rate is rate, on a scale from cold at
// 0 through neutral at the overall rate to hot at top and above, and whether its text should be light.
// A cell of fewer than heatMinContacts contacts is faded towards grey: its rate says little.
func heatColour(rate, overall, top float64, contacts int) (string, bool) {
	var from, to [3]float64
	var t float64
	switch {
	case rate <= overall || top <= overall:
		from, to = heatCold, heatNeutral
		if overall > 0 {
			t = rate / overall
		}
	default:
		from, to = heatNeutral, heatHot
		t = (rate - overall) / (top - overall)
	}
	t = math.Max(0, math.Min(1, t))
	var rgb [3]float64
	for k := range rgb {
		rgb[k] = from[k] + t*(to[k]-from[k])
	}
	// Light text on the darker ends of the scale.
	light := (from == heatCold && t < 0.35) || (to == heatHot && t > 0.6)
	if contacts < heatMinContacts {
		for k := range rgb {
			rgb[k] += heatFade * (heatEmpty[k] - rgb[k])
		}
		light = false
	}
	return fmt.Sprintf("#%02x%02x%02x", int(math.Round(rgb[0])), int(math.Round(rgb[1])), int(math.Round(rgb[2]))), light
}

// heatEmpty is the grey of an empty cell; heatFade how far a cell of few contacts fades towards it.
var heatEmpty = [3]float64{0xf3, 0xf4, 0xf6}

const heatFade = 0.7

// heatStyle is the inline style of a heat-map cell.
func heatStyle(c Cell, overall, top float64) template.CSS {
	if c.Contacts == 0 {
		return "background:#f3f4f6;color:#9aa1ab"
	}
	bg, light := heatColour(c.Rate, overall, top, c.Contacts)
	fg := "#1b1f24"
	if light {
		fg = "#ffffff"
	}
	return template.CSS("background:" + bg + ";color:" + fg)
}

// better marks the side that wins a headline row: "win" for the higher value, "" otherwise.
func better(a, b float64) string {
	if a > b {
		return "win"
	}
	return ""
}

func outcomeWord(won bool) string {
	if won {
		return "customer"
	}
	return "lost"
}

// joinHits words a contact's rule hits: "Bottom-of-funnel form +50, Free e-mail address -10".
func joinHits(d Disagreement) string {
	parts := make([]string, len(d.Hits))
	for k, h := range d.Hits {
		parts[k] = h.Rule + " " + signedPoints(h.Points)
	}
	return strings.Join(parts, ", ")
}

// WriteFiles writes the whole report into dir (created if needed): report.html (WriteHTML, written
// atomically) and the CSV tables (WriteCSV). It returns the page's path.
func (r *Report) WriteFiles(dir string) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("compare: %w", err)
	}
	page := filepath.Join(dir, "report.html")
	if err := dataset.WriteAtomic(page, r.WriteHTML); err != nil {
		return "", err
	}
	return page, r.WriteCSV(dir)
}
