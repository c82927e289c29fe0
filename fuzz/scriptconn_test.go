package fuzz

import (
	"bytes"
	"io"
	"net"
	"time"
)

// scriptConn is the server's side of a session without STARTTLS: it hands
// the reference the whole client script, then end of stream, and keeps
// what the server writes. ServeConn then runs to the end in the calling
// goroutine, with no pipe, no second goroutine and no timer, which is most
// of what a session used to cost. The dialogue is the same as over a
// connection: the client pipelines every unit anyway, and the server's
// replies do not depend on when its input arrives.
type scriptConn struct {
	in  []byte
	out bytes.Buffer
	// eofAt is how much the server had written when it first read past
	// the end of the script (-1 before that): a server that goes on
	// reading after a reply that should close the session did not close.
	eofAt int
}

func (c *scriptConn) reset(script []byte) {
	c.in, c.eofAt = script, -1
	c.out.Reset()
}

func (c *scriptConn) Read(p []byte) (int, error) {
	if len(c.in) == 0 {
		if c.eofAt < 0 {
			c.eofAt = c.out.Len()
		}
		return 0, io.EOF
	}
	n := copy(p, c.in)
	c.in = c.in[n:]
	return n, nil
}

func (c *scriptConn) Write(p []byte) (int, error) { return c.out.Write(p) }

func (c *scriptConn) Close() error                     { return nil }
func (c *scriptConn) LocalAddr() net.Addr              { return scriptAddr }
func (c *scriptConn) RemoteAddr() net.Addr             { return scriptAddr }
func (c *scriptConn) SetDeadline(time.Time) error      { return nil }
func (c *scriptConn) SetReadDeadline(time.Time) error  { return nil }
func (c *scriptConn) SetWriteDeadline(time.Time) error { return nil }

var scriptAddr = &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)}
