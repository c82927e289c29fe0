package reports

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/smtpspec/smtpspec/harness"
)

// Visible makes control characters and invalid UTF-8 in s visible, keeping
// printable text (including non-ASCII) as it is. Every format passes wire
// data through it (or through strconv.Quote), so that a hostile server can
// neither hide bytes from the reader nor drive the reader's terminal.
func Visible(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r < ' ' || r == 0x7f || (r >= 0x80 && r < 0xa0):
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
		case r == '\u2028' || r == '\u2029' || r == '\ufeff' || r == '\ufffe' || r == '\uffff' ||
			(r >= '\u202a' && r <= '\u202e') || (r >= '\u2066' && r <= '\u2069'):
			// Line separators and bidirectional overrides would let wire
			// data rearrange how the surrounding report reads; U+FFFE and
			// U+FFFF are not XML characters.
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// A TranscriptLine is one rendered line of a transcript.
type TranscriptLine struct {
	Direction harness.Direction
	TLS       bool
	Time      string // "   2.056ms"
	Text      string // the wire line quoted with strconv.Quote, or the event text made visible
}

// String renders the line as the text report shows it:
// "   2.056ms S: "220 …\r\n"".
func (l TranscriptLine) String() string {
	prefix := map[harness.Direction]string{harness.Client: "C:", harness.Server: "S:", harness.Event: "* "}[l.Direction]
	if l.TLS {
		prefix = "[tls] " + prefix
	}
	return l.Time + " " + prefix + " " + l.Text
}

// Transcript renders a transcript one line at a time: each wire line quoted
// so that control octets are visible, events as visible text, and a note
// where octets were left out.
func Transcript(entries []harness.Entry) []TranscriptLine {
	var out []TranscriptLine
	for _, e := range entries {
		stamp := fmt.Sprintf("%8.3fms", float64(e.Time.Microseconds())/1000)
		line := TranscriptLine{Direction: e.Direction, TLS: e.TLS, Time: stamp}
		if e.Direction == harness.Event {
			line.Text = Visible(string(e.Data))
			out = append(out, line)
			continue
		}
		for _, l := range splitLines(e.Data) {
			line.Text = strconv.Quote(string(l))
			out = append(out, line)
		}
		if e.Omitted > 0 {
			line.Text = fmt.Sprintf("… %d more octets not kept", e.Omitted)
			out = append(out, line)
		}
	}
	return out
}

// TranscriptLines calls emit with each line of Transcript(entries), as the
// text report prints it.
func TranscriptLines(entries []harness.Entry, emit func(string)) {
	for _, l := range Transcript(entries) {
		emit(l.String())
	}
}

// splitLines splits data after each LF, keeping the terminators.
func splitLines(data []byte) [][]byte {
	var out [][]byte
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			out = append(out, data)
			break
		}
		out = append(out, data[:i+1])
		data = data[i+1:]
	}
	return out
}

// DiffLines splits a go-cmp diff into lines for display: tabs become two
// spaces (cmp indents with tabs, which render at unpredictable widths) and
// control octets are made visible.
func DiffLines(diff string) []string {
	diff = strings.TrimRight(diff, "\n")
	if diff == "" {
		return nil
	}
	lines := strings.Split(diff, "\n")
	for i, l := range lines {
		lines[i] = Visible(strings.ReplaceAll(l, "\t", "  "))
	}
	return lines
}
