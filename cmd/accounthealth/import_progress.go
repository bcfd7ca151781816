package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// importProgress shows how far an import has read its file: a live bar with the
// rate and the time left on a terminal; elsewhere (a log, CI, a pipe) a plain
// line every few seconds and one at the end, as a bar's carriage returns would
// only garble a log.
type importProgress struct {
	w     io.Writer
	total int64
	bar   *progressbar.ProgressBar // nil when w is not a terminal
	start time.Time
	last  time.Time // of the last plain line
	every time.Duration
	now   func() time.Time
}

func newImportProgress(w io.Writer, total int64) *importProgress {
	p := &importProgress{w: w, total: total, start: time.Now(), every: 5 * time.Second, now: time.Now}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		p.bar = progressbar.NewOptions64(total, progressbar.OptionSetWriter(w), progressbar.OptionShowBytes(true),
			progressbar.OptionSetPredictTime(true), progressbar.OptionShowCount(), progressbar.OptionSetWidth(30),
			progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionSetDescription("import"),
			progressbar.OptionOnCompletion(func() { fmt.Fprintln(w) }))
	}
	return p
}

// update reports that read bytes of the file are done, with the counts so far.
func (p *importProgress) update(read int64, s importStats) {
	if p.bar != nil {
		p.bar.Describe(fmt.Sprintf("import: %d accepted, %d duplicates, %d rejected", s.accepted, s.duplicates, len(s.rejected)))
		_ = p.bar.Set64(read)
		return
	}
	now := p.now()
	if read < p.total && now.Sub(p.last) < p.every {
		return
	}
	p.last = now
	elapsed := now.Sub(p.start)
	rate := float64(read) / max(elapsed.Seconds(), 0.001)
	left := "-"
	if rate > 0 && read < p.total {
		left = time.Duration(float64(p.total-read) / rate * float64(time.Second)).Round(time.Second).String()
	}
	fmt.Fprintf(p.w, "import: %3.0f%% (%s of %s, %s/s, %s left): %d lines, %d accepted, %d duplicates, %d rejected\n",
		100*float64(read)/float64(max(p.total, 1)), size(read), size(p.total), size(int64(rate)), left,
		s.lines, s.accepted, s.duplicates, len(s.rejected))
}

// done ends a bar whose file was not read to its end (an error stopped it).
func (p *importProgress) done() {
	if p.bar != nil && !p.bar.IsFinished() {
		fmt.Fprintln(p.w)
	}
}

func size(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
