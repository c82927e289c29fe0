package fuzz

import (
	"bytes"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/smtpspec/smtpspec/fuzz/feedback"
	"github.com/smtpspec/smtpspec/harness"
)

// dialogue is one connection's worth of lockstep exchange.
type dialogue struct {
	cfg      *remoteConfig
	chunking bool
	conn     net.Conn
	rr       *harness.ReplyReader
	trace    feedback.Trace
	start    harness.Start
	writes   []harness.ScriptWrite // as sent, each with its owed replies, for the case file
	log      strings.Builder
	codes    []int
	verbs    []string // the verb each reply answered ("" for greeting and text)
	failure  *remoteFinding
	lost     bool // the connection was lost where a reply was owed
	ended    bool // the server ended the session (221, 421)
	dialErr  error
}

func (d *dialogue) stopped() bool { return d.failure != nil || d.lost || d.ended }

func (d *dialogue) fail(class string, err error) {
	if d.failure == nil {
		d.failure = &remoteFinding{class: class, err: err, d: d}
	}
}

// send writes data and records it as a step of the case file.
func (d *dialogue) send(data []byte, verb string) {
	fmt.Fprintf(&d.log, "C: %q\n", short(string(data)))
	d.writes = append(d.writes, harness.ScriptWrite{Data: bytes.Clone(data)})
	d.conn.SetWriteDeadline(time.Now().Add(d.cfg.timeout))
	if _, err := d.conn.Write(data); err != nil {
		fmt.Fprintf(&d.log, "   (write failed: %v)\n", err)
	}
}

// read reads the one reply owed for the last write and applies the
// oracles.
func (d *dialogue) read(verb string) (*harness.Reply, bool) {
	if d.writes != nil {
		w := &d.writes[len(d.writes)-1]
		w.Expect = append(w.Expect, harness.ScriptReply{})
	} else {
		d.writes = append(d.writes, harness.ScriptWrite{Expect: []harness.ScriptReply{{}}})
	}
	return d.readReply(verb)
}

// readReply reads one owed reply and applies the oracles.
func (d *dialogue) readReply(verb string) (*harness.Reply, bool) {
	d.conn.SetReadDeadline(time.Now().Add(d.cfg.timeout))
	r, err := d.rr.ReadReply()
	if len(r.Raw) > 0 {
		fmt.Fprintf(&d.log, "S: %q\n", r.Raw)
	}
	var perr *harness.ProtocolError
	switch {
	case err == nil:
	case errors.As(err, &perr):
		d.fail("malformed", fmt.Errorf("malformed reply: %w", err))
		return nil, false
	case errors.Is(err, io.ErrUnexpectedEOF):
		d.fail("malformed", fmt.Errorf("the connection closed inside a reply %q", r.Raw))
		return nil, false
	case errors.Is(err, os.ErrDeadlineExceeded):
		d.fail("hang", fmt.Errorf("no reply within %v where one was owed (after %s)", d.cfg.timeout, lastWrite(d)))
		return nil, false
	case errors.Is(err, io.EOF), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		fmt.Fprintf(&d.log, "   (connection lost: %v)\n", err)
		d.lost = true
		d.fail("count", fmt.Errorf("the connection closed where a reply was owed (after %s): fewer replies than commands", lastWrite(d)))
		return nil, false
	default:
		fmt.Fprintf(&d.log, "   (read failed: %v)\n", err)
		d.lost = true
		d.fail("count", fmt.Errorf("reading the reply owed after %s: %w", lastWrite(d), err))
		return nil, false
	}
	d.codes = append(d.codes, r.Code)
	d.verbs = append(d.verbs, verb)
	d.trace.Reply(verb, r.Code)
	if r.Code == 421 {
		d.ended = true
	}
	if d.rr.Buffered() > 0 {
		// More than the reply owed. Only a 421 may come unasked: the
		// server is closing (RFC 5321 §3.8), e.g. after too many errors.
		extra, err := d.rr.ReadReply()
		if err == nil && extra.Code == 421 {
			fmt.Fprintf(&d.log, "S: %q (unasked: the server is closing)\n", extra.Raw)
			d.codes = append(d.codes, extra.Code)
			d.verbs = append(d.verbs, "")
			d.trace.Reply("", extra.Code)
			d.ended = true
			return r, false
		}
		d.fail("count", fmt.Errorf("more than one reply to %s: the server sent more replies than commands (then %q)", lastWrite(d), extra.Raw))
		return r, false
	}
	return r, true
}

func lastWrite(d *dialogue) string {
	for i := len(d.writes) - 1; i >= 0; i-- {
		if len(d.writes[i].Data) > 0 {
			return strconv.Quote(short(string(d.writes[i].Data)))
		}
	}
	return "the greeting"
}

func (d *dialogue) expectGreeting() {
	if d.start == harness.StartConnect || d.start == harness.StartGreeting {
		d.start = harness.StartConnect
	}
	d.read("")
}

// preset brings the session to the start state with the commands the
// harness's start presets send, so that a finding's case replays them.
func (d *dialogue) preset() {
	p := d.cfg.profile
	cmd := func(line, verb string) *harness.Reply {
		fmt.Fprintf(&d.log, "C: %q\n", line+"\r\n")
		d.conn.SetWriteDeadline(time.Now().Add(d.cfg.timeout))
		d.conn.Write([]byte(line + "\r\n"))
		r, ok := d.readReply(verb)
		if !ok {
			return nil
		}
		return r
	}
	s := d.start
	switch s {
	case harness.StartConnect:
		return
	case harness.StartHelo:
		cmd("HELO "+p.Helo, "HELO")
		return
	}
	if cmd("EHLO "+p.Helo, "EHLO") == nil {
		return
	}
	if (s == harness.StartTLS || s == harness.StartAuth) && !d.cfg.implicitTLS {
		if r := cmd("STARTTLS", "STARTTLS"); r == nil || r.Code != 220 {
			return
		}
		if !d.handshake() || cmd("EHLO "+p.Helo, "EHLO") == nil {
			return
		}
	}
	switch s {
	case harness.StartAuth:
		cmd("AUTH PLAIN "+base64.StdEncoding.EncodeToString([]byte("\x00"+p.AuthUser+"\x00"+p.AuthPass)), "AUTH")
	case harness.StartMail:
		cmd("MAIL FROM:<"+p.MailFrom+">", "MAIL")
	case harness.StartRcpt:
		if cmd("MAIL FROM:<"+p.MailFrom+">", "MAIL") != nil {
			cmd("RCPT TO:<"+p.Rcpt+">", "RCPT")
		}
	}
}

// handshake upgrades the connection after a 220 to STARTTLS.
func (d *dialogue) handshake() bool {
	if n := d.rr.Buffered(); n > 0 {
		d.fail("count", fmt.Errorf("the server sent %d octets after its 220 to STARTTLS, before the handshake", n))
		return false
	}
	tc := tls.Client(d.conn, d.cfg.tls)
	tc.SetDeadline(time.Now().Add(d.cfg.timeout))
	if err := tc.Handshake(); err != nil {
		fmt.Fprintf(&d.log, "   (TLS handshake failed: %v)\n", err)
		d.ended = true // not an SMTP finding; the dialogue cannot go on
		return false
	}
	tc.SetDeadline(time.Time{})
	d.conn, d.rr = tc, harness.NewReplyReader(tc)
	fmt.Fprintf(&d.log, "   (TLS handshake done)\n")
	return true
}

// script sends the fuzz script in lockstep, framing it by the replies.
func (d *dialogue) script(s []byte) {
	for len(s) > 0 && !d.stopped() {
		i := bytes.Index(s, crlf)
		if i < 0 {
			// A last line without CRLF: complete it, so it is owed a reply.
			s = append(bytes.Clone(s), crlf...)
			continue
		}
		line := s[:i+2]
		s = s[i+2:]
		word, arg, _ := strings.Cut(string(line[:i]), " ")
		verb := strings.ToUpper(word)
		if verb == "BDAT" && d.chunking {
			if size, _, _, consumed := parseBDATModel(strings.TrimRight(arg, " \t")); consumed && len(line) <= maxCommandLine {
				n := int(min(size, int64(len(s))))
				chunk := s[:n]
				s = s[n:]
				if int64(n) < size {
					if size-int64(n) > 64<<10 {
						d.ended = true // a chunk we will not finish: no verdict
						return
					}
					chunk = append(bytes.Clone(chunk), bytes.Repeat([]byte("x"), int(size)-n)...)
				}
				d.send(append(bytes.Clone(line), chunk...), verb)
				d.read(verb)
				continue
			}
		}
		d.send(line, verb)
		r, ok := d.read(verb)
		if !ok {
			return
		}
		switch {
		case r.Code == 221 && verb == "QUIT":
			d.ended = true
		case r.Code == 354:
			s = d.data(s)
		case r.Code == 334:
			s = d.sasl(s)
		case r.Code == 220 && verb == "STARTTLS":
			if !d.handshake() {
				return
			}
			d.writes = append(d.writes, harness.ScriptWrite{TLS: true})
		}
	}
}

// data sends message text up to and including its terminator (adding one
// if the script has none) and reads the reply.
func (d *dialogue) data(s []byte) []byte {
	end := dataEnd(s)
	if end < 0 {
		s = append(bytes.Clone(s), "\r\n.\r\n"...)
		end = dataEnd(s)
	}
	d.send(s[:end], "")
	d.read("")
	return s[end:]
}

// dataEnd returns the offset just after the first CRLF "." CRLF of message
// text that starts at a line start, or -1.
func dataEnd(s []byte) int {
	if bytes.HasPrefix(s, []byte(".\r\n")) {
		return 3
	}
	if i := bytes.Index(s, []byte("\r\n.\r\n")); i >= 0 {
		return i + 5
	}
	return -1
}

// sasl answers 334 challenges with the script's lines ("*" if it has none).
func (d *dialogue) sasl(s []byte) []byte {
	for !d.stopped() {
		line := []byte("*\r\n")
		if i := bytes.Index(s, crlf); i >= 0 {
			line, s = s[:i+2], s[i+2:]
		} else {
			s = nil
		}
		d.send(line, "SASL")
		r, ok := d.read("SASL")
		if !ok || r.Code != 334 {
			break
		}
	}
	return s
}

func (d *dialogue) transcript() string { return d.log.String() }
