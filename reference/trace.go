package reference

import (
	"net"
	"strings"
	"time"
)

// ReturnPath returns the Return-Path header field that final delivery adds
// (RFC 5321 §4.4), with CRLF.
func ReturnPath(from Path) string {
	return "Return-Path: " + from.String() + "\r\n"
}

// Received returns the Received trace field (RFC 5321 §4.4) the server
// prepends at delivery, with CRLF. The FOR clause is given only for a single
// recipient, since it may name one path only. The protocol follows RFC 3848
// and, with SMTPUTF8, RFC 6531 §3.7.3.
func (ci ConnInfo) Received(id string, rcpts []string, smtputf8 bool, now time.Time) string {
	var b strings.Builder
	b.WriteString("Received: from ")
	b.WriteString(ci.Helo)
	if ci.RemoteAddr != nil {
		host := ci.RemoteAddr.String()
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		b.WriteString(" ([")
		b.WriteString(host)
		b.WriteString("])")
	}
	b.WriteString("\r\n\tby ")
	b.WriteString(ci.Hostname)
	b.WriteString(" (smtpspec reference) with ")
	b.WriteString(ci.protocol(smtputf8))
	b.WriteString(" id ")
	b.WriteString(id)
	if len(rcpts) == 1 {
		b.WriteString("\r\n\tfor <")
		b.WriteString(rcpts[0])
		b.WriteString(">")
	}
	b.WriteString(";\r\n\t")
	b.WriteString(now.Format("Mon, 02 Jan 2006 15:04:05 -0700"))
	b.WriteString("\r\n")
	return b.String()
}

// protocol returns the "with" keyword: SMTP, ESMTP, ESMTPS, ESMTPA,
// ESMTPSA, or their UTF8SMTP counterparts.
func (ci ConnInfo) protocol(smtputf8 bool) string {
	p := "ESMTP"
	switch {
	case smtputf8:
		p = "UTF8SMTP"
	case !ci.ESMTP:
		return "SMTP"
	}
	if ci.TLS != nil {
		p += "S"
	}
	if ci.AuthIdentity != "" {
		p += "A"
	}
	return p
}
