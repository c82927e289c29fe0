package harness

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Limits the reply parser enforces. RFC 5321 §4.5.3.1.5 caps a reply line
// at 512 octets including the code and CRLF; the other two are ours, so that
// a hostile server cannot make the harness buffer without bound.
const (
	MaxReplyLine  = 512
	MaxReplyLines = 512
	MaxReplyBytes = 64 << 10
)

// A Reply is one complete SMTP reply, possibly multi-line, as the server
// sent it.
type Reply struct {
	Code  int
	Lines []string // the text of each line: no code, separator or CRLF
	Raw   []byte   // every octet of the reply as received

	bare bool // the last line is a code with no separator ("250\r\n")
}

// Text returns the text of all lines joined by newlines.
func (r *Reply) Text() string { return strings.Join(r.Lines, "\n") }

// Enhanced returns the RFC 3463 enhanced status code that starts the first
// line ("5.5.1"), or "" when there is none.
func (r *Reply) Enhanced() string {
	if len(r.Lines) == 0 {
		return ""
	}
	word, _, _ := strings.Cut(r.Lines[0], " ")
	if !IsEnhancedCode(word) {
		return ""
	}
	return word
}

// Keywords returns the EHLO keywords of an EHLO reply (every line but the
// first, upper-cased keyword first, parameters as sent).
func (r *Reply) Keywords() []string {
	if len(r.Lines) < 2 {
		return nil
	}
	kws := make([]string, 0, len(r.Lines)-1)
	for _, l := range r.Lines[1:] {
		kw, params, ok := strings.Cut(l, " ")
		kw = strings.ToUpper(kw)
		if ok {
			kw += " " + params
		}
		kws = append(kws, kw)
	}
	return kws
}

// Bytes renders the reply from its parsed fields. For a reply that the
// parser accepted, it equals Raw.
func (r *Reply) Bytes() []byte {
	var b bytes.Buffer
	for i, l := range r.Lines {
		sep := byte(' ')
		if i < len(r.Lines)-1 {
			sep = '-'
		}
		fmt.Fprintf(&b, "%03d", r.Code)
		if sep == '-' || !r.bare {
			b.WriteByte(sep)
		}
		b.WriteString(l)
		b.WriteString("\r\n")
	}
	return b.Bytes()
}

// String returns the reply as it appeared on the wire, quoted.
func (r *Reply) String() string { return strconv.Quote(string(r.Raw)) }

// A ProtocolError reports a server reply that breaks the SMTP reply grammar.
type ProtocolError struct {
	Problem string
	Raw     []byte // the offending octets (possibly truncated)
}

func (e *ProtocolError) Error() string {
	return fmt.Sprintf("protocol error: %s: %q", e.Problem, e.Raw)
}

// IsEnhancedCode reports whether s is an RFC 3463 status code: class 2, 4
// or 5, then subject and detail of 1 to 3 digits without leading zeros.
func IsEnhancedCode(s string) bool {
	parts := strings.Split(s, ".")
	if len(parts) != 3 || len(parts[0]) != 1 || !strings.ContainsAny(parts[0], "245") {
		return false
	}
	for _, p := range parts[1:] {
		if len(p) == 0 || len(p) > 3 || (len(p) > 1 && p[0] == '0') {
			return false
		}
		for _, c := range []byte(p) {
			if c < '0' || c > '9' {
				return false
			}
		}
	}
	return true
}

// ReplyReader reads replies strictly from a stream. Lines must end in CRLF;
// a bare LF or CR, an over-long line, a malformed code or a code that
// changes inside a multi-line reply is a *ProtocolError.
type ReplyReader struct {
	br *bufio.Reader
}

// NewReplyReader returns a ReplyReader reading from r.
func NewReplyReader(r io.Reader) *ReplyReader {
	// One octet of slack beyond the limit lets readLine tell "exactly 512"
	// from "longer" without ever holding more than this.
	return &ReplyReader{br: bufio.NewReaderSize(r, MaxReplyLine+16)}
}

// Buffered returns the number of octets read from the stream but not yet
// consumed by a reply.
func (rr *ReplyReader) Buffered() int { return rr.br.Buffered() }

// ReadReply reads one complete reply. At a clean end of stream before any
// octet of a reply, it returns io.EOF; a stream that ends inside a reply
// gives io.ErrUnexpectedEOF, with the partial reply.
func (rr *ReplyReader) ReadReply() (*Reply, error) {
	r := &Reply{}
	for {
		line, err := rr.readLine()
		r.Raw = append(r.Raw, line...)
		if err != nil {
			if errors.Is(err, io.EOF) && len(r.Raw) > 0 {
				err = io.ErrUnexpectedEOF
			}
			return r, err
		}
		code, sep, text, perr := parseReplyLine(line)
		if perr != nil {
			return r, &ProtocolError{Problem: perr.Error(), Raw: line}
		}
		if len(r.Lines) > 0 && code != r.Code {
			return r, &ProtocolError{Problem: fmt.Sprintf("code %d inside multi-line reply %d", code, r.Code), Raw: r.Raw}
		}
		r.Code = code
		r.Lines = append(r.Lines, text)
		if sep != '-' {
			r.bare = sep == 0
			return r, nil
		}
		if len(r.Lines) >= MaxReplyLines || len(r.Raw) >= MaxReplyBytes {
			return r, &ProtocolError{Problem: fmt.Sprintf("reply longer than %d lines or %d octets", MaxReplyLines, MaxReplyBytes), Raw: line}
		}
	}
}

// readLine returns one line including its CRLF. It never buffers more than
// MaxReplyLine octets of a line.
func (rr *ReplyReader) readLine() ([]byte, error) {
	line, err := rr.br.ReadSlice('\n')
	switch {
	case errors.Is(err, bufio.ErrBufferFull) || len(line) > MaxReplyLine:
		bad := append([]byte(nil), line[:min(len(line), MaxReplyLine+1)]...)
		return bad, &ProtocolError{Problem: fmt.Sprintf("reply line longer than %d octets", MaxReplyLine), Raw: bad}
	case err != nil:
		return append([]byte(nil), line...), err
	}
	out := append([]byte(nil), line...)
	if len(out) < 2 || out[len(out)-2] != '\r' {
		return out, &ProtocolError{Problem: "line ends in a bare LF", Raw: out}
	}
	return out, nil
}

// parseReplyLine splits a CRLF-terminated line into code, separator (' ',
// '-', or 0 when the code stands alone) and text.
func parseReplyLine(line []byte) (code int, sep byte, text string, err error) {
	body := line[:len(line)-2]
	if i := bytes.IndexAny(body, "\r\n"); i >= 0 {
		return 0, 0, "", fmt.Errorf("bare CR or LF inside a line at offset %d", i)
	}
	if len(body) < 3 {
		return 0, 0, "", errors.New("line shorter than a reply code")
	}
	c := body[:3]
	if c[0] < '2' || c[0] > '5' || c[1] < '0' || c[1] > '5' || c[2] < '0' || c[2] > '9' {
		return 0, 0, "", fmt.Errorf("invalid reply code %q", c)
	}
	code = int(c[0]-'0')*100 + int(c[1]-'0')*10 + int(c[2]-'0')
	if len(body) == 3 {
		return code, 0, "", nil
	}
	sep = body[3]
	if sep != ' ' && sep != '-' {
		return 0, 0, "", fmt.Errorf("code followed by %q, not SP or '-'", sep)
	}
	for i, b := range body[4:] {
		if b < ' ' && b != '\t' || b == 0x7f {
			return 0, 0, "", fmt.Errorf("control octet %#02x in reply text at offset %d", b, i+4)
		}
	}
	return code, sep, string(body[4:]), nil
}
