package faults

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/smtpspec/smtpspec/reference"
)

// All lists every fault, each standing for a bug seen in real servers or
// one a plausible implementation could have. faults_test.go names, for each
// MUST and SHOULD case, the fault under which it must fail.
var All = concat(
	framingFaults(),
	replyFormatFaults,
	greetingFaults,
	ehloFaults,
	sequenceFaults,
	dataFaults,
	addressFaults,
	informationalFaults,
	limitFaults,
	pipeliningFaults,
	tlsFaults,
	authFaults,
	chunkingFaults,
	extensionFaults,
)

func concat(lists ...[]*Fault) []*Fault {
	var out []*Fault
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}

// splitWidths are the buffer sizes of the long-line probes.
var splitWidths = []int{510, 998, 1000, 2000, 2046, 2048, 4094, 4096, 8190, 8192}

func framingFaults() []*Fault {
	fs := []*Fault{
		{Name: "bare-lf-ends-lines", Doc: "a bare LF ends a command or text line, as with net/textproto (go-smtp before its strict-CRLF mode, Haraka #3268)",
			Framing: Framing{BareLF: true}},
		{Name: "bare-cr-ends-lines", Doc: "a bare CR ends a line",
			Framing: Framing{BareCR: true}},
		{Name: "any-line-end", Doc: "CR, LF and CRLF all end a line (\"Clean\" CR/LF normalisation, CERT-EU 2023-098)",
			Framing: Framing{BareLF: true, BareCR: true}},
		{Name: "cr-collapse", Doc: "CR CR ... LF is read as one CRLF (Postfix before 3.9 patch releases)",
			Framing: Framing{CollapseCR: true}},
		{Name: "nul-ends-lines", Doc: "a NUL ends a line, as in readers built on C strings",
			Framing: Framing{NULEnds: true}},
		{Name: "nul-stripped", Doc: "NUL octets are dropped before lines are split",
			Framing: Framing{StripNUL: true}},
	}
	for _, n := range splitWidths {
		fs = append(fs, &Fault{Name: fmt.Sprintf("split-lines-%d", n),
			Doc:     fmt.Sprintf("a full %d-octet line buffer is taken as a line end", n),
			Framing: Framing{MaxLine: n}})
	}
	return fs
}

var replyFormatFaults = []*Fault{
	{Name: "replies-end-in-lf", Doc: "replies to commands end in a bare LF",
		Reply: func(s *Session, c *Command, r *Reply) []*Reply {
			if c.Kind == "command" && c.Verb != "EHLO" && c.Verb != "HELO" {
				r = r.Clone()
				r.EOL = "\n"
			}
			return []*Reply{r}
		}},
	{Name: "code-without-separator", Doc: "the reply code is followed by a colon instead of SP",
		Reply: replace(replyTo("NOOP"), func(r *Reply) *Reply { r = r.Clone(); r.Last = ":"; return r })},
	{Name: "multiline-mixed-codes", Doc: "the last line of a multi-line EHLO reply carries another code",
		Reply: replace(replyTo("EHLO", 250), func(r *Reply) *Reply {
			var b bytes.Buffer
			for i, l := range r.Lines {
				code, sep := r.Code, "-"
				if i == len(r.Lines)-1 {
					code, sep = 251, " "
				}
				fmt.Fprintf(&b, "%d%s%s\r\n", code, sep, l)
			}
			return &Reply{Code: r.Code, Raw: b.Bytes()}
		})},
	{Name: "echo-control-characters", Doc: "an unknown command is quoted back in the reply, control characters and all",
		Reply: func(s *Session, c *Command, r *Reply) []*Reply {
			if c.Kind == "command" && r.Code == 500 && !slices.Contains(knownVerbs, c.Verb) {
				return []*Reply{R(500, "5.5.2 Unknown command "+string(c.Line))}
			}
			return []*Reply{r}
		}},
	{Name: "echo-long-arguments", Doc: "replies quote the whole command line back, however long",
		Reply: func(s *Session, c *Command, r *Reply) []*Reply {
			if c.Kind == "command" && (r.Code >= 400 || c.Verb == "VRFY") {
				r = r.Clone()
				r.Lines[len(r.Lines)-1] += ": " + string(c.Line)
			}
			return []*Reply{r}
		}},
	{Name: "no-enhanced-codes", Doc: "ENHANCEDSTATUSCODES is advertised but replies carry no enhanced codes (Hermod S-4)",
		Reply: func(s *Session, c *Command, r *Reply) []*Reply {
			r = r.Clone()
			r.mapEnhanced(func(int, string) string { return "" })
			return []*Reply{r}
		}},
	{Name: "enhanced-code-last-line-only", Doc: "a multi-line reply has the enhanced code on its last line only (OpenSMTPD PR #925)",
		Reply: func(s *Session, c *Command, r *Reply) []*Reply {
			r = r.Clone()
			r.mapEnhanced(func(i int, code string) string {
				if i < len(r.Lines)-1 {
					return ""
				}
				return code
			})
			return []*Reply{r}
		}},
	{Name: "enhanced-code-leading-zero", Doc: "enhanced codes are written with a zero-padded subject (2.00.0)",
		Reply: func(s *Session, c *Command, r *Reply) []*Reply {
			r = r.Clone()
			r.mapEnhanced(func(_ int, code string) string {
				p := strings.Split(code, ".")
				return p[0] + ".0" + p[1] + "." + p[2]
			})
			return []*Reply{r}
		}},
	{Name: "enhanced-class-mismatch", Doc: "refusals carry an enhanced code of class 2",
		Reply: func(s *Session, c *Command, r *Reply) []*Reply {
			if r.Code >= 400 {
				r = r.Clone()
				r.mapEnhanced(func(_ int, code string) string { return "2" + code[1:] })
			}
			return []*Reply{r}
		}},
	{Name: "enhanced-code-on-354", Doc: "the 354 reply carries an enhanced code",
		Reply: replace(replyTo("DATA", 354), with(R(354, "2.0.0 Start mail input; end with <CRLF>.<CRLF>")))},
	{Name: "generic-enhanced-codes", Doc: "every enhanced code is X.0.0, whatever happened",
		Reply: func(s *Session, c *Command, r *Reply) []*Reply {
			r = r.Clone()
			r.mapEnhanced(func(_ int, code string) string { return code[:1] + ".0.0" })
			return []*Reply{r}
		}},
}

var greetingFaults = []*Fault{
	{Name: "greeting-451", Doc: "the greeting is a 451 (busy servers that greet with a 4yz other than 421)",
		Greeting: func(s *Session, r *Reply) bool { s.Send(R(451, "mx.example.test busy, try later")); return true }},
	{Name: "greeting-masked", Doc: "the greeting is masked so that it names no host (Cisco PIX/ASA SMTP fixup: \"220 *****\")",
		Greeting: func(s *Session, r *Reply) bool { s.Send(R(220, "*******************************")); return true }},
	{Name: "greeting-mixed-codes", Doc: "a multi-line greeting changes its code on the last line",
		Greeting: func(s *Session, r *Reply) bool {
			s.SendRaw([]byte("220-mx.example.test ESMTP\r\n250 ready\r\n"))
			return true
		}},
	{Name: "early-input-extra-reply", Doc: "input sent before the greeting is answered twice",
		Greeting: func(s *Session, r *Reply) bool {
			s.fill(150 * time.Millisecond)
			s.Send(r)
			if s.Buffered() > 0 {
				s.Send(R(250, "2.0.0 early"))
			}
			return true
		}},
}

var ehloFaults = []*Fault{
	{Name: "no-ehlo", Doc: "EHLO is not implemented (RFC 821-only servers)",
		Command: answer(verb("EHLO"), R(502, "5.5.1 EHLO not implemented"))},
	{Name: "no-helo", Doc: "HELO is no longer accepted",
		Command: answer(verb("HELO"), R(502, "5.5.1 HELO not implemented"))},
	{Name: "helo-lists-extensions", Doc: "HELO gets the multi-line EHLO reply",
		Command: func(s *Session, c *Command) bool {
			if c.Verb != "HELO" {
				return false
			}
			c.Line, c.Verb = append([]byte("EHLO"), c.Line[4:]...), "EHLO"
			s.Relay(c)
			return true
		}},
	{Name: "ehlo-legacy-auth-line", Doc: "the EHLO reply carries the legacy AUTH=LOGIN PLAIN line (Postfix broken_sasl_auth_clients)",
		Reply: ehlo(nil, func(r *Reply) { r.Lines = append(r.Lines[:1], append([]string{"AUTH=LOGIN PLAIN"}, r.Lines[1:]...)...) })},
	{Name: "ehlo-unregistered-keyword", Doc: "the EHLO reply lists a vendor keyword without the X prefix",
		Reply: ehlo(nil, func(r *Reply) { r.addKeyword("SMTPSPECFEATURE") })},
	{Name: "ehlo-without-domain-accepted", Doc: "EHLO and HELO without a domain are accepted",
		Command: func(s *Session, c *Command) bool {
			if (c.Verb != "EHLO" && c.Verb != "HELO") || strings.TrimSpace(c.Arg) != "" {
				return false
			}
			s.Send(R(250, "mx.example.test"))
			return true
		}},
	{Name: "ehlo-literals-refused", Doc: "an address literal is refused as EHLO argument (james-project #5258)",
		Command: answer(func(s *Session, c *Command) bool {
			return (c.Verb == "EHLO" || c.Verb == "HELO") && strings.HasPrefix(c.Arg, "[")
		}, R(501, "5.5.4 Invalid domain name"))},
	{Name: "verbs-case-sensitive", Doc: "only upper-case verbs are recognised",
		Command: answer(func(s *Session, c *Command) bool { return !isUpper(firstWord(c)) },
			R(500, "5.5.2 Command not recognized"))},
	{Name: "helo-policy-550", Doc: "an EHLO name with an underscore is refused by policy with 550",
		Command: answer(func(s *Session, c *Command) bool {
			return (c.Verb == "EHLO" || c.Verb == "HELO") && strings.Contains(c.Arg, "_")
		}, R(550, "5.7.1 Invalid HELO name"))},
	{Name: "ehlo-name-checked", Doc: "mail is refused when the EHLO name does not look like the client's (reject_unknown_helo_hostname)",
		Command: func(s *Session, c *Command) bool {
			if c.Verb == "EHLO" || c.Verb == "HELO" {
				s.memo["helo"] = c.Arg
			}
			if c.Verb == "MAIL" {
				if h, _ := s.memo["helo"].(string); strings.HasSuffix(h, ".example") {
					s.Send(R(550, "5.7.1 HELO name does not match your address"))
					return true
				}
			}
			return false
		}},
	{Name: "long-domains-refused", Doc: "EHLO names over 200 octets are refused",
		Command: answer(func(s *Session, c *Command) bool {
			return (c.Verb == "EHLO" || c.Verb == "HELO") && len(c.Arg) > 200
		}, R(501, "5.5.4 Domain name too long"))},
	{Name: "help-500", Doc: "HELP is advertised but not recognised",
		Command: answer(verb("HELP"), R(500, "5.5.2 Command not recognized"))},
	{Name: "help-250", Doc: "HELP is answered with 250 (aiosmtpd)",
		Command: answer(verb("HELP"), R(250, "Supported commands: DATA EHLO HELO MAIL NOOP QUIT RCPT RSET"))},
	{Name: "bdat-502", Doc: "CHUNKING is advertised but BDAT is not implemented",
		Command: answer(verb("BDAT"), R(502, "5.5.1 BDAT not implemented"))},
	{Name: "auth-mechanism-502", Doc: "AUTH with an unknown mechanism gets 502",
		Command: answer(func(s *Session, c *Command) bool {
			mech, _, _ := strings.Cut(c.Arg, " ")
			return c.Verb == "AUTH" && !slices.Contains([]string{"PLAIN", "LOGIN", ""}, strings.ToUpper(mech))
		}, R(502, "5.5.1 Mechanism not implemented"))},
	{Name: "expn-advertised-broken", Doc: "EXPN is advertised but not implemented",
		Reply: ehlo(nil, func(r *Reply) { r.addKeyword("EXPN") })},
}

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
