// Package interop holds the configuration templates of the interop run
// (scripts/interop.sh) and its smoke test: the whole catalogue against two
// of the real servers the run covers, the go-smtp example and Python's
// aiosmtpd, which start in a second. The MTAs (Postfix, Exim, OpenSMTPD)
// and mailpit take the full script.
package interop

import (
	"context"
	"net"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/smtpspec/smtpspec/examples/gosmtp"
	"github.com/smtpspec/smtpspec/harness"
)

// profile is what both servers accept: postmaster at example.test.
func profile() harness.Profile {
	p := harness.DefaultProfile()
	p.Rcpt = "postmaster@example.test"
	p.Domain = "example.test"
	return p
}

// bigUpload matches the message of a step that sends megabytes (the
// cases that fill the advertised SIZE): under the race detector an
// in-process server may take longer than the step timeout to read them.
var bigUpload = regexp.MustCompile(`…\(\d{7,} octets\)`)

// check runs the catalogue against addr and checks the smoke-test
// invariants: every case ends with a verdict about the server (no harness
// error), some pass, and the known deviations fail as documented in
// reports/interop/README.md.
func check(t *testing.T, addr string, deviations map[string]string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	run, _ := harness.Check(ctx, harness.Target{Addr: addr}, harness.Options{
		Profile: profile(), Parallel: 16, StepTimeout: 5 * time.Second,
	})
	if run == nil {
		t.Fatalf("no run against %s", addr)
	}
	byID := map[string]*harness.Result{}
	for _, r := range run.Results {
		byID[r.ID] = r
		if r.Verdict == harness.Error && !bigUpload.MatchString(r.Message) {
			t.Errorf("%s: error (harness or transport trouble, not a verdict on the server): %s", r.ID, r.Message)
		}
	}
	s := run.Summary()
	if s[harness.Pass] == 0 {
		t.Errorf("no case passed: %v", s)
	}
	for id, want := range deviations {
		r := byID[id]
		if r == nil {
			t.Errorf("%s: not in the catalogue any more; update the smoke test", id)
			continue
		}
		if r.Verdict != harness.Fail || !strings.Contains(r.Message, want) {
			t.Errorf("%s: %s %q, want fail mentioning %q (a documented deviation)", id, r.Verdict, r.Message, want)
		}
	}
	t.Logf("%s: %v", addr, s)
}

func TestGoSMTP(t *testing.T) {
	t.Parallel()
	addr, stop, err := gosmtp.Start(&gosmtp.Backend{Domain: "example.test"})
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	check(t, addr, map[string]string{
		// go-smtp has no nested-MAIL check (DEV-gosmtp-src-framing).
		"rfc5321/4.1.4/nested-mail": `"250 2.0.0`,
	})
}

// python is the interpreter Debian's python3-aiosmtpd installs into.
const python = "/usr/bin/python3"

func TestAiosmtpd(t *testing.T) {
	t.Parallel()
	if err := exec.Command(python, "-c", "import aiosmtpd").Run(); err != nil {
		t.Skipf("%s cannot import aiosmtpd (%v): install Debian's python3-aiosmtpd (CI does)", python, err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	cmd := exec.Command(python, "-m", "aiosmtpd", "-n", "-c", "aiosmtpd.handlers.Sink", "-l", addr)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Kill()
		cmd.Wait()
	}()
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("aiosmtpd did not listen on %s within 20s: %v", addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	check(t, addr, map[string]string{
		// A path without angle brackets is accepted (aio-libs/aiosmtpd #563).
		"rfc5321/4.1.1/path-without-brackets": `"250 OK`,
	})
}
