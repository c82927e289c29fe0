package faults

import (
	"context"
	"fmt"
	"slices"
	"sync/atomic"

	"github.com/smtpspec/smtpspec/harness"
	"github.com/smtpspec/smtpspec/inprocess"
	"github.com/smtpspec/smtpspec/reference"
)

// A Fault is one way for the proxy to misbehave. Every hook is optional;
// a Fault with none is the transparent Identity.
type Fault struct {
	Name string // kebab-case, unique
	Doc  string // what real-world bug it stands for

	// Framing is how the proxy splits the client's octets into lines, in
	// commands and message text alike.
	Framing Framing
	// Greeting, if set, sends the greeting (the reference's is r) and
	// reports whether the session goes on.
	Greeting func(s *Session, r *Reply) bool
	// Command sees every client line first; it returns true when it has
	// dealt with the line itself (see Session.Relay, Forward, Hidden, Send).
	Command func(s *Session, c *Command) bool
	// Reply rewrites the reference's reply to c into what the client gets.
	Reply func(s *Session, c *Command, r *Reply) []*Reply
	// DataLine rewrites one line of message text into the lines relayed
	// (none drops it); it may also set d.End or d.Early.
	DataLine func(s *Session, d *DataState, line []byte) [][]byte
	// BeforeDot adds text lines right before the final dot.
	BeforeDot func(s *Session, d *DataState) [][]byte
	// Chunk rewrites a BDAT chunk.
	Chunk func(s *Session, c *Command, chunk []byte) []byte
	// After220 is sent in plaintext right after the 220 to STARTTLS.
	After220 []byte
	// KeepPlaintext runs the client octets that followed STARTTLS inside
	// TLS, instead of dropping them (CVE-2011-0411).
	KeepPlaintext bool
	// AfterTLS runs right after the handshakes; before is the state the
	// session had in plaintext.
	AfterTLS func(s *Session, before State)
	// EndOnDisconnect completes a message whose client disconnected in the
	// middle of DATA, as if the end of data had come.
	EndOnDisconnect bool
	// Stored rewrites each message as the server's store reports it, for
	// faults in what a server keeps (trace fields, altered content).
	Stored func(m *harness.Delivered)
}

// Identity is the fault that does nothing: the proxy is transparent.
var Identity = &Fault{Name: "none", Doc: "no fault: the proxy relays the dialogue unchanged"}

// Lookup returns the fault with the given name, or nil.
func Lookup(name string) *Fault {
	i := slices.IndexFunc(All, func(f *Fault) bool { return f.Name == name })
	if i < 0 {
		return nil
	}
	return All[i]
}

// Config is the reference configuration the fault tests use: the defaults
// of the in-process reference, with a 1 MiB SIZE limit so that the cases
// that send more than the limit stay quick.
func Config() reference.Config {
	return reference.Config{MaxMessageSize: 1 << 20}
}

// Target returns a harness target that starts, for every case, a fresh
// in-process reference server (configured by cfg) behind a proxy with
// fault f, and the profile that matches the reference.
func Target(f *Fault, cfg reference.Config) (harness.Target, harness.Profile, error) {
	if f == nil {
		f = Identity
	}
	ref, err := inprocess.New(cfg)
	if err != nil {
		return harness.Target{}, harness.Profile{}, fmt.Errorf("fault %s: %w", f.Name, err)
	}
	t := ref.Target
	start := t.Start
	serverTLS := ref.Config.TLSConfig
	t.Name = "reference behind fault " + f.Name
	// The harness probes the target once before the cases (greeting and
	// EHLO keywords, before and after TLS). That first instance gets no
	// fault, so that a fault in the greeting or EHLO reply breaks the cases
	// about it rather than the probe every case depends on.
	var started atomic.Int32
	t.Start = func(ctx context.Context) (*harness.Instance, error) {
		inst, err := start(ctx)
		if err != nil {
			return nil, err
		}
		pf := f
		if started.Add(1) == 1 {
			pf = Identity
		}
		p := New(inst.Dial, serverTLS, pf)
		mailbox := inst.Mailbox
		if pf.Stored != nil {
			mailbox = storedFault{mailbox, pf.Stored}
		}
		return &harness.Instance{
			Addr:    "in-process, behind fault " + f.Name,
			Dial:    p.Dial,
			Mailbox: mailbox,
			Stop: func() {
				p.Close()
				inst.Stop()
			},
		}, nil
	}
	return t, ref.Profile, nil
}

// storedFault applies a fault's Stored rewrite to what a mailbox reports.
type storedFault struct {
	harness.Mailbox
	rewrite func(m *harness.Delivered)
}

func (s storedFault) Messages() []harness.Delivered {
	msgs := s.Mailbox.Messages()
	for i := range msgs {
		s.rewrite(&msgs[i])
	}
	return msgs
}

// Settle passes on to the wrapped mailbox when it can wait for the server.
func (s storedFault) Settle(ctx context.Context, open int) error {
	if st, ok := s.Mailbox.(harness.Settler); ok {
		return st.Settle(ctx, open)
	}
	return nil
}
