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
