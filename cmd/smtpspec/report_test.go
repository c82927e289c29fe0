package main

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/smtpspec/smtpspec/reports"
)

// sectionCases keeps these runs small: five cases, of which go-smtp
// fails two (it answers 502 for bad sequences), passes two and passes
// one non-strictly. The rest of the catalogue is in the run as skip.
const sectionCases = "^rfc5321/4.1.4/(mail-before-ehlo|nested-mail|rset-before-ehlo|noop-before-ehlo|help-before-ehlo)$"

// savedRuns runs the section against the reference and go-smtp and
// returns the paths of the two JSON reports.
func savedRuns(t *testing.T) (ref, gosmtp string) {
	t.Helper()
	dir := t.TempDir()
	ref, gosmtp = filepath.Join(dir, "reference.json"), filepath.Join(dir, "gosmtp.json")
	if code, _, errOut := smtpspec(t, "run", "--run", sectionCases, "--report", "json="+ref); code != exitOK {
		t.Fatalf("run against the reference = %d\n%s", code, errOut)
	}
	if code, _, errOut := smtpspec(t, "run", "--target", goSMTPAddr(t), "--rcpt", "postmaster@example.test", "--run", sectionCases, "--report", "json="+gosmtp); code != exitFailed {
		t.Fatalf("run against go-smtp = %d, want 1\n%s", code, errOut)
	}
	return ref, gosmtp
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestRun_baseline walks the CI recipe: write a baseline from a failing
// run, pass with it, then fail on a new failure and on a stale entry, each
// with a message saying which case and what to do.
func TestRun_baseline(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	addr := goSMTPAddr(t)
	base := filepath.Join(dir, "baseline.txt")
	run := func(extra ...string) (int, string, string) {
		return smtpspec(t, append([]string{"run", "--target", addr, "--rcpt", "postmaster@example.test", "--run", sectionCases, "--report", "text=" + filepath.Join(dir, "out.txt")}, extra...)...)
	}

	code, _, errOut := run("--write-baseline", base, "--report", "json="+filepath.Join(dir, "run.json"))
	if code != exitFailed {
		t.Fatalf("run --write-baseline = %d, want 1 (writing a baseline does not change the status)\n%s", code, errOut)
	}
	written := readFile(t, base)
	if !strings.Contains(written, "rfc5321/4.1.4/nested-mail  fail: ") {
		t.Fatalf("baseline lacks a failing case with its message:\n%s", written)
	}

	code, _, errOut = run("--baseline", base, "--annotations", "github")
	if code != exitOK || !strings.Contains(errOut, "the run passes the baseline") || strings.Contains(errOut, "::error") {
		t.Fatalf("run --baseline (all failures listed) = %d, want 0 and no ::error\n%s", code, errOut)
	}

	// The rest gates the saved run with smtpspec report, which exits as
	// run would have.
	saved := filepath.Join(dir, "run.json")
	gate := func(extra ...string) (int, string, string) {
		return smtpspec(t, append([]string{"report", "--in", saved, "--report", "text=" + filepath.Join(dir, "out.txt")}, extra...)...)
	}

	// Drop one listed failure: it is new again.
	var dropped string
	var kept []string
	for _, l := range strings.Split(written, "\n") {
		if dropped == "" && strings.HasPrefix(l, "rfc5321/4.1.4/") {
			dropped = strings.Fields(l)[0]
			continue
		}
		kept = append(kept, l)
	}
	if err := os.WriteFile(base, []byte(strings.Join(kept, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errOut = gate("--baseline", base, "--annotations", "github")
	if code != exitFailed || !strings.Contains(errOut, "1 failure not in baseline") || !strings.Contains(errOut, dropped) {
		t.Errorf("run with %s missing from the baseline = %d, want 1 naming it\n%s", dropped, code, errOut)
	}
	if !strings.Contains(errOut, "::error file=cases/rfc5321/4.1.4-command-order.yaml,line=") {
		t.Errorf("--annotations github does not annotate the new failure\n%s", errOut)
	}

	// List a passing case: the entry is stale.
	stale := append(kept, "rfc5321/4.1.4/rset-before-ehlo  used to fail")
	if err := os.WriteFile(base, []byte(strings.Join(append(stale, dropped+"  listed again"), "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errOut = gate("--baseline", base)
	if code != exitFailed || !strings.Contains(errOut, "rfc5321/4.1.4/rset-before-ehlo  now pass") || !strings.Contains(errOut, "delete its line from "+base) {
		t.Errorf("run with a stale entry = %d, want 1 saying which and how to update\n%s", code, errOut)
	}

	// Rewriting the baseline keeps the reasons people wrote.
	if code, _, errOut = gate("--baseline", base, "--write-baseline", base); code != exitFailed {
		t.Errorf("--baseline B --write-baseline B = %d, want 1 (the status is the old baseline's)\n%s", code, errOut)
	}
	if got := readFile(t, base); !strings.Contains(got, dropped+"  listed again\n") || strings.Contains(got, "rset-before-ehlo") {
		t.Errorf("rewritten baseline lost a reason or kept the stale entry:\n%s", got)
	}
	if code, _, errOut = gate("--baseline", base); code != exitOK {
		t.Errorf("gate against the rewritten baseline = %d, want 0\n%s", code, errOut)
	}
}

func TestRun_badBaseline(t *testing.T) {
	t.Parallel()
	base := filepath.Join(t.TempDir(), "b.txt")
	if err := os.WriteFile(base, []byte("rfc5321/4.1.4/mail-before-ehlo\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// The baseline is read before anything runs: the target is never dialled.
	code, _, errOut := smtpspec(t, "run", "--target", "127.0.0.1:1", "--baseline", base)
	if code != exitUsage || !strings.Contains(errOut, base+":1: rfc5321/4.1.4/mail-before-ehlo: no reason given") {
		t.Errorf("run with a baseline line lacking a reason = %d, want 2 with file:line\n%s", code, errOut)
	}
	code, _, errOut = smtpspec(t, "run", "--target", "127.0.0.1:1", "--annotations", "gitlab")
	if code != exitUsage || !strings.Contains(errOut, `--annotations "gitlab": want github`) {
		t.Errorf("--annotations gitlab = %d\n%s", code, errOut)
	}
}

// TestReport: a saved run renders like the run itself did, and the exit
// status follows the verdicts, never the formats.
func TestReport(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	addr := goSMTPAddr(t)
	saved := filepath.Join(dir, "run.json")
	code, _, errOut := smtpspec(t, "run", "--target", addr, "--rcpt", "postmaster@example.test", "--run", sectionCases,
		"--report", "json="+saved, "--report", "text="+filepath.Join(dir, "run.txt"), "--report", "html="+filepath.Join(dir, "run.html"))
	if code != exitFailed {
		t.Fatalf("run = %d\n%s", code, errOut)
	}
	for _, f := range []string{"text", "html"} {
		ext := map[string]string{"text": "txt", "html": "html"}[f]
		again := filepath.Join(dir, "again."+ext)
		if code, _, errOut := smtpspec(t, "report", "--in", saved, "--report", f+"="+again); code != exitFailed {
			t.Errorf("report --in --report %s = %d, want 1 as the run\n%s", f, code, errOut)
		}
		if readFile(t, again) != readFile(t, filepath.Join(dir, "run."+ext)) {
			t.Errorf("%s rendered from the saved run differs from the run's own", f)
		}
	}
	for _, formats := range [][]string{
		{"json=" + filepath.Join(dir, "o.json")},
		{"junit=" + filepath.Join(dir, "o.xml"), "markdown=" + filepath.Join(dir, "o.md")},
		{"markdown=-", "html=" + filepath.Join(dir, "o.html"), "junit=" + filepath.Join(dir, "o.xml")},
	} {
		args := []string{"report", "--in", saved}
		for _, f := range formats {
			args = append(args, "--report", f)
		}
		if code, _, errOut := smtpspec(t, args...); code != exitFailed {
			t.Errorf("report %v = %d, want 1 whatever the formats\n%s", formats, code, errOut)
		}
	}
	if md := readFile(t, filepath.Join(dir, "o.md")); !strings.HasPrefix(md, "## smtpspec: ") || !strings.Contains(md, "### Failures (") {
		t.Errorf("Markdown report does not start with the summary and failures:\n%.300s", md)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"report"}, "--in RUN.json is required"},
		{[]string{"report", "--in", filepath.Join(dir, "missing.json")}, "no such file"},
		{[]string{"report", "--in", saved, "--report", "pdf=x.pdf"}, `unknown report format "pdf"`},
		{[]string{"report", "--in", saved, "--report", "text=-", "--report", "json=-"}, "only one report can go to stdout"},
	} {
		code, _, errOut := smtpspec(t, tc.args...)
		if code != exitUsage || !strings.Contains(errOut, tc.want) {
			t.Errorf("smtpspec %q = %d, %q; want 2 and %q", tc.args, code, errOut, tc.want)
		}
	}
}

func TestCompare(t *testing.T) {
	t.Parallel()
	ref, gosmtp := savedRuns(t)
	code, out, errOut := smtpspec(t, "compare", ref, gosmtp)
	if code != exitFailed || !strings.Contains(out, "Regressions (") || !strings.Contains(out, "pass          -> fail          rfc5321/4.1.4/nested-mail") {
		t.Errorf("compare reference go-smtp = %d, want 1 listing regressions\n%s%s", code, out, errOut)
	}
	code, out, _ = smtpspec(t, "compare", gosmtp, ref, "--format", "json")
	var doc struct {
		Schema      string
		Regressions []reports.Change
		Fixes       []reports.Change
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("compare --format json: %v\n%s", err, out)
	}
	if code != exitOK || doc.Schema != "smtpspec/compare/v1" || len(doc.Regressions) != 0 || len(doc.Fixes) == 0 {
		t.Errorf("compare go-smtp reference = %d, %d regressions, %d fixes; want 0, none, some", code, len(doc.Regressions), len(doc.Fixes))
	}
	if code, out, _ := smtpspec(t, "compare", "--format", "markdown", ref, ref); code != exitOK || !strings.HasPrefix(out, "## smtpspec compare: 0 regressions") {
		t.Errorf("compare a run with itself in Markdown = %d\n%s", code, out)
	}
	for _, args := range [][]string{{"compare", ref}, {"compare", ref, gosmtp, ref}, {"compare", "--format", "xml", ref, gosmtp}} {
		if code, _, _ := smtpspec(t, args...); code != exitUsage {
			t.Errorf("smtpspec %q = %d, want 2", args, code)
		}
	}
}

func TestMatrix(t *testing.T) {
	t.Parallel()
	ref, gosmtp := savedRuns(t)
	dir := t.TempDir()
	html, md := filepath.Join(dir, "m.html"), filepath.Join(dir, "m.md")
	code, out, errOut := smtpspec(t, "matrix", "--in", "reference="+ref, "--in", gosmtp, "--report", "html="+html, "--report", "markdown="+md, "--report", "text=-")
	if code != exitOK {
		t.Fatalf("matrix = %d\n%s", code, errOut)
	}
	if !strings.HasPrefix(out, "smtpspec matrix: 2 targets, ") || !strings.Contains(out, "  A  reference") || !strings.Contains(out, "  B  gosmtp") {
		t.Errorf("text matrix:\n%s", out)
	}
	if !strings.Contains(readFile(t, md), "| | Case | Level | reference | gosmtp |") {
		t.Errorf("Markdown matrix lacks a column per target")
	}
	if page := readFile(t, html); !strings.Contains(page, `<th class="target">gosmtp</th>`) || !strings.Contains(page, `data-differ="yes"`) {
		t.Errorf("HTML matrix lacks the target columns or differing rows")
	}
	for _, args := range [][]string{
		{"matrix"},
		{"matrix", "--in", "a=" + ref, "--in", "a=" + gosmtp},
		{"matrix", "--in", ref, "--report", "junit=-"},
	} {
		if code, _, _ := smtpspec(t, args...); code != exitUsage {
			t.Errorf("smtpspec %q = %d, want 2", args, code)
		}
	}
}

// TestWriteFileAtomic: a report replaces its file whole and readable by
// others, and a non-regular path such as /dev/null is written in place.
func TestWriteFileAtomic(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "r.txt")
	for _, content := range []string{"first, longer\n", "second\n"} {
		if err := writeFileAtomic(path, func(w io.Writer) error { _, err := w.Write([]byte(content)); return err }); err != nil {
			t.Fatal(err)
		}
		if got := readFile(t, path); got != content {
			t.Errorf("file = %q, want %q", got, content)
		}
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o644 {
		t.Errorf("report mode %v, want 0644", st.Mode().Perm())
	}
	var b bytes.Buffer
	if err := writeFileAtomic(os.DevNull, func(w io.Writer) error { b.WriteString("x"); _, err := w.Write([]byte("x")); return err }); err != nil || b.Len() != 1 {
		t.Errorf("writing %s: %v", os.DevNull, err)
	}
}

// TestColorWanted: colour on a terminal only, and never with NO_COLOR.
// Not parallel: it sets NO_COLOR.
func TestColorWanted(t *testing.T) {
	if colorWanted(&bytes.Buffer{}) {
		t.Errorf("colour wanted on a buffer")
	}
	file, err := os.Create(filepath.Join(t.TempDir(), "out.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	if colorWanted(file) {
		t.Errorf("colour wanted on a regular file")
	}
	tty, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Skipf("no terminal to test with: %v", err)
	}
	defer tty.Close()
	t.Setenv("NO_COLOR", "")
	os.Unsetenv("NO_COLOR")
	if !colorWanted(tty) || !isTerminal(tty) {
		t.Errorf("no colour on a terminal")
	}
	t.Setenv("NO_COLOR", "1")
	if colorWanted(tty) {
		t.Errorf("colour on a terminal with NO_COLOR set")
	}
	if !isTerminal(tty) {
		t.Errorf("NO_COLOR stops the progress line being rewritten in place")
	}
}
