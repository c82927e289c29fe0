// Package inprocess runs the bundled reference server inside the calling
// process as a harness target: a fresh server on 127.0.0.1 for every case,
// with its message store open to the cases that check what was delivered.
//
// It is what `smtpspec run` tests when no --target is given, and what Go
// tests use to compare their own server with the reference.
package inprocess

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/smtpspec/smtpspec/harness"
	"github.com/smtpspec/smtpspec/reference"
)

// Reference is the reference server as a harness target, with the profile
// that matches its configuration.
type Reference struct {
	Target  harness.Target
	Profile harness.Profile
	Config  reference.Config // the configuration each per-case server gets
}

// Names the in-process reference is configured with.
const (
	Domain      = "example.test"
	Mailbox     = "user"
	UnknownRcpt = "nosuchuser@example.test"
	AuthUser    = "smtpspec"
)

// MaxMessageSize is the SIZE limit of the in-process reference unless the
// Config sets one: small, so that the cases that send a message just over
// the limit stay quick even under the race detector.
const MaxMessageSize = 1 << 20

// New prepares an in-process reference target. cfg may be the zero Config;
// New fills in a local domain, a mailbox, AUTH credentials, a SIZE limit
// and a self-signed certificate that the target's TLS config trusts, unless
// cfg sets them.
func New(cfg reference.Config) (*Reference, error) {
	if cfg.MaxMessageSize == 0 {
		cfg.MaxMessageSize = MaxMessageSize
	}
	if cfg.Domains == nil {
		cfg.Domains = []string{Domain}
	}
	if cfg.Mailboxes == nil {
		cfg.Mailboxes = []string{Mailbox}
	}
	profile := harness.DefaultProfile()
	profile.Domain = cfg.Domains[0]
	profile.UnknownRcpt = "nosuchuser@" + cfg.Domains[0]
	if cfg.Users == nil {
		pass := make([]byte, 12)
		rand.Read(pass)
		cfg.Users = map[string]string{AuthUser: hex.EncodeToString(pass)}
	}
	for u, p := range cfg.Users {
		profile.AuthUser, profile.AuthPass = u, p
		break
	}
	// Every per-case server shares one certificate and one server config
	// (and so its session-ticket keys): with a session cache, every case
	// after the first resumes instead of a full handshake. Plain X25519
	// spares each handshake the post-quantum key share, which protects
	// nothing on a socket pair and costs more than the rest of a case.
	clientTLS := &tls.Config{
		ServerName:         "localhost",
		ClientSessionCache: tls.NewLRUClientSessionCache(64),
		CurvePreferences:   []tls.CurveID{tls.X25519},
	}
	if cfg.TLSConfig == nil {
		serverTLS, pool, err := reference.SelfSigned("localhost", "127.0.0.1", "::1")
		if err != nil {
			return nil, fmt.Errorf("in-process reference: %w", err)
		}
		cfg.TLSConfig = serverTLS
		clientTLS.RootCAs = pool
	} else {
		clientTLS.InsecureSkipVerify = true
	}
	r := &Reference{Profile: profile, Config: cfg}
	r.Target = harness.Target{
		Name:      "reference",
		TLSConfig: clientTLS,
		Start:     r.start,
	}
	return r, nil
}

// start runs one fresh server with its own message store. It listens on
// nothing: every connection is one end of a socket pair whose other end
// the server serves, so a run of hundreds of cases takes no TCP port and
// leaves no TIME_WAIT behind.
func (r *Reference) start(ctx context.Context) (*harness.Instance, error) {
	cfg := r.Config
	store := reference.NewMemoryStore()
	cfg.Backend = store
	srv, err := reference.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("start reference: %w", err)
	}
	var sessions sync.WaitGroup
	dial := func(ctx context.Context) (net.Conn, error) {
		client, server, err := SocketPair()
		if err != nil {
			return nil, fmt.Errorf("start reference: %w", err)
		}
		sessions.Go(func() { srv.ServeConn(server) })
		return client, nil
	}
	return &harness.Instance{
		Dial:    dial,
		Mailbox: mailbox{store, srv},
		Stop: func() {
			srv.Close()
			sessions.Wait()
		},
	}, nil
}

// ListenTCP serves the reference, configured as for the cases, on a port of
// 127.0.0.1, for uses that need a network address (a test handing the
// reference to smtpspec as an external --target). It returns the address
// and a function that stops the server.
func (r *Reference) ListenTCP() (addr string, stop func(), err error) {
	srv, err := reference.New(r.Config)
	if err != nil {
		return "", nil, fmt.Errorf("start reference: %w", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, fmt.Errorf("start reference: %w", err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.Serve(l)
	}()
	return l.Addr().String(), func() {
		srv.Close()
		<-done
	}, nil
}

// SocketPair returns the two ends of a connected Unix stream socket pair.
// Unlike net.Pipe it buffers in the kernel, as TCP does, so a client may
// write a large pipelined batch while the server writes its replies.
func SocketPair() (client, server net.Conn, err error) {
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("socket pair: %w", err)
	}
	conns := make([]net.Conn, 2)
	for i, fd := range fds {
		f := os.NewFile(uintptr(fd), "smtpspec-inprocess")
		c, err := net.FileConn(f)
		f.Close() // FileConn holds a duplicate of the descriptor
		if err != nil {
			if i == 1 {
				conns[0].Close()
			} else {
				syscall.Close(fds[1])
			}
			return nil, nil, fmt.Errorf("socket pair: %w", err)
		}
		conns[i] = loopbackAddrs{c}
	}
	return conns[0], conns[1], nil
}

// loopbackAddrs presents a socket-pair end as a connection between two
// loopback addresses, so that the server's trace fields and address-literal
// checks read as they would over TCP on 127.0.0.1.
type loopbackAddrs struct{ net.Conn }

var loopback = &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)}

func (loopbackAddrs) LocalAddr() net.Addr  { return loopback }
func (loopbackAddrs) RemoteAddr() net.Addr { return loopback }

// mailbox adapts a reference.MemoryStore to harness.Mailbox and
// harness.Settler.
type mailbox struct {
	store *reference.MemoryStore
	srv   *reference.Server
}

// Settle waits until the server serves at most open sessions: the
// connections the case closed have then been dealt with.
func (m mailbox) Settle(ctx context.Context, open int) error {
	for m.srv.ActiveSessions() > open {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Millisecond):
		}
	}
	return nil
}

func (m mailbox) Messages() []harness.Delivered {
	msgs := m.store.Messages()
	out := make([]harness.Delivered, len(msgs))
	for i, msg := range msgs {
		out[i] = harness.Delivered{From: msg.From, To: msg.To, Data: msg.Data, Trace: []byte(msg.ReturnPath + msg.Received)}
	}
	return out
}
