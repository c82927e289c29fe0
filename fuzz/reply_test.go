package fuzz

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/smtpspec/smtpspec/harness"
)

// FuzzReplyParser feeds a stream of server octets to the harness's strict
// reply parser. Invariants: no panic; every accepted reply renders back to
// exactly its octets (Reply.Bytes) and is what an independent reading of
// the RFC 5321 §4.2 grammar accepts; what the parser refuses, that reading
// refuses too, with a *ProtocolError, or it is a reply cut short by the end
// of the stream (io.ErrUnexpectedEOF); nothing is refused silently.
func FuzzReplyParser(f *testing.F) {
	for _, s := range []string{
		"220 mx.example ESMTP\r\n", "250-a\r\n250-b\r\n250 c\r\n", "250\r\n", "250-\r\n250 \r\n",
		"250 ok\n", "250-a\r\n251 b\r\n", "2500 x\r\n", "250 a\rb\r\n", "250 \x00\r\n",
		"354 go\r\n250 2.0.0 queued\r\n221 bye\r\n", "220 \xc3\xa9t\xc3\xa9\r\n", "250-" + string(bytes.Repeat([]byte("x"), 508)) + "\r\n",
	} {
		f.Add([]byte(s))
	}
	var streams [][]byte
	for _, c := range corpusFiles(f, "smtp", 1) {
		streams = append(streams, c, toCRLF(c))
	}
	for _, s := range sampled(streams, 1) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		if err := checkReplies(in); err != nil {
			path := writeFinding(t, "FuzzReplyParser", "parser", in, in, nil, harness.ScriptCase{})
			t.Fatalf("%v\noctets written to %s", err, path)
		}
	})
}

// checkReplies reads in with the harness's parser and compares every
// outcome with grammarReply.
func checkReplies(in []byte) error {
	rr := harness.NewReplyReader(bytes.NewReader(in))
	off := 0
	for {
		r, err := rr.ReadReply()
		n, verdict := grammarReply(in[off:])
		if err == nil {
			switch {
			case verdict != replyValid || n != len(r.Raw):
				return fmt.Errorf("ReadReply accepted %q; the grammar says %s after %d octets", r.Raw, verdict, n)
			case !bytes.Equal(r.Raw, in[off:off+n]):
				return fmt.Errorf("Raw = %q, want the octets read %q", r.Raw, in[off:off+n])
			case !bytes.Equal(r.Bytes(), r.Raw):
				return fmt.Errorf("Bytes() = %q, want Raw %q", r.Bytes(), r.Raw)
			}
			off += n
			continue
		}
		var perr *harness.ProtocolError
		switch {
		case errors.Is(err, io.EOF):
			if off != len(in) {
				return fmt.Errorf("io.EOF with %d octets unread: %q", len(in)-off, in[off:])
			}
		case errors.Is(err, io.ErrUnexpectedEOF):
			if verdict != replyIncomplete {
				return fmt.Errorf("io.ErrUnexpectedEOF for %q; the grammar says %s", in[off:], verdict)
			}
		case errors.As(err, &perr):
			if verdict != replyInvalid {
				return fmt.Errorf("ReadReply refused %q (%v); the grammar says %s", in[off:], err, verdict)
			}
		default:
			return fmt.Errorf("ReadReply: unexpected error %v", err)
		}
		return nil
	}
}

type replyVerdict int

const (
	replyValid replyVerdict = iota
	replyIncomplete
	replyInvalid
)

func (v replyVerdict) String() string {
	return [...]string{"valid", "incomplete", "invalid"}[v]
}

// grammarReply reads one reply from the start of b by the RFC 5321 §4.2
// grammar, with the harness's limits (512 octets a line with CRLF, as
// §4.5.3.1.5; 512 lines and 64 KiB a reply) and one tolerance: octets from
// 0x80 up in the text (RFC 6531 servers send UTF-8). It returns the
// reply's length when valid.
//
//	Reply-line = *( Reply-code "-" [ textstring ] CRLF )
//	             Reply-code [ SP textstring ] CRLF
//	Reply-code = %x32-35 %x30-35 %x30-39
func grammarReply(b []byte) (int, replyVerdict) {
	off, lines, code := 0, 0, ""
	for {
		rest := b[off:]
		if len(rest) == 0 {
			if lines == 0 {
				return 0, replyValid // nothing at all: a clean end
			}
			return off, replyIncomplete
		}
		nl := bytes.IndexByte(rest, '\n')
		if nl < 0 {
			if len(rest) > harness.MaxReplyLine {
				return off, replyInvalid
			}
			return off, replyIncomplete
		}
		line := rest[:nl+1]
		if len(line) > harness.MaxReplyLine || len(line) < 2 || line[len(line)-2] != '\r' {
			return off, replyInvalid
		}
		body := line[:len(line)-2]
		if len(body) < 3 || body[0] < '2' || body[0] > '5' || body[1] < '0' || body[1] > '5' || body[2] < '0' || body[2] > '9' {
			return off, replyInvalid
		}
		if lines > 0 && string(body[:3]) != code {
			return off, replyInvalid
		}
		code = string(body[:3])
		for _, c := range body[3:] {
			if c == '\r' || c == '\n' || c < ' ' && c != '\t' || c == 0x7f {
				return off, replyInvalid
			}
		}
		off += len(line)
		lines++
		if len(body) == 3 || body[3] == ' ' {
			return off, replyValid
		}
		if body[3] != '-' {
			return off, replyInvalid
		}
		if lines >= harness.MaxReplyLines || off >= harness.MaxReplyBytes {
			return off, replyInvalid
		}
	}
}
