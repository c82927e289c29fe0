package fuzz

import (
	"bytes"
	"encoding/base64"
	"strings"
	"sync"

	"github.com/smtpspec/smtpspec/harness"
)

// Go's fuzzer has no dictionaries, so the dialogue targets emulate one: an
// input byte below 0x80 is itself, 0xFF escapes the next byte (so any octet
// can be sent), and 0x80–0xFE pick a token from the table below. One mutated
// byte thus swaps a verb, a parameter, a terminator or a long run, and the
// seeds (tokenize) are short. The same table is written out as a libFuzzer
// dictionary for OSS-Fuzz (oss-fuzz/smtp.dict, kept in sync by TestDictFile).

const (
	tokFirst  = 0x80
	tokEscape = 0xFF
	// maxScript caps an expanded script, so that runs of long tokens cannot
	// make one execution slow.
	maxScript = 64 << 10
)

// Credentials of the in-process reference, used by the AUTH tokens.
const (
	authUser = "fuzz"
	authPass = "fuzz-secret"
)

var (
	authPlainOK  = base64.StdEncoding.EncodeToString([]byte("\x00" + authUser + "\x00" + authPass))
	authPlainBad = base64.StdEncoding.EncodeToString([]byte("\x00" + authUser + "\x00wrong"))
)

// Special tokens: they control the client instead of adding octets.
const (
	specialFlush    = "\x00<flush>"    // end the current write
	specialStartTLS = "\x00<starttls>" // STARTTLS CRLF as its own write, then a handshake on 220
)

// tokens is the dictionary. Order matters: inputs refer to tokens by index,
// so new tokens go at the end (the table has room for 127).
var tokens = []string{
	// 0x80: control
	specialFlush, specialStartTLS,
	// verbs
	"EHLO ", "HELO ", "MAIL FROM:", "RCPT TO:", "DATA", "BDAT ", "RSET", "NOOP",
	"QUIT", "VRFY ", "EXPN ", "HELP", "STARTTLS", "AUTH ", "TURN", "mail from:",
	"rcpt to:", "ehlo ",
	// whole commands
	"EHLO client.example\r\n", "HELO client.example\r\n", "MAIL FROM:<a@example.org>\r\n",
	"MAIL FROM:<>\r\n", "RCPT TO:<user@example.test>\r\n", "RCPT TO:<postmaster>\r\n",
	"RCPT TO:<x@relay.invalid>\r\n", "DATA\r\n", "RSET\r\n", "NOOP\r\n", "QUIT\r\n",
	"BDAT 0 LAST\r\n", "STARTTLS\r\n", "AUTH PLAIN " + authPlainOK + "\r\n",
	"AUTH PLAIN " + authPlainBad + "\r\n", "AUTH LOGIN\r\n", "AUTH PLAIN\r\n",
	base64.StdEncoding.EncodeToString([]byte(authUser)) + "\r\n",
	base64.StdEncoding.EncodeToString([]byte(authPass)) + "\r\n", "*\r\n", "HELP DATA\r\n",
	"VRFY postmaster\r\n",
	// paths
	"<user@example.test>", "<postmaster>", "<Postmaster>", "<>", "<a@example.org>",
	"<@a.example,@b.example:user@example.test>", "<\"quoted local\"@example.test>",
	"<user@[127.0.0.1]>", "<user@[IPv6:::1]>", "<\xc3\xbcser@ex\xc3\xa4mple.test>",
	"user@example.test", "<user@relay.invalid>", "<user+tag@example.test>",
	"<user%relay.invalid@example.test>", "<USER@EXAMPLE.TEST>", "example.test",
	// parameters
	" SIZE=", " SIZE=1000", " SIZE=99999999999999999999", " BODY=8BITMIME",
	" BODY=BINARYMIME", " BODY=7BIT", " SMTPUTF8", " RET=FULL", " RET=HDRS",
	" ENVID=abc+2Bd", " AUTH=<>", " NOTIFY=SUCCESS,FAILURE", " NOTIFY=NEVER",
	" ORCPT=rfc822;user+40example.test", " X-UNKNOWN=1", "=", " LAST",
	// line ends, terminators, smuggling shapes
	"\r\n", "\r\n.\r\n", "\n.\n", "\r.\r", "\n.\r\n", "\r\n.\n", ".\r\n", "\r\n..\r\n",
	".", "\r", "\n", "\x00", " ", "\t", "\r\n\r\n", ".\r\r\n", "\r\n.\x00\r\n",
	// message text
	"Subject: fuzz\r\n\r\n", "From: <a@example.org>\r\n", "body line\r\n",
	// long runs: around the 512-octet command line, the 1000-octet text
	// line and the reference's 4096-octet read buffer
	strings.Repeat("A", 64), strings.Repeat("A", 500), strings.Repeat("x", 998),
	strings.Repeat("x", 4094), strings.Repeat(".", 1000), strings.Repeat(" ", 600),
	strings.Repeat("NOOP\r\n", 20),
	// numbers
	"0", "1", "5", "10", "512", "1000", "4096", "99999999999999999999",
	"18446744073709551616", "-1",
	// BDAT with its chunk
	"BDAT 5\r\nhello", "BDAT 3 LAST\r\nabc", "BDAT 4 LAST\r\n\r\n.\r\n",
	// octets from 0x80 up
	"\xc3\xa9", "\xff", "\xc3", "\xe2\x80\xa8", "\x7f",
}

// A unit is one write of an expanded script.
type unit struct {
	data     []byte
	startTLS bool // STARTTLS CRLF on its own: the client waits for the reply and handshakes on 220
}

// expand turns fuzz input into writes. With coalesce, flush tokens are
// ignored and everything between handshakes goes in one write.
func expand(in []byte, coalesce bool) []unit {
	var (
		units []unit
		cur   []byte
		total int
	)
	cut := func() {
		if len(cur) > 0 {
			units = append(units, unit{data: cur})
			cur = nil
		}
	}
	add := func(s string) bool {
		if total+len(s) > maxScript {
			return false
		}
		total += len(s)
		cur = append(cur, s...)
		return true
	}
	for i := 0; i < len(in); i++ {
		b := in[i]
		switch {
		case b < tokFirst:
			if !add(string([]byte{b})) {
				return finish(units, cur)
			}
		case b == tokEscape:
			if i+1 < len(in) {
				i++
				if !add(string(in[i : i+1])) {
					return finish(units, cur)
				}
			}
		default:
			t := tokens[int(b-tokFirst)%len(tokens)]
			switch t {
			case specialFlush:
				if !coalesce {
					cut()
				}
			case specialStartTLS:
				cut()
				units = append(units, unit{data: []byte("STARTTLS\r\n"), startTLS: true})
				total += 10
			default:
				if !add(t) {
					return finish(units, cur)
				}
			}
		}
	}
	return finish(units, cur)
}

func finish(units []unit, cur []byte) []unit {
	if len(cur) > 0 {
		units = append(units, unit{data: cur})
	}
	return units
}

// joined returns the octets of all units.
func joined(units []unit) []byte {
	var b bytes.Buffer
	for _, u := range units {
		b.Write(u.data)
	}
	return b.Bytes()
}

// tokenize is the inverse of expand for plain octets: it encodes data with
// the longest matching tokens, so seeds are short and mutate by token.
func tokenize(data []byte) []byte {
	byFirst := tokensByFirst()
	var out []byte
	for i := 0; i < len(data); {
		best, bestLen := -1, 1
		for _, j := range byFirst[data[i]] {
			if t := tokens[j]; len(t) > bestLen && len(data)-i >= len(t) && string(data[i:i+len(t)]) == t {
				best, bestLen = j, len(t)
			}
		}
		switch {
		case best >= 0:
			out = append(out, byte(tokFirst+best))
			i += bestLen
		case data[i] < tokFirst:
			out = append(out, data[i])
			i++
		default:
			out = append(out, tokEscape, data[i])
			i++
		}
	}
	return out
}

// tokensByFirst indexes the plain tokens by their first octet.
var tokensByFirst = sync.OnceValue(func() (idx [256][]int) {
	for j, t := range tokens {
		if t == specialFlush || t == specialStartTLS {
			continue
		}
		idx[t[0]] = append(idx[t[0]], j)
	}
	return idx
})

// encodeScript encodes a script's writes as fuzz input: a flush token
// between writes, and the starttls token for STARTTLS followed by a
// handshake.
func encodeScript(writes []harness.ScriptWrite) []byte {
	var out []byte
	for i := 0; i < len(writes); i++ {
		w := writes[i]
		switch {
		case w.TLS:
			continue // a handshake not after STARTTLS: nothing to send
		case i+1 < len(writes) && writes[i+1].TLS && string(w.Data) == "STARTTLS\r\n":
			out = append(out, byte(tokFirst+tokenIndex(specialStartTLS)))
			i++
			continue
		}
		if len(out) > 0 {
			out = append(out, byte(tokFirst+tokenIndex(specialFlush)))
		}
		out = append(out, tokenize(w.Data)...)
	}
	return out
}

func tokenIndex(t string) int {
	for i, s := range tokens {
		if s == t {
			return i
		}
	}
	panic("no token " + t)
}
