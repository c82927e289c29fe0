package reference

import (
	"encoding/base64"
	"slices"
	"strings"
	"testing"
	"time"
)

// plainIR is AUTH PLAIN's initial response for user/pass.
var plainIR = base64.StdEncoding.EncodeToString([]byte("\x00user\x00pass"))

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func insecureAuth(c *Config) { c.AllowInsecureAuth = true }

// TestEHLOKeywords checks the capability list before and after TLS.
func TestEHLOKeywords(t *testing.T) {
	t.Parallel()
	ts := startServer(t, baseConfig())
	c := ts.dial(t)
	r := c.expect("EHLO c.example", "250")
	if !strings.HasPrefix(r.lines[0], "250-mx.example.test ") {
		t.Errorf("first EHLO line = %q, want the server's name", r.lines[0])
	}
	kw := c.ehlo()
	for _, want := range []string{"PIPELINING", "SIZE 10485760", "8BITMIME", "SMTPUTF8", "ENHANCEDSTATUSCODES",
		"CHUNKING", "BINARYMIME", "DSN", "HELP", "STARTTLS"} {
		if !slices.Contains(kw, want) {
			t.Errorf("EHLO lacks %q: %q", want, kw)
		}
	}
	if slices.ContainsFunc(kw, func(k string) bool { return strings.HasPrefix(k, "AUTH") || k == "EXPN" }) {
		t.Errorf("plaintext EHLO offers AUTH or EXPN: %q", kw)
	}
	if r := c.expect("HELO c.example", "250"); len(r.lines) != 1 {
		t.Errorf("HELO reply has %d lines, want 1", len(r.lines))
	}
	c.startTLS(ts.pool)
	kw = c.ehlo()
	if slices.Contains(kw, "STARTTLS") || !slices.Contains(kw, "AUTH PLAIN LOGIN") {
		t.Errorf("EHLO under TLS = %q, want AUTH and no STARTTLS", kw)
	}
}

// TestPipelining covers RFC 2920.
func TestPipelining(t *testing.T) {
	t.Parallel()
	runScripts(t, []script{
		{name: "replies-in-order", ehlo: true, steps: []step{
			s("MAIL FROM:<a@x.example>\r\nRCPT TO:<nouser@example.test>\r\nRCPT TO:<user@example.test>\r\nDATA\r\n",
				"250", "550", "250", "354"),
			s(".\r\n", "250"),
		}},
		{name: "never-lose-input", ehlo: true, steps: []step{
			s("MAIL FROM:bad\r\nMAIL FROM:<a@x.example>\r\nRCPT TO:<user@example.test>\r\nNOOP\r\n", "501", "250", "250", "250"),
		}},
		{name: "data-only-if-valid-rcpt", ehlo: true, steps: []step{
			s("MAIL FROM:<a@x.example>\r\nRCPT TO:<nouser@example.test>\r\nDATA\r\n", "250", "550", "503"),
		}},
		{name: "whole-transaction-in-one-write", ehlo: true, steps: []step{
			s(txData+"Subject: x\r\n\r\nbody\r\n.\r\nQUIT\r\n", "250", "250", "354", "250", "221", "close"),
		}, check: oneMessage("Subject: x\r\n\r\nbody\r\n")},
		{name: "many-commands-one-write", ehlo: true, steps: []step{
			s(strings.Repeat("NOOP\r\n", 2000), repeatWant("250", 2000)...),
		}},
		{name: "auth-plain-pipelined", cfg: insecureAuth, ehlo: true, steps: []step{
			s("AUTH PLAIN "+plainIR+"\r\nMAIL FROM:<a@x.example>\r\n", "235 2.7.0", "250"),
		}},
	})
}

// TestFlushWhenIdle checks that replies are not held back (RFC 2920 §3.2).
func TestFlushWhenIdle(t *testing.T) {
	t.Parallel()
	ts := startServer(t, baseConfig())
	c := ts.dial(t)
	c.ehlo()
	c.send("MAIL FROM:<a@x.example>\r\nRCPT TO:<user@example.test>\r\n")
	for range 2 {
		if _, err := c.tryRead(2 * time.Second); err != nil {
			t.Fatalf("pipelined replies not flushed: %v", err)
		}
	}
	c.send("FOO\r\n")
	if _, err := c.tryRead(2 * time.Second); err != nil {
		t.Fatalf("500 not flushed: %v", err)
	}
}

// TestSTARTTLS covers RFC 3207 and CVE-2011-0411.
func TestSTARTTLS(t *testing.T) {
	t.Parallel()
	ts := startServer(t, baseConfig())
	t.Run("state-reset", func(t *testing.T) {
		t.Parallel()
		c := ts.dial(t)
		c.ehlo()
		c.startTLS(ts.pool)
		c.expect("MAIL FROM:<a@x.example>", "503 5.5.1")
		c.ehlo()
		c.expect("MAIL FROM:<a@x.example>", "250")
		c.expect("STARTTLS", "503 5.5.1")
	})
	t.Run("second-starttls-503", func(t *testing.T) {
		t.Parallel()
		c := ts.dial(t)
		c.ehlo()
		c.startTLS(ts.pool)
		c.ehlo()
		c.expect("STARTTLS", "503 5.5.1")
	})
	t.Run("in-transaction-503", func(t *testing.T) {
		t.Parallel()
		c := ts.dial(t)
		c.ehlo()
		c.expect("MAIL FROM:<a@x.example>", "250")
		c.expect("STARTTLS", "503 5.5.1")
		c.expect("RCPT TO:<user@example.test>", "250")
	})
	t.Run("no-params", func(t *testing.T) {
		t.Parallel()
		c := ts.dial(t)
		c.ehlo()
		c.expect("STARTTLS now", "501 5.5.4")
	})
	t.Run("command-injection", func(t *testing.T) {
		t.Parallel()
		c := ts.dial(t)
		c.ehlo()
		c.send("STARTTLS\r\nNOOP\r\n")
		c.check("STARTTLS", c.read(), "220")
		c.startTLSAfter220(ts.pool)
		c.expectSilence(500 * time.Millisecond)
		c.expect("NOOP", "250")
	})
	t.Run("auth-state-dropped", func(t *testing.T) {
		t.Parallel()
		c := ts.dial(t)
		c.ehlo()
		c.startTLS(ts.pool)
		c.ehlo()
		c.expect("AUTH PLAIN "+plainIR, "235")
		c.expect("AUTH PLAIN "+plainIR, "503 5.5.1")
	})
	t.Run("handshake-garbage-closes", func(t *testing.T) {
		t.Parallel()
		c := ts.dial(t)
		c.ehlo()
		c.expect("STARTTLS", "220")
		c.send("NOOP\r\nNOOP\r\nthis is not TLS\r\n")
		c.expectClosedOrGarbage()
	})
}

// TestAUTH covers RFC 4954 and the LOGIN mechanism.
func TestAUTH(t *testing.T) {
	t.Parallel()
	runScripts(t, []script{
		{name: "plaintext-530", ehlo: true, steps: []step{
			s("AUTH PLAIN "+plainIR+"\r\n", "530 5.7.0"), s("AUTH LOGIN\r\n", "530 5.7.0"),
		}},
		{name: "plain-ir", cfg: insecureAuth, ehlo: true, steps: []step{s("AUTH PLAIN "+plainIR+"\r\n", "235 2.7.0")}},
		{name: "plain-empty-challenge", cfg: insecureAuth, ehlo: true, steps: []step{
			s("AUTH PLAIN\r\n", "334"), s(plainIR+"\r\n", "235"),
		}},
		{name: "login", cfg: insecureAuth, ehlo: true, steps: []step{
			s("AUTH LOGIN\r\n", "334"), s(b64("user")+"\r\n", "334"), s(b64("pass")+"\r\n", "235 2.7.0"),
		}},
		{name: "login-ir", cfg: insecureAuth, ehlo: true, steps: []step{
			s("AUTH LOGIN "+b64("user")+"\r\n", "334"), s(b64("pass")+"\r\n", "235"),
		}},
		{name: "cancel-star-501", cfg: insecureAuth, ehlo: true, steps: []step{
			s("AUTH PLAIN\r\n", "334"), s("*\r\n", "501 5.7.0"),
			s("AUTH LOGIN\r\n", "334"), s(b64("user")+"\r\n", "334"), s("*\r\n", "501 5.7.0"),
		}},
		{name: "bad-base64-501", cfg: insecureAuth, ehlo: true, steps: []step{
			s("AUTH PLAIN !!!notbase64\r\n", "501 5.5.2"), s("AUTH PLAIN =AAA\r\n", "501 5.5.2"),
			s("AUTH PLAIN AAA=BBB\r\n", "501 5.5.2"), s("AUTH PLAIN\r\n", "334"), s("AH\nVz\r\n", "501 5.5.2"),
		}},
		{name: "unknown-mechanism-504", cfg: insecureAuth, ehlo: true, steps: []step{
			s("AUTH FOOBAR\r\n", "504 5.5.4"), s("AUTH CRAM-MD5 dGVzdA==\r\n", "504"), s("AUTH\r\n", "501"),
		}},
		{name: "second-auth-503", cfg: insecureAuth, ehlo: true, steps: []step{
			s("AUTH PLAIN "+plainIR+"\r\n", "235"), s("AUTH PLAIN "+plainIR+"\r\n", "503 5.5.1"),
		}},
		{name: "auth-in-transaction-503", cfg: insecureAuth, ehlo: true, steps: []step{
			s("MAIL FROM:<a@x.example>\r\nAUTH PLAIN "+plainIR+"\r\n", "250", "503 5.5.1"),
		}},
		{name: "auth-before-ehlo-503", cfg: insecureAuth, steps: []step{s("AUTH PLAIN "+plainIR+"\r\n", "503 5.5.1")}},
		{name: "bad-credentials-535", cfg: insecureAuth, ehlo: true, steps: []step{
			s("AUTH PLAIN "+b64("\x00user\x00wrong")+"\r\n", "535 5.7.8"),
			s("AUTH PLAIN "+b64("\x00nobody\x00pass")+"\r\n", "535 5.7.8"),
			s("AUTH PLAIN "+b64("other\x00user\x00pass")+"\r\n", "535 5.7.8"),
			s("AUTH LOGIN "+b64("user")+"\r\n", "334"), s(b64("nope")+"\r\n", "535 5.7.8"),
		}},
		{name: "equals-empty-ir", cfg: insecureAuth, ehlo: true, steps: []step{s("AUTH PLAIN =\r\n", "535")}},
		{name: "long-auth-line", cfg: insecureAuth, ehlo: true, steps: []step{
			s("AUTH PLAIN "+strings.Repeat("QUFB", 1000)+"\r\n", "535"),
			s("AUTH PLAIN "+strings.Repeat("QUFB", 5000)+"\r\n", "500"),
			s("AUTH PLAIN\r\n", "334"), s(strings.Repeat("QUFB", 5000)+"\r\n", "500 5.5.6"),
		}},
		{name: "relay-after-auth", cfg: insecureAuth, ehlo: true, steps: []step{
			s("AUTH PLAIN "+plainIR+"\r\n", "235"),
			s("MAIL FROM:<a@x.example>\r\nRCPT TO:<b@external.invalid>\r\n", "250", "250"),
		}},
		{name: "mail-auth-param", cfg: insecureAuth, ehlo: true, steps: []step{
			s("MAIL FROM:<a@x.example> AUTH=<>\r\n", "250"), s("RSET\r\n", "250"),
			s("MAIL FROM:<a@x.example> AUTH=a+2Bb@x.example\r\n", "250"), s("RSET\r\n", "250"),
			s("MAIL FROM:<a@x.example> AUTH=a+2b\r\n", "501"),
		}},
		{name: "mail-auth-param-not-offered", ehlo: true, steps: []step{
			s("MAIL FROM:<a@x.example> AUTH=<>\r\n", "555 5.5.4"), s("MAIL FROM:<a@x.example>\r\n", "250"),
		}},
		{name: "auth-after-helo", cfg: insecureAuth, steps: []step{
			s("HELO c.example\r\n", "250"), s("AUTH PLAIN "+plainIR+"\r\n", "503 5.5.1"),
		}},
	})
}

// TestCHUNKING covers BDAT (RFC 3030).
func TestCHUNKING(t *testing.T) {
	t.Parallel()
	small := func(c *Config) { c.MaxMessageSize = 100 }
	runScripts(t, []script{
		{name: "250-per-chunk", ehlo: true, steps: []step{
			s(mailRcpt+"BDAT 5\r\nHello", "250", "250", "250 2.0.0"), s("BDAT 0 LAST\r\n", "250 2.0.0"),
		}, check: oneMessage("Hello")},
		{name: "last-completes", ehlo: true, steps: []step{
			s(mailRcpt+"BDAT 20 LAST\r\n01234567890123456789", "250", "250", "250"),
			s("RCPT TO:<user@example.test>\r\n", "503"),
		}, check: oneMessage("01234567890123456789")},
		{name: "bdat-after-last-503", ehlo: true, steps: []step{
			s(mailRcpt+"BDAT 1 LAST\r\nx", "250", "250", "250"), s("BDAT 3\r\nabc", "503 5.5.1"),
		}},
		{name: "failed-bdat-consumes-chunk", ehlo: true, steps: []step{s("BDAT 12 LAST\r\nNOOP\r\nNOOP\r\n", "503 5.5.1")}},
		{name: "bdat-sequence-503", ehlo: true, steps: []step{s("MAIL FROM:<a@x.example>\r\nBDAT 3\r\nabc", "250", "503 5.5.1")}},
		{name: "discard-pipelined-chunks", cfg: small, ehlo: true, steps: []step{
			s(mailRcpt+"BDAT 101\r\n"+strings.Repeat("q", 101)+"BDAT 3 LAST\r\nxyz", "250", "250", "552 5.3.4", "503"),
			s("RSET\r\n", "250"),
		}, check: noMessages},
		{name: "data-after-bdat-503", ehlo: true, steps: []step{
			s(mailRcpt+"BDAT 3\r\nabc", "250", "250", "250"), s("DATA\r\n", "503 5.5.1"),
		}},
		{name: "rset-discards-chunks", ehlo: true, steps: []step{
			s(mailRcpt+"BDAT 3\r\nabc", "250", "250", "250"), s("RSET\r\n", "250"),
			s(mailRcpt+"BDAT 3 LAST\r\nxyz", "250", "250", "250"),
		}, check: oneMessage("xyz")},
		{name: "no-dot-transparency", ehlo: true, steps: []step{
			s(mailRcpt+"BDAT 12 LAST\r\nA\r\n.\r\n..\r\nBC", "250", "250", "250"),
		}, check: oneMessage("A\r\n.\r\n..\r\nBC")},
		{name: "command-bytes-are-data", ehlo: true, steps: []step{
			s(mailRcpt+"BDAT 6 LAST\r\nQUIT\r\n", "250", "250", "250"),
		}, check: oneMessage("QUIT\r\n")},
		{name: "bdat-syntax", ehlo: true, steps: []step{
			s("BDAT\r\n", "501 5.5.4"), s("BDAT abc\r\n", "501"), s("BDAT 3 FIRST\r\nabc", "501"),
			s("BDAT -1\r\n", "501"), s("BDAT 99999999999999999999\r\n", "501"),
		}},
		{name: "pipelined-chunks", ehlo: true, steps: []step{
			s(mailRcpt+"BDAT 3\r\nabcBDAT 2 LAST\r\nde", "250", "250", "250", "250"),
		}, check: oneMessage("abcde")},
		{name: "size-limit", cfg: small, ehlo: true, steps: []step{
			s(mailRcpt+"BDAT 101 LAST\r\n"+strings.Repeat("q", 101), "250", "250", "552 5.3.4"),
		}, check: noMessages},
		{name: "cumulative-size-limit", cfg: small, ehlo: true, steps: []step{
			s(mailRcpt+"BDAT 60\r\n"+strings.Repeat("q", 60)+"BDAT 60 LAST\r\n"+strings.Repeat("q", 60), "250", "250", "250", "552"),
		}, check: noMessages},
		{name: "binarymime-needs-bdat", ehlo: true, steps: []step{
			s("MAIL FROM:<a@x.example> BODY=BINARYMIME\r\nRCPT TO:<user@example.test>\r\nDATA\r\n", "250", "250", "503 5.5.1"),
			s("BDAT 4 LAST\r\n\x00\x01\r\n", "250"),
		}, check: oneMessage("\x00\x01\r\n")},
		{name: "big-chunk-streamed", ehlo: true, steps: []step{
			s(mailRcpt+"BDAT 300000 LAST\r\n"+strings.Repeat("z", 300000), "250", "250", "250"),
		}},
	})
}

// TestParams covers 8BITMIME, SMTPUTF8 and DSN parameters.
func TestParams(t *testing.T) {
	t.Parallel()
	mail := func(params, want string) step {
		return s("MAIL FROM:<a@x.example> "+params+"\r\nRSET\r\n", want, "250")
	}
	rcpt := func(params, want string) step {
		return s("MAIL FROM:<a@x.example>\r\nRCPT TO:<user@example.test> "+params+"\r\nRSET\r\n", "250", want, "250")
	}
	runScripts(t, []script{
		{name: "body", ehlo: true, steps: []step{
			mail("BODY=8BITMIME", "250"), mail("BODY=7bit", "250"), mail("BODY=9BIT", "501 5.5.4"), mail("BODY", "501"),
		}},
		{name: "smtputf8", ehlo: true, steps: []step{mail("SMTPUTF8", "250"), mail("SMTPUTF8=YES", "501")}},
		{name: "ret", ehlo: true, steps: []step{
			mail("RET=HDRS", "250"), mail("RET=full", "250"), mail("RET=BOGUS", "501"), mail("RET=FULL RET=HDRS", "501"),
		}},
		{name: "envid", ehlo: true, steps: []step{
			mail("ENVID=QQ314159", "250"), mail("ENVID="+strings.Repeat("a", 100), "250"),
			mail("ENVID="+strings.Repeat("a", 101), "501"), mail("ENVID=a+ZZ", "501"), mail("ENVID=a ENVID=b", "501"),
		}},
		{name: "notify", ehlo: true, steps: []step{
			rcpt("NOTIFY=SUCCESS,FAILURE", "250"), rcpt("NOTIFY=never", "250"), rcpt("NOTIFY=NEVER,SUCCESS", "501"),
			rcpt("NOTIFY=BOGUS", "501"), rcpt("NOTIFY=DELAY,DELAY", "501"), rcpt("NOTIFY=SUCCESS NOTIFY=DELAY", "501"),
		}},
		{name: "orcpt", ehlo: true, steps: []step{
			rcpt("ORCPT=rfc822;user@example.test", "250"), rcpt("ORCPT=user@example.test", "501"),
			rcpt("ORCPT=rfc822;a+2Bb@example.test", "250"), rcpt("ORCPT=rfc822;a+zz", "501"),
		}},
		{name: "dsn-same-reply", ehlo: true, steps: []step{
			s("MAIL FROM:<a@x.example>\r\nRCPT TO:<nouser@example.test> NOTIFY=NEVER\r\n", "250", "550 5.1.1"),
		}},
		{name: "recorded", ehlo: true, steps: []step{
			s("MAIL FROM:<a@x.example> BODY=8BITMIME RET=HDRS ENVID=QQ+2B1 SIZE=30 SMTPUTF8\r\n"+
				"RCPT TO:<user@example.test> NOTIFY=SUCCESS,DELAY ORCPT=rfc822;user+2B1@example.test\r\n"+
				"RCPT TO:<postmaster>\r\nDATA\r\n", "250", "250", "250", "354"),
			s("x\r\n.\r\n", "250"),
		}, check: func(t *testing.T, msgs []Message) {
			if len(msgs) != 1 {
				t.Fatalf("stored %d messages", len(msgs))
			}
			m := msgs[0]
			if m.Body != "8BITMIME" || m.Ret != "HDRS" || m.EnvID != "QQ+1" || m.Size != 30 || !m.SMTPUTF8 {
				t.Errorf("MAIL parameters not recorded: %+v", m)
			}
			want := []Recipient{
				{Addr: "user@example.test", Notify: []string{"SUCCESS", "DELAY"}, ORCPTType: "rfc822", ORCPT: "user+1@example.test"},
				{Addr: "postmaster"},
			}
			if !slices.EqualFunc(m.Rcpts, want, func(a, b Recipient) bool {
				return a.Addr == b.Addr && slices.Equal(a.Notify, b.Notify) && a.ORCPT == b.ORCPT && a.ORCPTType == b.ORCPTType
			}) {
				t.Errorf("Rcpts = %+v, want %+v", m.Rcpts, want)
			}
			if !strings.HasPrefix(m.Received, "Received: from c.example ([127.0.0.1])") || !strings.Contains(m.Received, "with UTF8SMTP") ||
				strings.Contains(m.Received, "for <") || m.ReturnPath != "Return-Path: <a@x.example>\r\n" {
				t.Errorf("trace fields = %q %q", m.ReturnPath, m.Received)
			}
		}},
	})
}
