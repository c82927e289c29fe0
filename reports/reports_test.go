package reports

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/smtpspec/smtpspec/harness"
)

func TestJSON_roundTrip(t *testing.T) {
	want, err := os.ReadFile(filepath.Join("testdata", "golden", "run.json"))
	if err != nil {
		t.Fatal(err)
	}
	run, err := ReadJSON(bytes.NewReader(want))
	if err != nil {
		t.Fatal(err)
	}
	if got := render(t, JSON, run, Options{}); !bytes.Equal(got, want) {
		t.Errorf("JSON(ReadJSON(run.json)) differs from run.json (-want +got):\n%s", cmp.Diff(string(want), string(got)))
	}
	// Every other format renders the same from the saved run.
	for _, f := range []string{"text", "markdown", "junit", "html"} {
		w, _ := Lookup(f)
		if a, b := render(t, w, fixtureRun(), Options{}), render(t, w, run, Options{}); !bytes.Equal(a, b) {
			t.Errorf("%s from the JSON run differs from %s of the run itself", f, f)
		}
	}
}

func TestReadJSON_schema(t *testing.T) {
	_, err := ReadJSON(strings.NewReader(`{"schema": "smtpspec/run/v9", "cases": []}`))
	if err == nil || !strings.Contains(err.Error(), `"smtpspec/run/v9"`) {
		t.Errorf("ReadJSON(v9) = %v, want an error naming the schema", err)
	}
}

func TestParseBaseline(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     []BaselineEntry
		errs     []string
	}{
		{
			name: "entries",
			in:   "# comment\n\nrfc5321/a/b  the reason, with  spaces \n  rfc5321/a/c\tTab separated\n",
			want: []BaselineEntry{{ID: "rfc5321/a/b", Reason: "the reason, with  spaces", Line: 3}, {ID: "rfc5321/a/c", Reason: "Tab separated", Line: 4}},
		},
		{
			name: "problems",
			in:   "rfc5321/a/b\nrfc5321/a/c reason\nrfc5321/a/c again\n",
			errs: []string{"b.txt:1: rfc5321/a/b: no reason given", "b.txt:3: rfc5321/a/c: listed twice (first at line 2)"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := ParseBaseline("b.txt", strings.NewReader(tc.in))
			if tc.errs != nil {
				if err == nil {
					t.Fatalf("ParseBaseline(%q) = nil error, want %q", tc.in, tc.errs)
				}
				for _, e := range tc.errs {
					if !strings.Contains(err.Error(), e) {
						t.Errorf("ParseBaseline(%q) error %q lacks %q", tc.in, err, e)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, b.Entries); diff != "" {
				t.Errorf("ParseBaseline(%q) (-want +got):\n%s", tc.in, diff)
			}
		})
	}
}

// TestBaseline_writeRead: a written baseline reads back, and a run gated
// against the baseline written from it passes.
func TestBaseline_writeRead(t *testing.T) {
	run := fixtureRun()
	var b bytes.Buffer
	if err := NewBaseline("b.txt", run, nil).Write(&b); err != nil {
		t.Fatal(err)
	}
	base, err := ParseBaseline("b.txt", &b)
	if err != nil {
		t.Fatal(err)
	}
	if g := base.Check(run); g.Failed() || len(g.Known) != 3 {
		t.Errorf("gate against its own baseline: failed=%v known=%d new=%d stale=%d, want passed with 3 known", g.Failed(), len(g.Known), len(g.New), len(g.Stale))
	}
}

func TestGate(t *testing.T) {
	g := fixtureBaseline().Check(fixtureRun())
	ids := func(rs []*harness.Result) []string {
		var out []string
		for _, r := range rs {
			out = append(out, r.ID)
		}
		return out
	}
	if diff := cmp.Diff([]string{"rfc5321/2.3.8/bare-lf-does-not-end-command"}, ids(g.Known)); diff != "" {
		t.Errorf("known (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"rfc3207/4/starttls-then-ehlo", "rfc5321/4.1.4/mail-before-ehlo"}, ids(g.New)); diff != "" {
		t.Errorf("new (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"rfc5321/4.1.4/rcpt-before-mail"}, ids(g.Stale)); diff != "" {
		t.Errorf("stale (-want +got):\n%s", diff)
	}
	if len(g.Unchecked) != 1 || g.Unchecked[0].ID != "rfc9999/1/gone" {
		t.Errorf("unchecked = %v, want rfc9999/1/gone", g.Unchecked)
	}
	if !g.Failed() {
		t.Errorf("gate with new failures and a stale entry passes")
	}
	// A skipped or unimplemented listed case is undecided, not stale.
	b := &Baseline{Name: "b", Entries: []BaselineEntry{{ID: "rfc4954/4/auth-plain", Reason: "r"}, {ID: "rfc3030/2/bdat-last", Reason: "r"}}}
	if g := b.Check(fixtureRun()); len(g.Stale) != 0 || len(g.Unchecked) != 2 {
		t.Errorf("skip/unimplemented listed: stale=%d unchecked=%d, want 0 and 2", len(g.Stale), len(g.Unchecked))
	}
}

func TestCompare(t *testing.T) {
	c := Compare(fixtureRun(), secondRun())
	if !c.Regressed() || len(c.Regressions) != 1 || c.Regressions[0].ID != "rfc5321/4.1.4/rcpt-before-mail" {
		t.Errorf("regressions = %v, want rcpt-before-mail", c.Regressions)
	}
	if c := Compare(secondRun(), secondRun()); c.Regressed() || c.Same != len(secondRun().Results) {
		t.Errorf("a run against itself: regressed=%v same=%d", c.Regressed(), c.Same)
	}
	// An added failing case is not a regression.
	if c := Compare(fixtureRun(), secondRun()); len(c.Added) != 1 || c.Added[0].New != harness.Fail {
		t.Errorf("added = %v, want the failing vrfy-before-ehlo", c.Added)
	}
}

// TestMarkdown_limit: a run whose transcripts alone are several MiB still
// gives a summary GitHub accepts, with every failure at least named when
// it fits, and a note saying what was left out.
func TestMarkdown_limit(t *testing.T) {
	big := strings.Repeat("250-"+strings.Repeat("x", 500)+"\r\n", 40)
	run := &harness.Run{Target: harness.TargetInfo{Addr: "192.0.2.1:25"}, Started: fixtureStart}
	for i := range 400 {
		run.Results = append(run.Results, &harness.Result{
			ID: fmt.Sprintf("g%d/case-%03d", i/20, i), Group: fmt.Sprintf("g%d", i/20), Title: "t", Level: harness.LevelMust,
			File: "c.yaml", Line: i + 1, Verdict: harness.Fail, Message: "m",
			Diff:       strings.Repeat("-a\n+b\n", 100),
			Transcript: []harness.Entry{{Direction: harness.Server, Data: []byte(big)}},
		})
	}
	out := render(t, Markdown, run, Options{})
	if len(out) > MarkdownLimit {
		t.Errorf("Markdown report is %d bytes, over the %d limit", len(out), MarkdownLimit)
	}
	if !bytes.Contains(out, []byte("left out to keep this summary under")) {
		t.Errorf("Markdown report does not say that failures were left out")
	}
	if !bytes.Contains(out, []byte("… 120 more lines")) {
		t.Errorf("a long diff is not cut short")
	}
	checkMarkdownStructure(t, string(out))
}

func TestText_color(t *testing.T) {
	plain := render(t, Text, fixtureRun(), Options{})
	if bytes.Contains(plain, []byte("\x1b")) {
		t.Errorf("text report without Color has escape sequences")
	}
	color := render(t, Text, fixtureRun(), Options{Color: true})
	if !bytes.Contains(color, []byte("\x1b[31m×\x1b[0m")) {
		t.Errorf("text report with Color does not paint the fail mark red")
	}
	// The closing lines are the contract: never painted.
	if !bytes.HasSuffix(color, []byte("\nsmtpspec: 2 passed, 2 failed, 1 skipped\n1 error, 1 non-strict, 1 unimplemented, 1 info\n")) {
		t.Errorf("coloured text report does not end with the plain closing lines")
	}
}

func TestAnnotations_limit(t *testing.T) {
	run := &harness.Run{}
	for i := range 15 {
		run.Results = append(run.Results, &harness.Result{ID: fmt.Sprintf("g/c%d", i), File: "cases/g.yaml", Line: i + 1, Verdict: harness.Fail, Message: "a, b: c"})
	}
	var b bytes.Buffer
	if err := Annotations(&b, run, nil); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	errs := 0
	for _, l := range lines {
		if strings.HasPrefix(l, "::error ") {
			errs++
		}
	}
	if errs != MaxAnnotations || len(lines) != MaxAnnotations+1 || !strings.HasPrefix(lines[MaxAnnotations], "::notice ") {
		t.Errorf("15 failures give %d ::error lines in %d lines, want %d and a ::notice:\n%s", errs, len(lines), MaxAnnotations, b.String())
	}
	if want := "::error file=cases/g.yaml,line=1,title=g/c0 fail ()::a, b: c"; lines[0] != want {
		t.Errorf("first annotation = %q, want %q", lines[0], want)
	}
}

func TestSpecURL(t *testing.T) {
	for in, want := range map[string]string{
		"RFC 5321 §4.1.4":   "https://www.rfc-editor.org/rfc/rfc5321#section-4.1.4",
		"RFC 3207":          "https://www.rfc-editor.org/rfc/rfc3207",
		"RFC 5321 §D.1":     "https://www.rfc-editor.org/rfc/rfc5321#appendix-D.1",
		"CVE-2023-51766":    "",
		"RFC 1870 §6 (bis)": "https://www.rfc-editor.org/rfc/rfc1870#section-6",
	} {
		if got := SpecURL(in); got != want {
			t.Errorf("SpecURL(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestVisible(t *testing.T) {
	for in, want := range map[string]string{
		"plain jörg ✔":      "plain jörg ✔",
		"a\r\nb\x00\x1b[0m": `a\r\nb\x00\x1b[0m`,
		"\xff\xfe":          `\xff\xfe`,
		"\u202eevil\u2028":  `\u202eevil\u2028`,
		"keep \ufffd":       "keep \ufffd",
		"\u0085 C1":         `\u0085 C1`,
	} {
		if got := Visible(in); got != want {
			t.Errorf("Visible(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestNewMatrix_errors(t *testing.T) {
	run := fixtureRun()
	for _, names := range [][]string{{"a", "a"}, {"a", ""}} {
		if _, err := NewMatrix(names, []*harness.Run{run, run}); err == nil {
			t.Errorf("NewMatrix(%q) = nil error", names)
		}
	}
}

// TestReadJSON_times: times survive the milliseconds-as-float round trip
// to the microsecond, so a report rendered from the saved run shows what
// the run's own report showed.
func TestReadJSON_times(t *testing.T) {
	run := fixtureRun()
	r := run.Results[0]
	r.Duration = 16182345 // ns
	r.Transcript = []harness.Entry{{Direction: harness.Server, Time: 16182999, Data: []byte("250 Ok\r\n")}}
	back, err := ReadJSON(bytes.NewReader(render(t, JSON, run, Options{})))
	if err != nil {
		t.Fatal(err)
	}
	if got := back.Results[0].Transcript[0].Time; got != 16182000 {
		t.Errorf("transcript time after a round trip = %d ns, want 16182000", got)
	}
	for _, w := range []Writer{Text, HTML, JUnit} {
		if a, b := render(t, w, run, Options{}), render(t, w, back, Options{}); !bytes.Equal(a, b) {
			t.Errorf("a report of the saved run differs from the run's own:\n%s", cmp.Diff(string(a), string(b)))
		}
	}
}
