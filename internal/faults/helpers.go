package faults

import (
	"slices"
	"strconv"
	"strings"
)

// Building blocks for the faults in catalogue.go.

// answer returns a Command hook that answers the commands match selects
// with r, without the reference seeing them.
func answer(match func(s *Session, c *Command) bool, r *Reply) func(*Session, *Command) bool {
	return func(s *Session, c *Command) bool {
		if c.Kind != "command" || !match(s, c) {
			return false
		}
		s.Send(r.Clone())
		return true
	}
}

// replace returns a Reply hook that replaces the replies match selects with
// what to returns.
func replace(match func(c *Command, r *Reply) bool, to func(r *Reply) *Reply) func(*Session, *Command, *Reply) []*Reply {
	return func(s *Session, c *Command, r *Reply) []*Reply {
		if match(c, r) {
			return []*Reply{to(r)}
		}
		return []*Reply{r}
	}
}

// ehlo returns a Reply hook that edits EHLO replies (inTLS: only those
// inside TLS; !inTLS: only plaintext ones).
func ehlo(inTLS *bool, edit func(r *Reply)) func(*Session, *Command, *Reply) []*Reply {
	return func(s *Session, c *Command, r *Reply) []*Reply {
		if c.Verb == "EHLO" && r.Code == 250 && (inTLS == nil || *inTLS == c.Before.TLS) {
			r = r.Clone()
			edit(r)
		}
		return []*Reply{r}
	}
}

var (
	yes = true
	no  = false
)

// verb matches commands by verb.
func verb(vs ...string) func(*Session, *Command) bool {
	return func(_ *Session, c *Command) bool { return slices.Contains(vs, c.Verb) }
}

// replyTo matches replies to a verb with one of the codes (any code if none).
func replyTo(v string, codes ...int) func(*Command, *Reply) bool {
	return func(c *Command, r *Reply) bool {
		return c.Kind == "command" && c.Verb == v && (len(codes) == 0 || slices.Contains(codes, r.Code))
	}
}

// with returns a replacement function that always gives r.
func with(r *Reply) func(*Reply) *Reply { return func(*Reply) *Reply { return r.Clone() } }

// recode keeps the text (and enhanced code) and changes the reply code.
func recode(code int) func(*Reply) *Reply {
	return func(r *Reply) *Reply {
		r = r.Clone()
		r.Code = code
		return r
	}
}

// path returns the text between the first < and the following >.
func path(c *Command) string {
	_, rest, ok := strings.Cut(string(c.Line), "<")
	if !ok {
		return ""
	}
	p, _, _ := strings.Cut(rest, ">")
	return p
}

// localPart returns the local part of the command's path.
func localPart(c *Command) string {
	p := path(c)
	if i := strings.LastIndexByte(p, ':'); i >= 0 && strings.HasPrefix(p, "@") {
		p = p[i+1:]
	}
	lp, _, _ := strings.Cut(p, "@")
	return lp
}

// declaredSize returns the SIZE= value of a MAIL line, or -1.
func declaredSize(mail string) int64 {
	for _, f := range strings.Fields(mail) {
		if k, v, ok := strings.Cut(f, "="); ok && strings.EqualFold(k, "SIZE") {
			if n, err := strconv.ParseInt(v, 10, 64); err == nil {
				return n
			}
		}
	}
	return -1
}

// sizeLimit returns the SIZE the reference advertised to this session, or
// the test configuration's limit.
func sizeLimit(s *Session) int64 {
	if s.ehlo != nil {
		if i := s.ehlo.keywordLine("SIZE"); i >= 0 {
			if _, v, ok := strings.Cut(s.ehlo.Lines[i], " "); ok {
				if n, err := strconv.ParseInt(v, 10, 64); err == nil && n > 0 {
					return n
				}
			}
		}
	}
	return Config().MaxMessageSize
}

// hiddenMessage sends a whole transaction's text to the reference after a
// hidden DATA, keeping every reply from the client.
func hiddenMessage(s *Session, lines [][]byte) *Reply {
	if r := s.Hidden("DATA"); r.Code != 354 {
		return r
	}
	for _, l := range lines {
		if len(l) > 0 && l[0] == '.' {
			s.sw.WriteByte('.')
		}
		s.sw.Write(l)
		s.sw.WriteString("\r\n")
	}
	s.sw.WriteString(".\r\n")
	r := s.readReply()
	s.resetTx()
	return r
}

// isUpper reports whether a verb is written in upper case.
func isUpper(s string) bool { return strings.ToUpper(s) == s }

// knownVerbs are the commands the reference recognises.
var knownVerbs = []string{"HELO", "EHLO", "MAIL", "RCPT", "DATA", "BDAT", "RSET", "NOOP", "QUIT",
	"VRFY", "EXPN", "HELP", "STARTTLS", "AUTH", "TURN", "SAML", "SEND", "SOML"}

// firstWord returns the verb as the client wrote it.
func firstWord(c *Command) string {
	w, _, _ := strings.Cut(string(c.Line), " ")
	return w
}
