package fuzz

import (
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/smtpspec/smtpspec/harness"
	"github.com/smtpspec/smtpspec/reference"
)

// FuzzSession runs the reference server in-process over net.Pipe. The input's
// first byte picks a start state and a server configuration (see
// sessionStart); the rest is a script in the token language of dict_test.go.
// Invariants: no panic (the reference would answer 421); every reply parses
// strictly; exactly the replies the independent model of model_test.go owes,
// each with a code it allows; the store holds exactly the accepted messages;
// the session ends and leaks no goroutine.
func FuzzSession(f *testing.F) {
	for _, s := range sampled(sessionSeeds(f), 8) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) == 0 {
			return
		}
		res := runSession(in)
		if res.err != nil {
			reportSession(t, in, res)
		}
	})
}

// Start presets of FuzzSession (the low 3 bits of the first input byte).
var sessionPresets = []struct {
	name  harness.Start
	units []unit
}{
	{"connect", nil},
	{"helo", []unit{{data: []byte("HELO client.example\r\n")}}},
	{"ehlo", []unit{{data: []byte("EHLO client.example\r\n")}}},
	{"mail", []unit{{data: []byte("EHLO client.example\r\nMAIL FROM:<a@example.org>\r\n")}}},
	{"rcpt", []unit{{data: []byte("EHLO client.example\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<user@example.test>\r\n")}}},
	{"tls", []unit{{data: []byte("EHLO client.example\r\n")}, {data: []byte("STARTTLS\r\n"), startTLS: true}, {data: []byte("EHLO client.example\r\n")}}},
	{"auth", []unit{{data: []byte("EHLO client.example\r\n")}, {data: []byte("STARTTLS\r\n"), startTLS: true},
		{data: []byte("EHLO client.example\r\nAUTH PLAIN " + authPlainOK + "\r\n")}}},
	{"data", []unit{{data: []byte("EHLO client.example\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<user@example.test>\r\nDATA\r\n")}}},
}

// Start byte layout.
const (
	startPresetMask = 0x07
	startInsecure   = 0x08 // Config.AllowInsecureAuth
	startSizeShift  = 4    // two bits: SIZE limit default, 64, 1000, 5000
	startFewErrors  = 0x40 // Config.MaxErrors 5 instead of (in effect) none
	startCoalesce   = 0x80 // everything between handshakes in one write
)

var sizeLimits = []int64{reference.DefaultMaxMessageSize, 64, 1000, 5000}

// sessionVariant is a server configuration with its store, reused across
// executions (a fuzz worker runs one input at a time).
type sessionVariant struct {
	srv    *reference.Server
	store  *reference.MemoryStore
	mcfg   modelConfig
	rec    recConn    // the server's side of the current session (with STARTTLS)
	script scriptConn // the same for a session without STARTTLS
}

var (
	tlsOnce              sync.Once
	serverTLS, clientTLS *tls.Config
	variantsMu           sync.Mutex
	variants             = map[byte]*sessionVariant{}
	sessionMu            sync.Mutex // one session at a time per process
)

func tlsConfigs() (*tls.Config, *tls.Config) {
	tlsOnce.Do(func() {
		s, pool, err := reference.SelfSigned("mx.example.test")
		if err != nil {
			panic(err)
		}
		serverTLS = s
		// TLS 1.2 with a session cache: after the first handshake the
		// client resumes without a key exchange, so the TLS presets cost
		// tens of microseconds rather than a full handshake each.
		clientTLS = &tls.Config{RootCAs: pool, ServerName: "mx.example.test", MaxVersion: tls.VersionTLS12,
			ClientSessionCache: tls.NewLRUClientSessionCache(8)}
	})
	return serverTLS, clientTLS
}

// variant returns the server for the configuration bits of a start byte.
func variant(start byte) *sessionVariant {
	key := start &^ (startPresetMask | startCoalesce)
	variantsMu.Lock()
	defer variantsMu.Unlock()
	if v := variants[key]; v != nil {
		return v
	}
	st, _ := tlsConfigs()
	store := reference.NewMemoryStore()
	cfg := reference.Config{
		Hostname:          "mx.example.test",
		Domains:           []string{"example.test"},
		Mailboxes:         []string{"user"},
		Users:             map[string]string{authUser: authPass},
		AllowInsecureAuth: key&startInsecure != 0,
		MaxMessageSize:    sizeLimits[(key>>startSizeShift)&3],
		MaxErrors:         1 << 30,
		TLSConfig:         st,
		Backend:           store,
	}
	if key&startFewErrors != 0 {
		cfg.MaxErrors = 5
	}
	srv, err := reference.New(cfg)
	if err != nil {
		panic(err)
	}
	v := &sessionVariant{srv: srv, store: store, mcfg: modelConfig{
		domains: []string{"example.test", "mx.example.test"}, mailboxes: []string{"user"},
		user: authUser, pass: authPass, insecureAuth: cfg.AllowInsecureAuth,
		maxSize: cfg.MaxMessageSize, maxErrors: cfg.MaxErrors, maxRcpts: reference.DefaultMaxRecipients,
	}}
	variants[key] = v
	return v
}

// sessionUnits returns the writes of a FuzzSession input: the preset's,
// then the script's.
func sessionUnits(in []byte) []unit {
	start := in[0]
	coalesce := start&startCoalesce != 0
	units := append(slices.Clone(sessionPresets[start&startPresetMask].units), expand(in[1:], coalesce)...)
	if !coalesce {
		return units
	}
	var out []unit
	for _, u := range units {
		if u.startTLS || len(out) == 0 || out[len(out)-1].startTLS {
			out = append(out, unit{data: slices.Clone(u.data), startTLS: u.startTLS})
			continue
		}
		out[len(out)-1].data = append(out[len(out)-1].data, u.data...)
	}
	return out
}

// The server and the writer of each session run on two long-lived
// goroutines, so that their stacks, once grown, stay grown: a fresh
// goroutine per session spends a good part of it in stack copying.
var (
	poolOnce   sync.Once
	serverJobs = make(chan func())
	writerJobs = make(chan func())
)

func runJobs(jobs chan func()) {
	for job := range jobs {
		job()
	}
}

// watchdogAfter bounds one session: past it the process panics with every
// goroutine's stack, so that a deadlock becomes a crash with a reproducer
// ($SMTPSPEC_FUZZ_WATCHDOG overrides the default of 30s).
var watchdogAfter = func() time.Duration {
	if d, err := time.ParseDuration(os.Getenv("SMTPSPEC_FUZZ_WATCHDOG")); err == nil && d > 0 {
		return d
	}
	return 30 * time.Second
}()

// replyTimeout is how long the client waits for a reply the server owes
// before it calls the server hung. In-process replies take microseconds;
// the margin is for loaded CI machines and -race.
const replyTimeout = 5 * time.Second

// sessionResult is what one execution observed.
type sessionResult struct {
	units   []unit
	script  []byte
	replies [][]byte
	model   *model
	tlsDone []int // sync offsets where a handshake happened
	err     error
	class   string // finding class: model, malformed, hang, closed, extra, leak, store
}

// recConn records what the server writes, so that output nobody read (an
// extra reply) is still seen.
type recConn struct {
	net.Conn
	mu  sync.Mutex
	out bytes.Buffer
}

func (c *recConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	c.out.Write(p)
	c.mu.Unlock()
	return c.Conn.Write(p)
}

func (c *recConn) written() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.out.Bytes())
}

// runSession runs one FuzzSession input and judges it.
func runSession(in []byte) *sessionResult {
	return runUnits(variant(in[0]), sessionUnits(in))
}

// runUnits writes units to a fresh session of v's server and judges every
// reply with the model.
func runUnits(v *sessionVariant, units []unit) *sessionResult {
	sessionMu.Lock()
	defer sessionMu.Unlock()
	poolOnce.Do(func() {
		go runJobs(serverJobs)
		go runJobs(writerJobs)
	})
	watchdog := time.AfterFunc(watchdogAfter, func() {
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		panic(fmt.Sprintf("fuzz: a session ran for %v (deadlock or hang):\n%s", watchdogAfter, buf))
	})
	defer watchdog.Stop()
	v.store.Reset()
	before := runtime.NumGoroutine()
	res := &sessionResult{units: units, script: joined(units)}
	var syncs, segEnds []int
	off := 0
	for _, u := range units {
		off += len(u.data)
		if u.startTLS {
			syncs = append(syncs, off)
			segEnds = append(segEnds, off)
		}
	}
	segEnds = append(segEnds, off)
	m := newModel(v.mcfg, res.script, syncs)
	res.model = m
	if len(syncs) == 0 {
		runScript(v, res, before)
		return res
	}

	client, server := net.Pipe()
	rec := &v.rec // one session at a time per variant (sessionMu)
	rec.Conn = server
	rec.out.Reset()
	done := make(chan struct{})
	serverJobs <- func() {
		defer close(done)
		v.srv.ServeConn(rec)
	}
	paused := make(chan struct{})
	resume := make(chan net.Conn)
	writerDone := make(chan struct{})
	writerJobs <- func() {
		defer close(writerDone)
		var conn net.Conn = client
		for _, u := range units {
			if _, err := conn.Write(u.data); err != nil {
				return // the server closed; the reader judges that
			}
			if u.startTLS {
				paused <- struct{}{}
				if conn = <-resume; conn == nil {
					return
				}
			}
		}
	}

	fail := func(class string, err error) {
		if res.err == nil {
			res.class, res.err = class, err
		}
	}
	var conn net.Conn = client
	rr := harness.NewReplyReader(client)
	consumed, plain := 0, true
	seg := 0
	// One deadline for the whole session: in-process replies take
	// microseconds, and setting a deadline per read costs a timer each.
	client.SetReadDeadline(time.Now().Add(replyTimeout))
	for res.err == nil && !m.dead {
		limit := segEnds[seg]
		if m.dueBy(limit) {
			r, err := rr.ReadReply()
			if err != nil {
				fail(readFailure(m, r, err))
				break
			}
			res.replies = append(res.replies, r.Raw)
			consumed += len(r.Raw)
			if viol := m.reply(r); viol != nil {
				fail("model", viol)
			}
			continue
		}
		if seg == len(segEnds)-1 {
			break
		}
		select {
		case <-paused:
		case <-writerDone:
			// The writer stopped before the handshake point: the server
			// closed the connection with nothing owed.
			if v := m.closed(); v != nil {
				fail("closed", v)
			} else {
				fail("closed", errors.New("the server closed the connection before the client's STARTTLS"))
			}
		}
		if res.err != nil {
			break
		}
		if m.tlsAt == limit {
			if plain && !bytes.Equal(rec.written(), bytes.Join(res.replies, nil)) {
				fail("extra", fmt.Errorf("the server sent %q before the TLS handshake, beyond the replies owed", rec.written()[consumed:]))
				break
			}
			plain = false
			_, ct := tlsConfigs()
			tc := tls.Client(conn, ct)
			tc.SetDeadline(time.Now().Add(replyTimeout))
			if err := tc.Handshake(); err != nil {
				fail("tls", fmt.Errorf("TLS handshake after 220 to STARTTLS: %w", err))
				resume <- nil
				break
			}
			tc.SetWriteDeadline(time.Time{})
			tc.SetReadDeadline(time.Now().Add(replyTimeout))
			conn, rr = tc, harness.NewReplyReader(tc)
			res.tlsDone = append(res.tlsDone, limit)
			m.tlsAt = -1
			resume <- tc
		} else {
			resume <- conn
		}
		seg++
	}
	if res.err == nil && m.mustClose {
		r, err := rr.ReadReply()
		switch {
		case err == nil:
			fail("extra", fmt.Errorf("after %s: the server sent %q and did not close", m.deadWhy, r.Raw))
		case errors.Is(err, os.ErrDeadlineExceeded):
			fail("hang", fmt.Errorf("after %s: the server did not close the connection within %v", m.deadWhy, replyTimeout))
		}
	}
	if res.err == nil && rr.Buffered() > 0 {
		fail("extra", errors.New("the server sent more than the replies owed"))
	}
	conn.Close()
	client.Close()
	select {
	case <-paused:
		resume <- nil
	case <-writerDone:
	}
	if !waitDone(done) {
		fail("leak", errors.New("ServeConn did not return after the client closed the connection"))
		return res
	}
	<-writerDone
	if res.err == nil && plain {
		if out := rec.written(); len(out) > consumed && !m.dead {
			fail("extra", fmt.Errorf("the server sent %q beyond the replies owed", out[consumed:]))
		}
	}
	if res.err == nil {
		checkAfter(v, res, before)
	}
	return res
}

// runScript runs a session without STARTTLS over a scriptConn and judges
// the replies as runUnits does over a connection.
func runScript(v *sessionVariant, res *sessionResult, before int) {
	m := res.model
	fail := func(class string, err error) {
		if res.err == nil {
			res.class, res.err = class, err
		}
	}
	sc := &v.script
	sc.reset(res.script)
	v.srv.ServeConn(sc)
	out := sc.out.Bytes()
	rr := harness.NewReplyReader(bytes.NewReader(out))
	consumed := 0
	for res.err == nil && !m.dead && m.dueBy(len(res.script)) {
		r, err := rr.ReadReply()
		if err != nil {
			fail(readFailure(m, r, err))
			break
		}
		res.replies = append(res.replies, r.Raw)
		consumed += len(r.Raw)
		if viol := m.reply(r); viol != nil {
			fail("model", viol)
		}
	}
	switch {
	case res.err != nil:
	case m.mustClose && len(out) > consumed:
		fail("extra", fmt.Errorf("after %s: the server sent %q and did not close", m.deadWhy, out[consumed:]))
	case m.mustClose && sc.eofAt >= consumed:
		fail("hang", fmt.Errorf("after %s: the server went on reading instead of closing the connection", m.deadWhy))
	case !m.dead && len(out) > consumed:
		fail("extra", fmt.Errorf("the server sent %q beyond the replies owed", out[consumed:]))
	}
	if res.err == nil {
		checkAfter(v, res, before)
	}
}

// checkAfter judges what a session left behind: the store must hold
// exactly the messages the model accepted, and no goroutine may outlive it.
func checkAfter(v *sessionVariant, res *sessionResult, before int) {
	msgs := v.store.Messages()
	got := make([][]byte, len(msgs))
	for i, msg := range msgs {
		got[i] = msg.Data
	}
	switch {
	case !slices.EqualFunc(got, res.model.stored, bytes.Equal):
		res.class, res.err = "store", fmt.Errorf("the store holds %q, want %q", got, res.model.stored)
	default:
		if leaked := goroutinesAbove(before); leaked != "" {
			res.class, res.err = "leak", errors.New(leaked)
		}
	}
}

// waitDone waits up to replyTimeout for done, without a timer when it is
// closed already or soon (the usual case).
func waitDone(done chan struct{}) bool {
	for range 100 {
		select {
		case <-done:
			return true
		default:
			runtime.Gosched()
		}
	}
	t := time.NewTimer(replyTimeout)
	defer t.Stop()
	select {
	case <-done:
		return true
	case <-t.C:
		return false
	}
}

// readFailure classifies a failed read where a reply was owed.
func readFailure(m *model, r *harness.Reply, err error) (string, error) {
	var perr *harness.ProtocolError
	switch {
	case errors.As(err, &perr):
		return "malformed", fmt.Errorf("malformed reply: %w", err)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "malformed", fmt.Errorf("the connection closed inside a reply %q", r.Raw)
	case errors.Is(err, os.ErrDeadlineExceeded):
		return "hang", fmt.Errorf("no reply to %s within the session's %v", describeUnit(m.pending[0]), replyTimeout)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrClosedPipe):
		if v := m.closed(); v != nil {
			return "closed", v
		}
		return "closed", errors.New("the server closed the connection")
	}
	return "transport", err
}

// goroutinesAbove waits up to a second for the goroutine count to fall to n
// and describes the surplus if it does not.
func goroutinesAbove(n int) string {
	// The session's goroutines have signalled that they are done but may
	// not have exited yet: yield first, sleep only if that is not enough.
	for i := 0; ; i++ {
		if runtime.NumGoroutine() <= n {
			return ""
		}
		switch {
		case i == 1100:
			buf := make([]byte, 1<<16)
			buf = buf[:runtime.Stack(buf, true)]
			return fmt.Sprintf("%d goroutines left after the session (%d before):\n%s", runtime.NumGoroutine(), n, buf)
		case i < 100:
			runtime.Gosched()
		default:
			time.Sleep(time.Millisecond)
		}
	}
}

// reportSession fails t with the finding and writes it as a case file.
func reportSession(t reporter, in []byte, res *sessionResult) {
	t.Helper()
	var tr strings.Builder
	for _, u := range res.units {
		fmt.Fprintf(&tr, "C: %q%s\n", short(string(u.data)), map[bool]string{true: " (then TLS on 220)"}[u.startTLS])
	}
	for _, r := range res.replies {
		fmt.Fprintf(&tr, "S: %q\n", r)
	}
	script := sessionScript(res)
	start := sessionPresets[in[0]&startPresetMask].name
	v := variant(in[0])
	meta := harness.ScriptCase{
		Group: "fuzz/session", ID: res.class + "-finding",
		Title:       fmt.Sprintf("FuzzSession finding (%s): %s", res.class, firstLine(res.err.Error())),
		Requirement: "Every reply is the one RFC 5321 and the reference's documented choices allow in that state.",
		Spec:        []string{"RFC 5321 §4.1.4", "RFC 5321 §4.2"},
		Tags:        []string{"fuzz"},
		Comment: []string{
			"Found by FuzzSession (fuzz/session_test.go); replay with: smtpspec run --cases DIR",
			fmt.Sprintf("Start preset %s; server configuration: AllowInsecureAuth=%v MaxMessageSize=%d MaxErrors=%d, AUTH %s:%s.",
				start, v.mcfg.insecureAuth, v.mcfg.maxSize, v.mcfg.maxErrors, authUser, authPass),
			"To replay with these settings: smtpspec serve --hostname mx.example.test --domains example.test --mailboxes user",
			fmt.Sprintf("  --auth %s:%s --max-size %d%s, then smtpspec run --target 127.0.0.1:2525 --cases DIR", authUser, authPass, v.mcfg.maxSize,
				map[bool]string{true: " --allow-insecure-auth"}[v.mcfg.insecureAuth]),
			"(serve has no --max-errors: a finding that needs MaxErrors 5 shows only after 100 errors there).",
			"Finding: " + firstLine(res.err.Error()),
		},
		Quit: !res.model.dead && res.model.framing == fCommand && res.model.pos == len(res.model.in),
	}
	path := writeFinding(t, "FuzzSession", res.class, in, res.script, script, meta)
	t.Fatalf("%v\ntranscript:\n%sfinding written to %s", res.err, tr.String(), path)
}

// sessionScript turns what an execution sent and what the model allowed
// into a Script: one write per unit, each followed by the replies owed for
// the octets it completes.
func sessionScript(res *sessionResult) *harness.Script {
	s := &harness.Script{Start: harness.StartConnect}
	m := res.model
	next := 0 // next entry of m.log
	missing := (res.class == "hang" || res.class == "closed") && len(m.pending) > 0
	take := func(upto int) []harness.ScriptReply {
		var out []harness.ScriptReply
		for next < len(m.log) && m.log[next].end <= upto {
			j := m.log[next]
			out = append(out, harness.ScriptReply{Codes: j.allowed, Closed: j.closes})
			next++
		}
		if missing && next == len(m.log) && m.pending[0].end <= upto {
			out = append(out, harness.ScriptReply{}) // the reply that never came
			missing = false
		}
		return out
	}
	s.Writes = append(s.Writes, harness.ScriptWrite{Expect: take(0)})
	off := 0
	for _, u := range res.units {
		off += len(u.data)
		s.Writes = append(s.Writes, harness.ScriptWrite{Data: u.data, Expect: take(off)})
		if u.startTLS && slices.Contains(res.tlsDone, off) {
			s.Writes = append(s.Writes, harness.ScriptWrite{TLS: true})
		}
	}
	return s
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return short(line)
}
