package reference

import (
	"io"
)

// States of the DATA scanner. Only CRLF "." CRLF ends the data (RFC 5321
// §4.1.1.4); the states track how much of a line start has been seen.
const (
	stBOL    = iota // at the start of a line (after CRLF, or right after 354)
	stDot           // a "." at the start of a line, held back
	stDotCR         // "." CR at the start of a line, held back
	stText          // inside a line
	stCR            // after a CR inside a line
	stDone          // the terminator has been read
	stFailed        // the connection failed; nothing more can be read
)

// dataReader streams the un-stuffed content of a DATA command from the
// session's reader to the backend. Policy ("reject after the real end of
// data"): a bare CR or LF, a line over 1000 octets or more octets than
// MaxMessageSize make Read fail at once with the reply to send; the
// connection then drains the rest with the same scanner, so nothing the
// client sends before the real terminator is ever taken as a command.
type dataReader struct {
	r       *reader
	state   int
	lineLen int   // octets of the current line, stuffed dot excluded
	size    int64 // octets delivered so far
	max     int64 // 0 means no limit
	reject  *SMTPError
	ioErr   error
}

// Read implements io.Reader for Session.Data.
func (d *dataReader) Read(p []byte) (int, error) {
	for {
		if d.ioErr != nil {
			return 0, d.ioErr
		}
		if d.reject != nil {
			return 0, d.reject
		}
		if d.state == stDone {
			return 0, io.EOF
		}
		if len(p) == 0 {
			return 0, nil
		}
		if d.r.buffered() == 0 {
			if err := d.r.fill(); err != nil {
				d.fail(err)
				continue
			}
		}
		n := d.scan(p)
		if n > 0 {
			return n, nil
		}
	}
}

// drain consumes input up to the terminator, discarding it. It returns an
// I/O error if the connection fails first.
func (d *dataReader) drain() error {
	for d.state != stDone && d.ioErr == nil {
		if d.r.buffered() == 0 {
			if err := d.r.fill(); err != nil {
				d.fail(err)
				break
			}
		}
		d.scan(nil)
	}
	return d.ioErr
}

func (d *dataReader) fail(err error) {
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	d.ioErr = err
	d.state = stFailed
}

// scan runs the state machine over the buffered input, writing content to
// out (nil: discard) and returns the number of octets written. It stops at
// the terminator, when out is full, or when the buffer is empty.
func (d *dataReader) scan(out []byte) int {
	in := d.r.buf[d.r.r:d.r.w]
	discard := out == nil || d.reject != nil
	i, o := 0, 0
	for i < len(in) && d.state != stDone {
		if !discard && o == len(out) {
			break
		}
		c := in[i]
		switch d.state {
		case stText, stBOL:
			if d.state == stBOL && c == '.' {
				d.state = stDot
				i++
				continue
			}
			// Copy the run of ordinary octets in one go.
			j := i
			for j < len(in) && in[j] != '\r' && in[j] != '\n' {
				j++
			}
			if !discard && j-i > len(out)-o {
				j = i + len(out) - o
			}
			if j > i {
				d.lineLen += j - i
				if !discard {
					o += copy(out[o:], in[i:j])
				}
				i = j
				d.state = stText
				continue
			}
			i++
			if c == '\r' {
				d.state = stCR
				o = d.emit(out, o, discard, c)
			} else { // bare LF: never a line end
				d.bad(errBareCRLF)
				discard = true
				d.state = stText
			}
		case stDot:
			i++
			switch c {
			case '\r':
				d.state = stDotCR
			case '\n':
				d.bad(errBareCRLF)
				discard = true
				d.state = stText
			default: // the leading dot of a longer line is deleted (§4.5.2)
				d.state = stText
				o = d.emit(out, o, discard, c)
			}
		case stDotCR, stCR:
			if c == '\n' {
				i++
				if d.state == stDotCR {
					d.state = stDone
					break
				}
				o = d.emit(out, o, discard, c)
				d.state = stBOL
				if d.lineLen > MaxTextLine-2 {
					d.bad(errDataLineTooLong)
				}
				d.lineLen = 0
				continue
			}
			// A CR not followed by LF: reprocess c as line content.
			d.bad(errBareCRLF)
			discard = true
			d.state = stText
		}
		discard = discard || d.reject != nil
	}
	d.r.r += i
	if d.lineLen > MaxTextLine-2 {
		d.bad(errDataLineTooLong)
	}
	d.size += int64(o)
	if d.max > 0 && d.size > d.max {
		d.bad(errTooBig)
	}
	return o
}

// emit counts one octet and writes it unless discarding.
func (d *dataReader) emit(out []byte, o int, discard bool, c byte) int {
	if c != '\r' && c != '\n' {
		d.lineLen++
	}
	if discard {
		return o
	}
	out[o] = c
	return o + 1
}

// bad records the first reason to refuse the message.
func (d *dataReader) bad(e *SMTPError) {
	if d.reject == nil {
		d.reject = e
	}
}

// handleDATA checks the sequence, answers 354 and streams the content to
// the backend. It returns false when the connection failed meanwhile.
func (c *conn) handleDATA(arg string) bool {
	switch {
	case arg != "":
		c.replyErr(errNoArgsAllowed)
		return true
	case !c.tx.active:
		c.replyErr(errNeedMail)
		return true
	case len(c.tx.rcpts) == 0:
		c.replyErr(errNeedRcpt)
		return true
	case c.tx.opts.Body == "BINARYMIME":
		c.replyErr(errBinaryNeedsBDAT)
		return true
	case c.tx.chunks != nil:
		c.replyErr(errDataAfterBDAT)
		return true
	}
	c.reply(CodeStartMailInput, "", "End data with <CR><LF>.<CR><LF>")
	d := dataReader{r: &c.r, max: c.srv.cfg.MaxMessageSize}
	c.r.perRead = c.srv.cfg.DataTimeout
	err := c.sess.Data(&d)
	if d.ioErr == nil {
		d.drain()
	}
	c.r.perRead = 0
	if d.ioErr != nil {
		// The client is gone or silent: the backend got the error and
		// stored nothing.
		c.resetTx()
		return c.readFailed(d.ioErr, errDataTimeout)
	}
	c.finishMessage(d.reject, err)
	return true
}

// finishMessage sends the single reply for the end of a message: the
// server's own refusal first, then the backend's verdict.
func (c *conn) finishMessage(reject *SMTPError, err error) {
	switch {
	case reject != nil:
		c.fails++
		c.replyErr(reject)
	case err != nil:
		c.fails++
		c.replyBackendErr(err)
	default:
		c.msgs++
		c.reply(CodeOK, "2.0.0", "Message accepted for delivery")
	}
	c.resetTx()
}
