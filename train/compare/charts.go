package compare

import (
	"bytes"
	"fmt"
	"html/template"
	"image/color"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"
)

// The colours of the two scores, the random baseline and the page's text, shared by charts and page.
var (
	predictiveColour = color.RGBA{R: 0x1d, G: 0x5f, B: 0xbf, A: 0xff} // blue
	manualColour     = color.RGBA{R: 0xe0, G: 0x7a, B: 0x10, A: 0xff} // orange
	baselineColour   = color.RGBA{R: 0x8a, G: 0x8f, B: 0x98, A: 0xff}
	inkColour        = color.RGBA{R: 0x22, G: 0x26, B: 0x2e, A: 0xff}
	gridColour       = color.RGBA{R: 0xe3, G: 0xe6, B: 0xea, A: 0xff}
)

// chartWidth and chartHeight are the charts' drawing size; the page scales them to its column.
const (
	chartWidth  = 6 * vg.Inch
	chartHeight = 3.9 * vg.Inch
)

// Chart is one rendered chart: an id for the page, a title, a caption in plain words and the inline SVG.
type Chart struct {
	ID      string
	Title   string
	Caption string
	SVG     template.HTML
}

// charts renders the report's charts.
func (r *Report) charts() ([]Chart, error) {
	type build struct {
		id, title, caption string
		plot               func() (*plot.Plot, error)
	}
	builds := []build{
		{"gains", "Cumulative gains",
			"Share of all customers reached after calling the best-ranked contacts first. The higher the curve, the fewer calls it takes to reach the customers; the dashed line is calling in random order.",
			r.gainsPlot},
		{"lift", "Lift",
			"How many times the average conversion rate the best-ranked contacts convert at, after calling each tenth of them. Lift 1 is random order.",
			r.liftPlot},
		{"rates", "Conversion rate by predictive priority and manual stage",
			"Share of the contacts in each priority tier (blue) and each manual stage (orange) that became customers.",
			r.ratesPlot},
		{"calibration", "Calibration of the predicted probability",
			"Each point is a tenth of the probability scale: the average predicted probability of its contacts against the share that became customers. On the dashed line the probability means what it says.",
			r.calibrationPlot},
	}
	out := make([]Chart, 0, len(builds))
	for _, b := range builds {
		p, err := b.plot()
		if err != nil {
			return nil, fmt.Errorf("compare: %s chart: %w", b.id, err)
		}
		svg, err := renderSVG(p)
		if err != nil {
			return nil, fmt.Errorf("compare: %s chart: %w", b.id, err)
		}
		out = append(out, Chart{ID: b.id, Title: b.title, Caption: b.caption, SVG: svg})
	}
	return out, nil
}

// newPlot returns a plot styled for the page: sans-serif text, light grid, no title (the page gives it).
func newPlot(xLabel, yLabel string) *plot.Plot {
	p := plot.New()
	for _, s := range []*plot.Axis{&p.X, &p.Y} {
		s.Label.TextStyle.Font.Variant = "Sans"
		s.Label.TextStyle.Font.Size = vg.Points(13)
		s.Label.TextStyle.Color = inkColour
		s.Tick.Label.Font.Variant = "Sans"
		s.Tick.Label.Font.Size = vg.Points(11)
		s.Tick.Label.Color = inkColour
		s.Color = baselineColour
		s.Tick.Color = baselineColour
	}
	p.X.Label.Text, p.Y.Label.Text = xLabel, yLabel
	p.Legend.TextStyle.Font.Variant = "Sans"
	p.Legend.TextStyle.Font.Size = vg.Points(12)
	p.Legend.TextStyle.Color = inkColour
	grid := plotter.NewGrid()
	grid.Vertical.Color, grid.Horizontal.Color = gridColour, gridColour
	p.Add(grid)
	return p
}

// percentTicks labels an axis from lo to hi (shares) every step as percents.
func percentTicks(lo, hi, step float64) plot.ConstantTicks {
	var ticks plot.ConstantTicks
	for v := lo; v <= hi+1e-9; v += step {
		ticks = append(ticks, plot.Tick{Value: v, Label: fmt.Sprintf("%.0f%%", 100*v)})
	}
	return ticks
}

func line(xys plotter.XYs, c color.Color, width vg.Length, dashed bool) (*plotter.Line, error) {
	l, err := plotter.NewLine(xys)
	if err != nil {
		return nil, err
	}
	l.LineStyle.Color, l.LineStyle.Width = c, width
	if dashed {
		l.LineStyle.Dashes = []vg.Length{vg.Points(5), vg.Points(4)}
	}
	return l, nil
}

func (r *Report) gainsPlot() (*plot.Plot, error) {
	p := newPlot("contacts called, best-ranked first", "customers reached")
	pred, man := make(plotter.XYs, len(r.Gains)), make(plotter.XYs, len(r.Gains))
	for k, g := range r.Gains {
		x := float64(g.Percent) / 100
		pred[k] = plotter.XY{X: x, Y: g.PredictiveGain}
		man[k] = plotter.XY{X: x, Y: g.ManualGain}
	}
	random, err := line(plotter.XYs{{X: 0, Y: 0}, {X: 1, Y: 1}}, baselineColour, vg.Points(1.2), true)
	if err != nil {
		return nil, err
	}
	lp, err := line(pred, predictiveColour, vg.Points(2.5), false)
	if err != nil {
		return nil, err
	}
	lm, err := line(man, manualColour, vg.Points(2.5), false)
	if err != nil {
		return nil, err
	}
	p.Add(random, lm, lp)
	p.Legend.Add("predictive", lp)
	p.Legend.Add("manual", lm)
	p.Legend.Add("random", random)
	p.Legend.Top, p.Legend.Left = false, false
	p.Legend.XOffs, p.Legend.YOffs = -vg.Points(8), vg.Points(8)
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = 0, 1, 0, 1
	p.X.Tick.Marker, p.Y.Tick.Marker = percentTicks(0, 1, 0.2), percentTicks(0, 1, 0.2)
	return p, nil
}

func (r *Report) liftPlot() (*plot.Plot, error) {
	p := newPlot("contacts called, best-ranked first", "cumulative lift")
	var pred, man plotter.XYs
	top := 1.0
	for _, g := range r.Gains {
		if g.Percent == 0 || g.Percent%10 != 0 {
			continue
		}
		x := float64(g.Percent) / 100
		pred = append(pred, plotter.XY{X: x, Y: g.PredictiveLift})
		man = append(man, plotter.XY{X: x, Y: g.ManualLift})
		top = max(top, g.PredictiveLift, g.ManualLift)
	}
	base, err := line(plotter.XYs{{X: 0.1, Y: 1}, {X: 1, Y: 1}}, baselineColour, vg.Points(1.2), true)
	if err != nil {
		return nil, err
	}
	lp, sp, err := plotter.NewLinePoints(pred)
	if err != nil {
		return nil, err
	}
	lm, sm, err := plotter.NewLinePoints(man)
	if err != nil {
		return nil, err
	}
	lp.LineStyle.Color, lp.LineStyle.Width = predictiveColour, vg.Points(2.5)
	sp.GlyphStyle.Color, sp.GlyphStyle.Radius, sp.GlyphStyle.Shape = predictiveColour, vg.Points(3.5), draw.CircleGlyph{}
	lm.LineStyle.Color, lm.LineStyle.Width = manualColour, vg.Points(2.5)
	sm.GlyphStyle.Color, sm.GlyphStyle.Radius, sm.GlyphStyle.Shape = manualColour, vg.Points(3.5), draw.CircleGlyph{}
	p.Add(base, lm, sm, lp, sp)
	p.Legend.Add("predictive", lp, sp)
	p.Legend.Add("manual", lm, sm)
	p.Legend.Add("random", base)
	p.Legend.Top = true
	p.Legend.XOffs = -vg.Points(8)
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = 0.05, 1.02, 0, top*1.1
	p.X.Tick.Marker = percentTicks(0.1, 1, 0.1)
	return p, nil
}

func (r *Report) ratesPlot() (*plot.Plot, error) {
	p := newPlot("", "became customers")
	tiers := make(plotter.Values, len(r.Tiers))
	names := make([]string, 0, len(r.Tiers)+1+len(r.Stages))
	top := r.Rate
	// Lowest tier first, so that both groups read left to right from worst to best.
	for k := range r.Tiers {
		g := r.Tiers[len(r.Tiers)-1-k]
		tiers[k] = g.Rate
		names = append(names, strings.ReplaceAll(g.Name, "_", "\n"))
		top = max(top, g.Rate)
	}
	names = append(names, "")
	stages := make(plotter.Values, len(r.Stages))
	for k := range r.Stages {
		g := r.Stages[len(r.Stages)-1-k]
		stages[k] = g.Rate
		names = append(names, g.Name)
		top = max(top, g.Rate)
	}
	width := vg.Points(34)
	bt, err := plotter.NewBarChart(tiers, width)
	if err != nil {
		return nil, err
	}
	bt.Color, bt.LineStyle.Width = predictiveColour, 0
	bs, err := plotter.NewBarChart(stages, width)
	if err != nil {
		return nil, err
	}
	bs.Color, bs.LineStyle.Width = manualColour, 0
	bs.XMin = float64(len(tiers) + 1)
	avg, err := line(plotter.XYs{{X: -0.5, Y: r.Rate}, {X: float64(len(names)) - 0.5, Y: r.Rate}}, baselineColour, vg.Points(1.2), true)
	if err != nil {
		return nil, err
	}
	p.Add(bt, bs, avg)
	p.Legend.Add("predictive priority", bt)
	p.Legend.Add("manual stage", bs)
	p.Legend.Add(fmt.Sprintf("all contacts (%s)", percent1(r.Rate)), avg)
	p.Legend.Top, p.Legend.Left = true, true
	p.Legend.XOffs = vg.Points(8)
	p.NominalX(names...)
	p.X.Tick.Label.Font.Size = vg.Points(10)
	step := 0.1
	if top > 0.6 {
		step = 0.2
	}
	p.Y.Min, p.Y.Max = 0, min(1, top*1.3)
	p.Y.Tick.Marker = percentTicks(0, p.Y.Max, step)
	return p, nil
}

func (r *Report) calibrationPlot() (*plot.Plot, error) {
	p := newPlot("predicted probability (average of the bin)", "became customers")
	var pts plotter.XYs
	top := 0.0
	for _, b := range r.Calibration {
		if b.Rows == 0 {
			continue
		}
		pts = append(pts, plotter.XY{X: b.MeanProb, Y: b.Rate})
		top = max(top, b.MeanProb, b.Rate)
	}
	top = min(1, max(0.2, top+0.1))
	diag, err := line(plotter.XYs{{X: 0, Y: 0}, {X: top, Y: top}}, baselineColour, vg.Points(1.2), true)
	if err != nil {
		return nil, err
	}
	l, s, err := plotter.NewLinePoints(pts)
	if err != nil {
		return nil, err
	}
	l.LineStyle.Color, l.LineStyle.Width = predictiveColour, vg.Points(2.5)
	s.GlyphStyle.Color, s.GlyphStyle.Radius, s.GlyphStyle.Shape = predictiveColour, vg.Points(4), draw.CircleGlyph{}
	p.Add(diag, l, s)
	p.Legend.Add("predictive", l, s)
	p.Legend.Add("perfect calibration", diag)
	p.Legend.Top, p.Legend.Left = true, true
	p.Legend.XOffs = vg.Points(8)
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = 0, top, 0, top
	step := 0.1
	if top > 0.6 {
		step = 0.2
	}
	p.X.Tick.Marker, p.Y.Tick.Marker = percentTicks(0, top, step), percentTicks(0, top, step)
	return p, nil
}

// renderSVG draws p as an SVG element for inlining in HTML: without the XML prolog, and sized by
// its viewBox so the page's CSS can scale it.
func renderSVG(p *plot.Plot) (template.HTML, error) {
	c := vgsvg.New(chartWidth, chartHeight)
	p.Draw(draw.New(c))
	var buf bytes.Buffer
	if _, err := c.WriteTo(&buf); err != nil {
		return "", err
	}
	out := buf.Bytes()
	start := bytes.Index(out, []byte("<svg"))
	if start < 0 {
		return "", fmt.Errorf("compare: the plot library wrote no <svg> element")
	}
	out = out[start:]
	// The fixed size in points would stop the chart from shrinking with the page.
	end := bytes.IndexByte(out, '>')
	head := out[:end]
	for _, attr := range []string{"width", "height"} {
		if i := bytes.Index(head, []byte(" "+attr+`="`)); i >= 0 {
			j := bytes.IndexByte(head[i+len(attr)+3:], '"')
			head = append(head[:i:i], head[i+len(attr)+3+j+1:]...)
		}
	}
	svg := append(append(append([]byte{}, head...), ` role="img" preserveAspectRatio="xMidYMid meet"`...), out[end:]...)
	return template.HTML(svg), nil // generated from the report's numbers and fixed labels only
}
