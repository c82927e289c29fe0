package reference

import (
	"bytes"
	"crypto/subtle"
	"encoding/base64"
	"strings"
	"time"
)

// SASL prompts of the LOGIN mechanism: base64 of "Username:" and "Password:".
const (
	loginUserPrompt = "VXNlcm5hbWU6"
	loginPassPrompt = "UGFzc3dvcmQ6"
)

// handleAUTH runs an AUTH PLAIN or LOGIN exchange (RFC 4954). It returns
// false when the connection failed during the exchange.
func (c *conn) handleAUTH(arg string) bool {
	switch {
	case c.helo == "":
		c.replyErr(errBadSequenceHelo)
		return true
	case !c.esmtp:
		c.replyErr(errNeedEHLO)
		return true
	case c.authUser != "":
		c.replyErr(errAuthTwice)
		return true
	case c.tx.active:
		c.replyErr(errAuthInTx)
		return true
	case c.tlsState == nil && !c.srv.cfg.AllowInsecureAuth:
		c.replyErr(errAuthNeedsTLS)
		return true
	}
	mech, ir, hasIR := strings.Cut(arg, " ")
	var user, pass string
	switch strings.ToUpper(mech) {
	case "":
		c.replyErr(errorf(CodeParamSyntax, "5.5.4", "Syntax: AUTH mechanism [initial-response]"))
		return true
	case "PLAIN":
		resp, ok, alive := c.saslResponse(ir, hasIR, "")
		if !ok {
			return alive
		}
		user, pass = parsePlain(resp)
	case "LOGIN":
		u, ok, alive := c.saslResponse(ir, hasIR, loginUserPrompt)
		if !ok {
			return alive
		}
		p, ok, alive := c.saslResponse("", false, loginPassPrompt)
		if !ok {
			return alive
		}
		user, pass = string(u), string(p)
	default:
		c.replyErr(errAuthMechanism)
		return true
	}
	if !c.checkPassword(user, pass) {
		c.replyErr(errAuthFailed)
		return true
	}
	c.endSession() // the next MAIL opens a session that knows the identity
	c.authUser = user
	c.reply(CodeAuthSucceeded, "2.7.0", "Authentication succeeded")
	return true
}

// saslResponse returns the decoded initial response when the client sent
// one ("=" is an empty one), or sends the 334 challenge and reads the
// answer. On failure it has replied already: ok is false and alive tells
// whether the session goes on.
func (c *conn) saslResponse(ir string, hasIR bool, challenge string) (resp []byte, ok, alive bool) {
	line := []byte(ir)
	if !hasIR {
		// "334 " plus base64 only: an empty challenge is exactly "334 ".
		c.reply(CodeAuthChallenge, "", challenge)
		c.r.deadline = time.Now().Add(c.srv.cfg.CommandTimeout)
		l, err := c.r.readLine(MaxAuthLine)
		switch {
		case err == errLineOverflow:
			c.replyErr(errAuthLineTooLong)
			return nil, false, true
		case err != nil:
			return nil, false, c.readFailed(err, errCommandTimeout)
		}
		line = l
	} else if ir == "=" {
		return []byte{}, true, true
	}
	if len(line) == 1 && line[0] == '*' {
		c.replyErr(errAuthCancelled)
		return nil, false, true
	}
	dec := make([]byte, base64.StdEncoding.DecodedLen(len(line)))
	n, err := base64.StdEncoding.Strict().Decode(dec, line)
	if err != nil || bytes.ContainsAny(line, "\r\n") {
		c.replyErr(errAuthBadBase64)
		return nil, false, true
	}
	return dec[:n], true, true
}

// parsePlain splits a PLAIN response (RFC 4616): authzid NUL authcid NUL
// passwd. An authorization identity other than the user's own is refused by
// returning no user.
func parsePlain(resp []byte) (user, pass string) {
	parts := bytes.Split(resp, []byte{0})
	if len(parts) != 3 || len(parts[0]) > 0 && !bytes.Equal(parts[0], parts[1]) {
		return "", ""
	}
	return string(parts[1]), string(parts[2])
}

// checkPassword compares in constant time with the configured password.
func (c *conn) checkPassword(user, pass string) bool {
	want, ok := c.srv.cfg.Users[user]
	if !ok || user == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(want), []byte(pass)) == 1
}
