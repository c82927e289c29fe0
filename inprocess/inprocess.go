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
	clientTLS := &tls.Config{ServerName: "localhost"}
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

// start runs one fresh server with its own message store.
func (r *Reference) start(ctx context.Context) (*harness.Instance, error) {
	cfg := r.Config
	store := reference.NewMemoryStore()
	cfg.Backend = store
	srv, err := reference.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("start reference: %w", err)
	}
	var lc net.ListenConfig
	l, err := lc.Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("start reference: %w", err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.Serve(l)
	}()
	return &harness.Instance{
		Addr:    l.Addr().String(),
		Mailbox: mailbox{store, srv},
		Stop: func() {
			srv.Close()
			<-done
		},
	}, nil
}

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
