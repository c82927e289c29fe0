package reference

import (
	"testing"
)

// step writes send in one write and expects one reply per entry of want:
// "250", "503 5.5.1" (code and enhanced code), or "close" for the server
// closing the connection.
type step struct {
	send string
	want []string
}

func s(send string, want ...string) step { return step{send, want} }

// script is a conversation on a fresh connection.
type script struct {
	name  string
	ehlo  bool // send EHLO c.example first
	cfg   func(*Config)
	steps []step
	check func(t *testing.T, msgs []Message) // inspects the store afterwards
}

// runScripts runs each script as a parallel subtest against its own server.
func runScripts(t *testing.T, scripts []script) {
	t.Helper()
	shared := startServer(t, baseConfig())
	for _, sc := range scripts {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			ts := shared
			if sc.cfg != nil || sc.check != nil {
				cfg := baseConfig()
				if sc.cfg != nil {
					sc.cfg(&cfg)
				}
				ts = startServer(t, cfg)
			}
			c := ts.dial(t)
			if sc.ehlo {
				c.expect("EHLO c.example", "250")
			}
			closed := false
			for _, st := range sc.steps {
				c.send(st.send)
				for _, want := range st.want {
					if want == "close" {
						c.expectClosed()
						closed = true
						continue
					}
					r := c.read()
					c.check(st.send, r, want)
				}
			}
			if !closed {
				// Exactly the expected replies came: the next NOOP gets
				// the next reply.
				c.expect("NOOP", "250 2.0.0")
			}
			if sc.check != nil {
				if !closed {
					c.expect("QUIT", "221")
					c.expectClosed()
				}
				sc.check(t, ts.store.Messages())
			}
		})
	}
}

// oneMessage returns a check that wants exactly one stored message with
// the given content.
func oneMessage(data string) func(*testing.T, []Message) {
	return func(t *testing.T, msgs []Message) {
		t.Helper()
		if len(msgs) != 1 {
			t.Fatalf("stored %d messages, want 1", len(msgs))
		}
		if got := string(msgs[0].Data); got != data {
			t.Errorf("stored data = %q, want %q", got, data)
		}
	}
}

// noMessages is a check that wants an empty store.
func noMessages(t *testing.T, msgs []Message) {
	t.Helper()
	if len(msgs) != 0 {
		t.Fatalf("stored %d messages, want none", len(msgs))
	}
}

const (
	mailRcpt = "MAIL FROM:<a@x.example>\r\nRCPT TO:<user@example.test>\r\n"
	txData   = mailRcpt + "DATA\r\n"
)

func TestSmoke(t *testing.T) {
	runScripts(t, []script{
		{name: "basic", ehlo: true, steps: []step{
			s(mailRcpt, "250 2.1.0", "250 2.1.5"),
			s("DATA\r\n", "354"),
			s("Subject: x\r\n\r\nhi\r\n.\r\n", "250 2.0.0"),
		}, check: oneMessage("Subject: x\r\n\r\nhi\r\n")},
		{name: "quit", steps: []step{s("QUIT\r\nNOOP\r\n", "221 2.0.0", "close")}},
		{name: "helo-single-line", steps: []step{s("HELO c.example\r\n", "250")}},
	})
}
