package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/smtpspec/smtpspec/harness"
)

// TestProgress: nothing during the first seconds, then on a pipe a line
// every few seconds (and one at the end), and on a terminal one line
// rewritten in place and cleared at the end.
func TestProgress(t *testing.T) {
	t.Parallel()
	for _, tty := range []bool{false, true} {
		var b bytes.Buffer
		clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		p := &progress{w: &b, tty: tty, total: 100, now: func() time.Time { return clock }, begin: clock}
		pass, fail := &harness.Result{Verdict: harness.Pass}, &harness.Result{Verdict: harness.Fail}
		p.update(1, 100, fail)
		clock = clock.Add(time.Second)
		p.update(2, 100, pass)
		if b.Len() != 0 {
			t.Fatalf("tty=%v: progress within the first %v: %q", tty, progressDelay, b.String())
		}
		for i := 3; i <= 100; i++ {
			clock = clock.Add(200 * time.Millisecond)
			p.update(i, 100, pass)
		}
		p.finish()
		out := b.String()
		if !tty {
			lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
			// 20.6 s of updates at one line per 5 s, plus the last one.
			if len(lines) < 4 || len(lines) > 6 || strings.ContainsAny(out, "\r\x1b") {
				t.Errorf("progress on a pipe = %q, want a few plain lines", out)
			}
			if last := lines[len(lines)-1]; last != "smtpspec: 100/100 cases, 1 failed, 21s" {
				t.Errorf("last progress line = %q", last)
			}
			continue
		}
		if !strings.HasPrefix(out, "\r\x1b[K") || !strings.HasSuffix(out, "\r\x1b[K") || strings.Contains(out, "\n") {
			t.Errorf("progress on a terminal = %q, want one line rewritten in place and cleared", out)
		}
	}
}
