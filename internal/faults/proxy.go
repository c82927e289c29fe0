package faults

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/smtpspec/smtpspec/harness"
	"github.com/smtpspec/smtpspec/inprocess"
	"github.com/smtpspec/smtpspec/reference"
)

// ioTimeout bounds every read and write of the proxy, so that a session the
// harness abandoned cannot hang around.
const ioTimeout = 20 * time.Second

// A Proxy relays SMTP sessions to an upstream server, misbehaving as its
// Fault says. Clients connect with Dial, each getting one end of a socket
// pair, so the proxy takes no port.
type Proxy struct {
	fault    *Fault
	upstream func(ctx context.Context) (net.Conn, error)
	tls      *tls.Config // offered to clients after STARTTLS

	mu    sync.Mutex
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

// New returns a proxy in front of the server that upstream connects to.
// serverTLS is the configuration presented to clients that send STARTTLS;
// f may be nil (Identity).
func New(upstream func(ctx context.Context) (net.Conn, error), serverTLS *tls.Config, f *Fault) *Proxy {
	if f == nil {
		f = Identity
	}
	return &Proxy{fault: f, upstream: upstream, tls: serverTLS, conns: map[net.Conn]struct{}{}}
}

// Dial connects a client to the proxy.
func (p *Proxy) Dial(ctx context.Context) (net.Conn, error) {
	client, server, err := inprocess.SocketPair()
	if err != nil {
		return nil, fmt.Errorf("proxy: %w", err)
	}
	p.wg.Go(func() { p.serve(server) })
	return client, nil
}

// Close ends every session and waits for them.
func (p *Proxy) Close() {
	p.mu.Lock()
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}

func (p *Proxy) track(c net.Conn, add bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if add {
		p.conns[c] = struct{}{}
	} else {
		delete(p.conns, c)
	}
}

func (p *Proxy) serve(cc net.Conn) {
	p.track(cc, true)
	defer p.track(cc, false)
	defer cc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), ioTimeout)
	sc, err := p.upstream(ctx)
	cancel()
	if err != nil {
		return
	}
	p.track(sc, true)
	defer p.track(sc, false)
	defer sc.Close()
	s := &Session{p: p, f: p.fault, client: cc, server: sc, memo: map[string]any{}}
	s.sr = harness.NewReplyReader(sc)
	s.sw = bufio.NewWriterSize(sc, 64<<10)
	s.run()
	if s.client != cc { // the TLS layers STARTTLS added
		s.client.Close()
		s.server.Close()
		p.track(s.client, false)
		p.track(s.server, false)
	}
}

// State is what the proxy knows about a session, from the commands it
// relayed and the reference's replies to them.
type State struct {
	Greeted bool     // an EHLO or HELO was accepted
	ESMTP   bool     // ... and it was EHLO
	TLS     bool     // STARTTLS succeeded
	Authed  bool     // AUTH succeeded
	Mail    string   // the MAIL line of the open transaction; "" if none
	Rcpts   []string // the accepted RCPT lines of the open transaction
	Chunks  bool     // BDAT chunks were accepted in this transaction
	Quit    bool     // QUIT was answered
}

// A Command is one line the client sent, as a fault sees it.
type Command struct {
	Line []byte
	Verb string // the first word, upper case ("" for a SASL response)
	Arg  string // the rest after one space, trailing white space kept
	// Kind is "command", "sasl" (a response inside AUTH), "data-end" (the
	// reply to the end of message text; Line is empty), "greeting".
	Kind   string
	Before State // the state before the command
}

func parseCommand(line []byte, kind string, st State) *Command {
	c := &Command{Line: line, Kind: kind, Before: st}
	c.Before.Rcpts = append([]string(nil), st.Rcpts...)
	if kind == "command" {
		// The reference's own parser, so that the proxy sees each command
		// exactly as the server behind it will.
		pc, _ := reference.ParseCommand(line)
		c.Verb, c.Arg = strings.ToUpper(pc.Verb), pc.Arg
	}
	return c
}

// A Session is one client connection and its upstream connection.
type Session struct {
	p      *Proxy
	f      *Fault
	client net.Conn
	server net.Conn
	sr     *harness.ReplyReader
	sw     *bufio.Writer
	in     []byte // client octets not yet consumed
	st     State
	sasl   bool // the last reply was 334: the next line is a SASL response
	done   bool
	ehlo   *Reply         // the reference's last EHLO reply
	memo   map[string]any // scratch space for faults
	data   *DataState     // the message being relayed, if any
}

var errClientGone = errors.New("client closed")

func (s *Session) run() {
	g, err := s.sr.ReadReply()
	if err != nil {
		return
	}
	greet := fromHarness(g)
	c := &Command{Kind: "greeting"}
	if s.f.Greeting != nil {
		if !s.f.Greeting(s, greet) {
			return
		}
	} else {
		s.Send(s.rewrite(c, greet)...)
	}
	for !s.done {
		line, err := s.readLine()
		if err != nil {
			return
		}
		s.handle(line)
	}
}

// handle runs one client line through the fault and the default relay.
func (s *Session) handle(line []byte) {
	kind := "command"
	if s.sasl {
		kind = "sasl"
	}
	c := parseCommand(line, kind, s.st)
	if s.f.Command != nil && s.f.Command(s, c) {
		return
	}
	s.Relay(c)
}

// Relay is the default handling of a command: forward it, track the state,
// and pass the (rewritten) reply on. Faults that handle a command
// themselves may still call it.
func (s *Session) Relay(c *Command) {
	switch {
	case c.Kind == "sasl":
		r := s.Forward(c.Line)
		s.sasl = r.Code == 334
		if r.Code == 235 {
			s.st.Authed = true
		}
		s.Send(s.rewrite(c, r)...)
		return
	case c.Verb == "BDAT":
		s.relayBDAT(c)
		return
	}
	r := s.Forward(c.Line)
	s.track(c, r)
	switch c.Verb {
	case "DATA":
		if r.Code == 354 {
			s.Send(s.rewrite(c, r)...)
			s.RelayData(true)
			return
		}
	case "STARTTLS":
		if r.Code == 220 {
			s.startTLS(c, r)
			return
		}
	case "QUIT":
		if r.Code == 221 {
			s.Send(s.rewrite(c, r)...)
			s.done = true
			return
		}
	case "AUTH":
		s.sasl = r.Code == 334
	}
	s.Send(s.rewrite(c, r)...)
}

// rewrite applies the fault's reply hook.
func (s *Session) rewrite(c *Command, r *Reply) []*Reply {
	if s.f.Reply == nil || r == nil {
		return []*Reply{r}
	}
	return s.f.Reply(s, c, r)
}

// track updates the state after the reference answered c with r.
func (s *Session) track(c *Command, r *Reply) {
	ok := r.Code/100 == 2
	switch c.Verb {
	case "EHLO", "HELO":
		if ok {
			s.st.Greeted, s.st.ESMTP = true, c.Verb == "EHLO"
			s.resetTx()
			if c.Verb == "EHLO" {
				s.ehlo = r.Clone()
			}
		}
	case "MAIL":
		if ok {
			s.resetTx()
			s.st.Mail = string(c.Line)
		}
	case "RCPT":
		if ok {
			s.st.Rcpts = append(s.st.Rcpts, string(c.Line))
		}
	case "RSET":
		if ok {
			s.resetTx()
		}
	case "AUTH":
		if r.Code == 235 {
			s.st.Authed = true
		}
	case "QUIT":
		s.st.Quit = r.Code == 221
	}
}

func (s *Session) resetTx() {
	s.st.Mail, s.st.Rcpts, s.st.Chunks = "", nil, false
}

// Forward sends one line to the reference and returns its reply. A
// transport failure ends the session and yields a 421.
func (s *Session) Forward(line []byte) *Reply {
	s.sw.Write(line)
	s.sw.WriteString("\r\n")
	return s.readReply()
}

// Hidden sends a line to the reference and keeps its reply from the client.
func (s *Session) Hidden(line string) *Reply {
	r := s.Forward([]byte(line))
	s.track(parseCommand([]byte(line), "command", s.st), r)
	return r
}

func (s *Session) readReply() *Reply {
	s.server.SetWriteDeadline(time.Now().Add(ioTimeout))
	if err := s.sw.Flush(); err != nil {
		s.done = true
		return R(421, "4.3.0 upstream write failed")
	}
	s.server.SetReadDeadline(time.Now().Add(ioTimeout))
	h, err := s.sr.ReadReply()
	if err != nil {
		s.done = true
		return R(421, "4.3.0 upstream closed")
	}
	return fromHarness(h)
}

// Send writes replies to the client.
func (s *Session) Send(rs ...*Reply) {
	var b bytes.Buffer
	for _, r := range rs {
		if r != nil {
			b.Write(r.Bytes())
		}
	}
	s.SendRaw(b.Bytes())
}

// SendRaw writes octets to the client.
func (s *Session) SendRaw(p []byte) {
	if len(p) == 0 {
		return
	}
	s.client.SetWriteDeadline(time.Now().Add(ioTimeout))
	if _, err := s.client.Write(p); err != nil {
		s.done = true
	}
}

// Close ends the session after what was sent.
func (s *Session) Close() { s.done = true }

// Buffered reports how many client octets wait unread.
func (s *Session) Buffered() int { return len(s.in) }

// Discard drops the client octets read but not yet handled.
func (s *Session) Discard() { s.in = nil }

// EHLOReply returns the reference's last EHLO reply (for faults that answer
// EHLO themselves), or a minimal one.
func (s *Session) EHLOReply() *Reply {
	if s.ehlo != nil {
		return s.ehlo.Clone()
	}
	return R(250, "mx.example.test")
}

// fill reads more client octets, waiting at most d.
func (s *Session) fill(d time.Duration) error {
	var buf [32 << 10]byte
	s.client.SetReadDeadline(time.Now().Add(d))
	n, err := s.client.Read(buf[:])
	if n > 0 {
		data := buf[:n]
		if s.f.Framing.StripNUL {
			data = bytes.ReplaceAll(data, []byte{0}, nil)
		}
		s.in = append(s.in, data...)
		return nil
	}
	if err == nil {
		err = io.ErrNoProgress
	}
	return err
}

// readLine returns the next line by the fault's framing rules.
func (s *Session) readLine() ([]byte, error) {
	from := 0 // octets already scanned without finding a line end
	for {
		line, n, more := scanLine(s.in, from, &s.f.Framing)
		if n > 0 {
			out := append([]byte(nil), line...)
			s.in = s.in[n:]
			return out, nil
		}
		from = max(0, len(s.in)-1)
		d := ioTimeout
		if more {
			// A CR at the end of the input: wait briefly for its LF.
			d = 100 * time.Millisecond
		}
		err := s.fill(d)
		if more && errors.Is(err, os.ErrDeadlineExceeded) {
			line := append([]byte(nil), s.in[:len(s.in)-1]...)
			s.in = s.in[len(s.in):]
			return line, nil
		}
		if err != nil {
			s.done = true
			return nil, errClientGone
		}
	}
}

// readN returns the next n client octets, as they are.
func (s *Session) readN(n int64) ([]byte, error) {
	for int64(len(s.in)) < n {
		if err := s.fill(ioTimeout); err != nil {
			s.done = true
			return nil, errClientGone
		}
	}
	out := append([]byte(nil), s.in[:n]...)
	s.in = s.in[n:]
	return out, nil
}

// Framing says which octets end a line the client sent. The zero value is
// RFC 5321: only CRLF.
type Framing struct {
	BareLF     bool // a LF without CR ends a line
	BareCR     bool // a CR without LF ends a line
	CollapseCR bool // CR CR ... LF ends a line
	NULEnds    bool // a NUL ends a line
	StripNUL   bool // NUL octets are dropped as they arrive
	MaxLine    int  // a line is cut after this many octets (0: no limit)
}

// scanLine finds the first line in buf, whose first from octets are known
// to hold no line end (the last octet is always looked at again). It returns the line, the octets it
// took (0: no complete line yet) and whether a trailing CR is waiting for a
// possible LF under a framing where a bare CR ends lines.
func scanLine(buf []byte, from int, f *Framing) (line []byte, n int, pendingCR bool) {
	for i := from; i < len(buf); i++ {
		switch c := buf[i]; {
		case c == '\r':
			j := i + 1
			if f.CollapseCR {
				for j < len(buf) && buf[j] == '\r' {
					j++
				}
			}
			if j < len(buf) && buf[j] == '\n' && (j == i+1 || f.CollapseCR) {
				return buf[:i], j + 1, false
			}
			if j == len(buf) {
				if f.BareCR || f.CollapseCR {
					return nil, 0, f.BareCR
				}
				return nil, 0, false
			}
			if f.BareCR {
				return buf[:i], i + 1, false
			}
		case c == '\n' && f.BareLF:
			return buf[:i], i + 1, false
		case c == 0 && f.NULEnds:
			return buf[:i], i + 1, false
		}
		if f.MaxLine > 0 && i+1 >= f.MaxLine && !(i+1 < len(buf) && buf[i+1] == '\r') {
			return buf[:i+1], i + 1, false
		}
	}
	return nil, 0, false
}
