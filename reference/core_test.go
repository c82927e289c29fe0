package reference

import (
	"strings"
	"testing"
)

// TestSession covers greeting, EHLO/HELO, QUIT, RSET, NOOP and the
// informational commands (RFC 5321 §3.1-§4.1.4).
func TestSession(t *testing.T) {
	t.Parallel()
	runScripts(t, []script{
		{name: "quit-221-close", steps: []step{s("QUIT\r\n", "221 2.0.0", "close")}},
		{name: "quit-ends-pipeline", ehlo: true, steps: []step{s("QUIT\r\nNOOP\r\nRSET\r\n", "221", "close")}},
		{name: "quit-with-args-501", steps: []step{s("QUIT now\r\n", "501 5.5.4")}},
		{name: "quit-mid-transaction", ehlo: true, steps: []step{
			s(mailRcpt+"QUIT\r\n", "250", "250", "221", "close"),
		}, check: noMessages},
		{name: "early-talker", steps: []step{s("EHLO c.example\r\n", "250")}},
		{name: "ehlo-and-helo", steps: []step{
			s("EHLO c.example\r\n", "250"), s("HELO c.example\r\n", "250"),
		}},
		{name: "ehlo-no-arg-501", steps: []step{s("EHLO\r\n", "501 5.5.4"), s("HELO\r\n", "501")}},
		{name: "ehlo-bad-chars-501", steps: []step{s("EHLO bad_name.example\r\n", "501 5.5.2")}},
		{name: "ehlo-address-literals", steps: []step{
			s("EHLO [192.0.2.1]\r\n", "250"), s("EHLO [IPv6:2001:db8::1]\r\n", "250"),
			s("EHLO [300.1.1.1]\r\n", "501"), s("EHLO [2001:db8::1]\r\n", "501"),
		}},
		{name: "ehlo-extra-text-tolerated", steps: []step{s("EHLO [192.0.2.1] (my-laptop)\r\n", "250")}},
		{name: "ehlo-case-insensitive", steps: []step{s("ehlo c.example\r\nEhLo c.example\r\n", "250", "250")}},
		{name: "ehlo-resets", ehlo: true, steps: []step{
			s(mailRcpt, "250", "250"), s("EHLO c.example\r\n", "250"),
			s("RCPT TO:<user@example.test>\r\n", "503 5.5.1"), s("DATA\r\n", "503 5.5.1"),
		}},
		{name: "bad-ehlo-keeps-state", ehlo: true, steps: []step{
			s("MAIL FROM:<a@x.example>\r\n", "250"), s("EHLO\r\n", "501"),
			s("RCPT TO:<user@example.test>\r\n", "250"),
		}},
		{name: "rset-before-ehlo", steps: []step{s("RSET\r\n", "250 2.0.0")}},
		{name: "rset-args-501", steps: []step{s("RSET now\r\n", "501 5.5.4")}},
		{name: "rset-clears", ehlo: true, steps: []step{
			s(mailRcpt+"RSET\r\n", "250", "250", "250"),
			s("RCPT TO:<user@example.test>\r\nDATA\r\n", "503 5.5.1", "503 5.5.1"),
		}},
		{name: "noop-args-ignored", steps: []step{s("NOOP hello world\r\n", "250 2.0.0")}},
		{name: "noop-trailing-space", steps: []step{s("NOOP   \r\n", "250")}},
		{name: "trailing-tab-after-verb", ehlo: true, steps: []step{
			s("NOOP\t\r\n", "250"), s("RSET\t\r\n", "250"), s("HELP \t\r\n", "214"),
		}},
		{name: "vrfy-252", steps: []step{
			s("VRFY user\r\nVRFY nouser\r\n", "252 2.5.0", "252 2.5.0"), s("VRFY\r\n", "501 5.5.4"),
		}},
		{name: "expn-502", steps: []step{s("EXPN staff\r\n", "502 5.5.1")}},
		{name: "help-214", steps: []step{s("HELP\r\n", "214 2.0.0"), s("HELP mail\r\n", "214 2.0.0"), s("HELP FOO\r\n", "504 5.5.4")}},
		{name: "unimplemented-502", steps: []step{
			s("TURN\r\nSAML FROM:<a@x.example>\r\nSEND FROM:<a@x.example>\r\nSOML FROM:<a@x.example>\r\n", "502", "502", "502", "502"),
		}},
		{name: "unknown-500", steps: []step{s("FOO\r\nXNOSUCHTHING\r\n", "500 5.5.2", "500 5.5.2")}},
		{name: "five-unknown-no-close", ehlo: true, steps: []step{
			s("FOO\r\nBAR\r\nBAZ\r\nQUX\r\nZAP\r\n", "500", "500", "500", "500", "500"),
		}},
		{name: "empty-line-500", steps: []step{s("\r\n", "500 5.5.2")}},
		{name: "informational-keep-transaction", ehlo: true, steps: []step{
			s(mailRcpt+"VRFY user\r\nNOOP\r\nHELP\r\n", "250", "250", "252", "250", "214"),
			s("DATA\r\n", "354"), s(".\r\n", "250"),
		}},
		{name: "http-request", steps: []step{s("GET / HTTP/1.1\r\nHost: x\r\n\r\n", "500", "500", "500")}},
		{name: "too-many-errors-421", cfg: func(c *Config) { c.MaxErrors = 10 }, steps: []step{
			s(strings.Repeat("FOO\r\n", 10), append(repeatWant("500", 9), "500", "421 4.7.0", "close")...),
		}},
	})
}

func repeatWant(w string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = w
	}
	return out
}

// TestFraming covers line framing: CRLF only, long lines, NUL.
func TestFraming(t *testing.T) {
	t.Parallel()
	long := func(n int) string { return "NOOP " + strings.Repeat("a", n-7) + "\r\n" }
	runScripts(t, []script{
		{name: "bare-lf-no-split", steps: []step{s("NOOP\nNOOP\r\n", "500 5.5.2")}},
		{name: "bare-cr-no-split", steps: []step{s("NOOP\rNOOP\r\n", "500 5.5.2")}},
		{name: "lf-then-crlf-split-write", steps: []step{s("NOOP\n"), s("QUIT\r\n", "500")}},
		{name: "crlf-split-across-writes", steps: []step{s("NOOP\r"), s("\n", "250")}},
		{name: "line-512-accepted", steps: []step{s(long(512), "250")}},
		{name: "line-513-500", steps: []step{s(long(513), "500 5.5.2")}},
		{name: "long-line-resync", steps: []step{s("NOOP "+strings.Repeat("A", 3000)+"\r\nNOOP\r\n", "500", "250")}},
		{name: "long-line-tail-not-run", steps: []step{
			s("NOOP "+strings.Repeat("A", 4089)+"QUIT\r\n", "500"),
			s("NOOP "+strings.Repeat("A", 8185)+"QUIT\r\n", "500"),
			s("NOOP "+strings.Repeat("A", 20000)+"QUIT\r\n", "500"),
			s("NOOP "+strings.Repeat("A", 505)+"QUIT\r\n", "500"),
		}},
		{name: "huge-line-no-crlf", steps: []step{s(strings.Repeat("X", 200000)+"\r\n", "500")}},
		{name: "cr-at-buffer-edge", steps: []step{s(strings.Repeat("X", 4095)+"\r\nNOOP\r\n", "500", "250")}},
		{name: "nul-in-command", steps: []step{s("NOOP\x00QUIT\r\n", "500")}},
		{name: "nul-in-rcpt", ehlo: true, steps: []step{
			s("MAIL FROM:<a@x.example>\r\n", "250"),
			s("RCPT TO:<user@example.test>\x00<x@external.invalid>\r\n", "501"),
		}},
		{name: "non-ascii-verb", steps: []step{s("NO\xc3\x96P\r\n", "500")}},
	})
}

// TestTransaction covers MAIL/RCPT/DATA sequencing (RFC 5321 §3.3, §4.1.4).
func TestTransaction(t *testing.T) {
	t.Parallel()
	runScripts(t, []script{
		{name: "mail-before-ehlo-503", steps: []step{s("MAIL FROM:<a@x.example>\r\n", "503 5.5.1")}},
		{name: "nested-mail-503", ehlo: true, steps: []step{
			s(mailRcpt, "250", "250"), s("MAIL FROM:<b@x.example>\r\n", "503 5.5.1"), s("DATA\r\n", "354"), s(".\r\n", "250"),
		}},
		{name: "rcpt-without-mail-503", ehlo: true, steps: []step{s("RCPT TO:<user@example.test>\r\n", "503 5.5.1")}},
		{name: "data-without-mail-503", ehlo: true, steps: []step{s("DATA\r\n", "503 5.5.1"), s("NOOP\r\n", "250")}},
		{name: "data-without-rcpt-503", ehlo: true, steps: []step{s("MAIL FROM:<a@x.example>\r\nDATA\r\n", "250", "503 5.5.1")}},
		{name: "data-after-failed-rcpt", ehlo: true, steps: []step{
			s("MAIL FROM:<a@x.example>\r\nRCPT TO:<nouser@example.test>\r\nDATA\r\n", "250", "550 5.1.1", "503 5.5.1"),
		}},
		{name: "data-args-501", ehlo: true, steps: []step{s(mailRcpt+"DATA now\r\n", "250", "250", "501 5.5.4")}},
		{name: "bad-mail-same-state", ehlo: true, steps: []step{
			s("MAIL FROM:<<bad>>\r\n", "501 5.1.7"), s("RCPT TO:<user@example.test>\r\n", "503"),
			s("MAIL FROM:<a@x.example>\r\n", "250"),
		}},
		{name: "path-needs-brackets", ehlo: true, steps: []step{
			s("MAIL FROM:a@x.example\r\n", "501"), s("RCPT TO:<user@example.test>\r\n", "503"),
		}},
		{name: "space-after-colon-501", ehlo: true, steps: []step{s("MAIL FROM: <a@x.example>\r\n", "501")}},
		{name: "mail-trailing-space", ehlo: true, steps: []step{s("MAIL FROM:<a@x.example> \r\n", "250")}},
		{name: "parameters-need-ehlo", steps: []step{
			s("HELO c.example\r\n", "250"), s("MAIL FROM:<a@x.example> BODY=8BITMIME\r\n", "555 5.5.4"),
			s("MAIL FROM:<a@x.example>\r\n", "250"), s("RCPT TO:<user@example.test> NOTIFY=NEVER\r\n", "555 5.5.4"),
			s("RCPT TO:<user@example.test>\r\n", "250"), s("BDAT 3 LAST\r\nabc", "503 5.5.1"), s("NOOP\r\n", "250"),
		}},
		{name: "verbs-case-insensitive", ehlo: true, steps: []step{
			s("mail from:<a@x.example>\r\nrcpt To:<user@example.test>\r\ndAtA\r\n", "250", "250", "354"),
			s(".\r\n", "250"),
		}},
		{name: "buffers-cleared-after-data", ehlo: true, steps: []step{
			s(txData, "250", "250", "354"), s("x\r\n.\r\n", "250"), s("RCPT TO:<user@example.test>\r\n", "503"),
		}},
		{name: "mail-clears-buffers", ehlo: true, steps: []step{
			s(txData, "250", "250", "354"), s("one\r\n.\r\n", "250"),
			s("MAIL FROM:<a@x.example>\r\nRCPT TO:<postmaster@example.test>\r\nDATA\r\n", "250", "250", "354"),
			s("two\r\n.\r\n", "250"),
		}, check: func(t *testing.T, msgs []Message) {
			if len(msgs) != 2 || len(msgs[1].To) != 1 || msgs[1].To[0] != "postmaster@example.test" {
				t.Fatalf("messages = %+v, want the second to postmaster only", msgs)
			}
		}},
		{name: "unknown-param-555", ehlo: true, steps: []step{
			s("MAIL FROM:<a@x.example> FOO=bar\r\n", "555 5.5.4"),
			s("MAIL FROM:<a@x.example>\r\nRCPT TO:<user@example.test> FOO\r\n", "250", "555 5.5.4"),
		}},
		{name: "param-syntax-501", ehlo: true, steps: []step{
			s("MAIL FROM:<a@x.example> SIZE=\r\n", "501"), s("MAIL FROM:<a@x.example> =5\r\n", "501"),
			s("MAIL FROM:<a@x.example>  SIZE=5\r\n", "501"),
		}},
		{name: "100-recipients-then-452", ehlo: true, steps: []step{
			s("MAIL FROM:<a@x.example>\r\n", "250"),
			s(strings.Repeat("RCPT TO:<user@example.test>\r\n", 100), repeatWant("250", 100)...),
			s("RCPT TO:<postmaster@example.test>\r\n", "452 4.5.3"),
			s("DATA\r\n", "354"), s(".\r\n", "250"),
		}},
	})
}

// TestAddresses covers path syntax and the relay policy (RFC 5321 §4.1.2,
// §4.5.1, §4.5.3.1; SEC-open-relay rows).
func TestAddresses(t *testing.T) {
	t.Parallel()
	rcpt := func(addr, want string) script {
		return script{name: "rcpt-" + addr, ehlo: true, steps: []step{
			s("MAIL FROM:<a@x.example>\r\n", "250"), s("RCPT TO:"+addr+"\r\n", want),
		}}
	}
	mail := func(addr, want string) script {
		return script{name: "mail-" + addr, ehlo: true, steps: []step{s("MAIL FROM:"+addr+"\r\n", want)}}
	}
	domain255 := strings.Repeat(strings.Repeat("d", 62)+".", 4)[:251] + ".exa"
	runScripts(t, []script{
		mail("<>", "250 2.1.0"),
		mail("<a@[192.0.2.1]>", "250"),
		mail("<a@[IPv6:2001:db8::1]>", "250"),
		mail("<a@[300.1.1.1]>", "501"),
		mail("<a@[2001:db8::1]>", "501"),
		mail("<a\x01b@x.example>", "501"),
		mail("<j\xc3\xb6rg@x.example>", "553 5.6.7"),
		mail("<j\xc3\xb6rg@x.example> SMTPUTF8", "250"),
		mail("<j\xc3rg@x.example> SMTPUTF8", "501"),
		mail("<postmaster>", "501"),
		mail("<a@b@x.example>", "501"),
		mail("<"+strings.Repeat("a", 64)+"@x.example>", "250"),
		mail("<"+strings.Repeat("a", 65)+"@x.example>", "501"),
		mail("<a@"+domain255+">", "501"), // path over 256
		mail("<a@"+domain255[:250]+"a>", "250"),
		mail("<"+strings.Repeat("a", 64)+"@"+strings.Repeat(strings.Repeat("d", 62)+".", 2)+strings.Repeat("d", 63)+">", "250"), // path of 256
		mail("<\"odd user\"@x.example>", "250"),
		mail("<@relay.example,@hop.example:a@x.example>", "250"),
		mail("<@relay.example a@x.example>", "501"),
		rcpt("<user@example.test>", "250 2.1.5"),
		rcpt("<User@Example.TEST>", "250"),
		rcpt("<nouser@example.test>", "550 5.1.1"),
		rcpt("<user+tag@example.test>", "250"),
		rcpt("<Postmaster>", "250"),
		rcpt("<pOsTmAsTeR>", "250"),
		rcpt("<POSTMASTER@example.test>", "250"),
		rcpt("<postmaster@mx.example.test>", "250"),
		rcpt("<\"user\"@example.test>", "250"),
		rcpt("<\"odd user\"@example.test>", "550 5.1.1"),
		rcpt("<>", "501"),
		rcpt("<b@external.invalid>", "550 5.7.1"),
		rcpt("<b%external.invalid@example.test>", "550 5.1.1"),
		rcpt("<@example.test:b@external.invalid>", "550 5.7.1"),
		rcpt("<external.invalid!b@example.test>", "550 5.1.1"),
		rcpt("<\"b@external.invalid\"@example.test>", "550 5.1.1"),
		rcpt("<b@external.invalid@example.test>", "501"),
		rcpt("<b@[192.0.2.99]>", "550 5.7.1"),
		rcpt("<postmaster@[127.0.0.1]>", "250"),
		rcpt("<@relay.example,@hop.example:user@example.test>", "250"),
		rcpt("<@route.example user@example.test>", "501"),
		rcpt("<\xe7\x94\xa8\xe6\x88\xb7@example.test>", "553 5.6.7"),
		{name: "utf8-rcpt-with-smtputf8", ehlo: true, steps: []step{
			s("MAIL FROM:<j\xc3\xb6rg@example.test> SMTPUTF8\r\n", "250"),
			s("RCPT TO:<\xe7\x94\xa8\xe6\x88\xb7@example.test>\r\n", "550 5.1.1"),
			s("RCPT TO:<postmaster@\xc3\xa9xample.test>\r\n", "550 5.7.1"),
		}},
		{name: "open-relay-basic", ehlo: true, steps: []step{
			s("MAIL FROM:<a@external1.invalid>\r\nRCPT TO:<b@external2.invalid>\r\n", "250", "550 5.7.1"),
		}},
		{name: "any-local-part-without-mailbox-list", cfg: func(c *Config) { c.Mailboxes = nil }, ehlo: true, steps: []step{
			s("MAIL FROM:<a@x.example>\r\nRCPT TO:<anyone@example.test>\r\n", "250", "250"),
		}},
	})
}
