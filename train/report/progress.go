package report

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/leadscore/leadscore/train/dataset"
)

// Progress shows on a terminal how far training has come: while reading, the rows read, rows per
// second, the share of the bytes read and the time left; then each training step. One made by
// NewProgress(nil) shows nothing.
type Progress struct {
	w     io.Writer
	start time.Time
	bar   *progressbar.ProgressBar
	steps bool // bar counts training steps, not bytes read
}

// NewProgress returns a progress display on w when w is a terminal, where a bar can redraw itself;
// otherwise (nil, a file, a pipe) one that shows nothing.
func NewProgress(w io.Writer) *Progress {
	if f, ok := w.(*os.File); !ok || !term.IsTerminal(int(f.Fd())) {
		w = nil
	}
	return &Progress{w: w, start: time.Now()}
}

// Read is a dataset.ReadOptions.Progress.
func (p *Progress) Read(rp dataset.ReadProgress) {
	if p.w == nil || rp.TotalBytes <= 0 {
		return
	}
	if p.bar == nil {
		p.bar = progressbar.NewOptions64(rp.TotalBytes, progressbar.OptionSetWriter(p.w),
			progressbar.OptionClearOnFinish(), progressbar.OptionThrottle(200*time.Millisecond),
			progressbar.OptionSetPredictTime(true))
	}
	rate := float64(rp.Rows) / max(time.Since(p.start).Seconds(), 1e-3)
	p.bar.Describe(fmt.Sprintf("reading: %s rows, %s rows/s", count(float64(rp.Rows)), count(rate)))
	_ = p.bar.Set64(rp.Bytes)
}

// Step is a train.Config.Progress: step n of total starts.
func (p *Progress) Step(step string, n, total int) {
	if p.w == nil {
		return
	}
	if !p.steps {
		p.Finish()
		p.bar = progressbar.NewOptions(total, progressbar.OptionSetWriter(p.w), progressbar.OptionSetDescription("training"),
			progressbar.OptionClearOnFinish(), progressbar.OptionShowCount())
		p.steps = true
	}
	p.bar.Describe(step)
	_ = p.bar.Set(n - 1)
}

// Finish clears the display; the next Read or Step draws it again.
func (p *Progress) Finish() {
	if p.bar != nil {
		_ = p.bar.Finish()
		p.bar = nil
	}
}

// count writes n with a k or M suffix.
func count(n float64) string {
	switch {
	case n >= 1e6:
		return fmt.Sprintf("%.2fM", n/1e6)
	case n >= 1e3:
		return fmt.Sprintf("%.0fk", n/1e3)
	}
	return fmt.Sprintf("%.0f", n)
}
