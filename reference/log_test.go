package reference

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"
)

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestLogging(t *testing.T) {
	t.Parallel()
	for _, verbose := range []bool{false, true} {
		var buf syncBuffer
		cfg := baseConfig()
		cfg.AllowInsecureAuth = true
		cfg.Logger = slog.New(slog.NewTextHandler(&buf, nil))
		cfg.Verbose = verbose
		ts := startServer(t, cfg)
		c := ts.dial(t)
		c.ehlo()
		c.expect("AUTH PLAIN "+plainIR, "235")
		c.expect("QUIT", "221")
		c.expectClosed()
		waitFor(t, func() bool { return strings.Contains(buf.String(), "msg=session") })
		out := buf.String()
		lines := strings.Count(out, "\n")
		switch {
		case strings.Count(out, "msg=session") != 1 || !strings.Contains(out, "end=quit") || !strings.Contains(out, "auth=user"):
			t.Errorf("verbose=%v: session line missing or wrong:\n%s", verbose, out)
		case !verbose && lines != 1:
			t.Errorf("non-verbose log has %d lines, want 1:\n%s", lines, out)
		case verbose && (lines < 5 || strings.Contains(out, plainIR)):
			t.Errorf("verbose log lacks commands or shows credentials:\n%s", out)
		}
	}
}
