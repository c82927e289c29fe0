package main

import (
	"bytes"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/smtpspec/smtpspec/reports"
)

// smtpspec runs the CLI in-process and returns the exit status and output.
func smtpspec(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := dispatch(args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func TestRun_reference(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	jsonPath := filepath.Join(dir, "run.json")
	code, out, errOut := smtpspec(t, "run", "--report", "text=-", "--report", "json="+jsonPath)
	if code != exitOK {
		t.Fatalf("smtpspec run = %d, want 0\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	closing := lines[len(lines)-1]
	if !strings.HasPrefix(closing, "smtpspec: ") && len(lines) > 1 {
		closing = lines[len(lines)-2]
	}
	if !strings.HasPrefix(closing, "smtpspec: ") || !strings.Contains(closing, " passed, 0 failed, ") {
		t.Errorf("closing line = %q, want \"smtpspec: N passed, 0 failed, N skipped\"", closing)
	}
	f, err := os.Open(jsonPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	run, err := reports.ReadJSON(f)
	if err != nil {
		t.Fatalf("the JSON report does not read back: %v", err)
	}
	if len(run.Results) == 0 || run.Target.Name != "reference" {
		t.Errorf("JSON report: %d results, target %+v", len(run.Results), run.Target)
	}
}

func TestRun_failingTarget(t *testing.T) {
	t.Parallel()
	code, out, _ := smtpspec(t, "run", "--target", goSMTPAddr(t), "--run", "^rfc5321/4.1.4/")
	if code != exitFailed {
		t.Errorf("smtpspec run against go-smtp = %d, want 1\n%s", code, out)
	}
	if !strings.Contains(out, "cases/rfc5321/4.1.4-command-order.yaml:") {
		t.Errorf("the report does not point at the YAML file:\n%s", out)
	}
}

func TestRun_unreachable(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	code, _, errOut := smtpspec(t, "run", "--target", addr)
	if code != exitTrouble || !strings.Contains(errOut, "unreachable") {
		t.Errorf("smtpspec run --target %s = %d (%s), want 2 and \"unreachable\"", addr, code, errOut)
	}
}

func TestRun_invalidCases(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bad := "group: mine\ncases:\n  - id: a\n    title: t\n    levl: MUST\n    requirement: r\n    spec: s\n    steps: [{send: NOOP, expect: 999}]\n"
	if err := os.WriteFile(filepath.Join(dir, "bad.yaml"), []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := smtpspec(t, "run", "--cases", dir)
	if code != exitTrouble {
		t.Errorf("smtpspec run with an invalid case file = %d, want 2", code)
	}
	for _, want := range []string{
		dir + `/bad.yaml:5: case: unknown field "levl" (did you mean "level"?)`,
		dir + `/bad.yaml:3: level: missing`,
		dir + `/bad.yaml:8: expect: 999 is not a valid reply code`,
	} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr does not contain %q:\n%s", want, errOut)
		}
	}
}

func TestRun_usage(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"run", "--no-such-flag"},
		{"run", "--level", "often"},
		{"run", "--report", "pdf=x.pdf"},
		{"run", "--report", "text=-", "--report", "json=-"},
		{"run", "--auth", "nocolon"},
		{"run", "--run", "("},
		{"run", "stray"},
		{"nosuchcommand"},
		{},
	} {
		if code, _, _ := smtpspec(t, args...); code != exitUsage {
			t.Errorf("smtpspec %q = %d, want 2", args, code)
		}
	}
	if code, _, _ := smtpspec(t, "run", "-h"); code != exitOK {
		t.Errorf("smtpspec run -h = %d, want 0", code)
	}
}

func TestList(t *testing.T) {
	t.Parallel()
	code, out, errOut := smtpspec(t, "list", "--format", "json", "--level", "must")
	if code != exitOK {
		t.Fatalf("smtpspec list = %d: %s", code, errOut)
	}
	var listed []listedCase
	if err := json.Unmarshal([]byte(out), &listed); err != nil {
		t.Fatalf("list --format json: %v", err)
	}
	if len(listed) < 20 {
		t.Errorf("list returned %d MUST cases", len(listed))
	}
	for _, c := range listed {
		if c.Level != "MUST" || c.ID == "" || c.File == "" || c.Line == 0 || len(c.Spec) == 0 {
			t.Errorf("listed case %+v is incomplete or not MUST", c)
		}
	}
}
