package reference

import (
	"bytes"
	"errors"
	"net"
	"os"
	"sync/atomic"
	"time"
)

// readBufferSize is the fixed input buffer of a session. Command lines are at
// most 512 octets, so 4 KiB holds a pipelined batch; longer AUTH lines spill
// into a scratch slice allocated only when needed.
const readBufferSize = 4096

var (
	// errLineOverflow reports a line longer than the caller's limit; the
	// whole line up to its CRLF has been consumed.
	errLineOverflow = errors.New("line too long")
	// errKicked reports that Shutdown interrupted a session waiting for a
	// command.
	errKicked = errors.New("server shutting down")
)

// reader is a strict line and chunk reader over a connection. Only CRLF ends
// a line: a bare CR or LF is ordinary line content (RFC 5321 §2.3.8). Unlike
// bufio/textproto it never grows without bound and it flushes pending
// replies before it blocks for input, which is the RFC 2920 §3.2 rule.
type reader struct {
	src  net.Conn
	buf  []byte
	r, w int
	long []byte // assembles lines longer than buf, up to the caller's limit

	// deadline is the absolute read deadline while waiting for a command;
	// when perRead is set each read instead gets now+perRead (data phase).
	deadline time.Time
	perRead  time.Duration
	applied  time.Time // the deadline last set on src
	idle     atomic.Bool

	flush func() error
}

// buffered returns the number of unread bytes.
func (r *reader) buffered() int { return r.w - r.r }

// discard drops all buffered input (STARTTLS, CVE-2011-0411).
func (r *reader) discard() { r.r, r.w = 0, 0 }

// fill reads more input into the free part of buf, flushing pending replies
// first. It reports a timeout as an os.ErrDeadlineExceeded error and a
// Shutdown interruption of an idle session as errKicked.
func (r *reader) fill() error {
	if r.flush != nil {
		if err := r.flush(); err != nil {
			return err
		}
	}
	if r.r > 0 {
		n := copy(r.buf, r.buf[r.r:r.w])
		r.r, r.w = 0, n
	}
	for {
		deadline := r.deadline
		if r.perRead > 0 {
			deadline = time.Now().Add(r.perRead)
		}
		if !deadline.Equal(r.applied) {
			if err := r.src.SetReadDeadline(deadline); err != nil {
				return err
			}
			r.applied = deadline
		}
		n, err := r.src.Read(r.buf[r.w:])
		r.w += n
		if n > 0 {
			return nil
		}
		if err == nil {
			continue
		}
		if errors.Is(err, os.ErrDeadlineExceeded) && time.Now().Before(deadline) {
			// Shutdown moved the deadline to wake idle sessions; a busy
			// session just restores its own and reads on.
			if r.idle.Load() {
				return errKicked
			}
			r.applied = time.Time{}
			continue
		}
		return err
	}
}

// readLine returns the next line without its CRLF. The slice is valid until
// the next read. A line longer than max octets (CRLF included) is consumed
// up to its CRLF and reported as errLineOverflow, so the session stays in
// step with the client.
func (r *reader) readLine(max int) ([]byte, error) {
	r.long = r.long[:0]
	scan := r.r
	spilled := false  // bytes of this line were moved to long or dropped
	overflow := false // the line exceeded max; its bytes are being dropped
	lastCR := false   // last spilled byte was CR (a CRLF may span two reads)
	for {
		if k := bytes.IndexByte(r.buf[scan:r.w], '\n'); k >= 0 {
			j := scan + k
			crlf := j > r.r && r.buf[j-1] == '\r' || j == r.r && spilled && lastCR
			if !crlf {
				scan = j + 1
				continue
			}
			seg := r.buf[r.r : j+1]
			r.r = j + 1
			if overflow || len(r.long)+len(seg) > max {
				return nil, errLineOverflow
			}
			if len(r.long) == 0 {
				return seg[:len(seg)-2], nil
			}
			r.long = append(r.long, seg...)
			return r.long[:len(r.long)-2], nil
		}
		if r.w-r.r == len(r.buf) {
			// The buffer is full without a line end: spill it.
			seg := r.buf[r.r:r.w]
			lastCR = seg[len(seg)-1] == '\r'
			spilled = true
			if !overflow && len(r.long)+len(seg) <= max {
				r.long = append(r.long, seg...)
			} else {
				overflow = true
				r.long = r.long[:0]
			}
			r.r, r.w = 0, 0
		}
		scan = r.w - r.r // relative to the compacted buffer after fill
		if err := r.fill(); err != nil {
			return nil, err
		}
		scan += r.r
	}
}

// skip consumes n octets of input (a rejected BDAT chunk).
func (r *reader) skip(n int64) error {
	for n > 0 {
		if r.buffered() == 0 {
			if err := r.fill(); err != nil {
				return err
			}
		}
		k := int64(r.buffered())
		if k > n {
			k = n
		}
		r.r += int(k)
		n -= k
	}
	return nil
}

// deadlineWriter gives every write to the connection a deadline.
type deadlineWriter struct {
	dst     net.Conn
	timeout time.Duration
}

func (w *deadlineWriter) Write(p []byte) (int, error) {
	if err := w.dst.SetWriteDeadline(time.Now().Add(w.timeout)); err != nil {
		return 0, err
	}
	return w.dst.Write(p)
}
