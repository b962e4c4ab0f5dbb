package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/bsnn/bsnn/finetune"
)

// progress shows training progress on stderr: a single line redrawn with
// \r on a terminal, or a plain line every interval otherwise (logs, CI).
type progress struct {
	w        io.Writer
	bar      bool          // redraw one line
	interval time.Duration // lines mode: time between lines
	now      func() time.Time

	epochs     int       // epochs of the whole run
	remaining  int       // steps left in this session when it started
	done       int       // steps done in this session
	start      time.Time // of this session's first step
	last       time.Time // last line printed
	epoch      int
	loss       float64 // running sums over the epoch, for the display
	correct    int
	samples    int
	epochSteps int
	drawn      bool // a bar line is on screen (needs clearing)
	width      int  // length of the last bar line
}

// newProgress returns a progress display for mode auto, bar, lines or
// none (nil: nothing is shown).
func newProgress(mode string, w io.Writer, epochs, remaining int) (*progress, error) {
	p := &progress{w: w, interval: 10 * time.Second, now: time.Now, epochs: epochs, remaining: remaining, epoch: -1}
	switch mode {
	case "none":
		return nil, nil
	case "bar":
		p.bar = true
	case "lines":
	case "auto":
		p.bar = isTerminal(w)
	default:
		return nil, fmt.Errorf("-progress %q: want auto, bar, lines or none", mode)
	}
	return p, nil
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func fmtDuration(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	d = d.Round(time.Second)
	h, m, s := int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60
	if h > 0 {
		return fmt.Sprintf("%dh%02dm", h, m)
	}
	if m > 0 {
		return fmt.Sprintf("%dm%02ds", m, s)
	}
	return fmt.Sprintf("%ds", s)
}

// step records a finished training step and redraws.
func (p *progress) step(epoch, batch, batches int, st finetune.StepStats) {
	if p == nil {
		return
	}
	t := p.now()
	if p.done == 0 {
		p.start, p.last = t, t
	}
	if epoch != p.epoch {
		p.epoch, p.loss, p.correct, p.samples, p.epochSteps = epoch, 0, 0, 0, 0
	}
	p.done++
	p.epochSteps++
	p.loss += st.Loss * float64(st.Samples)
	p.correct += st.Correct
	p.samples += st.Samples
	elapsed := t.Sub(p.start)
	eta, runETA := "?", "?"
	if p.done > 1 {
		per := elapsed / time.Duration(p.done-1)
		eta = fmtDuration(per * time.Duration(batches-batch-1))
		runETA = fmtDuration(per * time.Duration(p.remaining-p.done))
	}
	// Timing starts at the end of the session's first step, whose start is
	// not observed: the rate counts the steps after it.
	sps := 0.0
	if s := elapsed.Seconds(); s > 0 {
		sps = float64(p.done-1) * float64(st.Samples) / s
	}
	frac := float64(batch+1) / float64(batches)
	info := fmt.Sprintf("epoch %d/%d %s %3.0f%% %d/%d loss %.4f acc %5.1f%% %.0f samples/s ETA %s (run %s)",
		epoch+1, p.epochs, barString(frac, 20), 100*frac, batch+1, batches,
		p.loss/float64(p.samples), 100*float64(p.correct)/float64(p.samples), sps,
		eta, runETA)
	if p.bar {
		pad := ""
		if n := len(info); n < p.width {
			pad = strings.Repeat(" ", p.width-n)
		}
		fmt.Fprintf(p.w, "\r%s%s", info, pad)
		p.width = len(info)
		p.drawn = true
		return
	}
	if t.Sub(p.last) >= p.interval || batch == batches-1 {
		fmt.Fprintln(p.w, info)
		p.last = t
	}
}

// clear ends the bar line so other output starts on a fresh line.
func (p *progress) clear() {
	if p == nil || !p.drawn {
		return
	}
	fmt.Fprintf(p.w, "\r%s\r", strings.Repeat(" ", p.width))
	p.drawn, p.width = false, 0
}

func barString(frac float64, n int) string {
	k := int(frac * float64(n))
	k = min(max(k, 0), n)
	return "[" + strings.Repeat("=", k) + strings.Repeat(" ", n-k) + "]"
}
