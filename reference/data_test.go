package reference

import (
	"strconv"
	"strings"
	"testing"
)

// TestData covers DATA transparency and content (RFC 5321 §4.1.1.4, §4.5.2).
func TestData(t *testing.T) {
	t.Parallel()
	msg := func(name, body, want string, check func(*testing.T, []Message)) script {
		return script{name: name, ehlo: true, steps: []step{s(txData, "250", "250", "354"), s(body, want)}, check: check}
	}
	runScripts(t, []script{
		msg("crlf-dot-crlf", "Subject: a\r\n\r\nbody\r\n.\r\n", "250 2.0.0", oneMessage("Subject: a\r\n\r\nbody\r\n")),
		msg("empty-data", ".\r\n", "250", oneMessage("")),
		msg("dot-unstuffing", "..hidden\r\n...\r\n.abc\r\n..\r\nb\r\n.\r\n", "250", oneMessage(".hidden\r\n..\r\nabc\r\n.\r\nb\r\n")),
		msg("no-extra-crlf", "X\r\n\r\n.\r\n", "250", oneMessage("X\r\n\r\n")),
		msg("all-ascii", "a\tb\x0cc\x1bd\x7f\r\n.\r\n", "250", oneMessage("a\tb\x0cc\x1bd\x7f\r\n")),
		msg("nul-is-data", "a\x00b\r\n.\r\n", "250", oneMessage("a\x00b\r\n")),
		msg("8bit-preserved", "caf\xc3\xa9\r\n.\r\n", "250", oneMessage("caf\xc3\xa9\r\n")),
		msg("line-998", strings.Repeat("a", 998)+"\r\n.\r\n", "250", oneMessage(strings.Repeat("a", 998)+"\r\n")),
		msg("stuffed-line-999-with-dot", "."+strings.Repeat("a", 998)+"\r\n.\r\n", "250", oneMessage(strings.Repeat("a", 998)+"\r\n")),
		msg("line-999-refused-after-eod", strings.Repeat("a", 999)+"\r\n.\r\n", "500 5.5.2", noMessages),
		msg("line-5000-refused-after-eod", strings.Repeat("a", 5000)+"\r\n.\r\n", "500 5.5.2", noMessages),
		msg("bare-lf-refused", "line1\nline2\r\n.\r\n", "554 5.6.0", noMessages),
		msg("bare-cr-refused", "a\rb\r\n.\r\n", "554 5.6.0", noMessages),
		msg("64k-message", strings.Repeat(strings.Repeat("x", 98)+"\r\n", 700)+".\r\n", "250", nil),
		msg("resent-and-bad-date-accepted", "Resent-To: x@y\r\nDate: yesterday\r\n\r\nx\r\n.\r\n", "250", nil),
		{name: "data-split-terminator", ehlo: true, steps: []step{
			s(txData, "250", "250", "354"), s("x\r\n."), s("\r"), s("\n", "250"),
		}, check: oneMessage("x\r\n")},
		{name: "data-then-next-transaction", ehlo: true, steps: []step{
			s(txData, "250", "250", "354"),
			s("body\r\n.\r\nMAIL FROM:<b@x.example>\r\nRCPT TO:<user@example.test>\r\nDATA\r\n", "250", "250", "250", "354"),
			s(".\r\n", "250"),
		}},
	})
}

// TestSmuggling sends each malformed terminator followed by a pipelined
// transaction (the requirements.md detection procedure): exactly one reply
// must come, a refusal, and nothing may be stored.
func TestSmuggling(t *testing.T) {
	t.Parallel()
	variants := map[string]string{
		"lf-dot-lf":       "\n.\n",
		"lf-dot-crlf":     "\n.\r\n",
		"cr-dot-cr":       "\r.\r",
		"crlf-dot-lf":     "\r\n.\n",
		"lf-dot-cr":       "\n.\r",
		"cr-dot-lf":       "\r.\n",
		"cr-dot-crlf":     "\r.\r\n",
		"crlf-dot-cr":     "\r\n.\r",
		"cr-collapse":     "\r\n.\r\r\n",
		"lf-cr-collapse":  "\n.\r\r\n",
		"nul-before-dot":  "\r\n\x00.\r\n",
		"nul-after-dot":   "\r\n.\x00\r\n",
		"crlf-dot-sp":     "\r\n. \r\n",
		"crlf-crlf-dotlf": "\r\n\r\n.\n",
	}
	var scripts []script
	for name, x := range variants {
		smuggled := "Subject: a\r\n\r\nbody" + x +
			"MAIL FROM:<spoof@x.example>\r\nRCPT TO:<user@example.test>\r\nDATA\r\n" +
			"Subject: smuggled\r\n\r\nX2\r\n.\r\n"
		want := "554 5.6.0"
		if name == "crlf-dot-sp" || name == "nul-before-dot" || name == "nul-after-dot" {
			want = "250" // no bare CR or LF: absorbed as data, one reply
		}
		scripts = append(scripts, script{name: name, ehlo: true, steps: []step{
			s(txData, "250", "250", "354"), s(smuggled, want),
		}, check: func(t *testing.T, msgs []Message) {
			if want != "250" {
				noMessages(t, msgs)
				return
			}
			if len(msgs) != 1 || !strings.Contains(string(msgs[0].Data), "MAIL FROM:<spoof") {
				t.Fatalf("want one message that absorbed the smuggled commands, got %d", len(msgs))
			}
		}})
	}
	runScripts(t, scripts)
}

// TestLongDataLineNoSplit checks that an over-long data line with a dot at a
// common buffer boundary never ends the data.
func TestLongDataLineNoSplit(t *testing.T) {
	t.Parallel()
	var scripts []script
	for _, l := range []int{1000, 2048, 4096, 8192} {
		body := strings.Repeat("a", l-1) + ".\r\nMAIL FROM:<spoof@x.example>\r\nRCPT TO:<user@example.test>\r\nDATA\r\nx\r\n.\r\n"
		scripts = append(scripts, script{name: "L" + strconv.Itoa(l), ehlo: true, steps: []step{
			s(txData, "250", "250", "354"), s(body, "500 5.5.2"),
		}, check: noMessages})
	}
	runScripts(t, scripts)
}

// TestSize covers SIZE (RFC 1870).
func TestSize(t *testing.T) {
	t.Parallel()
	small := func(c *Config) { c.MaxMessageSize = 1000 }
	runScripts(t, []script{
		{name: "keyword", cfg: small, steps: []step{s("EHLO c.example\r\n", "250")}, check: nil},
		{name: "declared-over-552", cfg: small, ehlo: true, steps: []step{
			s("MAIL FROM:<a@x.example> SIZE=1001\r\n", "552 5.3.4"), s("MAIL FROM:<a@x.example> SIZE=1000\r\n", "250"),
		}},
		{name: "size-syntax", ehlo: true, steps: []step{
			s("MAIL FROM:<a@x.example> SIZE=abc\r\n", "501"), s("MAIL FROM:<a@x.example> SIZE=-1\r\n", "501"),
			s("MAIL FROM:<a@x.example> SIZE="+strings.Repeat("9", 21)+"\r\n", "501"),
			s("MAIL FROM:<a@x.example> SIZE="+strings.Repeat("9", 20)+"\r\n", "552"),
			s("MAIL FROM:<a@x.example> SIZE=10 SIZE=20\r\n", "501"),
		}},
		{name: "declared-size-not-eod", ehlo: true, steps: []step{
			s("MAIL FROM:<a@x.example> SIZE=10\r\nRCPT TO:<user@example.test>\r\nDATA\r\n", "250", "250", "354"),
			s(strings.Repeat("z", 300)+"\r\n.\r\n", "250"),
		}},
		{name: "oversize-after-data", cfg: small, ehlo: true, steps: []step{
			s(txData, "250", "250", "354"),
			s(strings.Repeat(strings.Repeat("y", 98)+"\r\n", 20)+".\r\n", "552 5.3.4"),
			s("RSET\r\n", "250"),
		}, check: noMessages},
		{name: "exactly-max", cfg: small, ehlo: true, steps: []step{
			s(txData, "250", "250", "354"), s(strings.Repeat(strings.Repeat("y", 98)+"\r\n", 10)+".\r\n", "250"),
		}},
	})
}

// TestDisconnectMidData checks that a session ending inside DATA stores
// nothing (RFC 5321 §4.1.1.10).
func TestDisconnectMidData(t *testing.T) {
	t.Parallel()
	ts := startServer(t, baseConfig())
	c := ts.dial(t)
	c.ehlo()
	c.send(txData)
	for _, want := range []string{"250", "250", "354"} {
		c.check("DATA", c.read(), want)
	}
	c.send("Subject: half\r\n\r\nhalf a body\r\nQUIT\r\n")
	c.nc.Close()
	// A second session proves the server is past the first one.
	c2 := ts.dial(t)
	c2.expect("QUIT", "221")
	waitFor(t, func() bool { return ts.srv.active.Load() == 0 })
	noMessages(t, ts.store.Messages())
}
