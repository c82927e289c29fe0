package differential_test

import (
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/smtpspec/smtpspec/differential"
	"github.com/smtpspec/smtpspec/harness"
	"github.com/smtpspec/smtpspec/inprocess"
	"github.com/smtpspec/smtpspec/reference"

	"github.com/smtpspec/smtpspec/internal/smtpfake"
)

// fake starts a server on 127.0.0.1 that answers each command line with
// replies[VERB] (see smtpfake.Scripted).
func fake(t *testing.T, replies map[string]string) string {
	return smtpfake.Serve(t, smtpfake.Scripted(replies))
}

var base = map[string]string{
	"EHLO":     "250-fake\r\n250-PIPELINING\r\n250 ENHANCEDSTATUSCODES\r\n",
	"NOOP":     "250 2.0.0 ok\r\n",
	"QUIT":     "221 2.0.0 bye\r\nCLOSE",
	"MAIL":     "250 2.1.0 ok\r\n",
	"RCPT":     "250 2.1.5 ok\r\n",
	"DATA":     "354 go ahead\r\n",
	"VRFY":     "252 2.5.0 cannot verify\r\n",
	"REFUSE":   "550 5.7.1 refused\r\n",
	"ENH":      "250 2.0.0 ok\r\n",
	"SEQUENCE": "503 5.5.1 bad sequence\r\n",
	"DROP":     "250 2.0.0 ok\r\n",
	"TEXT":     "250 2.0.0 hello\r\n",
	"TWICE":    "250 2.0.0 once\r\n",
}

// other differs from base where the cases below say so.
var other = map[string]string{
	"REFUSE":   "554 5.7.1 refused too\r\n",
	"RCPT":     "550 5.1.1 no such user\r\n",
	"ENH":      "250 2.1.0 ok\r\n",
	"SEQUENCE": "250 2.0.0 sure\r\n",
	"DROP":     "421 4.3.2 shutting down\r\nCLOSE",
	"TEXT":     "250 2.0.0 bonjour\r\n",
	"TWICE":    "250 2.0.0 once\r\n250 2.0.0 twice\r\n",
	"VRFY":     "502 5.5.1 no\r\n",
}

const cases = `group: d
spec: test
cases:
  - {id: same, title: t, level: MUST, requirement: r, steps: [{send: NOOP, expect: 250}]}
  - {id: both-allowed, title: t, level: MUST, requirement: r, steps: [{send: REFUSE, expect: {code: [550, 554]}}]}
  - {id: recipient-policy, title: t, level: MUST, requirement: r, start: mail, steps: [{send: "RCPT TO:<${rcpt}>", expect: 250}]}
  - {id: sequence, title: t, level: MUST, requirement: r, steps: [{send: SEQUENCE, expect: 503}]}
  - id: consequence
    title: t
    level: MUST
    requirement: r
    start: mail
    steps:
      - {send: "RCPT TO:<${rcpt}>", expect: 250}
      - {send: DATA, expect: 354}
  - {id: enhanced-only, title: t, level: MUST, requirement: r, steps: [{send: ENH, expect: 250}]}
  - {id: closed-421, title: t, level: MUST, requirement: r, steps: [{send: DROP, expect: 250}]}
  - {id: text-only, title: t, level: MUST, requirement: r, steps: [{send: TEXT, expect: 250}]}
  - {id: extra-reply, title: t, level: MUST, requirement: r, steps: [{send: TWICE, expect: 250}]}
  - {id: vrfy, title: t, level: MAY, requirement: r, steps: [{send: VRFY x, expect: {code: [250, 252], lenient: [502]}}]}
  - {id: needs-chunking, title: t, level: MUST, requirement: r, requires: [CHUNKING], steps: [{send: NOOP, expect: 250}]}
  - id: outcomes
    title: t
    level: MUST
    requirement: r
    steps:
      - raw: "REFUSE\r\nQUIT\r\n"
        outcomes:
          - {name: refused, verdict: pass, expect: [{code: [550, 554]}, {code: 221, closed: true}]}
          - {name: accepted, verdict: fail, expect: [250, {code: 221, closed: true}]}
`

func catalogue(t *testing.T, yaml string) *harness.Catalogue {
	t.Helper()
	cs, errs := harness.ParseFile("d.yaml", []byte(yaml))
	if len(errs) > 0 {
		t.Fatal(errors.Join(errs...))
	}
	return &harness.Catalogue{Cases: cs}
}

func run(t *testing.T, target, against map[string]string, o differential.Options) map[string]*harness.Result {
	t.Helper()
	p := harness.DefaultProfile()
	p.Rcpt = "user@fake.test"
	opts := differential.RunOptions{Options: o, Harness: harness.Options{Cases: catalogue(t, cases), StepTimeout: 500 * time.Millisecond}}
	r, _ := differential.Run(t.Context(),
		differential.Side{Target: harness.Target{Addr: fake(t, target)}, Profile: p},
		differential.Side{Target: harness.Target{Addr: fake(t, against)}, Profile: p}, opts)
	if r == nil {
		t.Fatal("Run returned no run")
	}
	out := map[string]*harness.Result{}
	for _, res := range r.Results {
		out[strings.TrimPrefix(res.ID, "d/")] = res
	}
	return out
}

func merge(a, b map[string]string) map[string]string {
	m := map[string]string{}
	for k, v := range a {
		m[k] = v
	}
	for k, v := range b {
		m[k] = v
	}
	return m
}

func TestRun_classes(t *testing.T) {
	t.Parallel()
	got := run(t, merge(base, other), base, differential.Options{})
	want := map[string]struct {
		class   differential.Class
		verdict harness.Verdict
		message string
	}{
		"same":             {differential.Same, harness.Pass, ""},
		"both-allowed":     {differential.Acceptable, harness.NonStrict, "target 554 5.7.1, other 550 5.7.1 (the case allows both)"},
		"recipient-policy": {differential.Policy, harness.Info, "a policy decision"},
		"sequence":         {differential.Disagreement, harness.Fail, "target 250 2.0.0, other 503 5.5.1"},
		// DATA fails on the target only because its RCPT was refused.
		"consequence":   {differential.Policy, harness.Info, "a policy decision"},
		"enhanced-only": {differential.Acceptable, harness.NonStrict, "only the enhanced code differs"},
		"closed-421":    {differential.Policy, harness.Info, "421"},
		"text-only":     {differential.Same, harness.Pass, ""},
		"extra-reply":   {differential.Disagreement, harness.Fail, "QUIT"},
		"vrfy":          {differential.Acceptable, harness.NonStrict, "the case allows both"},
		"outcomes":      {differential.Acceptable, harness.NonStrict, "both outcomes pass"},
	}
	for id, w := range want {
		r := got[id]
		if r == nil {
			t.Errorf("%s: no result", id)
			continue
		}
		if r.Outcome != string(w.class) || r.Verdict != w.verdict {
			t.Errorf("%s: class %q verdict %s (%s), want %q %s", id, r.Outcome, r.Verdict, r.Message, w.class, w.verdict)
		}
		if !strings.Contains(r.Message, w.message) {
			t.Errorf("%s: message %q does not contain %q", id, r.Message, w.message)
		}
		if w.class != differential.Same && !strings.HasPrefix(r.Diff, "(-against +target)") {
			t.Errorf("%s: diff does not start with its legend:\n%s", id, r.Diff)
		}
	}
	if r := got["needs-chunking"]; r.Verdict != harness.Unimplemented {
		t.Errorf("needs-chunking: verdict %s, want unimplemented", r.Verdict)
	}
	if r := got["sequence"]; !strings.Contains(r.Diff, `"503 5.5.1"`) || !strings.Contains(r.Diff, `"250 2.0.0"`) {
		t.Errorf("sequence: diff does not show 503 against 250:\n%s", r.Diff)
	}
	if r := got["sequence"]; !strings.Contains(string(r.Transcript[len(r.Transcript)-1].Data), "221") {
		t.Errorf("sequence: the transcript does not end with the other server's QUIT")
	}
}

func TestRun_text(t *testing.T) {
	t.Parallel()
	got := run(t, merge(base, map[string]string{"TEXT": other["TEXT"]}), base, differential.Options{Text: true})
	if r := got["text-only"]; r.Outcome != string(differential.Policy) {
		t.Errorf("text-only with Text: class %q (%s), want policy", r.Outcome, r.Message)
	}
	if r := got["same"]; r.Outcome != string(differential.Same) {
		t.Errorf("same with Text: class %q (%s), want same", r.Outcome, r.Message)
	}
}

func TestRun_unreachable(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := l.Addr().String()
	l.Close()
	opts := differential.RunOptions{Harness: harness.Options{Cases: catalogue(t, cases), StepTimeout: 500 * time.Millisecond}}
	_, err = differential.Run(t.Context(),
		differential.Side{Target: harness.Target{Addr: fake(t, base)}, Profile: harness.DefaultProfile()},
		differential.Side{Target: harness.Target{Addr: dead}, Profile: harness.DefaultProfile()}, opts)
	var u *harness.UnreachableError
	if !errors.As(err, &u) {
		t.Errorf("Run against a dead server: %v, want an *UnreachableError", err)
	}
}

// The reference compared with itself agrees on every case of the built-in
// catalogue: the replay and the comparison add no noise of their own.
func TestRun_referenceAgainstItself(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("runs the whole catalogue twice")
	}
	side := func() differential.Side {
		ref, err := inprocess.New(reference.Config{})
		if err != nil {
			t.Fatal(err)
		}
		return differential.Side{Target: ref.Target, Profile: ref.Profile}
	}
	r, err := differential.Run(t.Context(), side(), side(), differential.RunOptions{Harness: harness.Options{StepTimeout: 20 * time.Second, Parallel: 16}})
	if r == nil {
		t.Fatal(err)
	}
	for _, res := range r.Results {
		switch res.Verdict {
		case harness.Pass, harness.Skip, harness.Unimplemented:
		default:
			t.Errorf("%s: %s: %s\n%s", res.ID, res.Verdict, res.Message, res.Diff)
		}
	}
}
