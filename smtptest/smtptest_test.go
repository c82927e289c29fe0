package smtptest_test

import (
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/smtpspec/smtpspec/examples/gosmtp"
	"github.com/smtpspec/smtpspec/harness"
	"github.com/smtpspec/smtpspec/inprocess"
	"github.com/smtpspec/smtpspec/reference"
	"github.com/smtpspec/smtpspec/smtptest"
)

// TestRun_reference runs the whole built-in catalogue against the bundled
// reference, one subtest per case; every case must pass.
func TestRun_reference(t *testing.T) {
	ref, err := inprocess.New(reference.Config{})
	if err != nil {
		t.Fatal(err)
	}
	smtptest.Run(t, ref.Target, smtptest.Options{Options: harness.Options{Profile: ref.Profile}})
}

// TestRun_flawedServer runs the catalogue against a go-smtp server in a
// child test process and checks what a user would see: failing subtests
// named by case ID, messages that start with the YAML file and line, then a
// diff and a transcript, and a stale KnownFailures entry reported.
func TestRun_flawedServer(t *testing.T) {
	if os.Getenv("SMTPTEST_CHILD") == "1" {
		t.Skip("the child process runs TestChild instead")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestChild$", "-test.v")
	cmd.Env = append(os.Environ(), "SMTPTEST_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("the child test passed against a flawed server:\n%s", out)
	}
	text := string(out)
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`--- FAIL: TestChild/rfc5321/4\.1\.4/nested-mail `),
		regexp.MustCompile(`(?m)^\s+smtptest\.go:\d+: cases/rfc5321/4\.1\.4-command-order\.yaml:\d+: rfc5321/4\.1\.4/nested-mail: step 1 "MAIL FROM:<smtpspec@example\.org>": want 503`),
		regexp.MustCompile(`\(-want \+got\):`),
		regexp.MustCompile(`C: "MAIL FROM:<smtpspec@example\.org>\\r\\n"`),
		regexp.MustCompile(`--- FAIL: TestChild/rfc5321/4\.1\.1\.10/quit-221-then-close `),
		regexp.MustCompile(`rfc5321/4\.1\.1\.10/quit-221-then-close is listed as a known failure \(pretend\) but its verdict is now pass`),
		regexp.MustCompile(`known failure \(go-smtp answers 502\)`),
	} {
		if !want.MatchString(text) {
			t.Errorf("child output does not match %q", want)
		}
	}
	if t.Failed() {
		t.Logf("child output:\n%s", text)
	}
}

func TestChild(t *testing.T) {
	if os.Getenv("SMTPTEST_CHILD") != "1" {
		t.Skip("only runs as the child of TestRun_flawedServer")
	}
	addr, stop, err := gosmtp.Start(&gosmtp.Backend{Domain: "example.test"})
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	smtptest.Run(t, harness.Target{Addr: addr}, smtptest.Options{
		Options: harness.Options{
			Run:     regexp.MustCompile(`^rfc5321/4\.1\.(4|1\.10)/`),
			Profile: harness.Profile{Helo: "client.example", MailFrom: "smtpspec@example.org", Rcpt: "postmaster@example.test"},
		},
		KnownFailures: map[string]string{
			"rfc5321/4.1.4/mail-before-ehlo":       "go-smtp answers 502",
			"rfc5321/4.1.1.10/quit-221-then-close": "pretend",
		},
	})
}

func TestExplain(t *testing.T) {
	t.Parallel()
	r := &harness.Result{
		ID: "g/x", File: "cases/g.yaml", Line: 3, StepLine: 9, Verdict: harness.Fail,
		Message: `step 1 "NOOP": want 250, got "500 x\r\n"`, Diff: "- a\n+ b\n",
		Transcript: []harness.Entry{{Direction: harness.Client, Data: []byte("NOOP\r\n")}, {Direction: harness.Server, Data: []byte("500 x\r\n")}},
	}
	got := smtptest.Explain(r)
	for _, want := range []string{"cases/g.yaml:9: g/x: step 1", "(-want +got):\n- a\n+ b\n", `C: "NOOP\r\n"`, `S: "500 x\r\n"`} {
		if !strings.Contains(got, want) {
			t.Errorf("Explain() = %q, want it to contain %q", got, want)
		}
	}
}
