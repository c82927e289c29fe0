package faults

// Faults of the mail transaction: sequencing, message text, addresses,
// informational commands, limits and pipelining.

import (
	"bytes"
	"slices"
	"strings"
)

var sequenceFaults = []*Fault{
	{Name: "mail-before-helo-accepted", Doc: "MAIL is accepted before EHLO (mailpit #621, Haraka before PR #107)",
		Command: func(s *Session, c *Command) bool {
			if c.Verb == "MAIL" && !c.Before.Greeted {
				s.Hidden("EHLO proxy.invalid")
			}
			return false
		}},
	{Name: "rcpt-without-mail-accepted", Doc: "RCPT outside a transaction opens one with the null sender",
		Command: func(s *Session, c *Command) bool {
			if c.Verb == "RCPT" && c.Before.Greeted && c.Before.Mail == "" {
				s.Hidden("MAIL FROM:<>")
			}
			return false
		}},
	{Name: "nested-mail-accepted", Doc: "MAIL inside an open transaction starts a new one (mailpit #623, go-smtp)",
		Command: func(s *Session, c *Command) bool {
			if c.Verb == "MAIL" && c.Before.Mail != "" {
				s.Hidden("RSET")
			}
			return false
		}},
	{Name: "sequence-502", Doc: "sequence errors get 502 instead of 503 (go-smtp)",
		Reply: replace(func(c *Command, r *Reply) bool { return r.Code == 503 }, recode(502))},
	{Name: "ehlo-keeps-transaction", Doc: "a second EHLO does not reset the transaction",
		Command: func(s *Session, c *Command) bool {
			if c.Verb != "EHLO" || c.Before.Mail == "" {
				return false
			}
			s.Send(s.EHLOReply())
			return true
		}},
	{Name: "refused-ehlo-resets", Doc: "a refused EHLO still resets the transaction",
		Reply: func(s *Session, c *Command, r *Reply) []*Reply {
			if (c.Verb == "EHLO" || c.Verb == "HELO") && r.Code >= 500 {
				s.Hidden("RSET")
			}
			return []*Reply{r}
		}},
	{Name: "refused-mail-opens-transaction", Doc: "a MAIL refused for its syntax still opens a transaction",
		Reply: func(s *Session, c *Command, r *Reply) []*Reply {
			if c.Verb == "MAIL" && r.Code >= 500 && c.Before.Mail == "" && c.Before.Greeted {
				s.Hidden("MAIL FROM:<>")
			}
			return []*Reply{r}
		}},
	{Name: "error-aborts-transaction", Doc: "any 503 aborts the open transaction",
		Reply: func(s *Session, c *Command, r *Reply) []*Reply {
			if r.Code == 503 && c.Before.Mail != "" {
				s.Hidden("RSET")
			}
			return []*Reply{r}
		}},
	{Name: "rset-ignored", Doc: "RSET is answered but does not reset",
		Command: answer(verb("RSET"), R(250, "2.0.0 OK"))},
	{Name: "needs-ehlo-first", Doc: "every command but EHLO, HELO and QUIT needs a greeting first (OpenSMTPD #1149, msmtpd)",
		Command: answer(func(s *Session, c *Command) bool {
			return !c.Before.Greeted && !slices.Contains([]string{"EHLO", "HELO", "QUIT"}, c.Verb)
		}, R(503, "5.5.1 Say hello first"))},
	{Name: "quit-needs-ehlo", Doc: "QUIT before EHLO is refused",
		Command: answer(func(s *Session, c *Command) bool { return c.Verb == "QUIT" && !c.Before.Greeted },
			R(503, "5.5.1 Say hello first"))},
	{Name: "quit-keeps-session", Doc: "QUIT is answered but the connection stays open and later commands run",
		Command: answer(verb("QUIT"), R(221, "2.0.0 Bye"))},
	{Name: "quit-refused-in-transaction", Doc: "QUIT inside a transaction is refused",
		Command: answer(func(s *Session, c *Command) bool { return c.Verb == "QUIT" && c.Before.Mail != "" },
			R(503, "5.5.1 Finish the transaction first"))},
	{Name: "quit-delivers-transaction", Doc: "QUIT delivers the open transaction as an empty message",
		Command: func(s *Session, c *Command) bool {
			if c.Verb == "QUIT" && len(c.Before.Rcpts) > 0 {
				hiddenMessage(s, nil)
			}
			return false
		}},
	{Name: "data-always-354", Doc: "DATA gets 354 whatever the state, and the text is then dropped (honeypots, mailoney #28)",
		Command: func(s *Session, c *Command) bool {
			if c.Verb != "DATA" {
				return false
			}
			r := s.Forward(c.Line)
			if r.Code == 354 {
				s.Send(r)
				s.RelayData(true)
				return true
			}
			s.Send(R(354, "Go ahead"))
			s.RelayData(false)
			s.Send(R(250, "2.0.0 OK"))
			return true
		}},
	{Name: "data-gets-250", Doc: "DATA is answered with 250 instead of 354 (mailoney #29)",
		Reply: replace(replyTo("DATA", 354), with(R(250, "2.0.0 OK, send data")))},
	{Name: "transaction-kept-after-data", Doc: "sender and recipients survive the end of a message",
		Reply: func(s *Session, c *Command, r *Reply) []*Reply {
			last := c.Verb == "BDAT" && strings.HasSuffix(strings.ToUpper(c.Arg), "LAST")
			if (c.Kind == "data-end" || last) && r.Code == 250 && c.Before.Mail != "" {
				s.Hidden(c.Before.Mail)
				for _, rc := range c.Before.Rcpts {
					s.Hidden(rc)
				}
			}
			return []*Reply{r}
		}},
	{Name: "recipients-carried-over", Doc: "a new MAIL keeps the previous message's recipients",
		Command: func(s *Session, c *Command) bool {
			if c.Verb == "RCPT" {
				kept, _ := s.memo["rcpts"].([]string)
				s.memo["rcpts"] = append(kept, string(c.Line))
			}
			if c.Verb != "MAIL" {
				return false
			}
			old, _ := s.memo["rcpts"].([]string)
			s.memo["rcpts"] = []string{}
			s.Relay(c)
			if s.st.Mail != "" {
				for _, rc := range old {
					s.Hidden(rc)
				}
			}
			return true
		}},
	{Name: "extra-reply-after-data", Doc: "the end of data is answered twice (subethasmtp #75)",
		Reply: func(s *Session, c *Command, r *Reply) []*Reply {
			if c.Kind == "data-end" {
				return []*Reply{r, r.Clone()}
			}
			return []*Reply{r}
		}},
	{Name: "empty-message-451", Doc: "a message without text fails with 451",
		Reply: func(s *Session, c *Command, r *Reply) []*Reply {
			if c.Kind == "data-end" && s.data != nil && s.data.Lines == 0 {
				return []*Reply{R(451, "4.3.0 Empty message")}
			}
			return []*Reply{r}
		}},
	{Name: "close-after-3-errors", Doc: "the connection is closed after three errors (go-smtp: more than 3 protocol errors)",
		Reply: func(s *Session, c *Command, r *Reply) []*Reply {
			if r.Code >= 500 {
				n, _ := s.memo["errors"].(int)
				s.memo["errors"] = n + 1
				if n+1 > 3 {
					s.Close()
					return []*Reply{R(421, "4.7.0 Too many errors")}
				}
			}
			return []*Reply{r}
		}},
	{Name: "unknown-command-501", Doc: "an unknown command gets 501 (go-smtp)",
		Reply: replace(func(c *Command, r *Reply) bool {
			return c.Kind == "command" && r.Code == 500 && !slices.Contains(knownVerbs, c.Verb)
		}, with(R(501, "5.5.2 Bad command")))},
	{Name: "obsolete-commands-run", Doc: "TURN and SAML are answered as if they worked",
		Command: answer(verb("TURN", "SAML"), R(250, "2.0.0 OK"))},
	{Name: "arguments-refused-502", Doc: "a verb that takes no argument is answered 502 when it has one",
		Command: answer(func(s *Session, c *Command) bool {
			return slices.Contains([]string{"NOOP", "RSET", "QUIT", "DATA", "STARTTLS"}, c.Verb) && c.Arg != ""
		}, R(502, "5.5.1 Command not implemented with arguments"))},
	{Name: "trailing-space-refused", Doc: "white space before CRLF makes a command unrecognisable",
		Command: answer(func(s *Session, c *Command) bool {
			return len(c.Line) > 0 && (c.Line[len(c.Line)-1] == ' ' || c.Line[len(c.Line)-1] == '\t')
		}, R(500, "5.5.2 Syntax error"))},
	{Name: "empty-line-as-noop", Doc: "an empty line is taken as a NOOP",
		Command: answer(func(s *Session, c *Command) bool { return len(c.Line) == 0 }, R(250, "2.0.0 OK"))},
	{Name: "syntax-errors-500", Doc: "every syntax error is reported as 500",
		Reply: replace(func(c *Command, r *Reply) bool { return r.Code == 501 }, recode(500))},
}

var dataFaults = []*Fault{
	{Name: "extra-crlf-before-dot", Doc: "an empty line is added before the final dot (go-smtp 92b0bc5 family)",
		BeforeDot: func(*Session, *DataState) [][]byte { return [][]byte{{}} }},
	{Name: "no-dot-unstuffing", Doc: "stuffed dots are kept (aiosmtpd #561, mailpit #501, Haraka #2929)",
		DataLine: func(s *Session, d *DataState, line []byte) [][]byte {
			if len(line) > 0 && line[0] == '.' {
				return [][]byte{append([]byte{'.'}, line...)}
			}
			return [][]byte{line}
		}},
	{Name: "dot-lines-end-data", Doc: "any line of dots ends the message",
		DataLine: func(s *Session, d *DataState, line []byte) [][]byte {
			if len(line) > 1 && len(bytes.Trim(line, ".")) == 0 {
				d.End = true
			}
			return [][]byte{line}
		}},
	{Name: "control-characters-stripped", Doc: "control characters are removed from message text",
		DataLine: func(s *Session, d *DataState, line []byte) [][]byte {
			return [][]byte{bytes.Map(func(r rune) rune {
				if r < 32 && r != '\t' {
					return -1
				}
				return r
			}, line)}
		}},
	{Name: "header-police", Doc: "messages with odd Resent- or Date: fields fail (mailpit #87: 451 for a malformed header)",
		DataLine: func(s *Session, d *DataState, line []byte) [][]byte {
			if bytes.HasPrefix(line, []byte("Resent-")) || bytes.HasPrefix(line, []byte("Date: the")) {
				d.Flag = true
			}
			return [][]byte{line}
		},
		Reply: func(s *Session, c *Command, r *Reply) []*Reply {
			if c.Kind == "data-end" && s.data != nil && s.data.Flag {
				return []*Reply{R(451, "4.3.5 Unable to process mail: malformed header")}
			}
			return []*Reply{r}
		}},
	{Name: "oversize-stored-anyway", Doc: "a message over the limit is refused with 552, but what fitted is delivered",
		DataLine: func(s *Session, d *DataState, line []byte) [][]byte {
			if d.Size+int64(len(line))+2 > sizeLimit(s)-200 {
				d.Flag = true
				return nil
			}
			return [][]byte{line}
		},
		Reply: func(s *Session, c *Command, r *Reply) []*Reply {
			if c.Kind == "data-end" && s.data != nil && s.data.Flag {
				return []*Reply{R(552, "5.3.4 Message too big")}
			}
			return []*Reply{r}
		}},
	{Name: "oversize-early-reply", Doc: "the size limit is answered as soon as it is crossed, and the rest of the text is read as commands (desync: go-smtp d143b3e, mailpit GHSA-r553)",
		DataLine: func(s *Session, d *DataState, line []byte) [][]byte {
			if d.Size+int64(len(line))+2 > sizeLimit(s) {
				d.Early = R(552, "5.3.4 Message too big")
			}
			return [][]byte{line}
		}},
	{Name: "size-used-as-eod", Doc: "the message ends once the declared SIZE has arrived",
		DataLine: func(s *Session, d *DataState, line []byte) [][]byte {
			if n := declaredSize(s.st.Mail); n >= 0 && d.Size >= n {
				d.End = true
			}
			return [][]byte{line}
		}},
	{Name: "data-rejected-early", Doc: "a text line with a bare CR, LF or NUL is refused at once and the rest is read as commands",
		DataLine: func(s *Session, d *DataState, line []byte) [][]byte {
			if bytes.ContainsAny(line, "\r\n\x00") {
				d.Early = R(554, "5.6.0 Bad character in message")
			}
			return [][]byte{line}
		}},
	{Name: "refusal-after-storing", Doc: "a message with a bare CR or LF is stored (normalised) and then refused",
		DataLine: func(s *Session, d *DataState, line []byte) [][]byte {
			if bytes.ContainsAny(line, "\r\n") {
				d.Flag = true
				line = bytes.Map(func(r rune) rune {
					if r == '\r' || r == '\n' {
						return ' '
					}
					return r
				}, line)
			}
			return [][]byte{line}
		},
		Reply: func(s *Session, c *Command, r *Reply) []*Reply {
			if c.Kind == "data-end" && s.data != nil && s.data.Flag && r.Code == 250 {
				return []*Reply{R(554, "5.6.0 Bare CR or LF in message")}
			}
			return []*Reply{r}
		}},
	{Name: "high-bit-cleared", Doc: "8-bit octets lose their high bit",
		DataLine: func(s *Session, d *DataState, line []byte) [][]byte {
			out := make([]byte, len(line))
			for i, b := range line {
				out[i] = b & 0x7f
			}
			return [][]byte{out}
		}},
	{Name: "long-data-line-early-reply", Doc: "a text line of 990 octets or more is refused at once and the rest is read as commands (aiosmtpd before PR #59)",
		DataLine: func(s *Session, d *DataState, line []byte) [][]byte {
			if len(line) >= 990 {
				d.Early = R(500, "5.5.6 Line too long")
			}
			return [][]byte{line}
		}},
	{Name: "data-lines-folded", Doc: "text lines are folded at 990 octets",
		DataLine: func(s *Session, d *DataState, line []byte) [][]byte {
			var out [][]byte
			for len(line) > 990 {
				out, line = append(out, line[:990]), line[990:]
			}
			return append(out, line)
		}},
	{Name: "message-limit-32k", Doc: "messages over 32 KiB are refused although SIZE says more",
		DataLine: func(s *Session, d *DataState, line []byte) [][]byte {
			if d.Size > 32<<10 {
				d.Flag = true
			}
			return [][]byte{line}
		},
		Reply: func(s *Session, c *Command, r *Reply) []*Reply {
			if c.Kind == "data-end" && s.data != nil && s.data.Flag {
				return []*Reply{R(552, "5.3.4 Message too big")}
			}
			return []*Reply{r}
		}},
	{Name: "duplicate-delivery", Doc: "every message is delivered twice",
		DataLine: func(s *Session, d *DataState, line []byte) [][]byte {
			kept, _ := s.memo["text"].([][]byte)
			s.memo["text"] = append(kept, line)
			return [][]byte{line}
		},
		Reply: func(s *Session, c *Command, r *Reply) []*Reply {
			if c.Kind == "data-end" && r.Code == 250 {
				text, _ := s.memo["text"].([][]byte)
				delete(s.memo, "text")
				s.Hidden(c.Before.Mail)
				for _, rc := range c.Before.Rcpts {
					s.Hidden(rc)
				}
				hiddenMessage(s, text)
			}
			return []*Reply{r}
		}},
}

var addressFaults = []*Fault{
	{Name: "mail-tempfail", Doc: "every MAIL fails temporarily",
		Command: answer(verb("MAIL"), R(451, "4.3.0 Try again later"))},
	{Name: "null-sender-refused", Doc: "MAIL FROM:<> is refused (maddy #603, go-smtp before PR #57)",
		Command: answer(func(s *Session, c *Command) bool { return c.Verb == "MAIL" && strings.Contains(c.Arg, "<>") },
			R(553, "5.1.7 Malformed address"))},
	{Name: "mail-syntax-lax", Doc: "MAIL accepts whatever it cannot parse (aiosmtpd #563, mailpit)",
		Reply: replace(func(c *Command, r *Reply) bool {
			return c.Verb == "MAIL" && slices.Contains([]int{501, 553, 555, 500}, r.Code)
		}, with(R(250, "2.1.0 OK")))},
	{Name: "rcpt-syntax-lax", Doc: "RCPT accepts whatever it cannot parse (mailpit #622)",
		Reply: replace(func(c *Command, r *Reply) bool {
			return c.Verb == "RCPT" && slices.Contains([]int{501, 553, 555, 500}, r.Code)
		}, with(R(250, "2.1.5 OK")))},
	{Name: "postmaster-needs-domain", Doc: "RCPT TO:<Postmaster> is a syntax error (Haraka #3111)",
		Command: answer(func(s *Session, c *Command) bool {
			return c.Verb == "RCPT" && strings.EqualFold(path(c), "postmaster")
		}, R(501, "5.1.3 Syntax error in address"))},
	{Name: "postmaster-case-sensitive", Doc: "only lower-case postmaster is recognised",
		Command: answer(func(s *Session, c *Command) bool {
			lp := localPart(c)
			return c.Verb == "RCPT" && strings.EqualFold(lp, "postmaster") && lp != "postmaster"
		}, R(550, "5.1.1 User unknown"))},
	{Name: "postmaster-refused", Doc: "postmaster at the served domain is refused (maddy #384)",
		Command: answer(func(s *Session, c *Command) bool {
			return c.Verb == "RCPT" && strings.Contains(path(c), "@") && localPart(c) == "postmaster"
		}, R(550, "5.1.1 User doesn't exist"))},
	{Name: "source-routes-refused", Doc: "any source route is a syntax error",
		Command: answer(func(s *Session, c *Command) bool { return c.Verb == "RCPT" && strings.HasPrefix(path(c), "@") },
			R(501, "5.1.3 Bad address syntax"))},
	{Name: "quoted-local-parts-refused", Doc: "a quoted local part is refused (mailpit #731)",
		Command: answer(func(s *Session, c *Command) bool {
			return (c.Verb == "RCPT" || c.Verb == "MAIL") && strings.HasPrefix(localPart(c), "\"")
		}, R(553, "5.1.3 Invalid address"))},
	{Name: "local-part-limit-63", Doc: "local parts over 63 octets are refused (one short of the RFC minimum)",
		Command: answer(func(s *Session, c *Command) bool {
			return (c.Verb == "RCPT" || c.Verb == "MAIL") && len(localPart(c)) > 63
		}, R(501, "5.1.3 Local part too long"))},
	{Name: "literal-domains-refused", Doc: "address literals are a syntax error in mailboxes",
		Command: answer(func(s *Session, c *Command) bool {
			return (c.Verb == "RCPT" || c.Verb == "MAIL") && strings.Contains(path(c), "@[")
		}, R(501, "5.1.7 Bad address syntax"))},
	{Name: "unknown-recipients-accepted", Doc: "every recipient is accepted, existing or not (catch-all sinks)",
		Reply: replace(func(c *Command, r *Reply) bool { return c.Verb == "RCPT" && r.Code == 550 && r.Enhanced() == "5.1.1" },
			with(R(250, "2.1.5 OK")))},
	{Name: "rcpt-tempfail", Doc: "every refused recipient is refused temporarily (greylisting everything)",
		Reply: replace(func(c *Command, r *Reply) bool { return c.Verb == "RCPT" && r.Code >= 500 },
			with(R(451, "4.7.1 Try again later")))},
	{Name: "open-relay", Doc: "recipients in foreign domains are accepted without authentication",
		Reply: replace(func(c *Command, r *Reply) bool { return c.Verb == "RCPT" && r.Code == 550 && r.Enhanced() == "5.7.1" },
			with(R(250, "2.1.5 OK")))},
	{Name: "local-parts-lower-cased", Doc: "local parts are lower-cased on the way in",
		Command: func(s *Session, c *Command) bool {
			if c.Verb == "RCPT" {
				lp := localPart(c)
				c.Line = bytes.Replace(c.Line, []byte(lp+"@"), []byte(strings.ToLower(lp)+"@"), 1)
			}
			return false
		}},
	{Name: "data-without-recipients", Doc: "DATA is accepted although every recipient was refused, and the message goes to postmaster",
		Command: func(s *Session, c *Command) bool {
			if c.Verb == "DATA" && c.Before.Mail != "" && len(c.Before.Rcpts) == 0 {
				s.Hidden("RCPT TO:<postmaster>")
			}
			return false
		}},
	{Name: "utf8-addresses-refused", Doc: "non-ASCII addresses are refused even with SMTPUTF8",
		Command: answer(func(s *Session, c *Command) bool {
			return (c.Verb == "MAIL" || c.Verb == "RCPT") && strings.ContainsFunc(path(c), func(r rune) bool { return r > 127 })
		}, R(553, "5.6.7 Non-ASCII address not supported"))},
	{Name: "utf8-accepted-without-parameter", Doc: "non-ASCII recipients are accepted without SMTPUTF8",
		Reply: replace(func(c *Command, r *Reply) bool { return c.Verb == "RCPT" && r.Enhanced() == "5.6.7" },
			with(R(250, "2.1.5 OK")))},
}

var informationalFaults = []*Fault{
	{Name: "vrfy-unrecognised", Doc: "VRFY is not recognised (OpenSMTPD #1146)",
		Command: answer(verb("VRFY"), R(500, "5.5.2 Command not recognized"))},
	{Name: "vrfy-250-always", Doc: "VRFY confirms any syntactically valid address",
		Command: answer(verb("VRFY"), R(250, "2.1.5 OK"))},
	{Name: "vrfy-550-always", Doc: "VRFY refuses every address, existing or not",
		Command: answer(verb("VRFY"), R(550, "5.1.1 User unknown"))},
	{Name: "expn-unadvertised-works", Doc: "EXPN expands a list although the EHLO reply does not list EXPN",
		Command: answer(verb("EXPN"), R(250, "2.1.5 <postmaster@example.test>"))},
	{Name: "expn-needs-auth", Doc: "EXPN is refused with 530",
		Command: answer(verb("EXPN"), R(530, "5.7.0 Authentication required"))},
	{Name: "vrfy-resets-transaction", Doc: "VRFY throws the open transaction away",
		Reply: func(s *Session, c *Command, r *Reply) []*Reply {
			if c.Verb == "VRFY" && c.Before.Mail != "" {
				s.Hidden("RSET")
			}
			return []*Reply{r}
		}},
	{Name: "duplicate-noop-reply", Doc: "NOOP is answered twice",
		Reply: replace(replyTo("NOOP"), func(r *Reply) *Reply {
			b := r.Bytes()
			return &Reply{Code: r.Code, Raw: append(b, b...)}
		})},
}

var limitFaults = []*Fault{
	{Name: "command-line-limit-500", Doc: "command lines over 500 octets are too long",
		Command: answer(func(s *Session, c *Command) bool { return c.Kind == "command" && len(c.Line)+2 > 500 },
			R(500, "5.5.2 Line too long"))},
	{Name: "max-recipients-50", Doc: "at most 50 recipients per transaction (MaxRecipients below the RFC minimum)",
		Command: answer(func(s *Session, c *Command) bool { return c.Verb == "RCPT" && len(c.Before.Rcpts) >= 50 },
			R(452, "4.5.3 Too many recipients"))},
	{Name: "too-many-recipients-552", Doc: "too many recipients get 552 (the RFC 821 habit)",
		Reply: replace(replyTo("RCPT", 452), with(R(552, "5.5.3 Too many recipients")))},
	{Name: "size-limit-ignored", Doc: "MAIL with a declared size over the limit is accepted",
		Reply: replace(replyTo("MAIL", 552), with(R(250, "2.1.0 OK")))},
	{Name: "size-limit-off-by-one", Doc: "a declared size equal to the limit is refused",
		Command: answer(func(s *Session, c *Command) bool {
			return c.Verb == "MAIL" && declaredSize(string(c.Line)) == sizeLimit(s)
		}, R(552, "5.3.4 Message too big"))},
}

var pipeliningFaults = []*Fault{
	{Name: "input-flushed-after-error", Doc: "input buffered behind a refused command is thrown away (RFC 2920 §1, OpenSMTPD #214)",
		Reply: func(s *Session, c *Command, r *Reply) []*Reply {
			if r.Code >= 500 {
				s.Discard()
			}
			return []*Reply{r}
		}},
	{Name: "pipelined-replies-swapped", Doc: "replies to a pipelined batch are sent in the wrong order",
		Reply: func(s *Session, c *Command, r *Reply) []*Reply {
			if held, ok := s.memo["held"].(*Reply); ok {
				delete(s.memo, "held")
				return []*Reply{r, held}
			}
			if c.Kind == "command" && s.Buffered() > 0 && (c.Verb == "MAIL" || c.Verb == "RCPT") {
				s.memo["held"] = r
				return nil
			}
			return []*Reply{r}
		}},
	{Name: "replies-held-until-data", Doc: "replies to MAIL and RCPT are held back until DATA (Indy #239)",
		Reply: func(s *Session, c *Command, r *Reply) []*Reply {
			held, _ := s.memo["held"].([]*Reply)
			if c.Verb == "MAIL" || c.Verb == "RCPT" {
				s.memo["held"] = append(held, r)
				return nil
			}
			delete(s.memo, "held")
			return append(held, r)
		}},
	{Name: "forbid-unauth-pipelining", Doc: "commands pipelined after the end of data end the session (Postfix smtpd_forbid_unauth_pipelining)",
		Reply: func(s *Session, c *Command, r *Reply) []*Reply {
			if c.Kind == "data-end" && s.Buffered() > 0 {
				s.Close()
				return []*Reply{r, R(554, "5.5.0 Error: SMTP protocol synchronization")}
			}
			return []*Reply{r}
		}},
	{Name: "helo-session-input-flushed", Doc: "without EHLO, input buffered behind a command is thrown away",
		Reply: func(s *Session, c *Command, r *Reply) []*Reply {
			if c.Kind == "command" && s.st.Greeted && !s.st.ESMTP {
				s.Discard()
			}
			return []*Reply{r}
		}},
	{Name: "pipelining-keyword-parameter", Doc: "PIPELINING is advertised with a parameter",
		Reply: ehlo(nil, func(r *Reply) {
			if i := r.keywordLine("PIPELINING"); i >= 0 {
				r.Lines[i] = "PIPELINING 32"
			}
		})},
}
