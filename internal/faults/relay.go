package faults

// The parts of a session that are not command lines: message text after
// 354, BDAT chunks, and the STARTTLS handshakes.

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"time"

	"github.com/smtpspec/smtpspec/harness"
	"github.com/smtpspec/smtpspec/reference"
)

// DataState is the message text being relayed.
type DataState struct {
	Lines int   // text lines relayed so far
	Size  int64 // octets relayed so far, line ends included
	// End, set by a DataLine hook, makes the current line end the message
	// (it is not relayed).
	End bool
	// Early, set by a DataLine hook, is sent at once; the proxy ends the
	// message upstream (and keeps that reply to itself) and reads what
	// follows as commands.
	Early *Reply
	// Flag is free for faults.
	Flag bool
}

// RelayData relays message text after a 354, up to the end of data, and
// passes on the reply. With upstream false the text is swallowed and no
// reply is read (the caller answers).
func (s *Session) RelayData(upstream bool) {
	d := &DataState{}
	s.data = d
	defer func() { s.data = nil }()
	before := s.st
	for {
		line, err := s.readLine()
		if err != nil {
			if upstream && s.f.EndOnDisconnect {
				s.sw.WriteString(".\r\n")
				s.readReply()
			}
			return
		}
		if len(line) == 1 && line[0] == '.' {
			break
		}
		out := [][]byte{line}
		if s.f.DataLine != nil {
			out = s.f.DataLine(s, d, line)
		}
		if d.Early != nil {
			if upstream {
				s.sw.WriteString("\r\n.\r\n")
				s.readReply()
				s.resetTx()
			}
			s.Send(d.Early)
			return
		}
		if d.End {
			break
		}
		for _, l := range out {
			if upstream {
				s.sw.Write(l)
				s.sw.WriteString("\r\n")
			}
			d.Lines++
			d.Size += int64(len(l)) + 2
		}
	}
	if !upstream {
		return
	}
	if s.f.BeforeDot != nil {
		for _, l := range s.f.BeforeDot(s, d) {
			s.sw.Write(l)
			s.sw.WriteString("\r\n")
		}
	}
	s.sw.WriteString(".\r\n")
	r := s.readReply()
	c := &Command{Kind: "data-end", Verb: "DATA", Before: before}
	s.resetTx()
	s.Send(s.rewrite(c, r)...)
}

// relayBDAT relays a BDAT command with its chunk. The reference consumes a
// chunk whenever its size parses, so the proxy reads it then too.
func (s *Session) relayBDAT(c *Command) {
	size, last := parseBDATSize(c)
	if size < 0 {
		r := s.Forward(c.Line)
		s.Send(s.rewrite(c, r)...)
		return
	}
	chunk, err := s.readN(size)
	if err != nil {
		return
	}
	line := c.Line
	if s.f.Chunk != nil {
		chunk = s.f.Chunk(s, c, chunk)
		if int64(len(chunk)) != size {
			line = fmt.Appendf(nil, "BDAT %d", len(chunk))
			if last {
				line = append(line, " LAST"...)
			}
		}
	}
	s.sw.Write(line)
	s.sw.WriteString("\r\n")
	s.sw.Write(chunk)
	r := s.readReply()
	switch {
	case r.Code == 250 && last:
		s.resetTx()
	case r.Code == 250:
		s.st.Chunks = true
	case r.Code == 552:
		s.resetTx()
	}
	s.Send(s.rewrite(c, r)...)
}

// startTLS finishes a STARTTLS the reference accepted: the proxy answers
// the client, then shakes hands with the reference and the client.
func (s *Session) startTLS(c *Command, r *Reply) {
	leftover := s.in
	s.in = nil
	// The 220 and anything a fault adds go out in one write, so that the
	// client finds the extra octets buffered behind the 220.
	var out []byte
	for _, r := range s.rewrite(c, r) {
		out = append(out, r.Bytes()...)
	}
	s.SendRaw(append(out, s.f.After220...))
	up := tls.Client(s.server, &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS12})
	up.SetDeadline(time.Now().Add(ioTimeout))
	if err := up.Handshake(); err != nil {
		s.done = true
		return
	}
	up.SetDeadline(time.Time{})
	down := tls.Server(s.client, s.p.tls)
	down.SetDeadline(time.Now().Add(ioTimeout))
	if err := down.Handshake(); err != nil {
		s.done = true
		return
	}
	down.SetDeadline(time.Time{})
	s.p.track(up, true)
	s.p.track(down, true)
	s.server, s.client = up, down
	s.sr = harness.NewReplyReader(up)
	s.sw = bufio.NewWriterSize(up, 64<<10)
	s.st = State{TLS: true}
	s.ehlo = nil
	if s.f.KeepPlaintext {
		s.in = leftover
	}
	if s.f.AfterTLS != nil {
		s.f.AfterTLS(s, c.Before)
	}
}

// parseBDATSize returns the chunk size of a BDAT line (-1 when the
// reference consumes nothing: an over-long line or a size that does not
// parse) and whether LAST follows it.
func parseBDATSize(c *Command) (int64, bool) {
	if len(c.Line)+2 > reference.MaxCommandLine {
		return -1, false
	}
	size, last, _ := reference.ParseBDAT(c.Arg)
	return size, last
}
