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

// judge returns the codes the server may answer u with in the current state.
func (m *model) judge(u *munit, r *harness.Reply) ([]int, string) {
	switch u.kind {
	case kGreeting:
		return []int{220}, "RFC 5321 §3.1: the greeting is 220"
	case k421:
		return []int{421}, fmt.Sprintf("the reference closes with 421 after %d errors (Config.MaxErrors)", m.cfg.maxErrors)
	case kData:
		return m.judgeData(u)
	case kChunk:
		return m.judgeChunk(u)
	case kSASL:
		return m.judgeSASL(u)
	}
	if u.verb == "" {
		if len(u.line)+2 > maxCommandLine {
			return []int{500}, "RFC 5321 §4.5.3.1.4: a command line over 512 octets gets 500"
		}
		return []int{500}, "RFC 5321 §4.2.4: an unrecognised command gets 500"
	}
	switch u.verb {
	case "EHLO", "HELO":
		name, _, _ := strings.Cut(u.arg, " ")
		switch {
		case name == "":
			return []int{501}, "RFC 5321 §4.1.1.1: EHLO needs a domain or address literal"
		case isDomain(name):
			return []int{250}, "RFC 5321 §4.1.1.1: a well-formed EHLO is accepted"
		case strings.HasPrefix(name, "["):
			return []int{250, 501}, ""
		}
		return []int{501}, "RFC 5321 §4.1.1.1: not a domain or address literal"
	case "MAIL":
		return m.judgeMail(u)
	case "RCPT":
		return m.judgeRcpt(u)
	case "DATA":
		switch {
		case u.arg != "":
			return []int{501}, "RFC 5321 §4.1.1.4: DATA takes no argument"
		case !m.tx:
			return []int{503, 554}, "RFC 5321 §3.3: DATA without MAIL is out of sequence"
		case m.rcpts == 0:
			return []int{503, 554}, "RFC 5321 §3.3: DATA without an accepted RCPT"
		case m.binary:
			return []int{503, 554}, "RFC 3030 §3: BODY=BINARYMIME needs BDAT"
		case m.chunked:
			return []int{503, 554}, "RFC 3030 §2: DATA after BDAT in one transaction"
		}
		return []int{354}, "RFC 5321 §4.1.1.4: DATA after an accepted RCPT gets 354"
	case "RSET":
		if u.arg != "" {
			return []int{501}, "RFC 5321 §4.1.1.5: RSET takes no argument"
		}
		return []int{250}, "RFC 5321 §4.1.1.5: RSET gets 250 in every state"
	case "NOOP":
		return []int{250}, "RFC 5321 §4.1.1.9: NOOP gets 250"
	case "QUIT":
		if u.arg != "" {
			return []int{501}, "RFC 5321 §4.1.1.10: QUIT takes no argument"
		}
		return []int{221}, "RFC 5321 §4.1.1.10: QUIT gets 221"
	case "VRFY":
		if u.arg == "" {
			return []int{501}, "RFC 5321 §4.1.1.6: VRFY needs an argument"
		}
		return []int{250, 251, 252, 550, 551, 553}, "RFC 5321 §3.5.3"
	case "EXPN":
		return []int{250, 252, 502, 550}, "RFC 5321 §3.5.3"
	case "HELP":
		return []int{211, 214, 502, 504}, "RFC 5321 §4.1.1.8"
	case "BDAT":
		return []int{501}, "RFC 3030 §2: BDAT chunk-size [SP LAST]"
	case "TURN", "SAML", "SEND", "SOML":
		return []int{502}, "RFC 5321 §4.2.4: a recognised but unimplemented command gets 502"
	case "STARTTLS":
		switch {
		case u.arg != "":
			return []int{501}, "RFC 3207 §4: STARTTLS takes no argument"
		case m.tls:
			return []int{503}, "RFC 3207 §4.2: STARTTLS inside TLS"
		case m.tx:
			return []int{503}, "reference: STARTTLS inside a transaction gets 503"
		}
		return []int{220}, "RFC 3207 §4: STARTTLS gets 220"
	case "AUTH":
		return m.judgeAuth(u)
	}
	return []int{500}, "unknown verb"
}

func (m *model) judgeMail(u *munit) ([]int, string) {
	switch {
	case m.helo == 0:
		return []int{503}, "RFC 5321 §4.1.4: MAIL before EHLO/HELO"
	case m.tx:
		return []int{503}, "RFC 5321 §4.1.4: MAIL inside a transaction"
	case !hasPrefixFold(u.arg, "FROM:"):
		return []int{501}, "RFC 5321 §4.1.1.2: MAIL FROM:<reverse-path>"
	}
	p, rest, ok := parseModelPath(u.arg[5:])
	if !strings.HasPrefix(u.arg[5:], "<") {
		return []int{501}, "RFC 5321 §4.1.2: a reverse-path is in angle brackets"
	}
	if ok && rest != "" && m.helo == 1 {
		if knownDeviation(u, m) {
			return []int{250, 501, 555}, "known deviation"
		}
		return []int{501, 555}, "RFC 5321 §4.1.1.11, RFC 1869: after HELO no extension is in effect, so MAIL parameters are not recognised (555)"
	}
	params := modelParams(rest)
	if ok && rest == "" && !p.nonASCII && (p.null || p.domain != "" && !p.literal) {
		return []int{250}, "RFC 5321 §4.1.1.2: a well-formed MAIL is accepted (the reference takes any sender)"
	}
	allowed := []int{250, 501, 552, 553, 555}
	why := "RFC 5321 §4.1.1.2"
	if (p.nonASCII || hasHigh([]byte(rest))) && !params["SMTPUTF8"] {
		allowed, why = []int{501, 553, 555}, "RFC 6531 §3.5: a non-ASCII address needs SMTPUTF8"
	}
	if v := paramValue(rest, "SIZE"); params["SIZE="] && len(v) <= 20 && strings.Trim(v, "0123456789") == "" && m.cfg.maxSize > 0 {
		if n, err := strconv.ParseUint(v, 10, 64); err != nil || n > uint64(m.cfg.maxSize) {
			allowed, why = []int{501, 552, 553, 555}, "RFC 1870 §6.1: a declared SIZE over the limit is refused"
		}
	}
	return allowed, why
}

func (m *model) judgeRcpt(u *munit) ([]int, string) {
	switch {
	case !m.tx:
		return []int{503}, "RFC 5321 §4.1.4: RCPT without MAIL"
	case !hasPrefixFold(u.arg, "TO:"):
		return []int{501}, "RFC 5321 §4.1.1.3: RCPT TO:<forward-path>"
	}
	p, rest, ok := parseModelPath(u.arg[3:])
	refuse := []int{450, 451, 452, 455, 501, 550, 551, 552, 553, 555}
	switch {
	case m.rcpts >= m.cfg.maxRcpts:
		return refuse, fmt.Sprintf("the reference takes %d recipients (RFC 5321 §4.5.3.1.8), then 452", m.cfg.maxRcpts)
	case hasHigh([]byte(u.arg)) && !m.utf8:
		return refuse, "RFC 6531 §3.5: non-ASCII without SMTPUTF8 on MAIL"
	case !strings.HasPrefix(u.arg[3:], "<"):
		return refuse, "RFC 5321 §4.1.2: a forward-path is in angle brackets"
	case ok && rest != "" && m.helo == 1:
		return refuse, "RFC 5321 §4.1.1.11, RFC 1869: after HELO no extension is in effect, so RCPT parameters are not recognised (555)"
	case !ok:
		return append(refuse, 250, 251), ""
	case p.null:
		return refuse, "RFC 5321 §4.1.1.3: <> is no recipient"
	case p.postmaster:
		if rest == "" {
			return []int{250}, "RFC 5321 §4.5.1: <Postmaster> must be accepted"
		}
	case p.literal || !slices.Contains(m.cfg.domains, strings.ToLower(p.domain)):
		if !m.authed {
			return refuse, "RFC 5321 §3.6.2: no relaying for an unauthenticated client (the reference relays nothing then)"
		}
	case !p.quoted && rest == "" && m.localOK(p.local):
		return []int{250}, "a well-formed RCPT for a local mailbox is accepted"
	case !p.quoted && !m.localOK(p.local):
		return refuse, "the mailbox does not exist (Config.Mailboxes)"
	}
	return append(refuse, 250, 251), ""
}

func (m *model) localOK(local string) bool {
	l := strings.ToLower(local)
	if l == "postmaster" || len(m.cfg.mailboxes) == 0 {
		return true
	}
	base, _, _ := strings.Cut(l, "+")
	return slices.Contains(m.cfg.mailboxes, l) || slices.Contains(m.cfg.mailboxes, base)
}

func (m *model) judgeData(u *munit) ([]int, string) {
	var codes []int
	var whys []string
	text, bare, long := unstuff(u.data)
	if bare {
		codes, whys = append(codes, 554), append(whys, "a bare CR or LF in the text (RFC 5321 §2.3.8; the reference refuses)")
	}
	if long {
		codes, whys = append(codes, 500), append(whys, "a text line over 1000 octets (RFC 5321 §4.5.3.1.6)")
	}
	if m.cfg.maxSize > 0 && int64(len(text)) > m.cfg.maxSize {
		codes, whys = append(codes, 552), append(whys, "over the SIZE limit (RFC 1870 §6.3)")
	}
	if len(codes) == 0 {
		return []int{250}, "RFC 5321 §4.1.1.4: well-formed text is accepted"
	}
	return codes, strings.Join(whys, "; ")
}

// unstuff removes the transparency dots (RFC 5321 §4.5.2) and reports bare
// CR or LF and over-long lines.
func unstuff(data []byte) (text []byte, bare, long bool) {
	text = make([]byte, 0, len(data))
	lineLen := 0
	for i := 0; i < len(data); i++ {
		c := data[i]
		atStart := i == 0 || i >= 2 && data[i-2] == '\r' && data[i-1] == '\n'
		if atStart && c == '.' {
			continue
		}
		switch {
		case c == '\r' && i+1 < len(data) && data[i+1] == '\n':
		case c == '\n' && i > 0 && data[i-1] == '\r':
			lineLen = 0
		case c == '\r' || c == '\n':
			bare = true
		default:
			lineLen++
			if lineLen > maxTextLine-2 {
				long = true
			}
		}
		text = append(text, c)
	}
	return text, bare, long
}

func (m *model) judgeChunk(u *munit) ([]int, string) {
	switch {
	case u.bdat != 0:
		return []int{501}, "RFC 3030 §2: BDAT chunk-size [SP LAST]"
	case m.helo != 2:
		return []int{503}, "RFC 3030 §2: CHUNKING is an extension, offered after EHLO only (the chunk is still read)"
	case !m.tx:
		return []int{503}, "RFC 3030 §2: BDAT without MAIL"
	case m.rcpts == 0:
		return []int{503, 554}, "RFC 3030 §2: BDAT without an accepted RCPT"
	case m.cfg.maxSize > 0 && int64(len(m.chunks))+u.size > m.cfg.maxSize:
		return []int{552}, "RFC 1870 §6.3 and RFC 3030 §2: the chunks exceed the SIZE limit"
	}
	return []int{250}, "RFC 3030 §2: an accepted chunk gets 250"
}

func (m *model) judgeAuth(u *munit) ([]int, string) {
	switch {
	case m.helo != 2:
		return []int{503}, "RFC 4954 §4: AUTH after EHLO only"
	case m.authed:
		return []int{503}, "RFC 4954 §4: AUTH after a successful AUTH"
	case m.tx:
		return []int{503}, "RFC 4954 §4: AUTH inside a transaction"
	case !m.tls && !m.cfg.insecureAuth:
		return []int{530, 538}, "RFC 4954 §6 / reference: AUTH needs TLS"
	}
	mech, ir, hasIR := strings.Cut(u.arg, " ")
	switch strings.ToUpper(mech) {
	case "":
		return []int{501}, "RFC 4954 §4: AUTH mechanism"
	case "PLAIN":
		if !hasIR {
			return []int{334}, "RFC 4954 §4: no initial response: a challenge"
		}
		resp, code, why := saslDecode(ir)
		if code != 0 {
			return []int{code}, why
		}
		return m.plain(resp)
	case "LOGIN":
		if !hasIR {
			return []int{334}, "RFC 4954 §4: LOGIN asks for the user name"
		}
		if _, code, why := saslDecode(ir); code != 0 {
			return []int{code}, why
		}
		return []int{334}, "LOGIN asks for the password"
	}
	return []int{504}, "RFC 4954 §4: an unknown mechanism gets 504"
}

func (m *model) judgeSASL(u *munit) ([]int, string) {
	if len(u.line)+2 > maxAuthLine {
		return []int{500}, "RFC 4954 §4: a SASL line over 12288 octets"
	}
	if u.line == "*" {
		return []int{501}, "RFC 4954 §4: \"*\" cancels the exchange with 501"
	}
	resp, code, why := saslDecode(u.line)
	if code != 0 {
		return []int{code}, why
	}
	if m.saslMech == "PLAIN" {
		return m.plain(resp)
	}
	if m.saslStep == 1 {
		return []int{334}, "LOGIN asks for the password"
	}
	if m.loginUser == m.cfg.user && string(resp) == m.cfg.pass && m.cfg.user != "" {
		return []int{235}, "RFC 4954 §6: right credentials"
	}
	return []int{535}, "RFC 4954 §6: wrong credentials"
}

// saslDecode decodes a SASL response: "=" is empty (RFC 4954 §4); anything
// but strict base64 is 501.
func saslDecode(s string) ([]byte, int, string) {
	if s == "=" {
		return []byte{}, 0, ""
	}
	if s == "*" {
		return nil, 501, "RFC 4954 §4: \"*\" cancels the exchange with 501"
	}
	if strings.Trim(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=") != "" || len(s)%4 != 0 {
		return nil, 501, "RFC 4954 §4: the response is not base64"
	}
	b, err := base64.StdEncoding.Strict().DecodeString(s)
	if err != nil {
		return nil, 501, "RFC 4954 §4: the response is not base64"
	}
	return b, 0, ""
}

// plain judges an RFC 4616 PLAIN response: authzid NUL authcid NUL passwd,
// with an authzid that is empty or the user's own.
func (m *model) plain(resp []byte) ([]int, string) {
	parts := bytes.Split(resp, []byte{0})
	if len(parts) == 3 && (len(parts[0]) == 0 || bytes.Equal(parts[0], parts[1])) &&
		string(parts[1]) == m.cfg.user && string(parts[2]) == m.cfg.pass && m.cfg.user != "" {
		return []int{235}, "RFC 4954 §6: right credentials"
	}
	return []int{535}, "RFC 4954 §6: wrong credentials"
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

// knownDeviations are reference behaviours the model flags but that are
// reported and awaiting a fix; TestKnownDeviations fails once one is fixed,
// so that its entry goes.
var knownDeviations = []struct {
	why   string
	match func(u *munit, m *model) bool
}{
	{"reference: MAIL after HELO with SIZE=0 gets 250 while every other parameter gets 555 (MailOptions.present ignores a zero SIZE)",
		func(u *munit, m *model) bool {
			_, rest, _ := parseModelPath(u.arg[5:])
			v := paramValue(rest, "SIZE")
			return u.verb == "MAIL" && m.helo == 1 && strings.Count(rest, " ") == 1 && v != "" && strings.Trim(v, "0") == ""
		}},
}

func knownDeviation(u *munit, m *model) bool {
	for _, d := range knownDeviations {
		if d.match(u, m) {
			return true
		}
	}
	return false
}

// modelPath is a path as the model reads it (RFC 5321 §4.1.2).
type modelPath struct {
	null, postmaster, quoted, literal, nonASCII bool
	local, domain                               string
}

// parseModelPath parses "<" [A-d-l ":"] Mailbox ">" at the start of s, and
// "<>" and "<Postmaster>". ok is false when the model is unsure.
func parseModelPath(s string) (p modelPath, rest string, ok bool) {
	if !strings.HasPrefix(s, "<") {
		return p, s, false
	}
	end := -1
	inQuote := false
	for i := 1; i < len(s); i++ {
		switch c := s[i]; {
		case inQuote && c == '\\':
			i++
		case c == '"':
			inQuote = !inQuote
		case !inQuote && c == '>':
			end = i
		}
		if end >= 0 {
			break
		}
	}
	if end < 0 {
		return p, s, false
	}
	inner, rest := s[1:end], s[end+1:]
	p.nonASCII = hasHigh([]byte(inner))
	if inner == "" {
		p.null = true
		return p, rest, true
	}
	if len(inner)+2 > 256 {
		return p, rest, false
	}
	if strings.HasPrefix(inner, "@") {
		route, mbox, found := strings.Cut(inner, ":")
		if !found {
			return p, rest, false
		}
		for _, d := range strings.Split(route, ",") {
			if !strings.HasPrefix(d, "@") || !isDomain(d[1:]) {
				return p, rest, false
			}
		}
		inner = mbox
	} else if strings.EqualFold(inner, "postmaster") {
		p.postmaster, p.local = true, inner
		return p, rest, true
	}
	at := strings.LastIndexByte(inner, '@')
	if at <= 0 {
		return p, rest, false
	}
	p.local, p.domain = inner[:at], inner[at+1:]
	p.quoted = strings.HasPrefix(p.local, "\"")
	if len(p.local) > 64 || !p.quoted && !isDotAtom(p.local) || p.quoted && !isQuoted(p.local) {
		return p, rest, false
	}
	if strings.HasPrefix(p.domain, "[") {
		p.literal = true
		return p, rest, strings.HasSuffix(p.domain, "]")
	}
	return p, rest, isDomain(p.domain)
}

func afterPath(s string) string {
	_, rest, ok := parseModelPath(s)
	if !ok {
		if i := strings.LastIndexByte(s, '>'); i >= 0 {
			return s[i+1:]
		}
		return ""
	}
	return rest
}

// modelParams lists the parameter keywords after a path (" KW[=v] ..."),
// upper case, "KW=" for those with a value.
func modelParams(rest string) map[string]bool {
	out := map[string]bool{}
	for _, f := range strings.Split(strings.TrimPrefix(rest, " "), " ") {
		kw, _, hasV := strings.Cut(f, "=")
		out[strings.ToUpper(kw)] = true
		if hasV {
			out[strings.ToUpper(kw)+"="] = true
		}
	}
	return out
}

func paramValue(rest, kw string) string {
	for _, f := range strings.Split(strings.TrimPrefix(rest, " "), " ") {
		k, v, _ := strings.Cut(f, "=")
		if strings.EqualFold(k, kw) {
			return v
		}
	}
	return ""
}

// isDomain reports whether s is an RFC 5321 Domain: LDH labels of 1 to 63
// octets, 255 in all.
func isDomain(s string) bool {
	if s == "" || len(s) > 255 {
		return false
	}
	for _, l := range strings.Split(s, ".") {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

const atext = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-/=?^_`{|}~"

func isDotAtom(s string) bool {
	for _, a := range strings.Split(s, ".") {
		if a == "" || strings.Trim(a, atext) != "" {
			return false
		}
	}
	return true
}

func isQuoted(s string) bool {
	if len(s) < 2 || s[0] != '"' || s[len(s)-1] != '"' {
		return false
	}
	for i := 1; i < len(s)-1; i++ {
		c := s[i]
		switch {
		case c == '\\':
			i++
			if i >= len(s)-1 || s[i] < 32 || s[i] > 126 {
				return false
			}
		case c < 32 || c > 126 || c == '"':
			return false
		}
	}
	return true
}

func hasHigh(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 {
			return true
		}
	}
	return false
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}
