package reports

import (
	"bytes"
	"encoding/xml"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// validateJUnit checks a JUnit report against testdata/junit.xsd with
// xmllint (Debian package libxml2-utils), and that its counts add up.
func validateJUnit(t *testing.T, out []byte) {
	t.Helper()
	var doc junitSuites
	if err := xml.Unmarshal(out, &doc); err != nil {
		t.Fatalf("JUnit report does not parse: %v", err)
	}
	sum := junitSuites{}
	for _, s := range doc.Suites {
		var n, f, e, sk int
		for _, c := range s.Cases {
			n++
			switch {
			case c.Failure != nil:
				f++
			case c.Error != nil:
				e++
			case c.Skipped != nil:
				sk++
			}
		}
		if n != s.Tests || f != s.Failures || e != s.Errors || sk != s.Skipped {
			t.Errorf("suite %s counts tests=%d failures=%d errors=%d skipped=%d, its testcases give %d %d %d %d",
				s.Name, s.Tests, s.Failures, s.Errors, s.Skipped, n, f, e, sk)
		}
		sum.Tests, sum.Failures, sum.Errors, sum.Skipped = sum.Tests+n, sum.Failures+f, sum.Errors+e, sum.Skipped+sk
	}
	if sum.Tests != doc.Tests || sum.Failures != doc.Failures || sum.Errors != doc.Errors || sum.Skipped != doc.Skipped {
		t.Errorf("testsuites counts %d %d %d %d, the suites add up to %d %d %d %d",
			doc.Tests, doc.Failures, doc.Errors, doc.Skipped, sum.Tests, sum.Failures, sum.Errors, sum.Skipped)
	}

	xmllint, err := exec.LookPath("xmllint")
	if err != nil {
		t.Skip("xmllint not installed (Debian package libxml2-utils; .ci/run installs it): schema not checked")
	}
	path := filepath.Join(t.TempDir(), "junit.xml")
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(xmllint, "--noout", "--nonet", "--schema", filepath.Join("testdata", "junit.xsd"), path)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Errorf("xmllint --schema testdata/junit.xsd: %v\n%s", err, stderr.String())
	}
}

func TestJUnit_schema(t *testing.T) {
	run := fixtureRun()
	for name, opts := range map[string]Options{
		"plain": {},
		"gate":  {Gate: fixtureBaseline().Check(run)},
	} {
		t.Run(name, func(t *testing.T) {
			validateJUnit(t, render(t, JUnit, fixtureRun(), opts))
		})
	}
}

// TestJUnit_mapping checks how each verdict and gate status maps onto the
// elements the consumers count.
func TestJUnit_mapping(t *testing.T) {
	run := fixtureRun()
	var doc junitSuites
	if err := xml.Unmarshal(render(t, JUnit, run, Options{Gate: fixtureBaseline().Check(run)}), &doc); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"rfc3030/2/bdat-last":                        "skipped",
		"rfc3207/4/starttls-then-ehlo":               "error",
		"rfc4954/4/auth-plain":                       "skipped",
		"rfc5321/2.3.8/bare-cr-does-not-end-command": "pass",
		"rfc5321/2.3.8/bare-lf-does-not-end-command": "skipped", // known failure
		"rfc5321/4.1.1.1/ehlo-trailing-comment":      "pass",
		"rfc5321/4.1.4/help-before-ehlo":             "pass",
		"rfc5321/4.1.4/mail-before-ehlo":             "failure",
		"rfc5321/4.1.4/rcpt-before-mail":             "failure", // stale baseline entry
	}
	for _, s := range doc.Suites {
		for _, c := range s.Cases {
			got := "pass"
			switch {
			case c.Failure != nil:
				got = "failure"
			case c.Error != nil:
				got = "error"
			case c.Skipped != nil:
				got = "skipped"
			}
			if got != want[c.Name] {
				t.Errorf("testcase %s: %s, want %s", c.Name, got, want[c.Name])
			}
			if c.Classname != s.Name || c.File == "" || c.Line == 0 {
				t.Errorf("testcase %s: classname %q in suite %q, file %q, line %d", c.Name, c.Classname, s.Name, c.File, c.Line)
			}
		}
	}
}
