package main

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/smtpspec/smtpspec/harness"
)

// progress reports a long run's progress on stderr: rewritten in place on a
// terminal, a line every few seconds otherwise, and nothing at all for runs
// that finish within the first couple of seconds.
type progress struct {
	w        io.Writer
	tty      bool
	total    int
	now      func() time.Time // time.Now, but for tests
	begin    time.Time
	mu       sync.Mutex
	last     time.Time
	failures int
	shown    bool
}

const (
	progressDelay    = 2 * time.Second
	progressInterval = 5 * time.Second
)

// newProgress reports on w. The line is rewritten in place when w is a
// terminal, whatever NO_COLOR says: that asks for no colour, and the
// progress line has none.
func newProgress(w io.Writer, total int) *progress {
	return &progress{w: w, tty: isTerminal(w), total: total, now: time.Now, begin: time.Now()}
}

func (p *progress) update(done, total int, r *harness.Result) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if r.Verdict.Failed() {
		p.failures++
	}
	now := p.now()
	if now.Sub(p.begin) < progressDelay {
		return
	}
	every := progressInterval
	if p.tty {
		every = 100 * time.Millisecond
	}
	if now.Sub(p.last) < every && done != total {
		return
	}
	p.last = now
	line := fmt.Sprintf("smtpspec: %d/%d cases, %d failed, %v", done, total, p.failures, now.Sub(p.begin).Round(time.Second))
	if p.tty {
		fmt.Fprintf(p.w, "\r\x1b[K%s", line)
	} else {
		fmt.Fprintln(p.w, line)
	}
	p.shown = true
}

// finish ends the progress line on a terminal.
func (p *progress) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.shown && p.tty {
		fmt.Fprint(p.w, "\r\x1b[K")
	}
}
