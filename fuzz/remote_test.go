package fuzz

import (
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/smtpspec/smtpspec/fuzz/feedback"
	"github.com/smtpspec/smtpspec/harness"
)

// FuzzRemote fuzzes an SMTP server in another process, at the address in
// $SMTPSPEC_FUZZ_TARGET (host:port); it skips when that is unset. See
// remoteConfigFromEnv for the other variables (implicit TLS, credentials,
// profile, timeout). The input's first byte picks a start preset (as the
// case format's start:), the rest is a script in the token language.
//
// The client speaks in lockstep, one command line (or message text, or BDAT
// chunk) at a time, and frames the stream from what the server answers
// (354, 334, 220 to STARTTLS, CHUNKING in its EHLO). Oracles: the server
// stops accepting connections (crash; a ring of the last inputs blames the
// one whose dialogue broke off); no reply within the timeout where one is
// owed (hang); a reply that breaks the grammar (malformed); more or fewer
// replies than commands (count; the closing QUIT must get 221 as the very
// next reply). Every finding is re-checked once on a fresh connection and
// then written as a replayable case (`smtpspec run --target ADDR --cases
// DIR`). The reply codes each dialogue reached feed package feedback, so the
// fuzzer keeps inputs that reach new protocol states.
//
// Run it with one worker (-parallel 1): with several, one worker's crash is
// seen by another's dialogue and the ring cannot blame across processes.
func FuzzRemote(f *testing.F) {
	for _, s := range sampled(remoteSeeds(f), 8) {
		f.Add(s)
	}
	cfg, err := remoteConfigFromEnv()
	if err != nil {
		f.Fatal(err)
	}
	if cfg.addr == "" {
		f.Skip("set SMTPSPEC_FUZZ_TARGET=host:port to fuzz an external server")
	}
	rf := newRemoteFuzzer(cfg)
	feedback.Enabled = os.Getenv("SMTPSPEC_FUZZ_FEEDBACK") != "0"
	f.Fuzz(func(t *testing.T, in []byte) {
		if fd := rf.exec(in); fd != nil {
			if fd.class == "skip" {
				t.Skip(fd.err)
			}
			path := rf.report(t, fd)
			t.Fatalf("%s: %v\nblamed input: %q\n%stranscript:\n%sfinding written to %s (replay: smtpspec run --target %s --insecure --cases %s)",
				fd.class, fd.err, fd.input, fd.ring(), fd.transcript(), path, cfg.addr, findingsDirOf(path))
		}
	})
}

// remoteConfig says how to reach and talk to the server under test.
type remoteConfig struct {
	addr        string
	implicitTLS bool
	tls         *tls.Config
	profile     harness.Profile
	timeout     time.Duration // for each owed reply
	name        string        // "FuzzRemote", or the proof test's name
}

// remoteConfigFromEnv reads SMTPSPEC_FUZZ_TARGET (host:port),
// SMTPSPEC_FUZZ_TLS=1 (implicit TLS), SMTPSPEC_FUZZ_VERIFY=1 (verify the
// certificate; by default it is not, as with smtpspec run --insecure),
// SMTPSPEC_FUZZ_AUTH=user:pass, SMTPSPEC_FUZZ_HELO, SMTPSPEC_FUZZ_MAIL_FROM,
// SMTPSPEC_FUZZ_RCPT (the profile, as smtpspec run's flags) and
// SMTPSPEC_FUZZ_TIMEOUT (a duration; default 2s). SMTPSPEC_FUZZ_FEEDBACK=0
// turns package feedback off, to measure what it is worth.
func remoteConfigFromEnv() (remoteConfig, error) {
	c := remoteConfig{addr: os.Getenv("SMTPSPEC_FUZZ_TARGET"), profile: harness.DefaultProfile(), timeout: 2 * time.Second, name: "FuzzRemote"}
	c.implicitTLS = os.Getenv("SMTPSPEC_FUZZ_TLS") == "1"
	c.tls = &tls.Config{InsecureSkipVerify: os.Getenv("SMTPSPEC_FUZZ_VERIFY") != "1", ClientSessionCache: tls.NewLRUClientSessionCache(8)}
	if host, _, err := net.SplitHostPort(c.addr); err == nil {
		c.tls.ServerName = host
	}
	if a := os.Getenv("SMTPSPEC_FUZZ_AUTH"); a != "" {
		u, p, ok := strings.Cut(a, ":")
		if !ok {
			return c, fmt.Errorf("SMTPSPEC_FUZZ_AUTH=%q: want user:pass", a)
		}
		c.profile.AuthUser, c.profile.AuthPass = u, p
	}
	for env, dst := range map[string]*string{"SMTPSPEC_FUZZ_HELO": &c.profile.Helo, "SMTPSPEC_FUZZ_MAIL_FROM": &c.profile.MailFrom, "SMTPSPEC_FUZZ_RCPT": &c.profile.Rcpt} {
		if v := os.Getenv(env); v != "" {
			*dst = v
		}
	}
	if v := os.Getenv("SMTPSPEC_FUZZ_TIMEOUT"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return c, fmt.Errorf("SMTPSPEC_FUZZ_TIMEOUT=%q: want a duration such as 2s", v)
		}
		c.timeout = d
	}
	return c, nil
}

// Remote start presets (the low 3 bits of the first input byte), named as
// the case format's start presets so that findings replay the same way.
var remoteStarts = []harness.Start{
	harness.StartConnect, harness.StartHelo, harness.StartEhlo, harness.StartMail,
	harness.StartRcpt, harness.StartTLS, harness.StartAuth, harness.StartGreeting,
}

// remoteFuzzer is FuzzRemote's state in one process.
type remoteFuzzer struct {
	cfg      remoteConfig
	mu       sync.Mutex
	ring     [8]ringEntry // the last inputs, for blaming a crash
	ringN    int
	chunking bool // the server advertises CHUNKING: BDAT carries a chunk
	probed   bool
	down     bool            // a crash was reported: later executions skip
	seqs     map[uint64]bool // distinct reply-code sequences seen (up to maxSeqs)
	dialogs  int             // dialogues run
}

const maxSeqs = 1 << 20

type ringEntry struct {
	input  []byte
	d      *dialogue // its dialogue (writes and transcript)
	broken bool      // the dialogue ended with the connection lost where a reply was owed
}

func newRemoteFuzzer(cfg remoteConfig) *remoteFuzzer {
	return &remoteFuzzer{cfg: cfg, seqs: map[uint64]bool{}}
}

// A remoteFinding is what one execution found.
type remoteFinding struct {
	class   string // crash, hang, malformed, count, skip
	err     error
	input   []byte
	d       *dialogue // the dialogue that showed it (for crash: the blamed input's replay attempt, or nil)
	blurb   string    // how the finding was confirmed
	blameOf []ringEntry
}

// ring lists the last inputs before a crash, newest first.
func (fd *remoteFinding) ring() string {
	if len(fd.blameOf) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("last inputs, newest first:\n")
	for _, e := range fd.blameOf {
		fmt.Fprintf(&b, "  %q broken=%v\n", e.input, e.broken)
	}
	return b.String()
}

func (fd *remoteFinding) transcript() string {
	if fd.d == nil {
		return "(none)\n"
	}
	return fd.d.transcript()
}

// exec runs one input: a dialogue, the oracles, and a re-check of what they
// flag. It returns nil when all is well.
func (rf *remoteFuzzer) exec(in []byte) *remoteFinding {
	rf.mu.Lock()
	defer rf.mu.Unlock()
	if rf.down {
		return &remoteFinding{class: "skip", err: errors.New("the server stopped accepting connections earlier in this process; restart it")}
	}
	if !rf.probed {
		rf.probe()
	}
	d := rf.run(in)
	rf.remember(in, d)
	if d.dialErr != nil {
		// The server does not accept connections: blame the input whose
		// dialogue broke off, else the last one before this.
		if fd := rf.crash(in, d.dialErr); fd != nil {
			return fd
		}
		return nil
	}
	if d.lost {
		if err := rf.accepting(); err != nil {
			rf.down = true
			return &remoteFinding{class: "crash", err: fmt.Errorf("the server stopped accepting connections after this input: %w", err),
				input: in, d: d, blurb: "the connection broke off where a reply was owed, and two connection attempts 100 ms apart were refused"}
		}
	}
	if d.failure == nil {
		return nil
	}
	// Re-check once on a fresh connection before reporting.
	again := rf.run(in)
	if again.failure == nil || again.failure.class != d.failure.class {
		return nil // flaky: not reported
	}
	d.failure.blurb = "seen twice, on two connections"
	d.failure.input = in
	return d.failure
}

// remember puts an input in the ring.
func (rf *remoteFuzzer) remember(in []byte, d *dialogue) {
	rf.ring[rf.ringN%len(rf.ring)] = ringEntry{input: bytes.Clone(in), d: d, broken: d.lost}
	rf.ringN++
}

// crash builds the finding for a server that refuses connections, blaming
// the most recent ring entry whose dialogue broke off (or else the one
// before the current input).
func (rf *remoteFuzzer) crash(cur []byte, dialErr error) *remoteFinding {
	time.Sleep(100 * time.Millisecond)
	if rf.accepting() == nil {
		return nil // a passing refusal (backlog full, restart): not a crash
	}
	rf.down = true
	var entries []ringEntry
	for i := 1; i <= min(rf.ringN, len(rf.ring)); i++ {
		entries = append(entries, rf.ring[(rf.ringN-i)%len(rf.ring)])
	}
	blamed := ringEntry{input: cur}
	why := "no earlier input in this process: the server was down before"
	if len(entries) > 1 {
		blamed, why = entries[1], "the input before the one that found the server down"
		for _, e := range entries[1:] {
			if e.broken {
				blamed, why = e, "the latest input whose dialogue broke off where a reply was owed"
				break
			}
		}
	}
	return &remoteFinding{class: "crash", err: fmt.Errorf("the server stopped accepting connections (%v); blamed: %s", dialErr, why),
		input: blamed.input, d: blamed.d, blameOf: entries, blurb: "two connection attempts 100 ms apart were refused"}
}

// accepting checks twice, 100 ms apart, that the server takes connections.
func (rf *remoteFuzzer) accepting() error {
	var err error
	for i := range 2 {
		if i > 0 {
			time.Sleep(100 * time.Millisecond)
		}
		var c net.Conn
		if c, err = net.DialTimeout("tcp", rf.cfg.addr, rf.cfg.timeout); err == nil {
			c.Close()
			return nil
		}
	}
	return err
}

// probe learns whether the server advertises CHUNKING.
func (rf *remoteFuzzer) probe() {
	rf.probed = true
	d := rf.newDialogue(harness.StartConnect)
	if d.dialErr != nil {
		return
	}
	defer d.conn.Close()
	if _, ok := d.read(""); !ok {
		return
	}
	d.conn.Write([]byte("EHLO " + rf.cfg.profile.Helo + "\r\n"))
	if r, ok := d.read("EHLO"); ok && r.Code == 250 {
		for _, k := range r.Keywords() {
			if k == "CHUNKING" {
				rf.chunking = true
			}
		}
	}
	d.conn.Write([]byte("QUIT\r\n"))
	d.read("QUIT")
}

func (rf *remoteFuzzer) newDialogue(start harness.Start) *dialogue {
	d := &dialogue{cfg: &rf.cfg, chunking: rf.chunking, start: start}
	conn, err := net.DialTimeout("tcp", rf.cfg.addr, rf.cfg.timeout)
	if err != nil {
		d.dialErr = err
		return d
	}
	if rf.cfg.implicitTLS {
		tc := tls.Client(conn, rf.cfg.tls)
		tc.SetDeadline(time.Now().Add(rf.cfg.timeout))
		if err := tc.Handshake(); err != nil {
			conn.Close()
			d.dialErr = fmt.Errorf("implicit TLS handshake: %w", err)
			return d
		}
		tc.SetDeadline(time.Time{})
		conn = tc
	}
	d.conn, d.rr = conn, harness.NewReplyReader(conn)
	return d
}

// run performs one dialogue.
func (rf *remoteFuzzer) run(in []byte) *dialogue {
	d := rf.newDialogue(startOf(in))
	rf.dialogs++
	if d.dialErr != nil {
		return d
	}
	defer func() {
		d.conn.Close()
		if len(rf.seqs) < maxSeqs {
			rf.seqs[d.trace.Sum()] = true
		}
	}()
	d.play(in)
	return d
}

func startOf(in []byte) harness.Start {
	if len(in) == 0 {
		return harness.StartConnect
	}
	return remoteStarts[in[0]&7]
}

// play runs the input's dialogue on d's connection: greeting, start
// preset, script, QUIT.
func (d *dialogue) play(in []byte) {
	var script []byte
	if len(in) > 1 {
		script = joined(expand(in[1:], true))
	}
	d.expectGreeting()
	if d.stopped() {
		return
	}
	if d.start != harness.StartConnect {
		d.writes = nil // the case's start preset reads the greeting
	}
	d.preset()
	if !d.stopped() {
		d.script(script)
	}
	if !d.stopped() {
		d.send([]byte("QUIT\r\n"), "QUIT")
		if r, ok := d.read("QUIT"); ok && r.Code != 221 {
			d.fail("count", fmt.Errorf("QUIT got %q, want 221 as the very next reply: the server sent more or fewer replies than commands", r.Raw))
		}
		if len(d.writes) > 0 {
			d.writes[len(d.writes)-1].Expect = []harness.ScriptReply{{Codes: []int{221}}}
		}
	}
}

// report writes the finding as a case file and returns its path.
func (rf *remoteFuzzer) report(t reporter, fd *remoteFinding) string {
	d := fd.d
	if d == nil {
		d = &dialogue{start: harness.StartConnect} // nothing was recorded
	}
	s := &harness.Script{Start: d.start, Writes: d.writes}
	meta := harness.ScriptCase{
		Group: "fuzz/remote", ID: fd.class + "-finding",
		Title:       fmt.Sprintf("FuzzRemote finding (%s): %s", fd.class, firstLine(fd.err.Error())),
		Requirement: "The server answers every command with exactly one well-formed reply in time and keeps serving.",
		Spec:        []string{"RFC 5321 §4.2", "RFC 5321 §4.5.3.2"},
		Tags:        []string{"fuzz"},
		Comment: []string{
			fmt.Sprintf("Found by %s against %s (%s).", rf.cfg.name, rf.cfg.addr, fd.blurb),
			"Replay: smtpspec run --target ADDR --insecure --cases DIR   (with --helo/--mail-from/--rcpt/--auth as fuzzed)",
			"Finding: " + firstLine(fd.err.Error()),
		},
	}
	return writeFinding(t, rf.cfg.name, fd.class, fd.input, joinedWrites(d.writes), s, meta)
}

func joinedWrites(ws []harness.ScriptWrite) []byte {
	var b bytes.Buffer
	for _, w := range ws {
		b.Write(w.Data)
	}
	return b.Bytes()
}

func findingsDirOf(path string) string {
	if i := strings.LastIndexByte(path, os.PathSeparator); i >= 0 {
		return path[:i]
	}
	return "."
}

// remoteSeeds are FuzzRemote's and FuzzDifferential's seeds: the
// catalogue's cases (their start preset and octets), the session seeds'
// hand-made dialogues, and a sample of go-fuzz-corpus messages as DATA.
func remoteSeeds(tb reporter) [][]byte {
	if !seeding() {
		return nil
	}
	var seeds [][]byte
	rev := map[harness.Start]byte{}
	for i, s := range remoteStarts {
		if _, ok := rev[s]; !ok {
			rev[s] = byte(i)
		}
	}
	for _, s := range catalogueScripts(tb) {
		script := encodeScript(s.Writes)
		if len(script) <= 4096 {
			seeds = append(seeds, append([]byte{rev[s.Start]}, script...))
		}
	}
	for _, h := range handSeeds {
		seeds = append(seeds, append([]byte{h.start & 7 % 7}, tokenize([]byte(h.script))...))
	}
	// go-fuzz-corpus messages as DATA after an accepted RCPT (start rcpt).
	for _, msg := range append(corpusFiles(tb, "mail", 16), corpusFiles(tb, "mime", 16)...) {
		seeds = append(seeds, append(append([]byte{4}, tokenize([]byte("DATA\r\n"))...), tokenize(append(toCRLF(msg), "\r\n.\r\n"...))...))
	}
	return seeds
}
