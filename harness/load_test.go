package harness

import (
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/google/go-cmp/cmp"
)

const validFile = `group: test/1.0
title: A test group
spec: RFC 5321 §1
tags: [sample]
cases:
  - id: one
    title: The first case
    level: must
    requirement: Something must hold.
    catalogue: [row-1]
    requires: [PIPELINING, AUTH LOGIN]
    start: greeting
    steps:
      - send: EHLO ${helo}
        expect: {code: 250, enhanced: 2.x.x, text: 'x', wire: '^250', has: [SIZE], lacks: [STARTTLS], multiline: true}
      - raw: "NOOP\nNOOP\r\n${hex:00ff}"
        expect: [250, {code: [500, 501], lenient: 502}]
      - pipeline: [NOOP, QUIT]
        outcomes:
          - name: good
            verdict: pass
            expect: [250, {code: 221, closed: true}]
          - name: bad
            verdict: fail
            expect: [{code: 500, more: true}]
      - pause: 10ms
      - expect: {silence: 50ms}
      - delivered: [{from: "${mail_from}", to: ["${rcpt}"], data: "x\r\n"}]
  - id: two
    title: The second case
    level: INFO
    requirement: Recorded only.
    quit: false
    steps:
      - send: NOOP
        expect: {any: true, closed: true}
`

func TestParseFile(t *testing.T) {
	t.Parallel()
	cases, errs := ParseFile("cases/test.yaml", []byte(validFile))
	if len(errs) > 0 {
		t.Fatalf("ParseFile errors: %v", errs)
	}
	if len(cases) != 2 {
		t.Fatalf("ParseFile returned %d cases, want 2", len(cases))
	}
	c := cases[0]
	if c.ID != "test/1.0/one" || c.Group != "test/1.0" || c.File != "cases/test.yaml" || c.Line != 6 {
		t.Errorf("case identity = %q %q %q:%d", c.ID, c.Group, c.File, c.Line)
	}
	if c.Level != LevelMust || c.Start != StartGreeting || !c.Quit {
		t.Errorf("level, start, quit = %v %v %v", c.Level, c.Start, c.Quit)
	}
	if diff := cmp.Diff([]string{"RFC 5321 §1"}, c.Spec); diff != "" {
		t.Errorf("spec (-want +got):\n%s", diff)
	}
	if len(c.Steps) != 6 {
		t.Fatalf("got %d steps, want 6", len(c.Steps))
	}
	if got := c.Steps[1].Expect[1]; !cmp.Equal(got.Code, []int{500, 501}) || !cmp.Equal(got.Lenient, []int{502}) {
		t.Errorf("step 2 expectation 2 = %+v", got)
	}
	if got := c.Steps[2].Outcomes; len(got) != 2 || got[1].Verdict != Fail || !got[1].Expect[0].More {
		t.Errorf("outcomes = %+v", got)
	}
	if got := c.Steps[3].Pause; got != 10*time.Millisecond {
		t.Errorf("pause = %v", got)
	}
	if got := c.Steps[4].Expect[0].Silence; got != 50*time.Millisecond {
		t.Errorf("silence = %v", got)
	}
	if diff := cmp.Diff([]string{"helo", "mail_from", "rcpt"}, c.vars); diff != "" {
		t.Errorf("vars (-want +got):\n%s", diff)
	}
	if cases[1].Quit || cases[1].Start != StartEhlo || cases[1].Level != LevelInfo {
		t.Errorf("second case: quit %v start %v level %v", cases[1].Quit, cases[1].Start, cases[1].Level)
	}
}

func TestParseFile_errors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		yaml string
		want []string // each must appear in the joined error
	}{
		{"yaml syntax", "group: a\ncases: [\n", []string{"f.yaml:2: did not find expected node content"}},
		{"missing group and cases", "title: x\n", []string{`f.yaml:1: group: missing`, `f.yaml:1: cases: missing`}},
		{"misspelt key", "group: a\ncases:\n  - id: x\n    titel: t\n    title: t\n    level: MUST\n    requirement: r\n    spec: s\n    steps: [{send: NOOP}]\n",
			[]string{`f.yaml:4: case: unknown field "titel" (did you mean "title"?)`}},
		{"bad id and level", "group: a\ncases:\n  - id: Bad_ID\n    title: t\n    level: MUSTT\n    requirement: r\n    spec: s\n    steps: [{send: NOOP}]\n",
			[]string{`f.yaml:3: id: "Bad_ID" is not kebab-case`, `f.yaml:5: level: "MUSTT" is not MUST, SHOULD, MAY or INFO (did you mean "MUST"?)`}},
		{"invalid codes", "group: a\ncases:\n  - id: x\n    title: t\n    level: MUST\n    requirement: r\n    spec: s\n    steps:\n      - send: NOOP\n        expect: {code: [250, 199, 260], lenient: six}\n",
			[]string{`f.yaml:10: code: 199 is not a valid reply code`, `f.yaml:10: code: 260 is not a valid reply code`, `f.yaml:10: lenient: want a whole number, got "six"`}},
		{"wrong types", "group: a\ncases:\n  - id: x\n    title: [t]\n    level: MUST\n    requirement: r\n    spec: s\n    quit: maybe\n    steps: {send: NOOP}\n",
			[]string{`f.yaml:4: title: want a string, got a list`, `f.yaml:8: quit: want true or false`, `f.yaml:9: steps: want a non-empty list, got a mapping`}},
		{"step problems", "group: a\ncases:\n  - id: x\n    title: t\n    level: MUST\n    requirement: r\n    spec: s\n    steps:\n      - send: \"A\\r\\nB\"\n      - {send: NOOP, raw: x}\n      - {}\n      - send: ${nosuch}\n      - send: ${repeat:5}\n      - {expect: {text: '('}}\n      - {expect: {enhanced: '5.05.1'}}\n      - {expect: {lines: 2}}\n",
			[]string{
				`f.yaml:9: send: contains CR or LF`,
				`f.yaml:10: step: one action per step`,
				`f.yaml:11: step: does nothing`,
				`f.yaml:12: send: unknown variable ${nosuch}`,
				`f.yaml:13: send: ${repeat:5}: want ${repeat:N:TEXT}`,
				`f.yaml:14: text: bad regular expression`,
				`f.yaml:15: enhanced: "5.05.1" is not an enhanced status code`,
				`f.yaml:16: expect: give code, lenient, any, closed or silence`,
			}},
		{"outcome problems", "group: a\ncases:\n  - id: x\n    title: t\n    level: MUST\n    requirement: r\n    spec: s\n    steps:\n      - send: NOOP\n        expect: 250\n        outcomes:\n          - {name: a, verdict: passs, expect: [{code: 250, more: true}, 221]}\n          - {name: a, verdict: fail}\n",
			[]string{`f.yaml:12: outcomes: a step has expect or outcomes, not both`, `verdict: "passs" is not one of pass, non-strict, fail, info (did you mean "pass"?)`, `more: only the last expectation`, `name: outcome "a" given twice`, `f.yaml:13: expect: missing`}},
		{"more outside outcomes", "group: a\ncases:\n  - id: x\n    title: t\n    level: MUST\n    requirement: r\n    spec: s\n    steps:\n      - {send: NOOP, expect: {code: 250, more: true}}\n",
			[]string{`f.yaml:9: more: only allowed inside outcomes`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errs := ParseFile("f.yaml", []byte(tt.yaml))
			var joined []string
			for _, e := range errs {
				joined = append(joined, e.Error())
			}
			all := strings.Join(joined, "\n")
			for _, w := range tt.want {
				if !strings.Contains(all, w) {
					t.Errorf("errors do not mention %q; got:\n%s", w, all)
				}
			}
		})
	}
}

func TestLoadAll_duplicateIDs(t *testing.T) {
	t.Parallel()
	file := "group: g\ncases:\n  - id: same\n    title: t\n    level: MUST\n    requirement: r\n    spec: s\n    steps: [{send: NOOP}]\n"
	fsys := fstest.MapFS{
		"a.yaml":     {Data: []byte(file)},
		"sub/b.yaml": {Data: []byte(file)},
		"bad.yaml":   {Data: []byte("group: g2\ncases: 3\n")},
		"notes.txt":  {Data: []byte("ignored")},
	}
	cat, err := LoadAll([]Source{{FS: fsys, Root: ".", Name: "dir"}})
	if cat != nil {
		t.Errorf("LoadAll returned a catalogue despite errors")
	}
	for _, w := range []string{
		`dir/sub/b.yaml:3: id: duplicate case ID "g/same" (first defined at dir/a.yaml:3)`,
		`dir/bad.yaml:2: cases: want a list`,
	} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("LoadAll error = %v, want it to mention %q", err, w)
		}
	}
}

func TestBuiltin(t *testing.T) {
	t.Parallel()
	cat, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	if len(cat.Cases) < 40 {
		t.Errorf("built-in catalogue has %d cases, want at least 40", len(cat.Cases))
	}
	for i := 1; i < len(cat.Cases); i++ {
		if CompareIDs(cat.Cases[i-1].ID, cat.Cases[i].ID) >= 0 {
			t.Errorf("cases out of order: %s before %s", cat.Cases[i-1].ID, cat.Cases[i].ID)
		}
	}
}

func TestCompareIDs(t *testing.T) {
	t.Parallel()
	ordered := []string{"rfc1870/4/a", "rfc5321/2.4/a", "rfc5321/4.1.1/z", "rfc5321/4.1.1.1/a", "rfc5321/4.1.1.5/a", "rfc5321/4.1.1.10/a", "rfc5321/4.2/a", "security/smuggling/a"}
	for i := 1; i < len(ordered); i++ {
		if CompareIDs(ordered[i-1], ordered[i]) >= 0 || CompareIDs(ordered[i], ordered[i-1]) <= 0 {
			t.Errorf("CompareIDs(%q, %q) disagrees with the intended order", ordered[i-1], ordered[i])
		}
	}
}

func TestExpand(t *testing.T) {
	t.Parallel()
	env := map[string]string{"rcpt": "a@b", "size": "100"}
	tests := []struct{ in, want, err string }{
		{"RCPT TO:<${rcpt}>", "RCPT TO:<a@b>", ""},
		{"cost $$5", "cost $5", ""},
		{"${repeat:3:ab}", "ababab", ""},
		{"${repeat:size-97:x}", "xxx", ""},
		{"${hex:00ff0d}", "\x00\xff\r", ""},
		{"${body:10}", "The quic\r\n", ""},
		{"${body:size+1}", "", ""},
		{"${helo}", "", `variable "helo" has no value`},
		{"${nope}", "", "unknown variable"},
		{"$x", "", "lone $"},
		{"${rcpt", "", "unclosed"},
		{"${repeat:-1:x}", "", "want a number"},
		{"${hex:zz}", "", "invalid byte"},
		{"${repeat:300000000:x}", "", "longer than"},
	}
	for _, tt := range tests {
		got, err := expand(tt.in, env)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("expand(%q) error = %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("expand(%q) error: %v", tt.in, err)
			continue
		}
		if tt.want != "" && got != tt.want {
			t.Errorf("expand(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestMessageBody(t *testing.T) {
	t.Parallel()
	for n := range 300 {
		b := messageBody(n)
		if len(b) != n {
			t.Fatalf("messageBody(%d) has %d octets", n, len(b))
		}
		if n >= 2 && !strings.HasSuffix(b, "\r\n") {
			t.Errorf("messageBody(%d) does not end in CRLF", n)
		}
		for _, l := range strings.SplitAfter(b, "\r\n") {
			if strings.HasPrefix(l, ".") || len(l) > 80 || strings.Count(l, "\n") > 1 {
				t.Errorf("messageBody(%d) has a bad line %q", n, l)
			}
		}
	}
}

func TestParseFile_aliases(t *testing.T) {
	t.Parallel()
	file := `group: a
spec: s
cases:
  - id: one
    title: t
    level: MUST
    requirement: r
    steps:
      - send: NOOP
        outcomes: &verdicts
          - {name: ok, verdict: pass, expect: [250]}
          - {name: odd, verdict: fail, expect: [{any: true, more: true}]}
  - id: two
    title: t
    level: MUST
    requirement: r
    steps:
      - send: RSET
        outcomes: *verdicts
`
	cases, errs := ParseFile("f.yaml", []byte(file))
	if len(errs) > 0 {
		t.Fatalf("ParseFile: %v", errs)
	}
	if got := cases[1].Steps[0].Outcomes; len(got) != 2 || got[1].Name != "odd" {
		t.Errorf("aliased outcomes = %+v", got)
	}
}
