// Package differential compares two SMTP servers case by case: it replays
// every step of a case against both (harness.ReplayCase), whatever they
// answer, and classifies each difference in what they answered.
//
// # What is compared
//
// For each step (the setup of the case's start preset counts as step 0,
// the trailing QUIT as the last) the replies are normalised to what
// matters: the reply code; the enhanced status code, when both servers
// advertised ENHANCEDSTATUSCODES (except in the setup and the trailing QUIT,
// where, as in a normal run, only the code counts); the number of replies;
// how the step ended
// (connection open, closed, silent, timed out, protocol error); and the
// outcome name for steps with outcomes. Where the case's expectation for a
// reply constrains more (the number of lines, EHLO keywords, a text
// pattern), that is compared too; the free text of replies only with
// Options.Text.
//
// # Classes
//
// A step's difference falls into one of four classes, from mild to
// serious; a case takes the most serious class of its steps.
//
//   - same: nothing that matters differs.
//   - both-acceptable: the replies differ, but the case allows each of
//     them (both are graded strict or lenient against the same
//     expectation: 550 against 554 where the case says [550, 554]; both
//     servers reach a passing outcome; two success codes where the case
//     checks nothing). A difference in the enhanced code alone, the reply
//     code being the same, is also in this class (RFC 3463 codes are
//     advice).
//   - policy: the difference is one RFC 5321 leaves to the operator. Both
//     replies are policy codes (421, 450-452, 454, 521, 530, 534, 535,
//     538, 550-556, 252), or one server accepted (2yz or 3yz) what the
//     other refused with a policy code: a recipient, a sender, a message
//     size, an authentication requirement; or a connection one server
//     closed right after a 421; or an outcome either side reached has
//     verdict info. A case that one server can run and the other cannot
//     for want of an EHLO keyword (an optional extension) is reported as
//     unimplemented, not compared.
//   - disagreement: anything else: one server refused with a protocol
//     code (500-504, 555) what the other accepted, one replied where the
//     other stayed silent or timed out, one closed the connection without
//     a 421, one sent a different number of replies, one broke the reply
//     grammar, one reached a failing outcome.
//
// Once a step has made the two sessions diverge (one accepted what the
// other refused, the reply counts or the connection states differ), later
// differences are consequences of it: they are listed, but a later step
// never makes the case more serious than the step that diverged.
//
// # Verdicts
//
// The comparison of a case becomes a harness.Result, so that every report
// format works unchanged: same → pass, both-acceptable → non-strict,
// policy → info, disagreement → fail. Cases that were not compared keep
// the verdict the replay gave (skip, unimplemented, error); a case whose
// replay hit transport trouble on either side (a TLS handshake that
// failed, a connection reset under a write, a reply that did not come
// within the step timeout) and whose steps differ is an error, as it would
// be in a normal run: it says nothing certain about the server. The result's
// Outcome is the class name, its Diff the go-cmp diff of the normalised
// steps (-against +target), and its transcript the target's followed by
// the other server's.
package differential

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/google/go-cmp/cmp"
	"github.com/smtpspec/smtpspec/harness"
)

// Class is how serious a difference between two servers is.
type Class string

// The classes, from mild to serious.
const (
	Same         Class = "same"
	Acceptable   Class = "both-acceptable"
	Policy       Class = "policy"
	Disagreement Class = "disagreement"
)

// Classes lists the classes from mild to serious.
var Classes = []Class{Same, Acceptable, Policy, Disagreement}

func (c Class) rank() int { return slices.Index(Classes, c) }

func worse(a, b Class) Class {
	if b.rank() > a.rank() {
		return b
	}
	return a
}

// Verdict maps the class onto the harness verdict reports show.
func (c Class) Verdict() harness.Verdict {
	switch c {
	case Same:
		return harness.Pass
	case Acceptable:
		return harness.NonStrict
	case Policy:
		return harness.Info
	}
	return harness.Fail
}

// Options tune the comparison.
type Options struct {
	// Text also compares the text of replies (a text-only difference is
	// policy: RFC 5321 leaves the text to the implementation).
	Text bool
}

// A StepDiff is the comparison of one step.
type StepDiff struct {
	Step        int
	Line        int
	Label       string
	Class       Class
	Reason      string
	Consequence bool // a later difference of a step that already diverged
}

// A Comparison is the comparison of one case replayed against two
// servers.
type Comparison struct {
	Class Class
	// Reason is one line: the deciding step and why it is in its class.
	Reason string
	// Line is the YAML line of the deciding step.
	Line  int
	Steps []StepDiff // the steps that differ
	// Target and Against are the normalised steps, and Diff their go-cmp
	// diff (-against +target).
	Target, Against []StepView
	Diff            string
}

// A StepView is one step's answer normalised to what is compared.
type StepView struct {
	Step    string
	Replies []string
	End     string
	Outcome string `json:",omitempty"`
}

// Compare classifies the differences between what target and against did
// in the same case. Both replays must have run (no skip or unimplemented
// verdict).
func Compare(target, against *harness.Replay, o Options) *Comparison {
	cmpn := &Comparison{Class: Same}
	n := max(len(target.Steps), len(against.Steps))
	var (
		diverged   bool
		divergedAt Class
	)
	for i := range n {
		t, a := stepAt(target.Steps, i), stepAt(against.Steps, i)
		label := stepLabel(target.Case, t, a)
		t.Label, a.Label = label, label
		tv, av := view(t, a, o), view(a, t, o)
		cmpn.Target, cmpn.Against = append(cmpn.Target, tv), append(cmpn.Against, av)
		if cmp.Equal(tv, av) {
			continue
		}
		class, reason := classifyStep(t, a, tv, av)
		d := StepDiff{Step: max(t.Step, a.Step), Line: max(t.Line, a.Line), Label: label, Class: class, Reason: reason}
		if diverged {
			d.Consequence = true
			if class.rank() > divergedAt.rank() {
				d.Class = divergedAt
			}
		} else if divergent(t, a) {
			diverged, divergedAt = true, class
		}
		cmpn.Steps = append(cmpn.Steps, d)
		if d.Class.rank() > cmpn.Class.rank() || cmpn.Reason == "" {
			cmpn.Class = worse(cmpn.Class, d.Class)
			cmpn.Reason = fmt.Sprintf("%s: %s", d.Label, d.Reason)
			cmpn.Line = d.Line
		}
	}
	if cmpn.Class != Same {
		cmpn.Diff = cmp.Diff(cmpn.Against, cmpn.Target)
	}
	return cmpn
}

// stepAt returns a copy of steps[i], or an empty not-run step.
func stepAt(steps []harness.StepReplay, i int) *harness.StepReplay {
	if i < len(steps) {
		s := steps[i]
		return &s
	}
	return &harness.StepReplay{Step: i, End: harness.EndNotRun}
}

// stepLabel names a step as the case writes it, before the profile
// variables are filled in (which differ between the two servers):
// "step 2 \"RCPT TO:<${rcpt}>\"".
func stepLabel(c *harness.Case, t, a *harness.StepReplay) string {
	s := t
	if s.Label == "" {
		s = a
	}
	n := s.Step
	if n < 1 || n > len(c.Steps) {
		return s.Label
	}
	st := &c.Steps[n-1]
	short := func(text string) string {
		if len(text) > 60 {
			return strconv.Quote(text[:45]) + fmt.Sprintf("…(%d octets)", len(text))
		}
		return strconv.Quote(text)
	}
	switch {
	case st.Send != "":
		return fmt.Sprintf("step %d %s", n, short(st.Send))
	case st.Raw != "":
		return fmt.Sprintf("step %d (raw %s)", n, short(st.Raw))
	case st.Pipeline != nil:
		return fmt.Sprintf("step %d (pipeline of %d)", n, len(st.Pipeline))
	case st.TLS:
		return fmt.Sprintf("step %d (TLS handshake)", n)
	case st.Pause > 0:
		return fmt.Sprintf("step %d (pause)", n)
	}
	return fmt.Sprintf("step %d", n)
}

// view normalises s; other is the same step on the other server (for what
// both advertised).
func view(s, other *harness.StepReplay, o Options) StepView {
	v := StepView{Step: s.Label, End: string(s.End), Outcome: s.Outcome}
	if s.Label == "" {
		v.Step = other.Label
	}
	// The setup and the trailing QUIT are the harness's scaffolding: as in
	// the engine, only their reply codes matter there.
	scaffold := s.Step == 0 || s.Label == "QUIT"
	for _, rr := range s.Replies {
		v.Replies = append(v.Replies, normalise(rr, s.Enhanced && other.Enhanced && !scaffold, o))
	}
	return v
}

// normalise renders the parts of a reply that are compared.
func normalise(rr harness.ReplayedReply, enhanced bool, o Options) string {
	r := rr.Reply
	parts := []string{strconv.Itoa(r.Code)}
	if enhanced {
		if e := r.Enhanced(); e != "" {
			parts = append(parts, e)
		}
	}
	if e := rr.Expect; e != nil {
		w := e.Want()
		if _, ok := w["lines"]; ok {
			parts = append(parts, fmt.Sprintf("lines=%d", len(r.Lines)))
		}
		if len(e.Has)+len(e.Lacks) > 0 {
			have := r.Keywords()
			var kws []string
			for _, k := range slices.Concat(e.Has, e.Lacks) {
				sign := "-"
				for _, h := range have {
					if name, _, _ := strings.Cut(h, " "); strings.EqualFold(name, k) {
						sign = "+"
					}
				}
				kws = append(kws, sign+k)
			}
			parts = append(parts, "keywords="+strings.Join(kws, ","))
		}
		if e.Text != nil && !o.Text {
			parts = append(parts, fmt.Sprintf("text~/%s/=%v", e.Text, e.Text.MatchString(r.Text())))
		}
	}
	if o.Text {
		parts = append(parts, strconv.Quote(r.Text()))
	}
	return strings.Join(parts, " ")
}

// policyCodes are replies whose use RFC 5321 leaves to the operator's
// policy: refusing a sender, recipient, message, size or session, asking
// for authentication or TLS, and VRFY's "cannot verify".
var policyCodes = []int{252, 421, 450, 451, 452, 454, 521, 530, 534, 535, 538, 550, 551, 552, 553, 554, 556}

func isPolicy(code int) bool   { return slices.Contains(policyCodes, code) }
func isPositive(code int) bool { return code < 400 }

// classifyStep classifies a step whose normalised views (tv, av) differ.
func classifyStep(t, a *harness.StepReplay, tv, av StepView) (Class, string) {
	if (t.HasOutcomes || a.HasOutcomes) && t.Outcome != "" && a.Outcome != "" {
		return classifyOutcomes(t, a)
	}
	// Without an outcome on both sides (or outcomes at all), compare reply
	// by reply. Once one server accepted what the other refused, the rest
	// of the step follows from that and cannot make it more serious.
	class, reason := Same, ""
	capAt, capped := Same, false
	note := func(c Class, r string) {
		if capped && c.rank() > capAt.rank() {
			c, r = capAt, r+" (a consequence of an earlier reply)"
		}
		if c.rank() > class.rank() || reason == "" {
			class, reason = worse(class, c), r
		}
	}
	n := max(len(t.Replies), len(a.Replies))
	for i := range n {
		if !capped && i > 0 && i-1 < len(t.Replies) && i-1 < len(a.Replies) &&
			isPositive(t.Replies[i-1].Reply.Code) != isPositive(a.Replies[i-1].Reply.Code) {
			capped, capAt = true, class
		}
		switch {
		case i >= len(t.Replies):
			if closedAfter421(t) {
				note(Policy, fmt.Sprintf("the target closed after 421 where the other answered %d", a.Replies[i].Reply.Code))
			} else {
				note(Disagreement, fmt.Sprintf("the target sent %d replies (%s), the other %d", len(t.Replies), ending(t), len(a.Replies)))
			}
			continue
		case i >= len(a.Replies):
			if closedAfter421(a) {
				note(Policy, fmt.Sprintf("the other server closed after 421 where the target answered %d", t.Replies[i].Reply.Code))
			} else {
				note(Disagreement, fmt.Sprintf("the target sent %d replies, the other %d (%s)", len(t.Replies), len(a.Replies), ending(a)))
			}
			continue
		}
		if tv.Replies[i] == av.Replies[i] {
			continue
		}
		tr, ar := t.Replies[i], a.Replies[i]
		tc, ac := tr.Reply.Code, ar.Reply.Code
		what := fmt.Sprintf("reply %d: target %s, other %s", i+1, codeText(tr), codeText(ar))
		if len(t.Replies) == 1 && len(a.Replies) == 1 {
			what = fmt.Sprintf("target %s, other %s", codeText(tr), codeText(ar))
		}
		checked := tr.Grade != harness.GradeUnchecked && ar.Grade != harness.GradeUnchecked
		tOK, aOK := tr.Grade != harness.GradeMiss, ar.Grade != harness.GradeMiss
		switch {
		case tc == ac && tOK != aOK:
			who := "the target's"
			if tOK {
				who = "the other's"
			}
			note(Disagreement, what+" ("+who+" reply breaks the case's expectation)")
		case tc == ac && tr.Reply.Enhanced() != ar.Reply.Enhanced():
			note(Acceptable, what+" (only the enhanced code differs)")
		case tc == ac && tr.Reply.Text() != ar.Reply.Text():
			note(Policy, what+" (only the text differs)")
		case tc == ac:
			note(Acceptable, what+" (the replies differ in detail; the case grades both alike)")
		case checked && tOK && aOK:
			note(Acceptable, what+" (the case allows both)")
		case !checked && isPositive(tc) && isPositive(ac):
			note(Acceptable, what+" (two success codes, the case checks neither)")
		case isPolicy(tc) && isPolicy(ac), isPolicy(tc) && isPositive(ac), isPositive(tc) && isPolicy(ac):
			note(Policy, what+" (a policy decision)")
		default:
			note(Disagreement, what)
		}
	}
	if t.End != a.End {
		switch {
		case t.End == harness.EndClosed && closedAfter421(t), a.End == harness.EndClosed && closedAfter421(a):
			note(Policy, fmt.Sprintf("the target's connection is %s, the other's %s, after a 421", t.End, a.End))
		default:
			note(Disagreement, fmt.Sprintf("target: %s, other: %s", ending(t), ending(a)))
		}
	}
	return class, reason
}

// classifyOutcomes classifies a step with outcomes by the outcome each
// server reached.
func classifyOutcomes(t, a *harness.StepReplay) (Class, string) {
	name := func(s *harness.StepReplay) string {
		if s.Outcome == "" {
			return fmt.Sprintf("no outcome (%s)", summary(s))
		}
		return fmt.Sprintf("%q (%s)", s.Outcome, summary(s))
	}
	what := fmt.Sprintf("target %s, other %s", name(t), name(a))
	ok := func(s *harness.StepReplay) bool {
		return s.Outcome != "" && (s.OutcomeVerdict == harness.Pass || s.OutcomeVerdict == harness.NonStrict)
	}
	switch {
	case ok(t) && ok(a):
		return Acceptable, what + " (both outcomes pass)"
	case (ok(t) || t.OutcomeVerdict == harness.Info) && (ok(a) || a.OutcomeVerdict == harness.Info) && t.Outcome != "" && a.Outcome != "":
		return Policy, what + " (an outcome the case only records)"
	}
	return Disagreement, what
}

// divergent reports whether the step left the two sessions in different
// states: one accepted what the other refused, or the reply counts or the
// connection states differ.
func divergent(t, a *harness.StepReplay) bool {
	if len(t.Replies) != len(a.Replies) || t.End != a.End {
		return true
	}
	for i := range t.Replies {
		if isPositive(t.Replies[i].Reply.Code) != isPositive(a.Replies[i].Reply.Code) {
			return true
		}
	}
	return false
}

func closedAfter421(s *harness.StepReplay) bool {
	n := len(s.Replies)
	return s.End == harness.EndClosed && n > 0 && s.Replies[n-1].Reply.Code == 421
}

func codeText(rr harness.ReplayedReply) string {
	s := strconv.Itoa(rr.Reply.Code)
	if e := rr.Reply.Enhanced(); e != "" {
		s += " " + e
	}
	return s
}

func summary(s *harness.StepReplay) string {
	codes := make([]string, len(s.Replies))
	for i, r := range s.Replies {
		codes[i] = strconv.Itoa(r.Reply.Code)
	}
	out := strings.Join(codes, ", ")
	if out == "" {
		out = "no reply"
	}
	return out + ", " + string(s.End)
}

// ending describes how a step ended.
func ending(s *harness.StepReplay) string {
	switch s.End {
	case harness.EndOpen:
		return "connection open"
	case harness.EndNotRun:
		return "step not run"
	case harness.EndClosed:
		return "connection closed"
	}
	if s.Detail != "" {
		return fmt.Sprintf("%s (%s)", s.End, s.Detail)
	}
	return string(s.End)
}
