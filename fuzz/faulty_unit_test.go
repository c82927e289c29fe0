package fuzz

import (
	"bufio"
	"bytes"
	"context"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/smtpspec/smtpspec/harness"
)

// faultyServer is a small, loose SMTP server with one deliberate fault,
// for proving that FuzzRemote's oracles work: "crash" stops accepting
// connections when a VRFY argument contains "%"; "hang" stops answering
// after RSET directly followed by HELP; "malformed" answers a command line
// holding a DEL (0x7F) with a bare-LF reply; "" has no fault. Otherwise it
// is strict where FuzzRemote's oracles look: only CRLF ends a line.
type faultyServer struct {
	fault string
	l     net.Listener
	mu    sync.Mutex
	conns map[net.Conn]bool
	wg    sync.WaitGroup
}

func startFaulty(tb testing.TB, fault, addr string) *faultyServer {
	tb.Helper()
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		tb.Fatal(err)
	}
	s := &faultyServer{fault: fault, l: l, conns: map[net.Conn]bool{}}
	s.wg.Add(1)
	go s.serve()
	tb.Cleanup(s.stop)
	return s
}

func (s *faultyServer) addr() string { return s.l.Addr().String() }

func (s *faultyServer) serve() {
	defer s.wg.Done()
	for {
		c, err := s.l.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		s.conns[c] = true
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.session(c)
			s.mu.Lock()
			delete(s.conns, c)
			s.mu.Unlock()
			c.Close()
		}()
	}
}

// crash kills the server as a crashing process would: no more accepts,
// every connection reset.
func (s *faultyServer) crash() {
	s.l.Close()
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		if tc, ok := c.(*net.TCPConn); ok {
			tc.SetLinger(0)
		}
		c.Close()
	}
}

func (s *faultyServer) stop() {
	s.crash()
	s.wg.Wait()
}

func (s *faultyServer) session(c net.Conn) {
	br := bufio.NewReader(c)
	w := func(s string) bool {
		c.SetWriteDeadline(time.Now().Add(5 * time.Second))
		_, err := c.Write([]byte(s))
		return err == nil
	}
	if !w("220 faulty.example ESMTP\r\n") {
		return
	}
	prev := ""
	for {
		c.SetReadDeadline(time.Now().Add(30 * time.Second))
		line, err := readCRLF(br)
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		verb = strings.ToUpper(verb)
		switch {
		case s.fault == "crash" && verb == "VRFY" && strings.Contains(arg, "%"):
			s.crash()
			return
		case s.fault == "crash-later" && verb == "VRFY" && strings.Contains(arg, "%"):
			// Answers, and dies once the session is over.
			defer func() { time.AfterFunc(20*time.Millisecond, s.crash) }()
		case s.fault == "hang" && verb == "HELP" && prev == "RSET":
			c.SetReadDeadline(time.Now().Add(time.Minute))
			br.ReadString(0) // never answers
			return
		case s.fault == "malformed" && strings.Contains(line, "\x7f"):
			w("250 ok\n")
			prev = verb
			continue
		}
		prev = verb
		var ok bool
		switch verb {
		case "EHLO":
			ok = w("250-faulty.example\r\n250-PIPELINING\r\n250 8BITMIME\r\n")
		case "HELO", "MAIL", "RCPT", "RSET", "NOOP", "HELP":
			ok = w("250 2.0.0 ok\r\n")
		case "VRFY":
			ok = w("252 2.5.0 maybe\r\n")
		case "DATA":
			if !w("354 go ahead\r\n") {
				return
			}
			for {
				l, err := readCRLF(br)
				if err != nil {
					return
				}
				if l == "." {
					break
				}
			}
			ok = w("250 2.0.0 queued\r\n")
		case "QUIT":
			w("221 2.0.0 bye\r\n")
			return
		default:
			ok = w("500 5.5.2 unknown command\r\n")
		}
		if !ok {
			return
		}
	}
}

// readCRLF reads a line up to CRLF (a bare LF is line content) and returns
// it without the CRLF.
func readCRLF(br *bufio.Reader) (string, error) {
	var b strings.Builder
	for {
		part, err := br.ReadString('\n')
		b.WriteString(part)
		if err != nil {
			return "", err
		}
		if s := b.String(); strings.HasSuffix(s, "\r\n") {
			return s[:len(s)-2], nil
		}
	}
}

// TestFuzzRemote_findsFaults is the proof that FuzzRemote's loop finds each
// deliberate fault within a short fuzz time, and that the case file it
// writes reproduces the fault (and passes against the same server without
// the fault). It drives the fuzz loop logic directly: a mutation loop over
// the FuzzRemote seeds that keeps inputs reaching new reply-code sequences,
// as the coverage feedback makes go test -fuzz do.
func TestFuzzRemote_findsFaults(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("fuzzes for seconds; .ci/run's fuzz section runs it without -race")
	}
	for _, fault := range []string{"crash", "hang", "malformed"} {
		t.Run(fault, func(t *testing.T) {
			t.Parallel()
			srv := startFaulty(t, fault, "")
			cfg := remoteConfig{addr: srv.addr(), profile: harness.DefaultProfile(), timeout: 300 * time.Millisecond, name: "proof-" + fault}
			rf := newRemoteFuzzer(cfg)
			dir := t.TempDir()
			fd, execs, took := miniFuzz(t, rf, 90*time.Second)
			if fd == nil {
				t.Fatalf("no finding in %d executions (%v)", execs, took)
			}
			if fd.class != fault && !(fault == "hang" && fd.class == "hang") {
				t.Fatalf("found %s (%v), want %s", fd.class, fd.err, fault)
			}
			t.Logf("found %s after %d executions in %v: %v\nblamed input %q", fd.class, execs, took.Round(time.Millisecond), fd.err, fd.input)
			path := withFindings(dir, func() string { return rf.report(t, fd) })
			data, _ := os.ReadFile(path)
			t.Logf("case file %s:\n%s", path, data)
			// The case fails against a fresh faulty server and passes
			// against the server without the fault.
			if v := replayCase(t, path, startFaulty(t, fault, "").addr()); !v.Failed() {
				t.Errorf("replay against the faulty server: verdict %s, want fail or error", v)
			}
			if v := replayCase(t, path, startFaulty(t, "", "").addr()); v != harness.Pass {
				t.Errorf("replay against the fixed server: verdict %s, want pass", v)
			}
		})
	}
}

// withFindings runs fn with findings written under dir.
var findingsMu sync.Mutex

func withFindings(dir string, fn func() string) string {
	findingsMu.Lock()
	defer findingsMu.Unlock()
	old := findingsRoot
	findingsRoot = dir
	defer func() { findingsRoot = old }()
	return fn()
}

// miniFuzz is a small coverage-guided loop: it mutates corpus inputs (token
// and byte insertions, deletions, splices, start changes) and adds those
// whose dialogue reached a reply-code sequence not seen before.
func miniFuzz(t *testing.T, rf *remoteFuzzer, limit time.Duration) (*remoteFinding, int, time.Duration) {
	rng := rand.New(rand.NewPCG(uint64(len(rf.cfg.name)), 7))
	corpus := remoteSeeds(t)
	begin := time.Now()
	execs := 0
	try := func(in []byte) *remoteFinding {
		execs++
		before := len(rf.seqs)
		fd := rf.exec(in)
		if len(rf.seqs) > before {
			corpus = append(corpus, in)
		}
		return fd
	}
	for _, in := range corpus[:min(len(corpus), 20)] {
		if fd := try(in); fd != nil {
			return fd, execs, time.Since(begin)
		}
	}
	for time.Since(begin) < limit {
		in := mutate(rng, corpus[rng.IntN(len(corpus))], corpus[rng.IntN(len(corpus))])
		if fd := try(in); fd != nil && fd.class != "skip" {
			return fd, execs, time.Since(begin)
		}
	}
	return nil, execs, time.Since(begin)
}

// mutate applies one to four random edits.
func mutate(rng *rand.Rand, in, other []byte) []byte {
	out := bytes.Clone(in)
	if len(out) == 0 {
		out = []byte{2}
	}
	for range 1 + rng.IntN(4) {
		pos := 1 + rng.IntN(len(out))
		switch rng.IntN(7) {
		case 6: // a whole command at a line boundary
			var at []int
			for i := 1; i <= len(out); i++ {
				if b := out[i-1]; b == '\n' || b >= tokFirst && b != tokEscape && strings.HasSuffix(tokens[int(b-tokFirst)%len(tokens)], "\r\n") {
					at = append(at, i)
				}
			}
			lines := lineTokens()
			if len(at) > 0 {
				p := at[rng.IntN(len(at))]
				out = append(out[:p], append([]byte{lines[rng.IntN(len(lines))]}, out[p:]...)...)
			}
		case 0, 1: // a token
			out = append(out[:pos], append([]byte{byte(tokFirst + 2 + rng.IntN(len(tokens)-2))}, out[pos:]...)...)
		case 2: // a byte
			out = append(out[:pos], append([]byte{byte(rng.IntN(0x80))}, out[pos:]...)...)
		case 3: // delete
			end := min(len(out), pos+1+rng.IntN(8))
			out = append(out[:pos], out[end:]...)
		case 4: // splice
			if len(other) > 1 {
				from := 1 + rng.IntN(len(other)-1)
				out = append(out[:pos], other[from:min(len(other), from+1+rng.IntN(16))]...)
			}
		case 5:
			out[0] = byte(rng.IntN(8))
		}
	}
	return out
}

// lineTokens are the tokens that are whole command lines.
func lineTokens() []byte {
	var out []byte
	for i, t := range tokens {
		if strings.HasSuffix(t, "\r\n") && !strings.HasPrefix(t, "\r\n") {
			out = append(out, byte(tokFirst+i))
		}
	}
	return out
}

// replayCase runs the case file at path against addr, as `smtpspec run
// --target addr --cases DIR` would, and returns its verdict.
func replayCase(t *testing.T, path, addr string) harness.Verdict {
	t.Helper()
	cat, err := harness.Load(os.DirFS(filepath.Dir(path)), ".")
	if err != nil {
		t.Fatalf("load %s: %v", path, err)
	}
	var c *harness.Case
	for _, k := range cat.Cases {
		if strings.HasSuffix(path, filepath.FromSlash(k.File)) {
			c = k
		}
	}
	if c == nil {
		t.Fatalf("no case from %s in %v", path, cat.Cases)
	}
	opts := harness.Options{StepTimeout: time.Second, CaseTimeout: 10 * time.Second}
	target := harness.Target{Addr: addr}
	info, err := harness.Probe(context.Background(), target, opts)
	if err != nil {
		t.Fatalf("probe %s: %v", addr, err)
	}
	r := harness.RunCase(context.Background(), target, info, c, opts)
	t.Logf("replay against %s: %s: %s", addr, r.Verdict, r.Message)
	return r.Verdict
}

// TestFuzzRemote_ringBlame checks that a crash noticed only by the next
// dialogue's connection attempt is blamed on the input before it.
func TestFuzzRemote_ringBlame(t *testing.T) {
	srv := startFaulty(t, "crash-later", "")
	rf := newRemoteFuzzer(remoteConfig{addr: srv.addr(), profile: harness.DefaultProfile(), timeout: time.Second, name: "ring"})
	culprit := append([]byte{2}, tokenize([]byte("VRFY <user%relay.invalid@example.test>\r\n"))...)
	for _, in := range [][]byte{{2, 'N', 'O', 'O', 'P', '\r', '\n'}, culprit} {
		if fd := rf.exec(in); fd != nil {
			t.Fatalf("exec(%q) = %s: %v, want no finding yet", in, fd.class, fd.err)
		}
	}
	time.Sleep(100 * time.Millisecond)
	fd := rf.exec([]byte{0})
	if fd == nil || fd.class != "crash" || !bytes.Equal(fd.input, culprit) {
		t.Fatalf("after the crash: %+v, want a crash blamed on %q", fd, culprit)
	}
	if fd := rf.exec([]byte{0}); fd == nil || fd.class != "skip" {
		t.Errorf("later executions: %+v, want skip", fd)
	}
}

// TestFaultyServer serves a faulty server for a manual go test -fuzz check:
//
//	SMTPSPEC_FAULTY_SERVE=crash@127.0.0.1:2526 go test ./fuzz -run TestFaultyServer -timeout 0 &
//	SMTPSPEC_FUZZ_TARGET=127.0.0.1:2526 go test ./fuzz -run '^$' -fuzz FuzzRemote -parallel 1
func TestFaultyServer(t *testing.T) {
	spec := os.Getenv("SMTPSPEC_FAULTY_SERVE")
	if spec == "" {
		t.Skip("set SMTPSPEC_FAULTY_SERVE=FAULT@ADDR to serve a faulty server")
	}
	fault, addr, _ := strings.Cut(spec, "@")
	srv := startFaulty(t, fault, addr)
	t.Logf("serving fault %q on %s", fault, srv.addr())
	time.Sleep(10 * time.Minute)
}
