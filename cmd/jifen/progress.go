package main

import (
	"fmt"
	"io"
	"os"

	"github.com/mattn/go-isatty"
	"github.com/schollz/progressbar/v3"
)

// progress reports a long job's advance: a bar on a terminal
// (schollz/progressbar), and plain lines when stderr is a log or a pipe —
// one per tenth of the way when the total is known, one per 10,000 items
// otherwise.
type progress struct {
	bar   *progressbar.ProgressBar
	w     io.Writer
	label string
	total int // -1: unknown
	last  int
}

func newProgress(w io.Writer, label string, total int) *progress {
	p := &progress{w: w, label: label, total: total}
	if f, ok := w.(*os.File); ok && isatty.IsTerminal(f.Fd()) {
		p.bar = progressbar.NewOptions(total, progressbar.OptionSetWriter(w), progressbar.OptionSetDescription(label),
			progressbar.OptionShowCount(), progressbar.OptionClearOnFinish())
	}
	return p
}

// step says that n items (days, accounts…) are done.
func (p *progress) step(n int) {
	if p.bar != nil {
		_ = p.bar.Set(n)
		return
	}
	if p.total < 0 {
		if n/10000 > p.last {
			p.last = n / 10000
			fmt.Fprintf(p.w, "%s %d\n", p.label, n)
		}
		return
	}
	if tenth := n * 10 / max(p.total, 1); tenth > p.last || n == p.total {
		p.last = tenth
		fmt.Fprintf(p.w, "%s %d of %d\n", p.label, n, p.total)
	}
}

func (p *progress) done() {
	if p.bar != nil {
		_ = p.bar.Finish()
	}
}
