package harness

import (
	"bytes"
	"context"
	"fmt"
	"time"
)

// Replay mode runs a case's steps whatever the server answers and records
// the replies to each step, so that two servers can be compared step by
// step (smtpspec diff). Where RunCase stops at the first reply that breaks
// an expectation, ReplayCase goes on: it reads as many replies as each step
// expects (or, for a step with outcomes, until the server closes the
// connection or the step timeout passes), grades each reply against the
// case's expectation without deciding anything, and stops early only when
// the connection is gone or the reply stream cannot be trusted any more (a
// protocol error, a failed TLS handshake), when a step with outcomes
// reached one that is not passing (the engine's verdict there is final, and
// later steps assume the passing path), or before a TLS handshake that no
// 220 reply to STARTTLS announced.

// A Grade says how a recorded reply met the case's expectation for it.
type Grade string

// The grades.
const (
	GradeStrict    Grade = "strict"  // as the case requires
	GradeLenient   Grade = "lenient" // only a lenient alternative (or a wrong enhanced code)
	GradeMiss      Grade = "miss"    // not what the case allows
	GradeUnchecked Grade = ""        // the case says nothing about this reply
)

// StepEnd is how the reading for a step ended.
type StepEnd string

// The ways a step can end.
const (
	EndOpen     StepEnd = "open"     // the replies came and the connection is open
	EndClosed   StepEnd = "closed"   // the server closed the connection
	EndSilent   StepEnd = "silent"   // no reply within the time the case allowed for silence
	EndTimeout  StepEnd = "timeout"  // a reply was due and none came within the step timeout
	EndProtocol StepEnd = "protocol" // the server broke the reply grammar
	EndFailed   StepEnd = "failed"   // transport trouble, a failed TLS handshake, or a harness error
	EndNotRun   StepEnd = "not-run"  // an earlier step ended the dialogue
)

// A ReplayedReply is one reply and how the case's expectation grades it.
type ReplayedReply struct {
	Reply *Reply
	Grade Grade
	// Expect is the expectation the reply was graded against (nil when
	// unchecked).
	Expect *Expect
}

// A StepReplay is what the server did in answer to one step.
type StepReplay struct {
	Step  int    // 1-based step number; 0 for the setup, len(Steps)+1 for the trailing QUIT
	Line  int    // the YAML line of the step (of the case for the setup and the QUIT)
	Label string // "setup (start: rcpt)", `step 2 "DATA"`, "QUIT"

	Replies []ReplayedReply
	End     StepEnd
	Detail  string // why the step ended as it did, for ends other than open

	// Enhanced says whether the server had advertised ENHANCEDSTATUSCODES
	// for the session state this step ran in.
	Enhanced bool

	// Outcomes steps: the outcome the replies match ("" if none) and its
	// verdict.
	Outcome        string
	OutcomeVerdict Verdict
	HasOutcomes    bool

	// Expected is the number of replies the step's expectations call for
	// (for outcome steps, the fewest any outcome needs).
	Expected int
}

// A Replay is one case replayed against one server.
type Replay struct {
	Case *Case
	Addr string
	// Verdict is Skip or Unimplemented when the case did not run (Message
	// says why), Error for harness or transport trouble before the first
	// step, and "" when the case was replayed.
	Verdict  Verdict
	Message  string
	Filtered bool // skipped because the run's filters left it out

	Steps      []StepReplay // the setup first, then every step, then the trailing QUIT if sent
	Transcript []Entry
	Duration   time.Duration
}

// ReplayCase replays c against target, whose probe result is info (from
// Probe). Like RunCase it never fails: trouble is recorded in the Replay.
func ReplayCase(ctx context.Context, target Target, info *TargetInfo, c *Case, opts Options) *Replay {
	o := opts.withDefaults()
	rp := &Replay{Case: c}
	if why := o.filtered(c); why != "" {
		rp.Verdict, rp.Message, rp.Filtered = Skip, why, true
		return rp
	}
	begin := time.Now()
	x, release, v, why := prepare(ctx, target, info, c, &o, false)
	if x == nil {
		rp.Verdict, rp.Message = v, why
		if v == Error {
			rp.Duration = time.Since(begin)
		}
		return rp
	}
	defer release()
	defer func() { rp.Duration = time.Since(begin) }()
	rp.Addr = x.addr
	rx := &replayer{x: x, rp: rp}
	rx.run()
	return rp
}

// replayer drives an execution in replay mode.
type replayer struct {
	x        *execution
	rp       *Replay
	lastCode int // the code of the last reply a step read
}

func (rx *replayer) run() {
	x := rx.x
	defer func() {
		x.conn.close()
		rx.rp.Transcript = x.conn.log
	}()
	if !rx.setup() {
		return
	}
	stopped := false
	for i := range x.c.Steps {
		s := &x.c.Steps[i]
		if stopped {
			rx.rp.Steps = append(rx.rp.Steps, StepReplay{Step: i + 1, Line: s.Line, Label: fmt.Sprintf("step %d", i+1), End: EndNotRun})
			continue
		}
		if s.TLS && rx.lastCode != 220 {
			// No 220 to STARTTLS: a handshake would only wait for the
			// timeout. Record that, and stop as the engine would.
			rx.rp.Steps = append(rx.rp.Steps, StepReplay{Step: i + 1, Line: s.Line, Label: fmt.Sprintf("step %d (TLS handshake)", i+1),
				End: EndNotRun, Detail: "no 220 reply to STARTTLS before the handshake"})
			stopped = true
			continue
		}
		sr := rx.step(s, i+1)
		rx.rp.Steps = append(rx.rp.Steps, sr)
		if n := len(sr.Replies); n > 0 {
			rx.lastCode = sr.Replies[n-1].Reply.Code
		}
		stopped = sr.End != EndOpen && sr.End != EndSilent && sr.End != EndTimeout
		// An outcome other than a passing one decides the case in the
		// engine; the steps after it assume the passing path.
		if sr.HasOutcomes && sr.OutcomeVerdict != Pass && sr.OutcomeVerdict != NonStrict {
			stopped = true
		}
	}
	if !stopped && x.c.Quit && !x.conn.closed {
		rx.rp.Steps = append(rx.rp.Steps, rx.quit())
	}
}

// setup brings the connection to the case's start state with the engine's
// own setup and records the replies it read.
func (rx *replayer) setup() bool {
	x := rx.x
	mark := len(x.conn.log)
	ok := x.setup()
	sr := StepReplay{
		Step: 0, Line: x.c.Line, Label: fmt.Sprintf("setup (start: %s)", x.c.Start),
		End: EndOpen, Enhanced: rx.enhanced(),
	}
	for _, e := range x.conn.log[mark:] {
		if e.Direction != Server {
			continue
		}
		rr := NewReplyReader(bytes.NewReader(e.Data))
		if r, err := rr.ReadReply(); err == nil {
			sr.Replies = append(sr.Replies, ReplayedReply{Reply: r, Grade: GradeStrict})
		}
	}
	sr.Expected = len(sr.Replies)
	if !ok {
		sr.End, sr.Detail = setupEnd(x.conn, mark), x.res.Message
		if n := len(sr.Replies); n > 0 && sr.End == EndOpen {
			sr.Replies[n-1].Grade = GradeMiss // a reply came, not the one the preset needs
		}
	}
	rx.rp.Steps = append(rx.rp.Steps, sr)
	return ok
}

// setupEnd tells how a failed setup ended from what it left in the
// transcript since entry mark.
func setupEnd(c *conn, mark int) StepEnd {
	if c.closed {
		return EndClosed
	}
	for i := len(c.log) - 1; i >= mark; i-- {
		e := c.log[i]
		switch {
		case e.Direction == Server:
			if _, err := NewReplyReader(bytes.NewReader(e.Data)).ReadReply(); err != nil {
				return EndProtocol
			}
			return EndOpen
		case e.Direction == Event && bytes.HasPrefix(e.Data, []byte("no reply within")):
			return EndTimeout
		case e.Direction == Event:
			return EndFailed
		}
	}
	return EndFailed
}

// enhanced reports whether the server advertised ENHANCEDSTATUSCODES for
// the connection's current TLS state.
func (rx *replayer) enhanced() bool {
	return rx.x.info.Has("ENHANCEDSTATUSCODES", rx.x.conn.tls)
}

// step performs one step and records the replies.
func (rx *replayer) step(s *Step, n int) StepReplay {
	x := rx.x
	sr := StepReplay{Step: n, Line: s.Line, Label: fmt.Sprintf("step %d", n), End: EndOpen}
	x.done = false
	label, ok := x.act(s, n)
	if label != "" {
		sr.Label = label
	}
	if !ok {
		sr.End, sr.Detail = EndFailed, x.res.Message
		if s.TLS {
			sr.Label = fmt.Sprintf("step %d (TLS handshake)", n)
		}
		return sr
	}
	sr.Enhanced = rx.enhanced()
	switch {
	case s.Outcomes != nil:
		rx.outcomes(s, &sr)
	case s.Expect != nil:
		rx.expect(s, &sr)
	}
	return sr
}

// read reads one reply for sr, recording how the step ended when none
// comes. It reports whether a reply was read.
func (rx *replayer) read(sr *StepReplay, d time.Duration) (*Reply, bool) {
	r, kind, err := rx.x.conn.read(d)
	switch kind {
	case readOK:
		return r, true
	case readClosed:
		sr.End, sr.Detail = EndClosed, "the server closed the connection"
	case readTimeout:
		sr.End, sr.Detail = EndTimeout, fmt.Sprintf("no reply within %v", d.Round(time.Millisecond))
	case readProtocol:
		sr.End, sr.Detail = EndProtocol, err.Error()
	default:
		sr.End, sr.Detail = EndFailed, err.Error()
	}
	return nil, false
}

// expect reads the replies the step's expectations call for.
func (rx *replayer) expect(s *Step, sr *StepReplay) {
	x := rx.x
	for i := range s.Expect {
		e := &s.Expect[i]
		if e.wantsReply() {
			sr.Expected++
		}
	}
	for i := range s.Expect {
		e := &s.Expect[i]
		switch {
		case e.Silence > 0:
			r, ok := rx.read(sr, e.Silence)
			if !ok {
				if sr.End == EndTimeout {
					sr.End, sr.Detail = EndSilent, ""
				}
				return
			}
			sr.Replies = append(sr.Replies, ReplayedReply{Reply: r, Grade: GradeMiss, Expect: e})
			continue
		case !e.wantsReply():
			// The server must close now, without a reply.
			r, ok := rx.read(sr, x.o.StepTimeout)
			if !ok {
				return
			}
			sr.Replies = append(sr.Replies, ReplayedReply{Reply: r, Grade: GradeMiss, Expect: e})
			continue
		}
		r, ok := rx.read(sr, x.o.StepTimeout)
		if !ok {
			return
		}
		g, _ := e.match(r, sr.Enhanced)
		rr := ReplayedReply{Reply: r, Grade: gradeName(g), Expect: e}
		if e.Any && e.Text == nil && len(e.Has)+len(e.Lacks) == 0 && e.Lines == 0 && e.Multi == nil {
			rr.Grade = GradeUnchecked // "any reply" constrains nothing
		}
		sr.Replies = append(sr.Replies, rr)
		if e.Closed {
			if r, ok := rx.read(sr, x.o.StepTimeout); ok {
				sr.Replies = append(sr.Replies, ReplayedReply{Reply: r, Grade: GradeMiss})
			} else if sr.End == EndTimeout {
				// Still open where the case wants it closed: worth
				// comparing, not a reason to stop.
				sr.End, sr.Detail = EndOpen, "connection left open where the case expects it closed"
				sr.Replies[len(sr.Replies)-2].Grade = GradeMiss
			}
			if sr.End != EndOpen {
				return
			}
		}
	}
}

// outcomes reads replies until an outcome is decided (as the engine
// decides it), the server closes the connection, the step timeout passes or
// the reply cap is reached, and names the outcome they match.
func (rx *replayer) outcomes(s *Step, sr *StepReplay) {
	x := rx.x
	sr.HasOutcomes = true
	sr.Expected = -1
	for i := range s.Outcomes {
		n := 0
		for j := range s.Outcomes[i].Expect {
			if s.Outcomes[i].Expect[j].wantsReply() {
				n++
			}
		}
		if sr.Expected < 0 || n < sr.Expected {
			sr.Expected = n
		}
	}
	var replies []*Reply
	for len(replies) < maxOutcomeReplies {
		// Stop where the engine would: once an outcome matches and no
		// outcome listed before it could still match with more replies.
		// Anything the server sends after that shows up in the next step
		// or the trailing QUIT, on both servers alike.
		if decided, i := decideOutcome(s.Outcomes, replies, false, sr.Enhanced); decided && i >= 0 {
			break
		}
		r, ok := rx.read(sr, x.o.StepTimeout)
		if !ok {
			break
		}
		replies = append(replies, r)
	}
	closed := sr.End == EndClosed
	if sr.End == EndTimeout {
		sr.End, sr.Detail = EndOpen, ""
	}
	for _, r := range replies {
		sr.Replies = append(sr.Replies, ReplayedReply{Reply: r, Grade: GradeUnchecked})
	}
	if sr.End != EndOpen && sr.End != EndClosed {
		return
	}
	if _, i := decideOutcome(s.Outcomes, replies, closed, sr.Enhanced); i >= 0 {
		o := &s.Outcomes[i]
		g, _, _ := matchOutcome(o, replies, closed, sr.Enhanced)
		sr.Outcome, sr.OutcomeVerdict = o.Name, o.Verdict
		if g == gradeLenient && o.Verdict == Pass {
			sr.OutcomeVerdict = NonStrict
		}
	}
}

// quit sends the trailing QUIT and records its reply: a server that sent
// one reply too many shows it here.
func (rx *replayer) quit() StepReplay {
	x := rx.x
	sr := StepReplay{Step: len(x.c.Steps) + 1, Line: x.c.Line, Label: "QUIT", End: EndOpen, Enhanced: rx.enhanced(), Expected: 1}
	x.conn.write([]byte("QUIT\r\n"))
	if r, ok := rx.read(&sr, x.o.StepTimeout); ok {
		g := GradeStrict
		if r.Code != 221 {
			g = GradeMiss
		}
		sr.Replies = append(sr.Replies, ReplayedReply{Reply: r, Grade: g})
	}
	return sr
}

func gradeName(g grade) Grade {
	switch g {
	case gradeStrict:
		return GradeStrict
	case gradeLenient:
		return GradeLenient
	}
	return GradeMiss
}

// Want renders the expectation as reports show it ("503 or 554
// (lenient: 502)"), for callers outside the package.
func (e *Expect) Want() View { return e.want() }
