package reference

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"
)

// testTimeout bounds every read and write of the test clients.
const testTimeout = 5 * time.Second

// testServer is a reference server on 127.0.0.1:0 with a MemoryStore.
type testServer struct {
	srv   *Server
	addr  string
	store *MemoryStore
	pool  *x509.CertPool
}

// baseConfig is the harness profile of requirements.md: example.test is
// local, "user" exists, user/pass are valid credentials.
func baseConfig() Config {
	return Config{
		Mailboxes: []string{"user"},
		Users:     map[string]string{"user": "pass"},
	}
}

func startServer(t testing.TB, cfg Config) *testServer {
	t.Helper()
	store := NewMemoryStore()
	if cfg.Backend == nil {
		cfg.Backend = store
	}
	tlsCfg, pool, err := SelfSigned("mx.example.test", "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.TLSConfig == nil {
		cfg.TLSConfig = tlsCfg
	}
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(l) }()
	t.Cleanup(func() {
		srv.Close()
		if err := <-done; !errors.Is(err, ErrServerClosed) {
			t.Errorf("Serve = %v, want ErrServerClosed", err)
		}
	})
	return &testServer{srv: srv, addr: l.Addr().String(), store: store, pool: pool}
}

// reply is one parsed server reply.
type reply struct {
	code  int
	enh   string // enhanced code of the first line, if any
	lines []string
}

func (r reply) String() string { return strings.Join(r.lines, " | ") }

// client is a strict test client: it checks the reply grammar of every line.
type client struct {
	t  testing.TB
	nc net.Conn
	br *bufio.Reader
}

// dial connects and reads the greeting.
func (ts *testServer) dial(t testing.TB) *client {
	t.Helper()
	c := ts.dialNoGreeting(t)
	if r := c.read(); r.code != 220 {
		t.Fatalf("greeting = %v, want 220", r)
	}
	return c
}

func (ts *testServer) dialNoGreeting(t testing.TB) *client {
	t.Helper()
	nc, err := net.DialTimeout("tcp", ts.addr, testTimeout)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	return &client{t: t, nc: nc, br: bufio.NewReader(nc)}
}

// send writes raw bytes in one write.
func (c *client) send(s string) {
	c.t.Helper()
	c.nc.SetWriteDeadline(time.Now().Add(testTimeout))
	if _, err := io.WriteString(c.nc, s); err != nil {
		c.t.Fatalf("write %q: %v", s, err)
	}
}

// cmd sends one command line and returns the reply.
func (c *client) cmd(line string) reply {
	c.t.Helper()
	c.send(line + "\r\n")
	return c.read()
}

// expect sends a command and checks the reply code (and enhanced code when
// want has the form "503 5.5.1").
func (c *client) expect(line, want string) reply {
	c.t.Helper()
	r := c.cmd(line)
	c.check(line, r, want)
	return r
}

func (c *client) check(what string, r reply, want string) {
	c.t.Helper()
	code, enh, _ := strings.Cut(want, " ")
	if strconv.Itoa(r.code) != code || enh != "" && r.enh != enh {
		c.t.Fatalf("%q: got %v, want %s", what, r, want)
	}
	if err := checkEnhanced(r); err != nil {
		c.t.Fatalf("%q: %v", what, err)
	}
}

// checkEnhanced applies RFC 2034: every 2yz/4yz/5yz reply except the
// greeting and the EHLO/HELO reply (recognised by "Hello") carries an
// enhanced code of the same class on every line; 3yz replies carry none.
func checkEnhanced(r reply) error {
	class := byte('0' + r.code/100)
	switch {
	case class == '3':
		if r.enh != "" {
			return fmt.Errorf("%d reply with enhanced code: %v", r.code, r)
		}
		return nil
	case r.code == 250 && r.enh == "" && strings.Contains(r.lines[0], " Hello "):
		return nil
	case r.enh == "" || r.enh[0] != class:
		return fmt.Errorf("reply without an enhanced code of class %c: %v", class, r)
	}
	for _, l := range r.lines {
		if !strings.HasPrefix(l[4:], r.enh+" ") {
			return fmt.Errorf("line %q does not repeat %s", l, r.enh)
		}
	}
	return nil
}

// read reads one reply, failing the test on a timeout or a grammar error.
func (c *client) read() reply {
	c.t.Helper()
	r, err := c.tryRead(testTimeout)
	if err != nil {
		c.t.Fatalf("read reply: %v", err)
	}
	return r
}

// tryRead reads one reply; only CRLF ends a reply line.
func (c *client) tryRead(d time.Duration) (reply, error) {
	var r reply
	c.nc.SetReadDeadline(time.Now().Add(d))
	for {
		line, err := c.br.ReadString('\n')
		if err != nil {
			return r, err
		}
		if !strings.HasSuffix(line, "\r\n") {
			return r, fmt.Errorf("reply line without CRLF: %q", line)
		}
		line = line[:len(line)-2]
		if len(line) < 4 || (line[3] != ' ' && line[3] != '-') {
			return r, fmt.Errorf("bad reply line %q", line)
		}
		code, err := strconv.Atoi(line[:3])
		if err != nil || code < 200 || code > 599 {
			return r, fmt.Errorf("bad reply code in %q", line)
		}
		if len(r.lines) > 0 && code != r.code {
			return r, fmt.Errorf("multi-line reply changes code: %q", line)
		}
		if len(line)+2 > 512 {
			return r, fmt.Errorf("reply line longer than 512 octets")
		}
		if len(r.lines) == 0 {
			r.code = code
			if f := strings.Fields(line[4:]); len(f) > 0 && isEnhanced(f[0]) {
				r.enh = f[0]
			}
		}
		r.lines = append(r.lines, line)
		if line[3] == ' ' {
			return r, nil
		}
	}
}

func isEnhanced(s string) bool {
	parts := strings.Split(s, ".")
	if len(parts) != 3 || len(parts[0]) != 1 || strings.IndexByte("245", parts[0][0]) < 0 {
		return false
	}
	for _, p := range parts[1:] {
		if p == "" || len(p) > 3 || (len(p) > 1 && p[0] == '0') {
			return false
		}
		if _, err := strconv.Atoi(p); err != nil {
			return false
		}
	}
	return true
}

// expectClosed checks that the server closes the connection without
// sending anything more.
func (c *client) expectClosed() {
	c.t.Helper()
	c.nc.SetReadDeadline(time.Now().Add(testTimeout))
	b, err := c.br.ReadByte()
	if err == nil {
		rest, _ := c.br.Peek(c.br.Buffered())
		c.t.Fatalf("expected close, got %q", append([]byte{b}, rest...))
	}
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		c.t.Fatalf("expected close, connection still open")
	}
}

// expectSilence checks that no reply arrives within d.
func (c *client) expectSilence(d time.Duration) {
	c.t.Helper()
	if r, err := c.tryRead(d); err == nil {
		c.t.Fatalf("unexpected reply %v", r)
	}
}

// ehlo sends EHLO and returns the keyword lines.
func (c *client) ehlo() []string {
	c.t.Helper()
	r := c.expect("EHLO c.example", "250")
	var kw []string
	for _, l := range r.lines[1:] {
		kw = append(kw, l[4:])
	}
	return kw
}

// startTLS upgrades the connection and re-creates the reader.
func (c *client) startTLS(pool *x509.CertPool) *tls.ConnectionState {
	c.t.Helper()
	c.expect("STARTTLS", "220 2.0.0")
	return c.startTLSAfter220(pool)
}

// startTLSAfter220 runs the handshake once the 220 has been read.
func (c *client) startTLSAfter220(pool *x509.CertPool) *tls.ConnectionState {
	c.t.Helper()
	if c.br.Buffered() > 0 {
		c.t.Fatalf("plaintext after the STARTTLS reply")
	}
	tc := tls.Client(c.nc, &tls.Config{RootCAs: pool, ServerName: "mx.example.test"})
	tc.SetDeadline(time.Now().Add(testTimeout))
	if err := tc.Handshake(); err != nil {
		c.t.Fatalf("TLS handshake: %v", err)
	}
	c.nc = tc
	c.br = bufio.NewReader(tc)
	st := tc.ConnectionState()
	return &st
}

// waitFor polls cond for up to testTimeout.
func waitFor(t testing.TB, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(testTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in time")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// expectClosedOrGarbage waits for the server to close the connection and
// checks that it sent no plaintext SMTP reply meanwhile (a TLS alert is
// fine).
func (c *client) expectClosedOrGarbage() {
	c.t.Helper()
	c.nc.SetReadDeadline(time.Now().Add(testTimeout))
	b, err := io.ReadAll(c.br)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		c.t.Fatalf("connection still open after a failed handshake")
	}
	if len(b) > 0 && b[0] >= '0' && b[0] <= '9' {
		c.t.Fatalf("plaintext reply after a failed handshake: %q", b)
	}
}
