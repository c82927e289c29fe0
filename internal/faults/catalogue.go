package faults

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"time"
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
	storeFaults,
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
