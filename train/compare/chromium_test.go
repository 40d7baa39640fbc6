package compare_test

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// chromiumPath is where Debian's chromium package installs the browser.
const chromiumPath = "/usr/bin/chromium"

// chromiumFlags keep a headless run offline, quiet and logging the page's console to stderr.
var chromiumFlags = []string{
	"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
	"--disable-background-networking", "--disable-component-update", "--disable-sync",
	"--enable-logging=stderr", "--v=0",
}

// browse serves dir over http://127.0.0.1 and runs Chromium on page with extra flags. It returns
// Chromium's stdout and stderr and the paths the server was asked for.
func browse(t *testing.T, dir, page string, extra ...string) (stdout, stderr string, requested []string) {
	t.Helper()
	var mu sync.Mutex
	files := http.FileServer(http.Dir(dir))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		requested = append(requested, r.URL.Path)
		mu.Unlock()
		files.ServeHTTP(w, r)
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	args := append(append(append([]string{}, chromiumFlags...), "--user-data-dir="+t.TempDir()), extra...)
	cmd := exec.CommandContext(ctx, chromiumPath, append(args, srv.URL+"/"+page)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium: %v\n%s", err, errb.String())
	}
	mu.Lock()
	defer mu.Unlock()
	return out.String(), errb.String(), slices.Clone(requested)
}

// consoleProblems returns the log lines of console messages and uncaught errors. The report runs no
// script, so any console message (a failed load, a blocked resource, an error) is a problem.
func consoleProblems(log string) []string {
	var bad []string
	for _, line := range strings.Split(log, "\n") {
		if strings.Contains(line, ":CONSOLE") || strings.Contains(line, "Uncaught") {
			bad = append(bad, line)
		}
	}
	return bad
}

var (
	figureRE = regexp.MustCompile(`(?s)<figure id="chart-([a-z]+)">(.*?)</figure>`)
	pathRE   = regexp.MustCompile(`<path [^>]*d="M[^"]+"`)
	styledRE = regexp.MustCompile(`<path d="(M[^"]+)" style="([^"]*)"`)
)

// Series colours of the charts (charts.go): the predictive score blue, the manual one orange.
const (
	blue   = "#1D5FBF"
	orange = "#E07A10"
)

// seriesShapes returns, for the paths of an SVG drawn in colour, the vertex count of each stroked
// line and the number of filled shapes (bars, glyphs, legend swatches). Grid lines, axes and ticks
// are drawn in other colours, so a chart whose data series is missing has no such path.
func seriesShapes(svg, colour string) (lines []int, filled int) {
	for _, m := range styledRE.FindAllStringSubmatch(svg, -1) {
		switch style := strings.ToUpper(m[2]); {
		case strings.Contains(style, "FILL:"+colour):
			filled++
		case strings.Contains(style, "STROKE:"+colour):
			lines = append(lines, strings.Count(m[1], "L")+1)
		}
	}
	return lines, filled
}

func TestReportInChromium(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skipf("skipping: no Chromium at %s (apt-get install chromium)", chromiumPath)
	}
	rep := mustFixture(t).report
	dir := t.TempDir()
	html := renderHTML(t, rep)
	if err := os.WriteFile(filepath.Join(dir, "report.html"), []byte(html), 0o644); err != nil {
		t.Fatal(err)
	}

	t.Run("detector sees a broken page", func(t *testing.T) {
		// Proves that the console check below can fail.
		bad := `<!DOCTYPE html><html><body><script>throw new Error("boom")</script></body></html>`
		if err := os.WriteFile(filepath.Join(dir, "broken.html"), []byte(bad), 0o644); err != nil {
			t.Fatal(err)
		}
		_, log, _ := browse(t, dir, "broken.html", "--dump-dom")
		if len(consoleProblems(log)) == 0 {
			t.Fatalf("no console problem found for a page that throws; log:\n%s", log)
		}
	})

	t.Run("dom", func(t *testing.T) {
		dom, log, requested := browse(t, dir, "report.html", "--dump-dom")
		if bad := consoleProblems(log); len(bad) > 0 {
			t.Errorf("console problems:\n%s", strings.Join(bad, "\n"))
		}
		if len(requested) != 1 || requested[0] != "/report.html" {
			t.Errorf("the browser asked for %v, want the page alone (self-contained, no network)", requested)
		}
		if !strings.Contains(dom, rep.Headline.Sentence) {
			t.Errorf("the rendered page lacks the headline %q", rep.Headline.Sentence)
		}
		drawn := map[string]int{}
		svgs := map[string]string{}
		for _, m := range figureRE.FindAllStringSubmatch(dom, -1) {
			if strings.Contains(m[2], "<svg") {
				drawn[m[1]] = len(pathRE.FindAllString(m[2], -1))
				svgs[m[1]] = m[2]
			}
		}
		// Each data series, drawn in its colour with one vertex per data point: gains one per percent
		// called, lift one per decile, calibration one per non-empty bin; the rates chart one bar per
		// tier (blue) and per stage (orange), plus the legend's swatch.
		calBins := 0
		for _, b := range rep.Calibration {
			if b.Rows > 0 {
				calBins++
			}
		}
		series := []struct {
			chart, colour string
			line, filled  int // a stroked line of exactly line vertices (0: none needed); at least filled shapes
		}{
			{"gains", blue, len(rep.Gains), 0},
			{"gains", orange, len(rep.Gains), 0},
			{"lift", blue, len(rep.PredictiveDeciles), len(rep.PredictiveDeciles)},
			{"lift", orange, len(rep.ManualDeciles), len(rep.ManualDeciles)},
			{"rates", blue, 0, len(rep.Tiers) + 1},
			{"rates", orange, 0, len(rep.Stages) + 1},
			{"calibration", blue, calBins, calBins},
		}
		for _, sr := range series {
			lines, filled := seriesShapes(svgs[sr.chart], sr.colour)
			if sr.line > 0 && !slices.Contains(lines, sr.line) {
				t.Errorf("chart %s: no %s line of %d points (lines in that colour: %v)", sr.chart, sr.colour, sr.line, lines)
			}
			if filled < sr.filled {
				t.Errorf("chart %s: %d filled %s shapes, want at least %d", sr.chart, filled, sr.colour, sr.filled)
			}
		}
		// Fewest drawn paths each chart needs: gains and lift draw two scores and a baseline over a
		// grid; the rates chart 7 bars; calibration a line, its points and the diagonal.
		for id, want := range map[string]int{"gains": 3, "lift": 3, "rates": 7, "calibration": 3} {
			if got, ok := drawn[id]; !ok || got < want {
				t.Errorf("chart %s: %d drawn paths (present %v), want at least %d", id, got, ok, want)
			}
		}
		for _, id := range []string{"agreement-table", "fit-engagement-predictive", "fit-engagement-manual"} {
			if !strings.Contains(dom, `id="`+id+`"`) {
				t.Errorf("the rendered page lacks the heat map %s", id)
			}
		}
	})

	t.Run("screenshot", func(t *testing.T) {
		shot := filepath.Join(t.TempDir(), "report.png")
		_, log, _ := browse(t, dir, "report.html", "--screenshot="+shot, "--window-size=1366,900", "--hide-scrollbars")
		if bad := consoleProblems(log); len(bad) > 0 {
			t.Errorf("console problems:\n%s", strings.Join(bad, "\n"))
		}
		f, err := os.Open(shot)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		img, err := png.Decode(f)
		if err != nil {
			t.Fatal(err)
		}
		if b := img.Bounds(); b.Dx() != 1366 || b.Dy() != 900 {
			t.Errorf("screenshot is %v, want 1366x900", b)
		}
		if n := colours(img); n < 50 {
			t.Errorf("screenshot has %d distinct colours; a drawn page has many more", n)
		}
		if keep := os.Getenv("LEADSCORE_SCREENSHOT"); keep != "" {
			data, err := os.ReadFile(shot)
			if err == nil {
				err = os.WriteFile(keep, data, 0o644)
			}
			if err != nil {
				t.Fatal(err)
			}
		}
	})
}

// colours counts the distinct colours of an image, sampling every fourth pixel.
func colours(img image.Image) int {
	seen := map[[4]uint32]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 4 {
		for x := b.Min.X; x < b.Max.X; x += 4 {
			r, g, bl, a := img.At(x, y).RGBA()
			seen[[4]uint32{r, g, bl, a}] = true
		}
	}
	return len(seen)
}
