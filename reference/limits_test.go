package reference

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

func TestCommandTimeout(t *testing.T) {
	t.Parallel()
	cfg := baseConfig()
	cfg.CommandTimeout = 200 * time.Millisecond
	ts := startServer(t, cfg)
	c := ts.dial(t)
	c.check("idle", c.read(), "421 4.4.2")
	c.expectClosed()
}

// TestCommandTimeoutSlowDrip checks that the command timeout bounds the
// whole line: a client dripping one byte at a time is still cut off.
func TestCommandTimeoutSlowDrip(t *testing.T) {
	t.Parallel()
	cfg := baseConfig()
	cfg.CommandTimeout = 300 * time.Millisecond
	ts := startServer(t, cfg)
	c := ts.dial(t)
	start := time.Now()
	for i := 0; i < 20; i++ {
		if _, err := c.nc.Write([]byte("N")); err != nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	c.check("drip", c.read(), "421 4.4.2")
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("cut off after %v, want about 300ms", d)
	}
}

func TestDataTimeout(t *testing.T) {
	t.Parallel()
	cfg := baseConfig()
	cfg.DataTimeout = 200 * time.Millisecond
	ts := startServer(t, cfg)
	c := ts.dial(t)
	c.ehlo()
	c.send(txData + "partial\r\n")
	for _, w := range []string{"250", "250", "354", "421 4.4.2"} {
		c.check("DATA", c.read(), w)
	}
	c.expectClosed()
	noMessages(t, ts.store.Messages())
}

func TestMaxConns(t *testing.T) {
	t.Parallel()
	cfg := baseConfig()
	cfg.MaxConns = 2
	ts := startServer(t, cfg)
	a, b := ts.dial(t), ts.dial(t)
	c := ts.dialNoGreeting(t)
	c.check("connect", c.read(), "421 4.3.2")
	c.expectClosed()
	a.expect("QUIT", "221")
	a.expectClosed()
	waitFor(t, func() bool { return ts.srv.active.Load() == 1 })
	d := ts.dial(t)
	d.expect("NOOP", "250")
	b.expect("NOOP", "250")
}

// panicBackend panics in Mail.
type panicBackend struct{}

func (panicBackend) NewSession(ConnInfo) (Session, error) { return panicSession{}, nil }

type panicSession struct{}

func (panicSession) Mail(Path, *MailOptions) error { panic("backend bug") }
func (panicSession) Rcpt(Path, *RcptOptions) error { return nil }
func (panicSession) Data(io.Reader) error          { return nil }
func (panicSession) Reset()                        {}
func (panicSession) Logout() error                 { return nil }

func TestPanicRecovered(t *testing.T) {
	t.Parallel()
	cfg := baseConfig()
	cfg.Backend = panicBackend{}
	ts := startServer(t, cfg)
	c := ts.dial(t)
	c.ehlo()
	c.expect("MAIL FROM:<a@x.example>", "421 4.3.0")
	c.expectClosed()
	ts.dial(t).expect("NOOP", "250")
}

// errBackend refuses messages with a chosen reply.
type errBackend struct{ MemoryStore }

func (b *errBackend) NewSession(ci ConnInfo) (Session, error) {
	s, _ := b.MemoryStore.NewSession(ci)
	return errSession{s}, nil
}

type errSession struct{ Session }

func (e errSession) Rcpt(to Path, o *RcptOptions) error {
	if strings.HasPrefix(to.LocalPart, "full") {
		return &SMTPError{Code: 452, Enhanced: "4.2.2", Message: "Mailbox full"}
	}
	return e.Session.Rcpt(to, o)
}

func (e errSession) Data(r io.Reader) error {
	io.Copy(io.Discard, r)
	return errors.New("disk on fire")
}

func TestBackendErrors(t *testing.T) {
	t.Parallel()
	runScripts(t, []script{{name: "smtp-error-and-plain-error", ehlo: true,
		cfg: func(c *Config) { c.Backend = &errBackend{}; c.Mailboxes = nil },
		steps: []step{
			s("MAIL FROM:<a@x.example>\r\nRCPT TO:<full@example.test>\r\nRCPT TO:<user@example.test>\r\nDATA\r\n",
				"250", "452 4.2.2", "250", "354"),
			s("x\r\n.\r\n", "451 4.3.0"),
			s(mailRcpt+"BDAT 3 LAST\r\nabc", "250", "250", "451 4.3.0"),
		}}})
}

func TestShutdown(t *testing.T) {
	t.Parallel()
	ts := startServer(t, baseConfig())
	idle := ts.dial(t)
	idle.ehlo()
	busy := ts.dial(t)
	busy.ehlo()
	busy.send(txData)
	for _, w := range []string{"250", "250", "354"} {
		busy.check("DATA", busy.read(), w)
	}
	done := make(chan error, 1)
	go func() { done <- ts.srv.Shutdown(context.Background()) }()
	idle.check("shutdown", idle.read(), "421 4.3.2")
	idle.expectClosed()
	busy.send("body\r\n.\r\n")
	busy.check("end of data", busy.read(), "250")
	busy.check("after data", busy.read(), "421 4.3.2")
	busy.expectClosed()
	if err := <-done; err != nil {
		t.Fatalf("Shutdown = %v", err)
	}
	if n := len(ts.store.Messages()); n != 1 {
		t.Errorf("stored %d messages, want 1", n)
	}
	if _, err := net.DialTimeout("tcp", ts.addr, time.Second); err == nil {
		t.Errorf("listener still accepting after Shutdown")
	}
}

func TestShutdownTimeout(t *testing.T) {
	t.Parallel()
	ts := startServer(t, baseConfig())
	busy := ts.dial(t)
	busy.ehlo()
	busy.send(txData)
	for _, w := range []string{"250", "250", "354"} {
		busy.check("DATA", busy.read(), w)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := ts.srv.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown = %v, want DeadlineExceeded", err)
	}
}

// TestServeConnPipe runs a session over net.Pipe, as in-process fuzzing does.
func TestServeConnPipe(t *testing.T) {
	t.Parallel()
	srv, err := New(baseConfig())
	if err != nil {
		t.Fatal(err)
	}
	cli, sc := net.Pipe()
	done := make(chan struct{})
	go func() { srv.ServeConn(sc); close(done) }()
	go io.WriteString(cli, "EHLO c.example\r\n"+txData+"hi\r\n.\r\nQUIT\r\n")
	cli.SetReadDeadline(time.Now().Add(testTimeout))
	out, _ := io.ReadAll(bufio.NewReader(cli))
	<-done
	codes := replyCodes(string(out))
	if want := "220 250 250 250 354 250 221"; codes != want {
		t.Fatalf("replies %q, want codes %s", out, want)
	}
	if n := len(srv.Backend().(*MemoryStore).Messages()); n != 1 {
		t.Errorf("stored %d messages, want 1", n)
	}
}

// replyCodes lists the codes of the final lines of a reply stream.
func replyCodes(out string) string {
	var codes []string
	for _, l := range strings.Split(out, "\r\n") {
		if len(l) > 3 && l[3] == ' ' {
			codes = append(codes, l[:3])
		}
	}
	return strings.Join(codes, " ")
}

func TestNewConfig(t *testing.T) {
	t.Parallel()
	for _, cfg := range []Config{{MaxRecipients: 50}, {Hostname: "bad_name"}, {Hostname: "two words"}} {
		if _, err := New(cfg); err == nil {
			t.Errorf("New(%+v) succeeded, want an error", cfg)
		}
	}
	srv, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	got := srv.Config()
	if got.Hostname != DefaultHostname || got.MaxMessageSize != DefaultMaxMessageSize || got.MaxRecipients != 100 ||
		got.CommandTimeout != DefaultCommandTimeout || len(got.Domains) != 1 {
		t.Errorf("defaults not applied: %+v", got)
	}
}
