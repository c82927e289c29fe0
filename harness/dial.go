package harness

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"time"
)

// Transcript limits: what the harness keeps of each read or write, and of
// a whole case, so that a case sending megabytes yields a readable report.
const (
	maxEntryData      = 4096
	maxTranscriptData = 256 << 10
)

// conn is one client connection with deadlines on every operation and a
// transcript of everything that crossed it.
type conn struct {
	nc       net.Conn
	rr       *ReplyReader
	tls      bool
	begin    time.Time
	deadline time.Time // the case's cap
	timeout  time.Duration
	log      []Entry
	logged   int // octets of data kept in log
	closed   bool
}

// dialTarget connects to addr (or through connect, when set), with
// implicit TLS when cfg is non-nil.
func dialTarget(ctx context.Context, addr string, connect func(context.Context) (net.Conn, error), cfg *tls.Config, timeout time.Duration) (net.Conn, error) {
	if connect == nil {
		d := net.Dialer{Timeout: timeout}
		connect = func(ctx context.Context) (net.Conn, error) { return d.DialContext(ctx, "tcp", addr) }
	}
	nc, err := connect(ctx)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", addr, err)
	}
	if cfg == nil {
		return nc, nil
	}
	tc := tls.Client(nc, cfg)
	hctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := tc.HandshakeContext(hctx); err != nil {
		nc.Close()
		return nil, fmt.Errorf("TLS handshake with %s: %w", addr, err)
	}
	return tc, nil
}

// clientTLSConfig returns the config for TLS to addr: a clone of base with
// ServerName filled in.
func clientTLSConfig(base *tls.Config, addr string) *tls.Config {
	cfg := &tls.Config{}
	if base != nil {
		cfg = base.Clone()
	}
	if cfg.ServerName == "" && !cfg.InsecureSkipVerify {
		host, _, err := net.SplitHostPort(addr)
		if err != nil {
			host = addr
		}
		cfg.ServerName = host
	}
	return cfg
}

func newConn(nc net.Conn, begin, deadline time.Time, timeout time.Duration) *conn {
	_, isTLS := nc.(*tls.Conn)
	return &conn{nc: nc, rr: NewReplyReader(nc), tls: isTLS, begin: begin, deadline: deadline, timeout: timeout}
}

// record appends a transcript entry, truncating large data.
func (c *conn) record(dir Direction, data []byte) {
	e := Entry{Direction: dir, Time: time.Since(c.begin), TLS: c.tls}
	keep := min(len(data), maxEntryData, max(0, maxTranscriptData-c.logged))
	e.Data = append([]byte(nil), data[:keep]...)
	e.Omitted = len(data) - keep
	c.logged += keep
	c.log = append(c.log, e)
}

func (c *conn) note(format string, args ...any) {
	c.record(Event, []byte(fmt.Sprintf(format, args...)))
}

// stepDeadline is the deadline for one operation taking at most d.
func (c *conn) stepDeadline(d time.Duration) time.Time {
	t := time.Now().Add(d)
	if t.After(c.deadline) {
		return c.deadline
	}
	return t
}

// write sends data in one write. A failure is recorded, not returned: the
// next read then shows what the server did.
func (c *conn) write(data []byte) {
	c.record(Client, data)
	c.nc.SetWriteDeadline(c.stepDeadline(c.timeout))
	if _, err := c.nc.Write(data); err != nil {
		c.note("write failed: %v", err)
	}
}

// readKind classifies how a read ended.
type readKind int

const (
	readOK       readKind = iota
	readClosed            // clean EOF or reset: the server closed the connection
	readTimeout           // nothing within the deadline
	readProtocol          // the server broke the reply grammar (or closed inside a reply)
	readFailed            // other transport trouble
)

// read reads one reply, waiting at most d.
func (c *conn) read(d time.Duration) (*Reply, readKind, error) {
	c.nc.SetReadDeadline(c.stepDeadline(d))
	r, err := c.rr.ReadReply()
	if len(r.Raw) > 0 {
		c.record(Server, r.Raw)
	}
	var perr *ProtocolError
	switch {
	case err == nil:
		return r, readOK, nil
	case errors.As(err, &perr):
		return r, readProtocol, err
	case errors.Is(err, io.ErrUnexpectedEOF):
		c.closed = true
		c.note("connection closed inside a reply")
		return r, readProtocol, &ProtocolError{Problem: "connection closed inside a reply", Raw: r.Raw}
	case errors.Is(err, io.EOF), errors.Is(err, syscall.ECONNRESET), errors.Is(err, net.ErrClosed):
		c.closed = true
		c.note("connection closed by server (%v)", err)
		return nil, readClosed, err
	case errors.Is(err, os.ErrDeadlineExceeded):
		c.note("no reply within %v", d.Round(time.Millisecond))
		return nil, readTimeout, err
	}
	c.note("read failed: %v", err)
	return nil, readFailed, err
}

// startTLS performs the client side of a STARTTLS handshake on the
// connection.
func (c *conn) startTLS(ctx context.Context, cfg *tls.Config) error {
	if n := c.rr.Buffered(); n > 0 {
		return &ProtocolError{Problem: fmt.Sprintf("server sent %d octets after its STARTTLS reply, before the TLS handshake", n)}
	}
	tc := tls.Client(c.nc, cfg)
	hctx, cancel := context.WithDeadline(ctx, c.stepDeadline(c.timeout))
	defer cancel()
	if err := tc.HandshakeContext(hctx); err != nil {
		c.note("TLS handshake failed: %v", err)
		return fmt.Errorf("TLS handshake: %w", err)
	}
	st := tc.ConnectionState()
	c.nc, c.rr, c.tls = tc, NewReplyReader(tc), true
	c.note("TLS handshake done: %s, %s", tls.VersionName(st.Version), tls.CipherSuiteName(st.CipherSuite))
	return nil
}

func (c *conn) close() {
	c.nc.Close()
}
