package faults

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/smtpspec/smtpspec/harness"
)

// A Reply is a reply as the proxy passes it on to the client.
type Reply struct {
	Code  int
	Lines []string // the text of each line, without code and separator
	// Raw, when set, is written instead of the rendered reply, so that a
	// fault can send octets no well-formed reply has.
	Raw []byte
	// Sep, when set, replaces the separator after the code on every line
	// but the last ("-" is used otherwise); Last replaces the last line's.
	Sep, Last string
	// EOL replaces CRLF at the end of each line.
	EOL string
}

// R builds a one-line reply: R(250, "2.0.0 OK").
func R(code int, text string) *Reply { return &Reply{Code: code, Lines: []string{text}} }

// fromHarness converts a reply read from the reference.
func fromHarness(h *harness.Reply) *Reply {
	return &Reply{Code: h.Code, Lines: append([]string(nil), h.Lines...)}
}

// Bytes renders the reply for the wire.
func (r *Reply) Bytes() []byte {
	if r.Raw != nil {
		return r.Raw
	}
	var b strings.Builder
	eol := r.EOL
	if eol == "" {
		eol = "\r\n"
	}
	for i, l := range r.Lines {
		sep := "-"
		if r.Sep != "" {
			sep = r.Sep
		}
		if i == len(r.Lines)-1 {
			sep = " "
			if r.Last != "" {
				sep = r.Last
			}
		}
		b.WriteString(strconv.Itoa(r.Code))
		b.WriteString(sep)
		b.WriteString(l)
		b.WriteString(eol)
	}
	return []byte(b.String())
}

// Clone returns a deep copy.
func (r *Reply) Clone() *Reply {
	c := *r
	c.Lines = append([]string(nil), r.Lines...)
	return &c
}

func (r *Reply) String() string { return fmt.Sprintf("%q", r.Bytes()) }

// Enhanced returns the enhanced status code at the start of the first line.
func (r *Reply) Enhanced() string {
	if len(r.Lines) == 0 {
		return ""
	}
	w, _, _ := strings.Cut(r.Lines[0], " ")
	if harness.IsEnhancedCode(w) {
		return w
	}
	return ""
}

// mapEnhanced applies f to the enhanced code of every line that has one
// (f returns the new code, or "" to drop it).
func (r *Reply) mapEnhanced(f func(line int, code string) string) {
	for i, l := range r.Lines {
		w, rest, _ := strings.Cut(l, " ")
		if !harness.IsEnhancedCode(w) {
			continue
		}
		if n := f(i, w); n == "" {
			r.Lines[i] = rest
		} else {
			r.Lines[i] = n + " " + rest
		}
	}
}

// keywordLine returns the index of kw's line in an EHLO reply, or -1.
func (r *Reply) keywordLine(kw string) int {
	for i := 1; i < len(r.Lines); i++ {
		w, _, _ := strings.Cut(r.Lines[i], " ")
		if strings.EqualFold(w, kw) {
			return i
		}
	}
	return -1
}

// dropKeyword removes kw from an EHLO reply.
func (r *Reply) dropKeyword(kw string) {
	if i := r.keywordLine(kw); i >= 0 {
		r.Lines = append(r.Lines[:i], r.Lines[i+1:]...)
	}
}

// addKeyword appends a keyword line to an EHLO reply, or replaces the line
// of the same keyword.
func (r *Reply) addKeyword(line string) {
	w, _, _ := strings.Cut(line, " ")
	if i := r.keywordLine(w); i >= 0 {
		r.Lines[i] = line
		return
	}
	r.Lines = append(r.Lines, line)
}
