// Package gosmtp is a small SMTP server built on github.com/emersion/go-smtp,
// the way many Go projects build theirs, together with a conformance test
// that runs smtpspec against it (server_test.go). It shows how a server's
// own test suite calls smtptest.Run, and how to record the cases it is
// known to fail.
package gosmtp

import (
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-smtp"
)

// Message is one accepted message.
type Message struct {
	From string
	To   []string
	Data []byte
}

// Backend stores messages in memory and accepts mail for one domain (and
// postmaster).
type Backend struct {
	Domain string

	mu       sync.Mutex
	messages []Message
}

// Messages returns the accepted messages.
func (b *Backend) Messages() []Message {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]Message(nil), b.messages...)
}

// NewSession implements smtp.Backend.
func (b *Backend) NewSession(*smtp.Conn) (smtp.Session, error) {
	return &session{b: b}, nil
}

type session struct {
	b   *Backend
	msg Message
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	s.msg = Message{From: from}
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	local, domain, _ := strings.Cut(to, "@")
	if strings.EqualFold(local, "postmaster") && (domain == "" || strings.EqualFold(domain, s.b.Domain)) {
		s.msg.To = append(s.msg.To, to)
		return nil
	}
	if !strings.EqualFold(domain, s.b.Domain) {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "Relaying denied"}
	}
	s.msg.To = append(s.msg.To, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.msg.Data = data
	s.b.mu.Lock()
	s.b.messages = append(s.b.messages, s.msg)
	s.b.mu.Unlock()
	return nil
}

func (s *session) Reset()        { s.msg = Message{} }
func (s *session) Logout() error { return nil }

// Serve runs a go-smtp server for backend on l until l is closed.
func Serve(l net.Listener, backend *Backend) error {
	srv := smtp.NewServer(backend)
	srv.Domain = "gosmtp.example.test"
	srv.ReadTimeout = 30 * time.Second
	srv.WriteTimeout = 30 * time.Second
	srv.MaxMessageBytes = 10 << 20
	srv.MaxRecipients = 100
	srv.EnableSMTPUTF8 = true
	srv.EnableBINARYMIME = true
	srv.EnableDSN = true
	err := srv.Serve(l)
	if errors.Is(err, smtp.ErrServerClosed) || errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}

// Start serves backend on a new listener on 127.0.0.1 and returns its
// address and a function that stops the server and waits for it.
func Start(backend *Backend) (addr string, stop func(), err error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		Serve(l, backend)
	}()
	return l.Addr().String(), func() {
		l.Close()
		<-done
	}, nil
}
