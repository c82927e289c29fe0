package reference

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"
)

// conn is the state of one session. Instances are pooled: newConn and
// freeConn reset them, so a short session allocates almost nothing.
type conn struct {
	srv *Server
	raw net.Conn // the accepted connection; under TLS the tls.Conn wraps it
	r   reader
	dw  deadlineWriter
	w   *bufio.Writer

	helo     string // EHLO/HELO argument; "" until one is accepted
	esmtp    bool
	tlsState *tls.ConnectionState
	authUser string
	sess     Session
	tx       transaction

	start                   time.Time
	cmds, errs, msgs, fails int
	endReason               string
	num                     [24]byte // scratch for formatting reply codes
}

// transaction is the state between MAIL and the end of data (or RSET).
type transaction struct {
	active bool
	from   Path
	opts   MailOptions
	rcpts  []string
	chunks *chunkState // BDAT in progress
}

var connPool = sync.Pool{New: func() any {
	c := &conn{r: reader{buf: make([]byte, readBufferSize)}}
	c.w = bufio.NewWriterSize(&c.dw, 1024)
	c.r.flush = c.flush
	return c
}}

func newConn(s *Server, nc net.Conn) *conn {
	c := connPool.Get().(*conn)
	c.srv, c.raw = s, nc
	c.r.src = nc
	c.dw = deadlineWriter{dst: nc, timeout: s.cfg.CommandTimeout}
	c.w.Reset(&c.dw)
	if s.cfg.Logger != nil {
		c.start = time.Now()
	}
	return c
}

func freeConn(c *conn) {
	rcpts := c.tx.rcpts[:0]
	buf, w, long := c.r.buf, c.w, c.r.long[:0]
	*c = conn{}
	c.r.buf, c.w, c.r.long, c.r.flush = buf, w, long, c.flush
	c.tx.rcpts = rcpts
	w.Reset(nil)
	connPool.Put(c)
}

// flush writes pending replies; the reader calls it before blocking.
func (c *conn) flush() error {
	if c.w.Buffered() == 0 {
		return nil
	}
	return c.w.Flush()
}

// kick wakes the session if it is waiting for a command, for Shutdown.
func (c *conn) kick() {
	if c.r.idle.Load() {
		c.raw.SetReadDeadline(time.Now())
	}
}

// serve runs the session until QUIT, an error or a timeout, then closes the
// connection. A panic is recovered here: the client gets 421 and the
// server goes on.
func (c *conn) serve() {
	defer func() {
		if p := recover(); p != nil {
			c.endReason = "panic"
			if l := c.srv.cfg.Logger; l != nil {
				l.Error("session panic", "remote", c.raw.RemoteAddr().String(), "panic", p, "stack", string(debug.Stack()))
			}
			c.w.Reset(&c.dw)
			c.replyErr(errInternal)
			c.flush()
		}
		c.endSession()
		c.raw.Close()
		c.logSession()
	}()
	if tc, ok := c.raw.(*tls.Conn); ok && !c.implicitTLS(tc) {
		return
	}
	c.reply(CodeReady, "", c.srv.greeting)
	for c.next() {
	}
	c.flush()
}

// next reads and executes one command; it returns false when the session
// is over.
func (c *conn) next() bool {
	if c.srv.shutdown.Load() && c.r.buffered() == 0 {
		c.endReason = "shutdown"
		c.replyErr(errShuttingDown)
		return false
	}
	c.r.deadline = time.Now().Add(c.srv.cfg.CommandTimeout)
	c.r.idle.Store(true)
	line, err := c.r.readLine(MaxAuthLine)
	c.r.idle.Store(false)
	switch {
	case err == errLineOverflow:
		c.replyErr(errLineTooLong)
		line = nil
	case err != nil:
		return c.readFailed(err, errCommandTimeout)
	}
	ok := true
	if line != nil {
		c.cmds++
		if c.srv.cfg.Verbose {
			c.logLine("C", line)
		}
		ok = c.dispatch(line)
	}
	if ok && c.errs >= c.srv.cfg.MaxErrors {
		return c.tooManyErrors()
	}
	return ok
}

// tooManyErrors ends a session that has made MaxErrors errors.
func (c *conn) tooManyErrors() bool {
	c.endReason = "too many errors"
	c.replyErr(errTooManyErrors)
	return false
}

// readFailed ends the session after a read error, answering 421 when the
// reason is a timeout or a shutdown.
func (c *conn) readFailed(err error, timeout *SMTPError) bool {
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded):
		c.endReason = "timeout"
		c.replyErr(timeout)
	case err == errKicked:
		c.endReason = "shutdown"
		c.replyErr(errShuttingDown)
	case err == io.EOF:
		c.endReason = "client closed"
	default:
		c.endReason = "read error"
	}
	return false
}

// dispatch runs one command line.
func (c *conn) dispatch(line []byte) bool {
	cmd, err := ParseCommand(line)
	if err != nil {
		c.replyErr(asReply(err))
		return true
	}
	if len(line)+2 > MaxCommandLine && cmd.Verb != "AUTH" {
		c.replyErr(errLineTooLong)
		return true
	}
	switch cmd.Verb {
	case "EHLO":
		c.handleHELO(cmd.Arg, true)
	case "HELO":
		c.handleHELO(cmd.Arg, false)
	case "MAIL":
		c.handleMAIL(cmd.Arg)
	case "RCPT":
		c.handleRCPT(cmd.Arg)
	case "DATA":
		return c.handleDATA(cmd.Arg)
	case "BDAT":
		return c.handleBDAT(cmd.Arg)
	case "RSET":
		c.handleRSET(cmd.Arg)
	case "NOOP":
		c.reply(CodeOK, "2.0.0", "OK")
	case "QUIT":
		return c.handleQUIT(cmd.Arg)
	case "VRFY":
		c.handleVRFY(cmd.Arg)
	case "HELP":
		c.handleHELP(cmd.Arg)
	case "STARTTLS":
		return c.handleSTARTTLS(cmd.Arg)
	case "AUTH":
		return c.handleAUTH(cmd.Arg)
	default: // EXPN, TURN, SAML, SEND, SOML: known, not implemented
		c.replyErr(errNotImplemented)
	}
	return true
}

// handleHELO answers EHLO (multi-line keyword list) and HELO (one line). An
// accepted one resets the transaction like RSET (RFC 5321 §4.1.4); a refused
// one changes nothing.
func (c *conn) handleHELO(arg string, ehlo bool) {
	name, err := ParseHeloDomain(arg)
	if err != nil {
		c.replyErr(asReply(err))
		return
	}
	c.resetTx()
	if c.helo != name || c.esmtp != ehlo {
		c.endSession() // the next MAIL sees the new name
	}
	c.helo, c.esmtp = name, ehlo
	first := c.srv.cfg.Hostname + " Hello " + name
	if !ehlo {
		c.reply(CodeOK, "", first)
		return
	}
	kw := c.srv.ehlo[0]
	if c.tlsState != nil {
		kw = c.srv.ehlo[1]
	}
	c.replyLine(CodeOK, '-', "", first)
	for i, k := range kw {
		sep := byte('-')
		if i == len(kw)-1 {
			sep = ' '
		}
		c.replyLine(CodeOK, sep, "", k)
	}
}

// handleMAIL starts a transaction.
func (c *conn) handleMAIL(arg string) {
	switch {
	case c.helo == "":
		c.replyErr(errBadSequenceHelo)
		return
	case c.tx.active:
		c.replyErr(errNestedMail)
		return
	}
	from, opts, err := ParseMailFrom(arg)
	if err != nil {
		c.replyErr(asReply(err))
		return
	}
	if e := c.checkMailParams(&opts); e != nil {
		c.replyErr(e)
		return
	}
	if max := c.srv.cfg.MaxMessageSize; max > 0 && opts.Size > max {
		c.replyErr(errorf(CodeExceededStorage, "5.3.4", "Declared size exceeds the fixed maximum of %d octets", max))
		return
	}
	sess, err := c.session()
	if err == nil {
		err = sess.Mail(from, &opts)
	}
	if err != nil {
		c.replyBackendErr(err)
		return
	}
	c.tx.active, c.tx.from, c.tx.opts = true, from, opts
	c.reply(CodeOK, "2.1.0", "Sender OK")
}

// checkMailParams refuses, with 555 (RFC 5321 §4.1.1.11), parameters of
// extensions this session has not been offered: any parameter after HELO,
// and AUTH= where AUTH is not advertised (RFC 4954 §5 ties the parameter to
// the extension).
func (c *conn) checkMailParams(o *MailOptions) *SMTPError {
	switch {
	case !c.esmtp && o.present():
		return errParamsNeedEHLO
	case o.Auth != "" && !c.srv.authOffered(c.tlsState != nil):
		return errAuthParamNotOffered
	}
	return nil
}

// handleRCPT adds a recipient after the relay and mailbox checks.
func (c *conn) handleRCPT(arg string) {
	if !c.tx.active {
		c.replyErr(errNeedMail)
		return
	}
	to, opts, err := ParseRcptTo(arg, c.tx.opts.SMTPUTF8)
	if err != nil {
		c.replyErr(asReply(err))
		return
	}
	if !c.esmtp && (opts.Notify != nil || opts.ORCPT != "") {
		c.replyErr(errParamsNeedEHLO)
		return
	}
	if len(c.tx.rcpts) >= c.srv.cfg.MaxRecipients {
		c.replyErr(errTooManyRcpts)
		return
	}
	if err := c.checkRecipient(to); err != nil {
		c.replyErr(err)
		return
	}
	if err := c.sess.Rcpt(to, &opts); err != nil {
		c.replyBackendErr(err)
		return
	}
	c.tx.rcpts = append(c.tx.rcpts, to.Mailbox())
	c.reply(CodeOK, "2.1.5", "Recipient OK")
}

// checkRecipient applies the relay and mailbox policy. Only the final
// mailbox counts: a source route is ignored (RFC 5321 §4.1.1.3), and "%" or
// "!" in a local part have no routing meaning here, so no address trick
// reaches a foreign domain.
func (c *conn) checkRecipient(to Path) *SMTPError {
	if to.Domain == "" || !c.srv.isLocalDomain(to.Domain, c.raw.LocalAddr()) {
		if to.Domain == "" { // <Postmaster>
			return nil
		}
		if c.authUser != "" {
			return nil
		}
		return errRelayDenied
	}
	if to.IsPostmaster() || len(c.srv.mailboxes) == 0 {
		return nil
	}
	local := strings.ToLower(to.UnquotedLocalPart())
	if base, _, ok := strings.Cut(local, "+"); ok && c.srv.mailboxes[base] {
		return nil
	}
	if !c.srv.mailboxes[local] {
		return errNoSuchUser
	}
	return nil
}

// handleRSET aborts the transaction; it is valid in every state.
func (c *conn) handleRSET(arg string) {
	if arg != "" {
		c.replyErr(errNoArgsAllowed)
		return
	}
	c.resetTx()
	c.reply(CodeOK, "2.0.0", "Reset state")
}

// handleQUIT answers 221 and ends the session; pipelined input after it is
// never executed.
func (c *conn) handleQUIT(arg string) bool {
	if arg != "" {
		c.replyErr(errNoArgsAllowed)
		return true
	}
	c.endReason = "quit"
	c.reply(CodeClosing, "2.0.0", c.srv.cfg.Hostname+" Service closing transmission channel")
	return false
}

// handleVRFY never discloses mailboxes: 252 as RFC 5321 §3.5.3 and §7.3
// prescribe for a server that does not verify.
func (c *conn) handleVRFY(arg string) {
	if arg == "" {
		c.replyErr(errorf(CodeParamSyntax, "5.5.4", "Syntax: VRFY <address>"))
		return
	}
	c.reply(CodeCannotVerify, "2.5.0", "Cannot VRFY user, but will accept message and attempt delivery")
}

// helpText is the HELP reply: one line per command.
var helpText = map[string]string{
	"HELO":     "HELO <domain>",
	"EHLO":     "EHLO <domain>",
	"MAIL":     "MAIL FROM:<address> [SIZE=n BODY=7BIT|8BITMIME|BINARYMIME SMTPUTF8 RET=FULL|HDRS ENVID=x AUTH=x]",
	"RCPT":     "RCPT TO:<address> [NOTIFY=NEVER|SUCCESS,FAILURE,DELAY ORCPT=type;address]",
	"DATA":     "DATA, then the message, ended by <CRLF>.<CRLF>",
	"BDAT":     "BDAT <size> [LAST], then exactly <size> octets",
	"RSET":     "RSET",
	"NOOP":     "NOOP [text]",
	"QUIT":     "QUIT",
	"VRFY":     "VRFY <address> (always 252)",
	"HELP":     "HELP [command]",
	"STARTTLS": "STARTTLS",
	"AUTH":     "AUTH PLAIN|LOGIN [initial-response]",
}

var helpOrder = []string{"HELO", "EHLO", "MAIL", "RCPT", "DATA", "BDAT", "RSET", "NOOP", "QUIT", "VRFY", "HELP", "STARTTLS", "AUTH"}

// handleHELP answers 214 with every line carrying the same codes.
func (c *conn) handleHELP(arg string) {
	if arg != "" {
		text, ok := helpText[strings.ToUpper(arg)]
		if !ok {
			c.replyErr(errorf(CodeParamNotImplemented, "5.5.4", "HELP topic not recognized"))
			return
		}
		c.reply(CodeHelp, "2.0.0", text)
		return
	}
	c.replyLine(CodeHelp, '-', "2.0.0", "smtpspec reference server; commands:")
	c.replyLine(CodeHelp, '-', "2.0.0", strings.Join(helpOrder, " "))
	c.replyLine(CodeHelp, ' ', "2.0.0", "HELP <command> describes one")
}

// session returns the backend session, opening one if needed.
func (c *conn) session() (Session, error) {
	if c.sess != nil {
		return c.sess, nil
	}
	sess, err := c.srv.cfg.Backend.NewSession(ConnInfo{
		Hostname:     c.srv.cfg.Hostname,
		RemoteAddr:   c.raw.RemoteAddr(),
		LocalAddr:    c.raw.LocalAddr(),
		Helo:         c.helo,
		ESMTP:        c.esmtp,
		TLS:          c.tlsState,
		AuthIdentity: c.authUser,
	})
	if err != nil {
		return nil, err
	}
	c.sess = sess
	return sess, nil
}

// resetTx abandons the transaction, if any.
func (c *conn) resetTx() {
	if c.tx.chunks != nil {
		c.tx.chunks.abort()
	}
	if c.tx.active && c.sess != nil {
		c.sess.Reset()
	}
	c.tx = transaction{rcpts: c.tx.rcpts[:0]}
}

// endSession resets the transaction and logs out of the backend session.
func (c *conn) endSession() {
	c.resetTx()
	if c.sess != nil {
		c.sess.Logout()
		c.sess = nil
	}
}

// reply queues a one-line reply. Replies are flushed when the reader runs
// out of input, so pipelined commands get their replies in one write.
func (c *conn) reply(code int, enhanced, msg string) {
	c.replyLine(code, ' ', enhanced, msg)
}

// replyLine queues one line of a reply. The text is cut to keep the line
// within 512 octets (RFC 5321 §4.5.3.1.5) and non-printable octets are
// replaced, since backends may return arbitrary messages.
func (c *conn) replyLine(code int, sep byte, enhanced, msg string) {
	b := strconv.AppendInt(c.num[:0], int64(code), 10)
	b = append(b, sep)
	c.w.Write(b)
	room := MaxCommandLine - 6
	if enhanced != "" {
		c.w.WriteString(enhanced)
		c.w.WriteByte(' ')
		room -= len(enhanced) + 1
	}
	if len(msg) > room {
		msg = msg[:room]
	}
	start := 0
	for i := 0; i < len(msg); i++ {
		if ch := msg[i]; ch < 32 && ch != '\t' || ch > 126 {
			c.w.WriteString(msg[start:i])
			c.w.WriteByte('?')
			start = i + 1
		}
	}
	c.w.WriteString(msg[start:])
	c.w.WriteString("\r\n")
	if c.srv.cfg.Verbose {
		c.logLine("S", []byte(strconv.Itoa(code)+string(sep)+enhanced+" "+msg))
	}
}

// replyErr sends an error reply and counts protocol errors.
func (c *conn) replyErr(e *SMTPError) {
	switch e.Code {
	case CodeSyntaxError, CodeParamSyntax, CodeNotImplemented, CodeBadSequence,
		CodeParamNotImplemented, CodeAuthRequired, CodeAuthFailed, CodeParamsNotRecognized:
		c.errs++
	}
	c.reply(e.Code, e.Enhanced, e.Message)
}

// replyBackendErr answers with a backend's *SMTPError, or 451 for any other
// error (whose text is logged, not sent).
func (c *conn) replyBackendErr(err error) {
	var se *SMTPError
	if errors.As(err, &se) {
		c.replyErr(se)
		return
	}
	if l := c.srv.cfg.Logger; l != nil {
		l.Warn("backend error", "remote", c.raw.RemoteAddr().String(), "err", err)
	}
	c.replyErr(errStoreFailed)
}

// logLine logs one command or reply line in verbose mode, hiding AUTH data.
func (c *conn) logLine(dir string, line []byte) {
	l := c.srv.cfg.Logger
	if l == nil {
		return
	}
	s := string(line)
	if dir == "C" && len(s) >= 4 && strings.EqualFold(s[:4], "AUTH") {
		s = "AUTH ***"
	}
	l.Info("smtp", "remote", c.raw.RemoteAddr().String(), "dir", dir, "line", s)
}

// logSession writes the one line per session.
func (c *conn) logSession() {
	l := c.srv.cfg.Logger
	if l == nil {
		return
	}
	if c.endReason == "" {
		c.endReason = "closed"
	}
	l.LogAttrs(context.Background(), slog.LevelInfo, "session",
		slog.String("remote", c.raw.RemoteAddr().String()),
		slog.String("helo", c.helo),
		slog.Bool("tls", c.tlsState != nil),
		slog.String("auth", c.authUser),
		slog.Int("commands", c.cmds),
		slog.Int("messages", c.msgs),
		slog.Int("errors", c.errs),
		slog.Duration("duration", time.Since(c.start)),
		slog.String("end", c.endReason))
}
