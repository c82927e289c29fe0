package reference

import (
	"crypto/tls"
	"io"
	"net"
)

// ConnInfo describes the client side of a session when the server asks the
// Backend for a Session. A new Session is opened at the first MAIL after
// anything that changes this information (EHLO/HELO, STARTTLS, AUTH).
type ConnInfo struct {
	// Hostname is the server's own name, as in its greeting.
	Hostname string
	// RemoteAddr and LocalAddr are the connection's addresses.
	RemoteAddr, LocalAddr net.Addr
	// Helo is the EHLO or HELO argument; ESMTP tells which verb was used.
	Helo  string
	ESMTP bool
	// TLS is the TLS state after STARTTLS, nil on a plaintext session.
	TLS *tls.ConnectionState
	// AuthIdentity is the authenticated user, "" when not authenticated.
	AuthIdentity string
}

// Backend delivers the messages the server accepts, in the manner of
// go-smtp's Backend/Session split.
type Backend interface {
	// NewSession is called at the first MAIL command of a session. An
	// *SMTPError return becomes the reply to that MAIL; any other error is
	// answered with 451.
	NewSession(ConnInfo) (Session, error)
}

// Session receives the transactions of one client session. The server has
// already checked syntax, sequence, relaying and the mailbox list; a method
// returns an *SMTPError to choose the reply itself, any other error makes
// the server answer 451 4.3.0. Methods are called from the session's
// goroutine only, except Data during BDAT, which runs on its own goroutine
// while the session reads chunks.
type Session interface {
	// Mail starts a transaction.
	Mail(from Path, opts *MailOptions) error
	// Rcpt adds a recipient.
	Rcpt(to Path, opts *RcptOptions) error
	// Data receives the message content: the un-stuffed octets of DATA, or
	// the concatenated BDAT chunks. r fails with an *SMTPError when the
	// server refuses the message (bare CR/LF, size), and with an I/O error
	// when the client goes away; Data must then store nothing. Data must
	// read r to io.EOF before it stores and returns nil: the server sends
	// 250 only after Data returns nil.
	Data(r io.Reader) error
	// Reset ends the current transaction (RSET, EHLO, after end of data).
	Reset()
	// Logout ends the session.
	Logout() error
}
