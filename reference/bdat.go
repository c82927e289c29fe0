package reference

import (
	"errors"
	"io"
)

// errChunksAborted tells a backend's Data that the BDAT transaction ended
// without a LAST chunk (RSET, EHLO, STARTTLS, a failure, a lost client).
var errChunksAborted = errors.New("reference: BDAT transaction aborted")

// errDataReturned unblocks chunk writes once the backend's Data returned.
var errDataReturned = errors.New("reference: backend stopped reading")

// chunkReader is what Session.Data reads during BDAT: the chunks' octets,
// raw (no dot-stuffing, RFC 3030 §2), streamed through a pipe so that no
// chunk is ever buffered whole.
type chunkReader struct{ *io.PipeReader }

// chunkState is a BDAT transaction in progress: the backend's Data runs on
// its own goroutine and reads what handleBDAT writes to the pipe.
type chunkState struct {
	pw   *io.PipeWriter
	done chan error
	err  error // the backend's result once received
	size int64
}

// startChunks starts the backend's Data for a BDAT transaction.
func (c *conn) startChunks() *chunkState {
	pr, pw := io.Pipe()
	ch := &chunkState{pw: pw, done: make(chan error, 1)}
	sess := c.sess
	go func() {
		err := sess.Data(chunkReader{pr})
		pr.CloseWithError(errDataReturned)
		ch.done <- err
	}()
	c.tx.chunks = ch
	return ch
}

// wait closes the pipe with cause (nil: end of message) and returns the
// backend's result.
func (ch *chunkState) wait(cause error) error {
	if ch.done != nil {
		ch.pw.CloseWithError(cause)
		ch.err = <-ch.done
		ch.done = nil
	}
	return ch.err
}

// abort ends an unfinished BDAT transaction; the backend sees an error.
func (ch *chunkState) abort() { ch.wait(errChunksAborted) }

// handleBDAT reads one chunk. Every chunk whose size parses is consumed in
// full before the reply, whatever the reply (RFC 3030 §2), so chunk octets
// are never taken as commands. It returns false when the connection failed.
func (c *conn) handleBDAT(arg string) bool {
	size, last, perr := ParseBDAT(arg)
	if size < 0 {
		// No usable size: nothing can be consumed.
		c.replyErr(asReply(perr))
		return true
	}
	c.r.perRead = c.srv.cfg.DataTimeout
	defer func() { c.r.perRead = 0 }()
	var refusal *SMTPError
	switch {
	case perr != nil:
		refusal = asReply(perr)
	case !c.esmtp:
		refusal = errNeedEHLO
	case !c.tx.active:
		refusal = errNeedMail
	case len(c.tx.rcpts) == 0:
		refusal = errNeedRcpt
	case c.srv.cfg.MaxMessageSize > 0 && c.chunkedSize()+size > c.srv.cfg.MaxMessageSize:
		// The transaction fails; later pipelined chunks get 503.
		if err := c.r.skip(size); err != nil {
			c.resetTx()
			return c.readFailed(err, errDataTimeout)
		}
		c.finishMessage(errTooBig, nil)
		return true
	}
	if refusal != nil {
		if err := c.r.skip(size); err != nil {
			return c.readFailed(err, errDataTimeout)
		}
		c.replyErr(refusal)
		return true
	}
	ch := c.tx.chunks
	if ch == nil {
		ch = c.startChunks()
	}
	stopped, err := c.copyChunk(ch.pw, size)
	if err != nil {
		c.resetTx()
		return c.readFailed(err, errDataTimeout)
	}
	ch.size += size
	switch {
	case stopped:
		// The backend returned before the last chunk: that is its verdict.
		berr := ch.wait(nil)
		if berr == nil {
			berr = errStoreFailed
		}
		c.tx.chunks = nil
		c.finishMessage(nil, berr)
	case last:
		berr := ch.wait(nil)
		c.tx.chunks = nil
		c.finishMessage(nil, berr)
	default:
		c.reply(CodeOK, "2.0.0", "Chunk received")
	}
	return true
}

// chunkedSize is the number of octets received by BDAT so far.
func (c *conn) chunkedSize() int64 {
	if c.tx.chunks == nil {
		return 0
	}
	return c.tx.chunks.size
}

// copyChunk moves n octets from the input to w. When w fails (the backend
// stopped reading) the rest is consumed and stopped is set; err is an input
// error.
func (c *conn) copyChunk(w io.Writer, n int64) (stopped bool, err error) {
	for n > 0 {
		if c.r.buffered() == 0 {
			if err := c.r.fill(); err != nil {
				return stopped, err
			}
		}
		k := min(int64(c.r.buffered()), n)
		if !stopped {
			if _, werr := w.Write(c.r.buf[c.r.r : c.r.r+int(k)]); werr != nil {
				stopped = true
			}
		}
		c.r.r += int(k)
		n -= k
	}
	return stopped, nil
}
