package main

import (
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/miekg/dns"
	"github.com/smtpspec/smtpspec/examples/gosmtp"
	"github.com/smtpspec/smtpspec/inprocess"
	"github.com/smtpspec/smtpspec/reference"
)

// referenceAddr starts a reference server configured as the in-process
// one, and returns its address and the flags of its profile.
func referenceAddr(t *testing.T) (string, []string) {
	t.Helper()
	ref, err := inprocess.New(reference.Config{})
	if err != nil {
		t.Fatal(err)
	}
	addr, stop, err := ref.ListenTCP()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	p := ref.Profile
	return addr, []string{"--insecure", "--domain", p.Domain, "--unknown-rcpt", p.UnknownRcpt, "--auth", p.AuthUser + ":" + p.AuthPass}
}

// goSMTPAddr starts the go-smtp example server.
func goSMTPAddr(t *testing.T) string {
	t.Helper()
	addr, stop, err := gosmtp.Start(&gosmtp.Backend{Domain: "example.test"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	return addr
}

func TestDiff_sameServer(t *testing.T) {
	t.Parallel()
	addr, profile := referenceAddr(t)
	path := filepath.Join(t.TempDir(), "diff.json")
	args := append([]string{"diff", "--target", addr, "--run", "rfc5321/(3.3|4.1.4)/", "--report", "json=" + path, "--report", "text=-"}, profile...)
	code, out, errOut := smtpspec(t, args...)
	if code != exitOK {
		t.Fatalf("smtpspec diff (reference against itself) = %d, want 0\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Summary map[string]int `json:"summary"`
		Cases   []struct {
			ID, Verdict, Outcome string
		} `json:"cases"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Summary["pass"] == 0 || doc.Summary["fail"] != 0 {
		t.Errorf("summary %v, want passes and no failure", doc.Summary)
	}
	for _, c := range doc.Cases {
		if c.Verdict == "pass" && c.Outcome != "same" {
			t.Errorf("%s: verdict pass with class %q, want same", c.ID, c.Outcome)
		}
	}
}

// sequenceCase is a case of our own, so that the test does not depend on
// how lenient the catalogue is with 502 for 503.
const sequenceCase = `group: t/sequence
spec: ["RFC 5321 §4.1.4"]
cases:
  - id: rcpt-without-mail
    title: RCPT without MAIL is out of sequence
    level: MUST
    requirement: RCPT before MAIL gets 503.
    steps:
      - send: RCPT TO:<${rcpt}>
        expect: 503
`

func TestDiff_disagreement(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "sequence.yaml"), []byte(sequenceCase), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := goSMTPAddr(t)
	// go-smtp answers 502 where RFC 5321 wants 503 for commands out of
	// sequence: a real disagreement with the reference.
	code, out, errOut := smtpspec(t, "diff", "--target", addr, "--rcpt", "postmaster@example.test", "--cases", dir)
	if code != exitFailed {
		t.Fatalf("smtpspec diff (go-smtp) = %d, want 1\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	if !strings.Contains(out, "disagreement") || !strings.Contains(out, "(-against +target)") {
		t.Errorf("the report does not show the disagreement and its diff:\n%s", out)
	}
}

func TestDiff_usage(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := l.Addr().String()
	l.Close()
	for _, args := range [][]string{
		{"diff"},                                 // no target
		{"diff", "--target", dead},               // unreachable
		{"diff", "--target", "127.0.0.1:1", "x"}, // stray argument
		{"diff", "--target", "127.0.0.1:1", "--mx", "example.test"},
		{"run", "--port", "2525"}, // --port without --mx
		{"diff", "--target", "127.0.0.1:1", "--against-auth", "nopass"},
	} {
		if code, _, errOut := smtpspec(t, args...); code != exitUsage {
			t.Errorf("smtpspec %s = %d, want 2 (stderr: %s)", strings.Join(args, " "), code, errOut)
		}
	}
}

// startDNS serves a zone on 127.0.0.1 and returns its address.
func startDNS(t *testing.T, records ...string) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var rrs []dns.RR
	for _, s := range records {
		rr, err := dns.NewRR(s)
		if err != nil {
			t.Fatal(err)
		}
		rrs = append(rrs, rr)
	}
	srv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, req *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(req)
		q := req.Question[0]
		found := false
		for _, rr := range rrs {
			if strings.EqualFold(rr.Header().Name, q.Name) {
				found = true
				if rr.Header().Rrtype == q.Qtype {
					m.Answer = append(m.Answer, rr)
				}
			}
		}
		if !found {
			m.Rcode = dns.RcodeNameError
		}
		w.WriteMsg(m)
	})}
	started := make(chan struct{})
	srv.NotifyStartedFunc = func() { close(started) }
	go srv.ActivateAndServe()
	<-started
	t.Cleanup(func() { srv.Shutdown() })
	return pc.LocalAddr().String()
}

func TestRun_mx(t *testing.T) {
	t.Parallel()
	addr, profile := referenceAddr(t)
	_, port, _ := net.SplitHostPort(addr)
	dnsAddr := startDNS(t,
		"mail.test. 60 IN MX 10 down.mail.test.",
		"mail.test. 60 IN MX 20 up.mail.test.",
		"down.mail.test. 60 IN A 127.0.0.2",
		"up.mail.test. 60 IN A 127.0.0.1",
		"nomail.test. 60 IN MX 0 .",
	)
	mxArgs := []string{"--mx", "mail.test", "--port", port, "--dns-server", dnsAddr, "--run", "rfc5321/3.3/"}

	// The first MX does not answer; the run goes on with the second.
	code, out, errOut := smtpspec(t, append(append([]string{"run"}, mxArgs...), profile...)...)
	if code != exitOK {
		t.Fatalf("smtpspec run --mx = %d, want 0\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	if !strings.Contains(out, "up.mail.test (MX 20), mail server of mail.test") {
		t.Errorf("the report does not name the MX host it tested:\n%s", out)
	}

	code, out, errOut = smtpspec(t, append(append([]string{"diff"}, mxArgs...), profile...)...)
	if code != exitOK {
		t.Errorf("smtpspec diff --mx = %d, want 0\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}

	// --all-mx tests each: the unreachable one makes the status 2.
	dir := t.TempDir()
	args := append(append([]string{"run", "--all-mx", "--report", "json=" + filepath.Join(dir, "run.json")}, mxArgs...), profile...)
	code, out, errOut = smtpspec(t, args...)
	if code != exitTrouble || !strings.Contains(out, "=== down.mail.test (MX 10)") || !strings.Contains(out, "=== up.mail.test (MX 20)") {
		t.Errorf("smtpspec run --all-mx = %d, want 2 and both hosts\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, "run.up.mail.test.json")); err != nil {
		t.Errorf("--all-mx did not write the per-host report: %v", err)
	}

	code, _, errOut = smtpspec(t, "run", "--mx", "nomail.test", "--dns-server", dnsAddr)
	if code != exitUsage || !strings.Contains(errOut, "null MX") {
		t.Errorf("smtpspec run --mx (null MX) = %d, stderr %q; want 2 and a null MX message", code, errOut)
	}
}

// A directory of fuzz findings (case files of raw writes, as the fuzz
// package writes them) is replayed with --scripts, on top of the selected
// catalogue.
func TestDiff_scripts(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	finding := `group: fuzz/gosmtp
spec: ["RFC 5321 §4.1.4"]
cases:
  - id: finding-1
    title: "a fuzz finding"
    level: MUST
    requirement: "replayed as found"
    start: connect
    quit: false
    steps:
      - expect: {code: [220]}
      - raw: "EHLO x\r\nRCPT TO:<postmaster@example.test>\r\nQUIT\r\n"
        expect: [{code: [250]}, {any: true}, {code: [221], closed: true}]
`
	if err := os.WriteFile(filepath.Join(dir, "finding-1.yaml"), []byte(finding), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := goSMTPAddr(t)
	path := filepath.Join(t.TempDir(), "diff.json")
	code, out, errOut := smtpspec(t, "diff", "--target", addr, "--rcpt", "postmaster@example.test", "--scripts", dir, "--run", "^fuzz/", "--report", "json="+path)
	// go-smtp answers the RCPT out of sequence with 502, the reference with 503.
	if code != exitFailed {
		t.Fatalf("smtpspec diff --scripts = %d, want 1\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), `"id": "fuzz/gosmtp/finding-1"`) || !strings.Contains(string(data), `"outcome": "disagreement"`) {
		t.Errorf("the report does not show the finding as a disagreement:\n%s", data)
	}
}
