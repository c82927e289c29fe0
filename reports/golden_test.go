package reports

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/smtpspec/smtpspec/harness"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// golden compares got with testdata/golden/name, or rewrites the file
// with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./reports -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (-want +got); if the change is intended, run go test ./reports -update:\n%s",
			path, cmp.Diff(strings.Split(string(want), "\n"), strings.Split(string(got), "\n")))
	}
}

func render(t *testing.T, w Writer, run *harness.Run, opts Options) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := w(&b, run, opts); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// goldenFormats names every format and the extension of its golden file.
var goldenFormats = []struct{ format, ext string }{
	{"text", "txt"},
	{"json", "json"},
	{"junit", "junit.xml"},
	{"markdown", "md"},
	{"html", "html"},
}

func TestGolden(t *testing.T) {
	for _, f := range goldenFormats {
		t.Run(f.format, func(t *testing.T) {
			w, err := Lookup(f.format)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, "run."+f.ext, render(t, w, fixtureRun(), Options{}))
		})
	}
	t.Run("annotations", func(t *testing.T) {
		var b bytes.Buffer
		if err := Annotations(&b, fixtureRun(), nil); err != nil {
			t.Fatal(err)
		}
		golden(t, "run.annotations.txt", b.Bytes())
	})
}

// TestGolden_gate renders the formats that show a baseline's verdicts.
func TestGolden_gate(t *testing.T) {
	run := fixtureRun()
	gate := fixtureBaseline().Check(run)
	for _, f := range goldenFormats {
		if f.format == "json" {
			continue // the JSON report is the run itself, gate or not
		}
		t.Run(f.format, func(t *testing.T) {
			w, _ := Lookup(f.format)
			golden(t, "gate."+f.ext, render(t, w, run, Options{Gate: gate}))
		})
	}
	t.Run("annotations", func(t *testing.T) {
		var b bytes.Buffer
		if err := Annotations(&b, run, gate); err != nil {
			t.Fatal(err)
		}
		golden(t, "gate.annotations.txt", b.Bytes())
	})
	t.Run("explain", func(t *testing.T) {
		var b bytes.Buffer
		gate.Explain(&b)
		golden(t, "gate.explain.txt", b.Bytes())
	})
	t.Run("baseline", func(t *testing.T) {
		var b bytes.Buffer
		if err := NewBaseline("known.txt", run, fixtureBaseline()).Write(&b); err != nil {
			t.Fatal(err)
		}
		golden(t, "baseline.txt", b.Bytes())
	})
}

// secondRun is fixtureRun a release later: one fix, one regression, one
// other change, one case added and one removed.
func secondRun() *harness.Run {
	run := fixtureRun()
	run.Target.Addr = "192.0.2.26:25"
	var kept []*harness.Result
	for _, r := range run.Results {
		c := *r
		switch c.ID {
		case "rfc5321/4.1.4/mail-before-ehlo":
			c.Verdict, c.Message, c.Diff = harness.Pass, "", ""
		case "rfc5321/4.1.4/rcpt-before-mail":
			c.Verdict, c.Message = harness.Fail, `step 1 "RCPT TO:<postmaster>": want 503, got "250 Ok\r\n"`
		case "rfc5321/4.1.4/help-before-ehlo":
			c.Verdict = harness.Pass
		case "rfc4954/4/auth-plain":
			continue
		}
		kept = append(kept, &c)
	}
	kept = append(kept, &harness.Result{
		ID: "rfc5321/4.1.4/vrfy-before-ehlo", Title: "VRFY works before EHLO", Group: "rfc5321/4.1.4",
		File: "cases/rfc5321/4.1.4-command-order.yaml", Line: 70, Level: harness.LevelShould,
		Verdict: harness.Fail, Message: "step 1: want 252, got 502",
	})
	run.Results = kept
	return run
}

func TestGolden_compare(t *testing.T) {
	c := Compare(fixtureRun(), secondRun())
	for name, write := range map[string]func(*Comparison, *bytes.Buffer) error{
		"compare.txt":  func(c *Comparison, b *bytes.Buffer) error { return c.WriteText(b) },
		"compare.md":   func(c *Comparison, b *bytes.Buffer) error { return c.WriteMarkdown(b) },
		"compare.json": func(c *Comparison, b *bytes.Buffer) error { return c.WriteJSON(b) },
	} {
		t.Run(name, func(t *testing.T) {
			var b bytes.Buffer
			if err := write(c, &b); err != nil {
				t.Fatal(err)
			}
			golden(t, name, b.Bytes())
		})
	}
}

func fixtureMatrix(t *testing.T) *Matrix {
	t.Helper()
	ref := fixtureRun()
	ref.Target = harness.TargetInfo{Addr: "127.0.0.1:2525", Greeting: "reference.smtpspec.test ESMTP", Name: "reference"}
	for i, r := range ref.Results {
		c := *r
		c.Verdict, c.Message, c.Diff, c.Outcome = harness.Pass, "", "", ""
		ref.Results[i] = &c
	}
	m, err := NewMatrix([]string{"reference", "mx-a", "mx-b"}, []*harness.Run{ref, fixtureRun(), secondRun()})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestGolden_matrix(t *testing.T) {
	m := fixtureMatrix(t)
	for _, f := range []struct{ format, ext string }{{"text", "txt"}, {"markdown", "md"}, {"html", "html"}} {
		t.Run(f.format, func(t *testing.T) {
			w, err := LookupMatrix(f.format)
			if err != nil {
				t.Fatal(err)
			}
			var b bytes.Buffer
			if err := w(&b, m, Options{}); err != nil {
				t.Fatal(err)
			}
			golden(t, "matrix."+f.ext, b.Bytes())
		})
	}
}
