package fuzz

import (
	"bytes"
	"fmt"
	"testing"
)

// FuzzData checks DATA and BDAT transparency against the reference's
// MemoryStore: the client dot-stuffs arbitrary content itself (RFC 5321
// §4.5.2) or cuts it into BDAT chunks (RFC 3030), and the store must then
// hold exactly that content, or nothing when the server must refuse it
// (bare CR or LF, a line over 1000 octets, over the SIZE limit). A NOOP
// after the message proves that nothing in the content ended the data early
// (SMTP smuggling). The input's first byte is the mode (dataMode*), the rest
// the content in the token language (flush tokens cut BDAT chunks).
func FuzzData(f *testing.F) {
	for _, s := range []string{
		"Subject: x\r\n\r\nhello\r\n", ".\r\n..\r\n.x\r\n", "a\n.\nMAIL FROM:<a@b>\r\n", "no final line end", "",
		"x\r\n.\r", "\r\n.\x00\r\n", string(bytes.Repeat([]byte("y"), 1200)),
	} {
		for _, mode := range []byte{0, dataBDAT, dataCoalesce, dataBDAT | dataBinary, 1 << dataSizeShift} {
			f.Add(append([]byte{mode}, tokenize([]byte(s))...))
		}
	}
	var msgs [][]byte
	for _, msg := range append(corpusFiles(f, "mail", 2), corpusFiles(f, "mime", 2)...) {
		msgs = append(msgs, append([]byte{0}, tokenize(toCRLF(msg))...), append([]byte{dataBDAT}, tokenize(msg)...))
	}
	for _, s := range sampled(msgs, 8) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) == 0 {
			return
		}
		mode := in[0]
		units, content, refuse := dataDialogue(mode, expand(in[1:], false))
		v := variant(byte((mode>>dataSizeShift)&3) << startSizeShift)
		res := runUnits(v, units)
		if res.err == nil {
			var want [][]byte
			if !refuse {
				want = [][]byte{content}
			}
			if len(res.model.stored) != len(want) || len(want) == 1 && !bytes.Equal(res.model.stored[0], want[0]) {
				res.class, res.err = "store", fmt.Errorf("stored %q, want %q (content as the client meant it)", res.model.stored, want)
			}
		}
		if res.err != nil {
			reportSession(t, append([]byte{2}, in[1:]...), res)
		}
	})
}

// FuzzData mode bits.
const (
	dataBDAT        = 0x01 // BDAT chunks instead of DATA
	dataCoalesce    = 0x02 // the whole dialogue in one write
	dataBinary      = 0x04 // MAIL with BODY=BINARYMIME (BDAT only)
	dataSizeShift   = 4    // two bits: the SIZE limit, as in FuzzSession
	dataTransaction = "EHLO client.example\r\nMAIL FROM:<a@example.org>%s\r\nRCPT TO:<user@example.test>\r\n"
)

// dataDialogue builds the writes of one FuzzData execution, the content the
// store must hold, and whether the server must refuse the message.
func dataDialogue(mode byte, parts []unit) (units []unit, content []byte, refuse bool) {
	param := ""
	if mode&dataBinary != 0 && mode&dataBDAT != 0 {
		param = " BODY=BINARYMIME"
	}
	units = []unit{{data: fmt.Appendf(nil, dataTransaction, param)}}
	max := sizeLimits[(mode>>dataSizeShift)&3]
	if mode&dataBDAT != 0 {
		if len(parts) == 0 {
			parts = []unit{{}}
		}
		for i, p := range parts {
			last := ""
			if i == len(parts)-1 {
				last = " LAST"
			}
			units = append(units, unit{data: append(fmt.Appendf(nil, "BDAT %d%s\r\n", len(p.data), last), p.data...)})
			content = append(content, p.data...)
		}
		refuse = int64(len(content)) > max
	} else {
		content = joined(parts)
		if len(content) > 0 && !bytes.HasSuffix(content, crlf) {
			content = append(content, crlf...)
		}
		units = append(units, unit{data: []byte("DATA\r\n")}, unit{data: append(stuff(content), ".\r\n"...)})
		refuse = int64(len(content)) > max || hasBareCRLF(content) || hasLongLine(content)
	}
	units = append(units, unit{data: []byte("NOOP\r\n")})
	if mode&dataCoalesce != 0 {
		units = []unit{{data: joined(units)}}
	}
	return units, content, refuse
}

// stuff doubles a dot that starts a line (RFC 5321 §4.5.2); lines end in CRLF.
func stuff(content []byte) []byte {
	var out []byte
	for i, c := range content {
		if c == '.' && (i == 0 || i >= 2 && content[i-2] == '\r' && content[i-1] == '\n') {
			out = append(out, '.')
		}
		out = append(out, c)
	}
	return out
}

func hasBareCRLF(b []byte) bool {
	for i, c := range b {
		if c == '\r' && (i+1 == len(b) || b[i+1] != '\n') || c == '\n' && (i == 0 || b[i-1] != '\r') {
			return true
		}
	}
	return false
}

func hasLongLine(b []byte) bool {
	for _, line := range bytes.Split(b, crlf) {
		if len(bytes.ReplaceAll(bytes.ReplaceAll(line, []byte("\r"), nil), []byte("\n"), nil)) > maxTextLine-2 {
			return true
		}
	}
	return false
}
