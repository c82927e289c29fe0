package harness

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-cmp/cmp"
)

// execution runs one case on one connection.
type execution struct {
	ctx     context.Context
	c       *Case
	o       *Options
	env     map[string]string
	info    *TargetInfo
	target  Target
	addr    string
	mailbox Mailbox
	conn    *conn
	res     *Result

	lenient bool // some reply matched only leniently
	done    bool // the verdict is decided
}

func (x *execution) run() {
	defer func() {
		x.conn.close()
		x.res.Transcript = x.conn.log
	}()
	if !x.setup() {
		return
	}
	for i := range x.c.Steps {
		if !x.step(&x.c.Steps[i], i+1) || x.done {
			break
		}
	}
	if !x.done && x.c.Quit && !x.conn.closed {
		x.trailingQuit()
	}
	if !x.done {
		x.conclude(Pass, "")
	}
}

// conclude sets the verdict once: the first decision stands.
func (x *execution) conclude(v Verdict, msg string) {
	if x.done {
		return
	}
	x.done = true
	if v == Pass && x.lenient {
		v = NonStrict
		if msg == "" {
			msg = "accepted only under a lenient reading"
		}
	}
	if x.c.Level == LevelInfo && v != Error {
		if msg == "" {
			msg = "recorded"
		}
		v = Info
	}
	x.res.Verdict, x.res.Message = v, msg
}

func (x *execution) failAt(line int, v Verdict, format string, args ...any) {
	if x.done {
		return
	}
	x.res.StepLine = line
	x.conclude(v, fmt.Sprintf(format, args...))
}

// setup brings the connection to the case's start state. A setup failure is
// an error: the case never got to check what it is about.
func (x *execution) setup() bool {
	cmd := func(line string, codes ...int) bool {
		text, err := expand(line, x.env)
		if err != nil {
			x.failAt(x.c.Line, Error, "setup: %v", err)
			return false
		}
		x.conn.write([]byte(text + "\r\n"))
		return x.setupReply(text, codes...)
	}
	s := x.c.Start
	if s == StartConnect {
		return true
	}
	if !x.setupReply("greeting", 220) {
		return false
	}
	switch s {
	case StartGreeting:
		return true
	case StartHelo:
		return cmd("HELO ${helo}", 250)
	}
	if !cmd("EHLO ${helo}", 250) {
		return false
	}
	tlsFirst := s == StartTLS || (s == StartAuth && x.info.Has("STARTTLS", false))
	if tlsFirst && !x.target.TLS {
		if !cmd("STARTTLS", 220) {
			return false
		}
		if err := x.conn.startTLS(x.ctx, clientTLSConfig(x.target.TLSConfig, x.addr)); err != nil {
			x.failAt(x.c.Line, Error, "setup: %v", err)
			return false
		}
		if !cmd("EHLO ${helo}", 250) {
			return false
		}
	}
	switch s {
	case StartAuth:
		return cmd("AUTH PLAIN ${auth_plain}", 235)
	case StartMail:
		return cmd("MAIL FROM:<${mail_from}>", 250)
	case StartRcpt:
		return cmd("MAIL FROM:<${mail_from}>", 250) && cmd("RCPT TO:<${rcpt}>", 250, 251)
	}
	return true
}

func (x *execution) setupReply(what string, codes ...int) bool {
	r, kind, err := x.conn.read(x.o.StepTimeout)
	switch {
	case kind != readOK:
		x.failAt(x.c.Line, Error, "setup (start: %s): %s: %v", x.c.Start, what, err)
		return false
	case !slices.Contains(codes, r.Code):
		x.failAt(x.c.Line, Error, "setup (start: %s): %s: want %s, got %s", x.c.Start, what, joinCodes(codes), r)
		return false
	}
	return true
}

// step performs one step; it reports whether the case goes on.
func (x *execution) step(s *Step, n int) bool {
	label, ok := x.act(s, n)
	if !ok {
		return false
	}
	switch {
	case s.Outcomes != nil:
		x.outcomes(s, label)
	case s.Expect != nil:
		x.expect(s, label)
	}
	if !x.done && s.Delivered != nil {
		x.delivered(s, label)
	}
	return !x.done
}

// act performs the step's action and returns a label for messages.
func (x *execution) act(s *Step, n int) (string, bool) {
	ex := func(text string) (string, bool) {
		out, err := expand(text, x.env)
		if err != nil {
			x.failAt(s.Line, Error, "step %d: %v", n, err)
			return "", false
		}
		return out, true
	}
	switch {
	case s.Send != "":
		line, ok := ex(s.Send)
		if !ok {
			return "", false
		}
		x.conn.write([]byte(line + "\r\n"))
		return fmt.Sprintf("step %d %s", n, quoteShort(line)), true
	case s.Raw != "":
		data, ok := ex(s.Raw)
		if !ok {
			return "", false
		}
		x.conn.write([]byte(data))
		return fmt.Sprintf("step %d (raw %s)", n, quoteShort(data)), true
	case s.Pipeline != nil:
		var buf bytes.Buffer
		for _, p := range s.Pipeline {
			line, ok := ex(p)
			if !ok {
				return "", false
			}
			buf.WriteString(line + "\r\n")
		}
		x.conn.write(buf.Bytes())
		return fmt.Sprintf("step %d (pipeline of %d)", n, len(s.Pipeline)), true
	case s.TLS:
		if err := x.conn.startTLS(x.ctx, clientTLSConfig(x.target.TLSConfig, x.addr)); err != nil {
			v := Error
			if _, isProto := err.(*ProtocolError); isProto {
				v = Fail
			}
			x.failAt(s.Line, v, "step %d (TLS handshake): %v", n, err)
			return "", false
		}
		return fmt.Sprintf("step %d (TLS handshake)", n), true
	case s.Close:
		x.conn.note("client closes the connection")
		x.conn.close()
		x.conn.closed = true
		return fmt.Sprintf("step %d (close)", n), true
	case s.Pause > 0:
		x.conn.note("pause %v", s.Pause)
		select {
		case <-time.After(s.Pause):
		case <-x.ctx.Done():
			x.failAt(s.Line, Error, "step %d: case timed out during pause", n)
			return "", false
		}
		return fmt.Sprintf("step %d (pause)", n), true
	}
	return fmt.Sprintf("step %d", n), true
}

// quoteShort quotes s for a one-line message, shortening long text.
func quoteShort(s string) string {
	if len(s) > 60 {
		return strconv.Quote(s[:45]) + fmt.Sprintf("…(%d octets)", len(s))
	}
	return strconv.Quote(s)
}

// observed is what the server did in place of one expected reply.
type observed struct {
	reply *Reply
	kind  readKind
	err   error
}

func (o observed) view() View {
	switch o.kind {
	case readOK:
		return View{"code": strconv.Itoa(o.reply.Code)}
	case readClosed:
		return View{"code": "(connection closed)", "closed": "yes"}
	case readTimeout:
		return View{"code": "(no reply)"}
	}
	return View{"code": fmt.Sprintf("(%v)", o.err)}
}

func (o observed) String() string {
	switch o.kind {
	case readOK:
		return o.reply.String()
	case readClosed:
		return "the connection closed"
	case readTimeout:
		return "no reply"
	}
	return o.err.Error()
}

// expect checks the step's replies in order.
func (x *execution) expect(s *Step, label string) {
	var wants, gots []View
	for i := range s.Expect {
		e := &s.Expect[i]
		g, got, obs := x.one(e)
		wants, gots = append(wants, e.want()), append(gots, got)
		switch {
		case obs.kind == readTimeout && e.Silence == 0:
			x.res.Diff = diffViews(wants, gots)
			x.failAt(e.Line, Error, "%s: no reply within %v (want %s)", label, x.o.StepTimeout, describe(e))
		case obs.kind == readProtocol || obs.kind == readFailed:
			x.res.Diff = diffViews(wants, gots)
			v := Fail
			if obs.kind == readFailed {
				v = Error
			}
			x.failAt(e.Line, v, "%s: %v", label, obs.err)
		case g == gradeMiss:
			x.res.Diff = diffViews(wants, gots)
			x.failAt(e.Line, Fail, "%s: want %s, got %s", label, describe(e), obs)
		case g == gradeLenient:
			x.lenient = true
		}
		if x.done {
			return
		}
	}
}

// describe renders an expectation for a one-line message.
func describe(e *Expect) string {
	w := e.want()
	parts := []string{w["code"]}
	if v, ok := w["enhanced"]; ok {
		parts = append(parts, v)
	}
	if v, ok := w["text"]; ok {
		parts = append(parts, "text "+v)
	}
	if v, ok := w["lines"]; ok {
		parts = append(parts, v+" lines")
	}
	if v, ok := w["keywords"]; ok {
		parts = append(parts, "keywords "+v)
	}
	if _, ok := w["closed"]; ok {
		parts = append(parts, "then close")
	}
	return strings.Join(parts, " ")
}

// one reads what e is about and grades it.
func (x *execution) one(e *Expect) (grade, View, observed) {
	if e.Silence > 0 {
		r, kind, err := x.conn.read(e.Silence)
		obs := observed{r, kind, err}
		if kind == readTimeout || kind == readClosed {
			return gradeStrict, e.want(), observed{kind: readOK}
		}
		return gradeMiss, obs.view(), obs
	}
	if !e.wantsReply() {
		return x.closedAfter(e, e.want())
	}
	r, kind, err := x.conn.read(x.o.StepTimeout)
	obs := observed{r, kind, err}
	if kind != readOK {
		return gradeMiss, obs.view(), obs
	}
	g, got := e.match(r, x.info.Has("ENHANCEDSTATUSCODES", x.conn.tls))
	if g == gradeMiss || !e.Closed {
		return g, got, obs
	}
	cg, cgot, cobs := x.closedAfter(e, got)
	if cg == gradeMiss {
		return cg, cgot, cobs
	}
	return g, got, obs
}

// closedAfter checks that the server closes the connection now.
func (x *execution) closedAfter(e *Expect, got View) (grade, View, observed) {
	r, kind, err := x.conn.read(x.o.StepTimeout)
	obs := observed{r, kind, err}
	switch kind {
	case readClosed:
		got["closed"] = "yes"
		return gradeStrict, got, observed{kind: readOK, reply: &Reply{}}
	case readTimeout:
		got["closed"] = "no"
		return gradeMiss, got, observed{kind: readOK, reply: &Reply{Raw: []byte("(connection still open)")}}
	}
	got["closed"] = "no"
	return gradeMiss, got, obs
}

// maxOutcomeReplies bounds how many replies an outcomes step collects.
const maxOutcomeReplies = 64

// outcomes reads replies until one outcome is decided and classifies them.
// Reading stops as soon as an outcome matches in full and no outcome listed
// before it could still match with more replies, or when none can match:
// the common cases cost no waiting at all.
func (x *execution) outcomes(s *Step, label string) {
	var (
		replies []*Reply
		closed  bool
	)
	enh := x.info.Has("ENHANCEDSTATUSCODES", x.conn.tls)
	for len(replies) < maxOutcomeReplies {
		if decided, _ := decideOutcome(s.Outcomes, replies, closed, enh); decided || closed {
			break
		}
		r, kind, err := x.conn.read(x.o.StepTimeout)
		if kind == readProtocol || kind == readFailed {
			v := Fail
			if kind == readFailed {
				v = Error
			}
			x.failAt(s.Line, v, "%s: %v", label, err)
			return
		}
		if kind != readOK {
			closed = kind == readClosed
			break
		}
		replies = append(replies, r)
	}
	_, i := decideOutcome(s.Outcomes, replies, closed, enh)
	if i < 0 {
		var diffs []string
		for j := range s.Outcomes {
			o := &s.Outcomes[j]
			_, want, got := matchOutcome(o, replies, closed, enh)
			diffs = append(diffs, fmt.Sprintf("outcome %q (-want +got):\n%s", o.Name, diffViews(want, got)))
		}
		x.res.Diff = strings.Join(diffs, "\n")
		x.failAt(s.Line, Fail, "%s: no outcome matches %s", label, summarize(replies, closed))
		return
	}
	o := &s.Outcomes[i]
	g, _, got := matchOutcome(o, replies, closed, enh)
	x.res.Outcome = o.Name
	if g == gradeLenient {
		x.lenient = true
	}
	msg := fmt.Sprintf("%s: outcome %q (%s)", label, o.Name, summarize(replies, closed))
	if o.Verdict == Fail || o.Verdict == NonStrict {
		x.res.StepLine = o.Line
		x.res.Diff = diffViews(nil, got)
		// Show the difference from what a conforming server would send.
		for j := range s.Outcomes {
			if p := &s.Outcomes[j]; p.Verdict == Pass {
				_, want, got := matchOutcome(p, replies, closed, enh)
				x.res.Diff = fmt.Sprintf("against outcome %q:\n%s", p.Name, diffViews(want, got))
				break
			}
		}
		x.conclude(o.Verdict, msg)
		return
	}
	if o.Verdict == Info {
		x.conclude(Info, msg)
		return
	}
	if closed {
		x.conn.closed = true
	}
}

// decideOutcome reports whether the replies so far settle the outcome, and
// which outcome matches in full (-1 if none does). With closed false, the
// server may still send more.
func decideOutcome(outcomes []Outcome, replies []*Reply, closed, enhanced bool) (bool, int) {
	anyViable := false
	for i := range outcomes {
		g, _, _ := matchOutcome(&outcomes[i], replies, closed, enhanced)
		if g != gradeMiss {
			return !anyViable || closed, i
		}
		if !closed && outcomeViable(&outcomes[i], replies, enhanced) {
			anyViable = true
		}
	}
	return !anyViable, -1
}

// outcomeViable reports whether replies could be the start of a sequence
// that matches o once more replies (or the close) arrive.
func outcomeViable(o *Outcome, replies []*Reply, enhanced bool) bool {
	ri := 0
	for i := range o.Expect {
		e := &o.Expect[i]
		if !e.wantsReply() {
			return ri == len(replies)
		}
		if ri == len(replies) {
			return true
		}
		if g, _ := e.match(replies[ri], enhanced); g == gradeMiss {
			return false
		}
		ri++
		if e.More {
			return true
		}
	}
	return ri == len(replies) && o.Expect[len(o.Expect)-1].Closed
}

// summarize renders a reply sequence in one line: "250, 250, 354 then closed".
func summarize(replies []*Reply, closed bool) string {
	codes := make([]string, len(replies))
	for i, r := range replies {
		codes[i] = strconv.Itoa(r.Code)
	}
	s := strings.Join(codes, ", ")
	if s == "" {
		s = "no reply"
	}
	if closed {
		return s + " then closed"
	}
	return s + " (connection left open)"
}

// matchOutcome grades a sequence of replies against an outcome.
func matchOutcome(o *Outcome, replies []*Reply, closed, enhanced bool) (grade, []View, []View) {
	var want, got []View
	g := gradeStrict
	ri := 0
	for i := range o.Expect {
		e := &o.Expect[i]
		want = append(want, e.want())
		if !e.wantsReply() {
			got = append(got, View{"code": want[i]["code"], "closed": yesNo(closed)})
			if ri != len(replies) || (e.Closed && !closed) {
				g = gradeMiss
			}
			continue
		}
		if ri >= len(replies) {
			got = append(got, View{"code": "(no reply)", "closed": yesNo(closed)})
			g = gradeMiss
			continue
		}
		eg, v := e.match(replies[ri], enhanced)
		ri++
		if e.Closed {
			isClosed := closed && ri == len(replies)
			v["closed"] = yesNo(isClosed)
			if !isClosed {
				eg = gradeMiss
			}
		}
		got = append(got, v)
		g = max(g, eg)
		if e.More {
			for ; ri < len(replies); ri++ {
				got = append(got, View{"code": strconv.Itoa(replies[ri].Code)})
			}
		}
	}
	for ; ri < len(replies); ri++ {
		got = append(got, View{"code": strconv.Itoa(replies[ri].Code)})
		g = gradeMiss
	}
	return g, want, got
}

// trailingQuit sends QUIT after the last step: a reply other than 221
// means the server sent more (or fewer) replies than the case accounted
// for, which no fixed wait could have shown as quickly.
func (x *execution) trailingQuit() {
	x.conn.write([]byte("QUIT\r\n"))
	r, kind, err := x.conn.read(x.o.StepTimeout)
	switch {
	case kind == readOK && r.Code == 221:
		return
	case kind == readOK:
		x.failAt(x.c.Line, Fail, "after the last step, QUIT got %s, want 221: the server sent a reply the case did not expect, or ignored QUIT", r)
	case kind == readClosed:
		x.failAt(x.c.Line, Fail, "after the last step, the server closed the connection instead of answering QUIT")
	case kind == readTimeout:
		x.failAt(x.c.Line, Error, "after the last step, no reply to QUIT within %v", x.o.StepTimeout)
	default:
		x.failAt(x.c.Line, Fail, "after the last step, QUIT: %v", err)
	}
}

// delivered compares the target's stored messages with the step's list.
// Fields the case leaves out are copied from what was stored, so the diff
// shows only what the case checks.
func (x *execution) delivered(s *Step, label string) {
	type msg struct {
		From  string
		To    []string
		Data  string
		Trace string `json:",omitempty"`
	}
	if st, ok := x.mailbox.(Settler); ok {
		ctx, cancel := context.WithTimeout(x.ctx, x.o.StepTimeout)
		open := 1
		if x.conn.closed {
			open = 0
		}
		err := st.Settle(ctx, open)
		cancel()
		if err != nil {
			x.failAt(s.Line, Error, "%s: the server did not finish with its sessions: %v", label, err)
			return
		}
	}
	stored := x.mailbox.Messages()
	got := make([]msg, len(stored))
	for i, st := range stored {
		got[i] = msg{From: st.From, To: st.To, Data: string(st.Data)}
	}
	want := make([]msg, len(*s.Delivered))
	for i, d := range *s.Delivered {
		var m msg
		if i < len(got) {
			m = got[i]
			m.Trace, got[i].Trace = traceMismatch(d, stored[i].Trace)
		}
		if d.From != nil {
			m.From, _ = expand(*d.From, x.env)
		}
		if d.To != nil {
			m.To = make([]string, len(d.To))
			for j, t := range d.To {
				m.To[j], _ = expand(t, x.env)
			}
		}
		if d.Data != nil {
			m.Data, _ = expand(*d.Data, x.env)
		}
		want[i] = m
	}
	if diff := cmp.Diff(want, got); diff != "" {
		x.res.Diff = diff
		x.failAt(s.Line, Fail, "%s: stored messages differ from what the case expects (%d stored, %d expected)", label, len(got), len(want))
	}
}

// traceMismatch checks the trace fields of a stored message against the
// delivery's patterns. It returns what to show on the want and got sides
// of the diff: both empty when every pattern holds, otherwise the patterns
// that failed and the trace itself.
func traceMismatch(d Delivery, trace []byte) (want, got string) {
	var failed []string
	for _, re := range d.Trace {
		if !re.Match(trace) {
			failed = append(failed, "matches /"+re.String()+"/")
		}
	}
	for _, re := range d.TraceNot {
		if re.Match(trace) {
			failed = append(failed, "does not match /"+re.String()+"/")
		}
	}
	if failed == nil {
		return "", ""
	}
	return strings.Join(failed, "; "), string(trace)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
