package reference

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Defaults for the zero values of Config.
const (
	DefaultHostname       = "mx.example.test"
	DefaultDomain         = "example.test"
	DefaultMaxMessageSize = 10 << 20 // 10 MiB
	DefaultMaxRecipients  = 100      // RFC 5321 §4.5.3.1.8 minimum
	DefaultMaxConns       = 10000
	DefaultMaxErrors      = 100
	// DefaultCommandTimeout is the server timeout of RFC 5321 §4.5.3.2.7.
	DefaultCommandTimeout = 5 * time.Minute
	// DefaultDataTimeout bounds the silence between two reads of message
	// data. RFC 5321 §4.5.3.2.5/6 gives clients 3 minutes per data block;
	// the server waits longer, 5 minutes, like its command timeout.
	DefaultDataTimeout = 5 * time.Minute
)

// ErrServerClosed is returned by Serve after Shutdown or Close.
var ErrServerClosed = errors.New("reference: server closed")

// Config configures a Server. The zero value is usable: every field has a
// documented default.
type Config struct {
	// Hostname is the server's name in the greeting and EHLO reply;
	// default DefaultHostname.
	Hostname string
	// Domains are the local domains RCPT accepts (case-insensitive);
	// default [DefaultDomain]. Hostname is always local too, and so is an
	// address literal of the connection's local IP.
	Domains []string
	// Mailboxes, when non-empty, are the only local parts accepted at local
	// domains (case-insensitive, "+detail" ignored); others get 550 5.1.1.
	// postmaster is always accepted.
	Mailboxes []string
	// TLSConfig serves STARTTLS; nil means a self-signed certificate for
	// Hostname made in memory by SelfSigned.
	TLSConfig *tls.Config
	// Users are the AUTH PLAIN/LOGIN credentials, user name to password.
	Users map[string]string
	// AllowInsecureAuth offers and accepts AUTH without TLS.
	AllowInsecureAuth bool
	// MaxMessageSize is the SIZE limit in octets; default
	// DefaultMaxMessageSize; negative means no limit (advertised SIZE 0).
	MaxMessageSize int64
	// MaxRecipients per transaction, at least 100; default 100. Beyond it
	// RCPT gets 452 4.5.3.
	MaxRecipients int
	// MaxConns is the number of concurrent sessions; more get 421 and are
	// closed. Default DefaultMaxConns.
	MaxConns int
	// MaxErrors is the number of protocol errors (500-504, 530, 535, 555)
	// a session may make before it gets 421 and is closed. Default
	// DefaultMaxErrors, far above the handful that RFC 5321 §3.8 protects.
	MaxErrors int
	// CommandTimeout bounds the wait for a whole command line and every
	// write; DataTimeout the silence between reads of message data. On
	// expiry the session gets 421 4.4.2 and is closed. Defaults
	// DefaultCommandTimeout and DefaultDataTimeout.
	CommandTimeout, DataTimeout time.Duration
	// Backend receives accepted messages; nil means a new MemoryStore,
	// reachable through Server.Backend.
	Backend Backend
	// Logger gets one line per session, and one per command and reply when
	// Verbose is set. Nil disables logging.
	Logger  *slog.Logger
	Verbose bool
}

// Server is the reference SMTP server.
type Server struct {
	cfg       Config
	domains   map[string]bool
	mailboxes map[string]bool
	tlsConfig *tls.Config
	ehlo      [2][]string // EHLO keyword lines without and with TLS
	greeting  string

	active   atomic.Int64
	shutdown atomic.Bool

	mu        sync.Mutex
	listeners map[net.Listener]struct{}
	conns     map[*conn]struct{}
}

// New checks cfg, fills in defaults and returns a server.
func New(cfg Config) (*Server, error) {
	if cfg.Hostname == "" {
		cfg.Hostname = DefaultHostname
	}
	if _, err := ParseHeloDomain(cfg.Hostname); err != nil || strings.Contains(cfg.Hostname, " ") {
		return nil, fmt.Errorf("reference: invalid hostname %q", cfg.Hostname)
	}
	if cfg.Domains == nil {
		cfg.Domains = []string{DefaultDomain}
	}
	switch {
	case cfg.MaxMessageSize == 0:
		cfg.MaxMessageSize = DefaultMaxMessageSize
	case cfg.MaxMessageSize < 0:
		cfg.MaxMessageSize = 0
	}
	if cfg.MaxRecipients == 0 {
		cfg.MaxRecipients = DefaultMaxRecipients
	}
	if cfg.MaxRecipients < 100 {
		return nil, fmt.Errorf("reference: MaxRecipients %d below the RFC 5321 §4.5.3.1.8 minimum of 100", cfg.MaxRecipients)
	}
	if cfg.MaxConns <= 0 {
		cfg.MaxConns = DefaultMaxConns
	}
	if cfg.MaxErrors <= 0 {
		cfg.MaxErrors = DefaultMaxErrors
	}
	if cfg.CommandTimeout <= 0 {
		cfg.CommandTimeout = DefaultCommandTimeout
	}
	if cfg.DataTimeout <= 0 {
		cfg.DataTimeout = DefaultDataTimeout
	}
	if cfg.Backend == nil {
		cfg.Backend = NewMemoryStore()
	}
	s := &Server{
		cfg:       cfg,
		domains:   map[string]bool{strings.ToLower(cfg.Hostname): true},
		mailboxes: map[string]bool{},
		tlsConfig: cfg.TLSConfig,
		listeners: map[net.Listener]struct{}{},
		conns:     map[*conn]struct{}{},
	}
	for _, d := range cfg.Domains {
		s.domains[strings.ToLower(d)] = true
	}
	for _, m := range cfg.Mailboxes {
		s.mailboxes[strings.ToLower(m)] = true
	}
	if s.tlsConfig == nil {
		tc, _, err := SelfSigned(cfg.Hostname)
		if err != nil {
			return nil, fmt.Errorf("reference: %w", err)
		}
		s.tlsConfig = tc
	}
	s.greeting = cfg.Hostname + " ESMTP smtpspec reference server ready"
	s.ehlo[0] = s.keywords(false)
	s.ehlo[1] = s.keywords(true)
	return s, nil
}

// keywords lists the EHLO extension lines for a plaintext or TLS session.
func (s *Server) keywords(tlsActive bool) []string {
	size := "SIZE " + strconv.FormatInt(s.cfg.MaxMessageSize, 10)
	kw := []string{"PIPELINING", size, "8BITMIME", "SMTPUTF8", "ENHANCEDSTATUSCODES",
		"CHUNKING", "BINARYMIME", "DSN", "HELP"}
	if !tlsActive {
		kw = append(kw, "STARTTLS")
	}
	if s.authOffered(tlsActive) {
		kw = append(kw, "AUTH PLAIN LOGIN")
	}
	return kw
}

// authOffered reports whether EHLO lists AUTH: under TLS, or in plaintext
// when explicitly allowed.
func (s *Server) authOffered(tlsActive bool) bool {
	return tlsActive || s.cfg.AllowInsecureAuth
}

// Backend returns the backend in use (the MemoryStore made by New when
// Config.Backend was nil).
func (s *Server) Backend() Backend { return s.cfg.Backend }

// ActiveSessions returns the number of sessions being served, so that a
// test can wait for the server to finish with a connection it closed.
func (s *Server) ActiveSessions() int { return int(s.active.Load()) }

// TLSConfig returns the TLS configuration the server uses for STARTTLS;
// wrap a listener with it (tls.NewListener) to serve implicit TLS.
func (s *Server) TLSConfig() *tls.Config { return s.tlsConfig }

// Config returns the configuration with defaults filled in.
func (s *Server) Config() Config { return s.cfg }

// Serve accepts connections on l and serves each on its own goroutine. It
// returns ErrServerClosed after Shutdown or Close, or the Accept error.
func (s *Server) Serve(l net.Listener) error {
	if !s.trackListener(l, true) {
		return ErrServerClosed
	}
	defer s.trackListener(l, false)
	var delay time.Duration
	for {
		nc, err := l.Accept()
		if err != nil {
			if s.shutdown.Load() {
				return ErrServerClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, syscall.EMFILE) {
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				time.Sleep(delay)
				continue
			}
			return fmt.Errorf("reference: accept: %w", err)
		}
		delay = 0
		go s.ServeConn(nc)
	}
}

// ServeConn serves one connection and returns when the session ends; it
// closes c. It is cheap enough for in-process fuzzing over net.Pipe.
func (s *Server) ServeConn(c net.Conn) {
	n := s.active.Add(1)
	defer s.active.Add(-1)
	switch {
	case s.shutdown.Load():
		refuse(c, errShuttingDown)
		return
	case n > int64(s.cfg.MaxConns):
		refuse(c, errTooManyConns)
		return
	}
	sc := newConn(s, c)
	if !s.trackConn(sc, true) {
		refuse(c, errShuttingDown)
		freeConn(sc)
		return
	}
	sc.serve()
	s.trackConn(sc, false)
	freeConn(sc)
}

// refuse answers a connection the server will not serve and closes it.
func refuse(c net.Conn, e *SMTPError) {
	c.SetWriteDeadline(time.Now().Add(time.Second))
	c.Write([]byte(strconv.Itoa(e.Code) + " " + e.Enhanced + " " + e.Message + "\r\n"))
	c.Close()
}

func (s *Server) trackListener(l net.Listener, add bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if add {
		if s.shutdown.Load() {
			return false
		}
		s.listeners[l] = struct{}{}
	} else {
		delete(s.listeners, l)
	}
	return true
}

func (s *Server) trackConn(c *conn, add bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if add {
		if s.shutdown.Load() {
			return false
		}
		s.conns[c] = struct{}{}
	} else {
		delete(s.conns, c)
	}
	return true
}

// closeListeners stops accepting; it must be called with s.mu held.
func (s *Server) closeListeners() {
	for l := range s.listeners {
		l.Close()
		delete(s.listeners, l)
	}
}

// Shutdown stops accepting connections, answers 421 to sessions that are
// waiting for a command (at once, or as soon as the one they are in
// finishes) and waits until all sessions have ended or ctx is done.
func (s *Server) Shutdown(ctx context.Context) error {
	s.shutdown.Store(true)
	s.mu.Lock()
	s.closeListeners()
	s.mu.Unlock()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		s.mu.Lock()
		n := len(s.conns)
		for c := range s.conns {
			c.kick()
		}
		s.mu.Unlock()
		if n == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// Close stops accepting and closes every connection at once.
func (s *Server) Close() error {
	s.shutdown.Store(true)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closeListeners()
	for c := range s.conns {
		c.raw.Close()
	}
	return nil
}

// isLocalDomain reports whether RCPT may deliver to domain on a connection
// with the given local address.
func (s *Server) isLocalDomain(domain string, local net.Addr) bool {
	if strings.HasPrefix(domain, "[") {
		return literalMatches(domain, local)
	}
	return s.domains[strings.ToLower(domain)]
}

// literalMatches reports whether an address literal names the local IP.
func literalMatches(lit string, local net.Addr) bool {
	ta, ok := local.(*net.TCPAddr)
	if !ok {
		return false
	}
	inner := lit[1 : len(lit)-1]
	if len(inner) > 5 && strings.EqualFold(inner[:5], "IPv6:") {
		inner = inner[5:]
	}
	ip := net.ParseIP(inner)
	return ip != nil && ip.Equal(ta.IP)
}
