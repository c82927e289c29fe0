package fuzz

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/smtpspec/smtpspec/harness"
)

// This file is an independent model of an RFC 5321 session as the reference
// server should run it: written from the RFCs and the reference's documented
// choices (reference/doc.go), never from its code, and sharing none of it.
// It reads the whole client octet stream up front, frames it the way a
// strict server must (only CRLF ends a line; DATA until CRLF "." CRLF; BDAT
// chunks by count; SASL lines after 334), and judges each reply with the
// state that the replies before it established. Where the RFCs leave the
// server a choice, a unit allows a set of codes; where they do not (a
// sequence error, a well-formed command in the right state), exactly one.

// modelConfig is what the model knows about the server's configuration.
type modelConfig struct {
	domains      []string // local domains, lower case (the hostname included)
	mailboxes    []string // local parts accepted at local domains, lower case
	user, pass   string   // AUTH credentials
	insecureAuth bool     // AUTH offered without TLS
	maxSize      int64    // SIZE limit; 0: none
	maxErrors    int      // errors (500-504, 530, 535, 555) before 421
	maxRcpts     int
}

// Framing of the client stream.
const (
	fCommand = iota
	fData    // after 354: message text up to CRLF "." CRLF
	fSASL    // after 334: one SASL response line
)

// Unit kinds.
const (
	kGreeting = iota
	kLine     // a command line
	kData     // message text and its terminator
	kChunk    // a BDAT command and its chunk
	kSASL     // a SASL response line
	k421      // the 421 a server owes after too many errors
)

// munit is a piece of the client stream that the server owes one reply.
type munit struct {
	kind  int
	end   int    // offset just after its last octet
	line  string // the line without CRLF (kLine, kSASL, and kChunk's BDAT line)
	verb  string // upper-case known verb, "" for an unknown one
	arg   string // after the first SP, trailing SP and HTAB removed
	hasSP bool
	data  []byte // kData: the text as sent; kChunk: the chunk
	size  int64
	last  bool
	bdat  int // kChunk: 0 ok, 1 bad syntax (the chunk still follows)
}

// A violation is a reply the model does not allow.
type violation struct {
	Unit string // what the reply answered
	Want []int  // the codes allowed (nil: no reply at all)
	Got  string
	Why  string
}

func (v *violation) Error() string {
	return fmt.Sprintf("reply to %s: got %s, want %s: %s", v.Unit, v.Got, codesString(v.Want), v.Why)
}

func codesString(cs []int) string {
	if len(cs) == 0 {
		return "no reply"
	}
	s := make([]string, len(cs))
	for i, c := range cs {
		s[i] = strconv.Itoa(c)
	}
	return strings.Join(s, " or ")
}

// judged records one reply and what the model allowed, for findings.
type judged struct {
	end     int // the unit's end offset
	allowed []int
	code    int
	closes  bool // the session ends after this reply
}

// model is the state of one session.
type model struct {
	cfg   modelConfig
	in    []byte // the whole client stream
	pos   int    // framing position in in
	syncs []int  // offsets where the client waits and handshakes after a 220 to STARTTLS

	framing int
	pending []*munit
	blocked bool // framing waits for the reply to the last pending unit

	// dead: the session is over; mustClose: the server must close now.
	dead, mustClose bool
	deadWhy         string
	tlsAt           int // offset of a STARTTLS that got 220 at a sync point, or -1

	helo       int // 0 none, 1 HELO, 2 EHLO
	tls        bool
	authed     bool
	errs       int
	tx         bool
	rcpts      int
	utf8       bool
	binary     bool
	chunked    bool
	chunks     []byte
	saslMech   string
	saslStep   int
	loginUser  string
	stored     [][]byte // messages the server must have stored, in order
	log        []judged
	lastAnswer int // end offset of the last answered unit
}

func newModel(cfg modelConfig, in []byte, syncs []int) *model {
	m := &model{cfg: cfg, in: in, syncs: syncs, tlsAt: -1}
	m.pending = []*munit{{kind: kGreeting}}
	m.blocked = true
	return m
}

var (
	crlf       = []byte("\r\n")
	knownVerbs = []string{"HELO", "EHLO", "MAIL", "RCPT", "DATA", "BDAT", "RSET", "NOOP", "QUIT",
		"VRFY", "EXPN", "HELP", "STARTTLS", "AUTH", "TURN", "SAML", "SEND", "SOML"}
	errorCodes = []int{500, 501, 502, 503, 504, 530, 535, 555}
)

// Line limits: RFC 5321 §4.5.3.1.4 (512 with CRLF) and RFC 4954 §4 (12288
// octets for an AUTH line or SASL response, which the reference allows
// plus CRLF).
const (
	maxCommandLine = 512
	maxAuthLine    = 12290
	maxTextLine    = 1000 // RFC 5321 §4.5.3.1.6, CRLF included, stuffing dot excluded
)

// frame reads units off the stream until it must wait for a reply or runs
// out of octets.
func (m *model) frame() {
	for !m.blocked && !m.dead {
		rest := m.in[m.pos:]
		switch m.framing {
		case fData:
			var content []byte
			var n int
			if bytes.HasPrefix(rest, []byte(".\r\n")) {
				content, n = rest[:0], 3
			} else if i := bytes.Index(rest, []byte("\r\n.\r\n")); i >= 0 {
				content, n = rest[:i+2], i+5
			} else {
				return
			}
			m.pos += n
			m.push(&munit{kind: kData, end: m.pos, data: content}, false)
			m.framing = fCommand
		case fCommand, fSASL:
			i := bytes.Index(rest, crlf)
			if i < 0 {
				return
			}
			line := string(rest[:i])
			m.pos += i + 2
			if m.framing == fSASL {
				m.push(&munit{kind: kSASL, end: m.pos, line: line}, true)
				continue
			}
			u := &munit{kind: kLine, end: m.pos, line: line}
			// Trailing white space is tolerated (RFC 5321 §4.1.1), also
			// right after a verb ("NOOP<TAB>").
			word, arg, hasSP := strings.Cut(strings.TrimRight(line, " \t"), " ")
			if v := strings.ToUpper(word); slices.Contains(knownVerbs, v) {
				u.verb = v
			}
			u.arg, u.hasSP = arg, hasSP
			if len(line)+2 > maxAuthLine || (len(line)+2 > maxCommandLine && u.verb != "AUTH") {
				u.verb = "" // too long: 500 whatever it says
			}
			if u.verb == "BDAT" {
				size, last, ok, consumed := parseBDATModel(u.arg)
				if consumed {
					if int64(len(m.in)-m.pos) < size {
						m.pos = len(m.in) // the chunk never completes
						return
					}
					u.kind, u.size, u.last = kChunk, size, last
					u.data = m.in[m.pos : m.pos+int(size)]
					m.pos += int(size)
					u.end = m.pos
					if !ok {
						u.bdat = 1
					}
				}
			}
			switch u.verb {
			case "DATA", "AUTH", "STARTTLS", "QUIT":
				m.push(u, true)
			default:
				m.push(u, false)
			}
		}
	}
}

func (m *model) push(u *munit, block bool) {
	m.pending = append(m.pending, u)
	m.blocked = block
}

// parseBDATModel parses "chunk-size [SP LAST]" (RFC 3030 §2). consumed
// reports whether a chunk follows: the size is a number the server can
// count (the reference takes up to 20 digits that fit an int64); ok whether
// the rest is right too.
func parseBDATModel(arg string) (size int64, last, ok, consumed bool) {
	sz, rest, hasRest := strings.Cut(arg, " ")
	if sz == "" || len(sz) > 20 || strings.Trim(sz, "0123456789") != "" {
		return 0, false, false, false
	}
	n, err := strconv.ParseInt(sz, 10, 64)
	if err != nil {
		return 0, false, false, false
	}
	switch {
	case !hasRest:
		return n, false, true, true
	case strings.EqualFold(rest, "LAST"):
		return n, true, true, true
	}
	return n, false, false, true
}

// dueBy reports whether the server owes a reply for octets up to limit.
func (m *model) dueBy(limit int) bool {
	return len(m.pending) > 0 && m.pending[0].end <= limit
}

// reply judges one reply from the server.
func (m *model) reply(r *harness.Reply) *violation {
	got := quoteRaw(r)
	if m.dead {
		return &violation{Unit: "(nothing: the session was over)", Got: got(), Why: m.deadWhy + "; the server must send nothing more"}
	}
	if len(m.pending) == 0 {
		return &violation{Unit: "(nothing owed)", Got: got(), Why: "a reply that no command asked for"}
	}
	u := m.pending[0]
	m.pending = m.pending[1:]
	allowed, why := m.judge(u, r)
	m.log = append(m.log, judged{end: u.end, allowed: allowed, code: r.Code})
	m.lastAnswer = u.end
	if !slices.Contains(allowed, r.Code) {
		return &violation{Unit: describeUnit(u), Want: allowed, Got: got(), Why: why}
	}
	if v := m.checkShape(u, r); v != nil {
		return v
	}
	if slices.Contains(errorCodes, r.Code) {
		m.errs++
	}
	m.apply(u, r)
	if m.dead {
		m.log[len(m.log)-1].closes = true
	}
	complete := r.Code != 334 && r.Code != 354 && u.kind != kGreeting && u.kind != k421
	if complete && !m.dead && m.errs >= m.cfg.maxErrors {
		// The server answers 421 and closes; pipelined commands go unanswered.
		m.pending = []*munit{{kind: k421, end: u.end}}
		m.blocked = true
		return nil
	}
	if m.blocked && len(m.pending) == 0 {
		m.blocked = false
	}
	m.frame()
	return nil
}

// quoteRaw quotes a reply's octets when a message needs them.
func quoteRaw(r *harness.Reply) func() string {
	return func() string { return strconv.Quote(string(r.Raw)) }
}

func describeUnit(u *munit) string {
	switch u.kind {
	case kGreeting:
		return "the connection (greeting)"
	case kData:
		return fmt.Sprintf("the message text (%d octets) and its terminator", len(u.data))
	case kChunk:
		return fmt.Sprintf("%q and its %d-octet chunk", u.line, u.size)
	case kSASL:
		return fmt.Sprintf("SASL response %q", short(u.line))
	case k421:
		return "(too many errors: the server must close)"
	}
	return strconv.Quote(short(u.line))
}

func short(s string) string {
	if len(s) > 80 {
		return s[:60] + fmt.Sprintf("…(%d octets)", len(s))
	}
	return s
}

// checkShape checks what does not depend on the code alone: enhanced status
// codes (RFC 2034 §3, RFC 3463), the EHLO keywords after TLS (RFC 3207 §4.2)
// and base64 challenges (RFC 4954 §4).
func (m *model) checkShape(u *munit, r *harness.Reply) *violation {
	bad := func(why string) *violation {
		return &violation{Unit: describeUnit(u), Want: []int{r.Code}, Got: strconv.Quote(string(r.Raw)), Why: why}
	}
	heloReply := u.kind == kLine && (u.verb == "EHLO" || u.verb == "HELO") && r.Code == 250
	switch {
	case r.Code == 334:
		if len(r.Lines) != 1 {
			return bad("RFC 4954 §4: a challenge is one line")
		}
		if _, err := base64.StdEncoding.Strict().DecodeString(r.Lines[0]); err != nil {
			return bad("RFC 4954 §4: a challenge is base64")
		}
	case u.kind == kGreeting, heloReply, r.Code == 354:
	default:
		e := r.Enhanced()
		if e == "" {
			return bad("RFC 2034 §3: with ENHANCEDSTATUSCODES every reply but the greeting and EHLO/HELO carries one")
		}
		if int(e[0]-'0') != r.Code/100 {
			return bad("RFC 3463 §2: the enhanced code's class is the reply's class")
		}
	}
	if heloReply && u.verb == "EHLO" {
		kws := r.Keywords()
		has := func(k string) bool {
			return slices.ContainsFunc(kws, func(s string) bool { return s == k || strings.HasPrefix(s, k+" ") })
		}
		switch {
		case m.tls && has("STARTTLS"):
			return bad("RFC 3207 §4.2: no STARTTLS keyword after TLS")
		case !m.tls && !has("STARTTLS"):
			return bad("the reference offers STARTTLS before TLS")
		case has("AUTH") != (m.tls || m.cfg.insecureAuth):
			return bad("the reference offers AUTH under TLS only, unless Config.AllowInsecureAuth")
		}
	}
	return nil
}

// apply moves the model to the state after an allowed reply.
func (m *model) apply(u *munit, r *harness.Reply) {
	code := r.Code
	if code == 421 {
		m.die("the server closed with 421", true)
		return
	}
	switch u.kind {
	case kData:
		if code == 250 {
			text, _, _ := unstuff(u.data)
			m.stored = append(m.stored, text)
		}
		m.resetTx()
		return
	case kChunk:
		switch {
		case code == 552:
			m.resetTx()
		case code == 250:
			m.chunked = true
			m.chunks = append(m.chunks, u.data...)
			if u.last {
				m.stored = append(m.stored, m.chunks)
				m.resetTx()
			}
		}
		return
	case kSASL:
		m.saslAnswer(u, code)
		return
	}
	if u.kind != kLine {
		return
	}
	switch u.verb {
	case "EHLO", "HELO":
		if code == 250 {
			m.resetTx()
			m.helo = 1
			if u.verb == "EHLO" {
				m.helo = 2
			}
		}
	case "MAIL":
		if code == 250 {
			params := modelParams(afterPath(u.arg[5:]))
			m.tx, m.rcpts, m.utf8 = true, 0, params["SMTPUTF8"]
			m.binary = strings.EqualFold(paramValue(afterPath(u.arg[5:]), "BODY"), "BINARYMIME")
		}
	case "RCPT":
		if code == 250 || code == 251 {
			m.rcpts++
		}
	case "DATA":
		if code == 354 {
			m.framing = fData
		}
	case "RSET":
		if code == 250 {
			m.resetTx()
		}
	case "QUIT":
		if code == 221 {
			m.die("the client sent QUIT and got 221", true)
		}
	case "STARTTLS":
		if code == 220 {
			if slices.Contains(m.syncs, u.end) {
				m.tlsAt = u.end
				m.resetTx()
				m.helo, m.authed, m.tls = 0, false, true
			} else {
				m.die("STARTTLS got 220 but the client did not start TLS", false)
			}
		}
	case "AUTH":
		switch code {
		case 334:
			mech, ir, hasIR := strings.Cut(u.arg, " ")
			m.framing, m.saslMech, m.saslStep = fSASL, strings.ToUpper(mech), 1
			if m.saslMech == "LOGIN" && hasIR {
				user, _, _ := saslDecode(ir)
				m.loginUser, m.saslStep = string(user), 2
			}
		case 235:
			m.authed = true
		}
	}
}

func (m *model) saslAnswer(u *munit, code int) {
	switch code {
	case 334:
		user, _, _ := saslDecode(u.line)
		m.loginUser, m.saslStep = string(user), 2
	case 235:
		m.authed = true
		m.framing = fCommand
	default:
		m.framing = fCommand
	}
}

func (m *model) resetTx() {
	m.tx, m.rcpts, m.utf8, m.binary, m.chunked, m.chunks = false, 0, false, false, false, nil
}

func (m *model) die(why string, mustClose bool) {
	m.dead, m.mustClose, m.deadWhy = true, mustClose, why
	m.pending, m.blocked = nil, true
}

// closed judges the server closing the connection when the model expected
// more (or nothing).
func (m *model) closed() *violation {
	if m.dead || len(m.pending) == 0 {
		return nil
	}
	return &violation{Unit: describeUnit(m.pending[0]), Want: nil, Got: "the connection closed", Why: "a reply was owed"}
}
