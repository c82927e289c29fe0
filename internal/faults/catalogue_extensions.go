package faults

// Faults of the extensions: STARTTLS, AUTH, CHUNKING and the EHLO keywords
// of the others.

import (
	"bytes"
	"strings"

	"github.com/smtpspec/smtpspec/reference"
)

var tlsFaults = []*Fault{
	{Name: "starttls-refused", Doc: "STARTTLS is advertised but fails with 454",
		Command: answer(verb("STARTTLS"), R(454, "4.7.0 TLS not available"))},
	{Name: "starttls-keeps-ehlo", Doc: "the plaintext EHLO still counts after STARTTLS (go-smtp before PR #89)",
		AfterTLS: func(s *Session, before State) {
			if before.Greeted {
				s.Hidden("EHLO proxy.invalid")
			}
		}},
	{Name: "starttls-keeps-transaction", Doc: "a transaction opened in plaintext survives STARTTLS",
		Command: func(s *Session, c *Command) bool {
			switch {
			case c.Verb == "STARTTLS" && c.Before.Mail != "":
				s.memo["replay"] = append([]string{c.Before.Mail}, c.Before.Rcpts...)
				s.Hidden("RSET")
			case c.Verb == "EHLO" && c.Before.TLS && s.memo["replay"] != nil:
				s.Relay(c)
				for _, l := range s.memo["replay"].([]string) {
					s.Hidden(l)
				}
				delete(s.memo, "replay")
				return true
			}
			return false
		}},
	{Name: "starttls-advertised-in-tls", Doc: "STARTTLS is still listed inside TLS (node-smtp-protocol #27)",
		Reply: ehlo(&yes, func(r *Reply) { r.addKeyword("STARTTLS") })},
	{Name: "second-starttls-220", Doc: "STARTTLS inside TLS is answered with 220",
		Command: answer(func(s *Session, c *Command) bool { return c.Verb == "STARTTLS" && c.Before.TLS },
			R(220, "2.0.0 Ready to start TLS"))},
	{Name: "starttls-command-injection", Doc: "plaintext pipelined after STARTTLS runs inside TLS (CVE-2011-0411, aiosmtpd PR #380)",
		KeepPlaintext: true},
	{Name: "starttls-response-junk", Doc: "the 220 to STARTTLS is followed by another plaintext line",
		After220: []byte("250 2.0.0 and one more thing\r\n")},
	{Name: "tls-required", Doc: "mail is refused until STARTTLS, also on the MX",
		Command: answer(func(s *Session, c *Command) bool { return c.Verb == "MAIL" && !c.Before.TLS },
			R(530, "5.7.0 Must issue a STARTTLS command first"))},
	{Name: "requiretls-in-plaintext", Doc: "REQUIRETLS is advertised on plaintext sessions",
		Reply: ehlo(&no, func(r *Reply) { r.addKeyword("REQUIRETLS") })},
}

var authFaults = []*Fault{
	{Name: "auth-before-tls", Doc: "AUTH PLAIN and LOGIN are offered and accepted in plaintext (mailpit 1.10, go-smtp AllowInsecureAuth)",
		Reply: ehlo(&no, func(r *Reply) { r.addKeyword("AUTH PLAIN LOGIN") }),
		Command: func(s *Session, c *Command) bool {
			if c.Verb != "AUTH" || c.Before.TLS {
				return false
			}
			mech, _, _ := strings.Cut(strings.ToUpper(c.Arg), " ")
			if mech == "LOGIN" {
				s.Send(R(334, "VXNlcm5hbWU6"))
				return true
			}
			s.Send(R(235, "2.7.0 Authentication succeeded"))
			return true
		}},
	{Name: "auth-before-ehlo-accepted", Doc: "AUTH is accepted before EHLO",
		Command: answer(func(s *Session, c *Command) bool { return c.Verb == "AUTH" && !c.Before.Greeted },
			R(235, "2.7.0 Authentication succeeded"))},
	{Name: "second-auth-accepted", Doc: "AUTH after a successful AUTH succeeds again (go-smtp #151)",
		Command: answer(func(s *Session, c *Command) bool { return c.Verb == "AUTH" && c.Before.Authed },
			R(235, "2.7.0 Authentication succeeded"))},
	{Name: "auth-in-transaction-accepted", Doc: "AUTH inside a transaction succeeds",
		Reply: replace(func(c *Command, r *Reply) bool { return c.Verb == "AUTH" && r.Code == 503 && c.Before.Mail != "" },
			with(R(235, "2.7.0 Authentication succeeded")))},
	{Name: "auth-cancel-535", Doc: "a cancelled AUTH gets 535 instead of 501",
		Reply: replace(func(c *Command, r *Reply) bool { return c.Kind == "sasl" && string(c.Line) == "*" },
			with(R(535, "5.7.8 Authentication failed")))},
	{Name: "auth-base64-454", Doc: "invalid base64 gets 454 4.7.0 (go-smtp)",
		Reply: replace(func(c *Command, r *Reply) bool {
			return r.Code == 501 && r.Enhanced() == "5.5.2" && (c.Verb == "AUTH" || c.Kind == "sasl")
		},
			with(R(454, "4.7.0 Invalid base64 data")))},
	{Name: "bare-code-without-space", Doc: "an empty challenge is sent as \"334\" with no space after the code (nodemailer/smtp-server #173)",
		Reply: replace(func(c *Command, r *Reply) bool { return r.Code == 334 && len(r.Lines) == 1 && r.Lines[0] == "" },
			with(&Reply{Code: 334, Raw: []byte("334\r\n")}))},
	{Name: "auth-challenge-prose", Doc: "334 challenges are prose, not base64",
		Reply: func(s *Session, c *Command, r *Reply) []*Reply {
			if r.Code != 334 {
				return []*Reply{r}
			}
			switch r.Lines[0] {
			case "VXNlcm5hbWU6":
				return []*Reply{R(334, "Username:")}
			case "UGFzc3dvcmQ6":
				return []*Reply{R(334, "Password:")}
			}
			return []*Reply{R(334, "Go ahead")}
		}},
	{Name: "auth-any-password", Doc: "wrong credentials are accepted (jakartaee/mail-api #23: 235 on failure)",
		Reply: replace(func(c *Command, r *Reply) bool { return r.Code == 535 }, with(R(235, "2.7.0 Authentication succeeded")))},
	{Name: "auth-drop-after-failure", Doc: "the connection is closed after the first failed login",
		Reply: func(s *Session, c *Command, r *Reply) []*Reply {
			if r.Code == 535 {
				s.Close()
				return []*Reply{r, R(421, "4.7.0 Too many failures")}
			}
			return []*Reply{r}
		}},
	{Name: "auth-equals-ignored", Doc: "an initial response of \"=\" is ignored and a challenge sent",
		Command: answer(func(s *Session, c *Command) bool { return c.Verb == "AUTH" && strings.HasSuffix(c.Arg, " =") },
			R(334, ""))},
	{Name: "auth-line-limit-512", Doc: "AUTH lines are held to the 512-octet command limit",
		Command: answer(func(s *Session, c *Command) bool {
			return (c.Verb == "AUTH" || c.Kind == "sasl") && len(c.Line)+2 > 512
		}, R(500, "5.5.6 Line too long"))},
	{Name: "auth-initial-response-ignored", Doc: "the initial response of AUTH PLAIN is ignored and an empty challenge sent",
		Command: func(s *Session, c *Command) bool {
			mech, _, hasIR := strings.Cut(c.Arg, " ")
			if c.Verb != "AUTH" || !hasIR || !strings.EqualFold(mech, "PLAIN") {
				return false
			}
			c.Line, c.Arg = []byte("AUTH "+mech), mech
			s.Relay(c)
			return true
		}},
	{Name: "auth-parameter-refused", Doc: "the AUTH= parameter of MAIL is unknown (go-smtp 500 on AUTH= values)",
		Command: answer(func(s *Session, c *Command) bool {
			return c.Verb == "MAIL" && strings.Contains(strings.ToUpper(c.Arg), " AUTH=")
		},
			R(555, "5.5.4 Unsupported parameter AUTH"))},
	{Name: "cram-md5-initial-response-challenged", Doc: "CRAM-MD5 is offered and an initial response to it is ignored",
		Reply: ehlo(&yes, func(r *Reply) {
			if i := r.keywordLine("AUTH"); i >= 0 {
				r.Lines[i] += " CRAM-MD5"
			}
		}),
		Command: answer(func(s *Session, c *Command) bool {
			return c.Verb == "AUTH" && strings.HasPrefix(strings.ToUpper(c.Arg), "CRAM-MD5")
		}, R(334, "PDEyMzQ1QG14LmV4YW1wbGUudGVzdD4="))},
	{Name: "auth-538", Doc: "PLAIN is offered in plaintext, and using it gets the historic 538",
		Reply: func(s *Session, c *Command, r *Reply) []*Reply {
			switch {
			case c.Verb == "EHLO" && r.Code == 250 && !c.Before.TLS:
				r = r.Clone()
				r.addKeyword("AUTH PLAIN LOGIN")
			case c.Verb == "AUTH" && r.Code == 530:
				r = R(538, "5.7.11 Encryption required for requested authentication mechanism")
			}
			return []*Reply{r}
		}},
	{Name: "auth-523", Doc: "AUTH in plaintext gets 523, a code SMTP does not define (go-smtp)",
		Reply: replace(replyTo("AUTH", 530), with(R(523, "5.7.10 TLS is required")))},
}

var chunkingFaults = []*Fault{
	{Name: "refused-bdat-not-consumed", Doc: "a refused BDAT leaves its chunk to be read as commands (go-smtp #315, Hermod S-2)",
		Command: func(s *Session, c *Command) bool {
			if c.Verb != "BDAT" {
				return false
			}
			size, _ := parseBDATSize(c)
			_, _, perr := reference.ParseBDAT(c.Arg)
			switch {
			case size < 0:
				return false
			case perr != nil:
				s.Send(R(501, "5.5.4 Syntax: BDAT chunk-size [LAST]"))
			case c.Before.Mail == "" || len(c.Before.Rcpts) == 0:
				s.Send(R(503, "5.5.1 Need MAIL and RCPT first"))
			default:
				return false
			}
			return true
		}},
	{Name: "bdat-dot-unstuffing", Doc: "BDAT chunks are dot-unstuffed like DATA text",
		Chunk: func(s *Session, c *Command, chunk []byte) []byte {
			return bytes.ReplaceAll(chunk, []byte("\r\n.."), []byte("\r\n."))
		}},
	{Name: "bdat-rset-ignored", Doc: "RSET between chunks is answered but changes nothing",
		Command: answer(func(s *Session, c *Command) bool { return c.Verb == "RSET" && c.Before.Chunks },
			R(250, "2.0.0 OK"))},
	{Name: "bdat-syntax-lax", Doc: "BDAT without a usable size is accepted",
		Command: answer(func(s *Session, c *Command) bool {
			size, _ := parseBDATSize(c)
			return c.Verb == "BDAT" && size < 0
		}, R(250, "2.0.0 OK"))},
	{Name: "bdat-size-limit-ignored", Doc: "chunks over the size limit are accepted",
		Reply: replace(replyTo("BDAT", 552), with(R(250, "2.0.0 Chunk received")))},
	{Name: "empty-last-chunk-refused", Doc: "a zero-length BDAT is a syntax error",
		Command: answer(func(s *Session, c *Command) bool {
			size, _ := parseBDATSize(c)
			return c.Verb == "BDAT" && size == 0
		}, R(501, "5.5.4 Empty chunk"))},
}

var extensionFaults = []*Fault{
	{Name: "size-keyword-with-unit", Doc: "SIZE is advertised with a unit",
		Reply: ehlo(nil, func(r *Reply) {
			if i := r.keywordLine("SIZE"); i >= 0 {
				r.Lines[i] += " octets"
			}
		})},
	{Name: "size-not-advertised", Doc: "SIZE is not advertised, but SIZE= is still accepted",
		Reply: ehlo(nil, func(r *Reply) { r.dropKeyword("SIZE") })},
	{Name: "smtputf8-not-advertised", Doc: "SMTPUTF8 is not advertised, but its parameter is still accepted",
		Reply: ehlo(nil, func(r *Reply) { r.dropKeyword("SMTPUTF8") })},
	{Name: "dsn-not-advertised", Doc: "DSN is not advertised, but its parameters are still accepted",
		Reply: ehlo(nil, func(r *Reply) { r.dropKeyword("DSN") })},
	{Name: "8bitmime-not-advertised", Doc: "8BITMIME is not advertised, though SMTPUTF8 is (aiosmtpd #216)",
		Reply: ehlo(nil, func(r *Reply) { r.dropKeyword("8BITMIME") })},
	{Name: "chunking-not-advertised", Doc: "BINARYMIME is advertised without CHUNKING",
		Reply: ehlo(nil, func(r *Reply) { r.dropKeyword("CHUNKING") })},
	{Name: "body-parameter-refused", Doc: "BODY= is refused (mailpit #407, gen_smtp PR #283)",
		Command: answer(func(s *Session, c *Command) bool {
			return c.Verb == "MAIL" && strings.Contains(strings.ToUpper(c.Arg), " BODY=")
		},
			R(501, "5.5.4 Invalid SIZE parameter"))},
	{Name: "dsn-keyword-parameter", Doc: "DSN is advertised with a parameter",
		Reply: ehlo(nil, func(r *Reply) {
			if i := r.keywordLine("DSN"); i >= 0 {
				r.Lines[i] = "DSN NOTIFY"
			}
		})},
	{Name: "dsn-parameters-refused", Doc: "DSN is advertised but its parameters are unknown (aiosmtpd #183)",
		Command: answer(func(s *Session, c *Command) bool {
			if c.Verb != "MAIL" && c.Verb != "RCPT" {
				return false
			}
			a := strings.ToUpper(c.Arg)
			return strings.Contains(a, " RET=") || strings.Contains(a, " ENVID=") || strings.Contains(a, " NOTIFY=") || strings.Contains(a, " ORCPT=")
		}, R(555, "5.5.4 Unsupported parameter"))},
}
