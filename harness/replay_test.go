package harness

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/smtpspec/smtpspec/internal/smtpfake"
)

const replayCases = `group: r
spec: test
cases:
  - id: goes-on
    title: t
    level: MUST
    requirement: r
    steps:
      - {send: ACCEPT, expect: 503}
      - {send: LENIENT, expect: {code: 500, lenient: 502}}
      - {pipeline: [NOOP, ENH], expect: [250, {code: 250, enhanced: 2.0.0}]}
  - {id: timeout-then-more, title: t, level: MUST, requirement: r, steps: [{send: SILENT, expect: 250}, {send: NOOP, expect: 250}]}
  - {id: silence, title: t, level: MUST, requirement: r, steps: [{send: SILENT, expect: {silence: 50ms}}, {send: NOOP, expect: 250}]}
  - {id: closed, title: t, level: MUST, requirement: r, steps: [{send: BYE, expect: 250}, {send: NOOP, expect: 250}]}
  - {id: closed-wanted, title: t, level: MUST, requirement: r, steps: [{send: BYE, expect: {code: 421, closed: true}}]}
  - {id: extra, title: t, level: MUST, requirement: r, steps: [{send: EXTRA, expect: 250}]}
  - {id: bare-lf, title: t, level: MUST, requirement: r, steps: [{send: BADLF, expect: 250}, {send: NOOP, expect: 250}]}
  - {id: setup-rcpt, title: t, level: MUST, requirement: r, start: rcpt, steps: [{send: NOOP, expect: 250}]}
  - {id: unimplemented, title: t, level: MUST, requirement: r, requires: [CHUNKING], steps: [{send: NOOP, expect: 250}]}
  - id: outcome
    title: t
    level: MUST
    requirement: r
    steps:
      - raw: "EXTRA\r\nQUIT\r\n"
        outcomes:
          - {name: single, verdict: pass, expect: [250, {code: 221, closed: true}]}
          - {name: double, verdict: fail, expect: [250, 250, {code: 221, closed: true}]}
`

// replayReplies extends fakeReplies with a MAIL and RCPT for the setup.
var replayReplies = func() map[string]string {
	m := map[string]string{
		"MAIL": "250 2.1.0 ok\r\n",
		"RCPT": "550 5.1.1 no such user\r\n",
	}
	for k, v := range fakeReplies {
		m[k] = v
	}
	return m
}()

// stepSummary renders a StepReplay compactly: "ACCEPT→250/miss open".
func stepSummary(s StepReplay) string {
	var parts []string
	for _, r := range s.Replies {
		g := string(r.Grade)
		if g == "" {
			g = "unchecked"
		}
		parts = append(parts, strconv.Itoa(r.Reply.Code)+"/"+g)
	}
	out := fmt.Sprintf("%d [%s] %s", s.Step, strings.Join(parts, " "), s.End)
	if s.Outcome != "" {
		out += " outcome=" + s.Outcome
	}
	return out
}

func TestReplayCase(t *testing.T) {
	t.Parallel()
	addr := smtpfake.Serve(t, smtpfake.Scripted(replayReplies))
	cat := catalogueOf(t, replayCases)
	o := Options{Cases: cat, StepTimeout: 300 * time.Millisecond}
	target := Target{Addr: addr}
	info, err := Probe(t.Context(), target, o)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{
		// Every step runs although the first one already breaks the case.
		"r/goes-on": {"0 [220/strict 250/strict] open", "1 [250/miss] open", "2 [502/lenient] open", "3 [250/strict 250/lenient] open", "4 [221/strict] open"},
		// A reply that does not come is recorded; the next step still runs.
		"r/timeout-then-more": {"0 [220/strict 250/strict] open", "1 [] timeout", "2 [250/strict] open", "3 [221/strict] open"},
		"r/silence":           {"0 [220/strict 250/strict] open", "1 [] silent", "2 [250/strict] open", "3 [221/strict] open"},
		// Once the server closes, the remaining steps are not run.
		"r/closed":        {"0 [220/strict 250/strict] open", "1 [421/miss] open", "2 [] closed"},
		"r/closed-wanted": {"0 [220/strict 250/strict] open", "1 [421/strict] closed"},
		// The trailing QUIT shows the reply one too many.
		"r/extra":   {"0 [220/strict 250/strict] open", "1 [250/strict] open", "2 [250/miss] open"},
		"r/bare-lf": {"0 [220/strict 250/strict] open", "1 [] protocol", "2 [] not-run"},
		// A setup the server refuses is recorded, and the case ends there.
		"r/setup-rcpt": {"0 [220/strict 250/strict 250/strict 550/miss] open"},
		"r/outcome":    {"0 [220/strict 250/strict] open", "1 [250/unchecked 250/unchecked 221/unchecked] closed outcome=double"},
	}
	for _, c := range cat.Cases {
		rp := ReplayCase(t.Context(), target, info, c, o)
		if c.ID == "r/unimplemented" {
			if rp.Verdict != Unimplemented {
				t.Errorf("%s: verdict %q, want unimplemented", c.ID, rp.Verdict)
			}
			continue
		}
		if rp.Verdict != "" {
			t.Errorf("%s: verdict %q (%s), want a replay", c.ID, rp.Verdict, rp.Message)
		}
		var got []string
		for _, s := range rp.Steps {
			got = append(got, stepSummary(s))
		}
		if diff := cmp.Diff(want[c.ID], got); diff != "" {
			t.Errorf("%s: steps (-want +got):\n%s", c.ID, diff)
		}
		if len(rp.Transcript) == 0 {
			t.Errorf("%s: no transcript", c.ID)
		}
	}
}

func TestReplayCase_enhancedAdvertised(t *testing.T) {
	t.Parallel()
	addr := smtpfake.Serve(t, smtpfake.Scripted(replayReplies))
	cat := catalogueOf(t, replayCases)
	o := Options{Cases: cat, StepTimeout: 300 * time.Millisecond}
	target := Target{Addr: addr}
	info, err := Probe(t.Context(), target, o)
	if err != nil {
		t.Fatal(err)
	}
	rp := ReplayCase(t.Context(), target, info, cat.Lookup("r/goes-on"), o)
	for _, s := range rp.Steps {
		if !s.Enhanced {
			t.Errorf("step %d: Enhanced = false, want true (the fake server advertises ENHANCEDSTATUSCODES)", s.Step)
		}
	}
}
