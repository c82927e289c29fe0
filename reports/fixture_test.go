package reports

import (
	"slices"
	"time"

	"github.com/smtpspec/smtpspec/harness"
)

// The golden files are rendered from these runs, built here field by field
// so that they never depend on the harness, the catalogue or the clock.

var fixtureStart = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func ms(f float64) time.Duration { return time.Duration(f * float64(time.Millisecond)) }

func greeting() []harness.Entry {
	return []harness.Entry{
		{Direction: harness.Server, Time: ms(0.8), Data: []byte("220 mx.example.net ESMTP ready\r\n")},
	}
}

func ehlo(t float64) []harness.Entry {
	return []harness.Entry{
		{Direction: harness.Client, Time: ms(t), Data: []byte("EHLO client.smtpspec.test\r\n")},
		{Direction: harness.Server, Time: ms(t + 0.3), Data: []byte("250-mx.example.net\r\n250-PIPELINING\r\n250 STARTTLS\r\n")},
	}
}

func entries(parts ...[]harness.Entry) []harness.Entry { return slices.Concat(parts...) }

// fixtureRun has a result of every verdict, with diffs, outcomes, step
// lines, TLS entries, omitted octets and events.
func fixtureRun() *harness.Run {
	rs := []*harness.Result{
		{
			ID: "rfc5321/4.1.4/mail-before-ehlo", Title: "MAIL before EHLO or HELO is out of sequence", Group: "rfc5321/4.1.4", GroupTitle: "Order of commands",
			File: "cases/rfc5321/4.1.4-command-order.yaml", Line: 9, StepLine: 17,
			Spec: []string{"RFC 5321 §4.1.4"}, Level: harness.LevelMust, Tags: []string{"sequence"},
			Requirement: "A transaction starts only after the client has said EHLO or HELO.",
			Verdict:     harness.Fail, Duration: ms(2.5),
			Message: `step 1 "MAIL FROM:<a@example.org>": want 503 5.5.1, got "250 2.1.0 Ok\r\n"`,
			Diff:    "\u00a0\u00a0[]harness.View{\n\u00a0\u00a0\t{\n-\u00a0\t\t\"code\":     \"503\",\n+\u00a0\t\t\"code\":     \"250\",\n\u00a0\u00a0\t\t\"enhanced\": \"5.5.1\",\n\u00a0\u00a0\t},\n\u00a0\u00a0}\n",
			Transcript: entries(greeting(), []harness.Entry{
				{Direction: harness.Client, Time: ms(1.0), Data: []byte("MAIL FROM:<a@example.org>\r\n")},
				{Direction: harness.Server, Time: ms(1.9), Data: []byte("250 2.1.0 Ok\r\n")},
			}),
		},
		{
			ID: "rfc5321/4.1.4/rcpt-before-mail", Title: "RCPT before MAIL is out of sequence", Group: "rfc5321/4.1.4", GroupTitle: "Order of commands",
			File: "cases/rfc5321/4.1.4-command-order.yaml", Line: 30,
			Spec: []string{"RFC 5321 §4.1.4"}, Level: harness.LevelMust, Tags: []string{"sequence"},
			Requirement: "RCPT is refused with 503 until MAIL has been accepted.",
			Verdict:     harness.Pass, Duration: ms(1.25),
			Transcript: entries(greeting(), ehlo(1.0), []harness.Entry{
				{Direction: harness.Client, Time: ms(1.5), Data: []byte("RCPT TO:<postmaster>\r\n")},
				{Direction: harness.Server, Time: ms(1.7), Data: []byte("503 5.5.1 need MAIL first\r\n")},
			}),
		},
		{
			ID: "rfc5321/4.1.4/help-before-ehlo", Title: "HELP works before EHLO", Group: "rfc5321/4.1.4", GroupTitle: "Order of commands",
			File: "cases/rfc5321/4.1.4-command-order.yaml", Line: 52, StepLine: 58,
			Spec: []string{"RFC 5321 §4.1.4"}, Level: harness.LevelShould,
			Requirement: "HELP may be used at any time, also before EHLO.",
			Verdict:     harness.NonStrict, Duration: ms(0.9),
			Message: `step 1 "HELP": 502 is accepted only under the lenient profile`,
		},
		{
			ID: "rfc5321/2.3.8/bare-lf-does-not-end-command", Title: "A bare LF does not end a command line", Group: "rfc5321/2.3.8",
			File: "cases/rfc5321/2.3.8-lines.yaml", Line: 6, StepLine: 23,
			Spec: []string{"RFC 5321 §2.3.8", "RFC 5321 §4.1.1"}, Level: harness.LevelMust, Tags: []string{"framing", "security"},
			Requirement: `Only CRLF ends a line, so "NOOP<LF>NOOP<CRLF>" is one odd command line.`,
			Verdict:     harness.Fail, Outcome: "split-at-lf", Duration: ms(3.75),
			Message: `step 2 "QUIT": outcome "split-at-lf" (250, 250, 221 then closed)`,
			Diff:    "against outcome \"one-line\":\n\u00a0\u00a0[]harness.View{\n+\u00a0\t{\"code\": \"250\"},\n\u00a0\u00a0\t{\"closed\": \"yes\", \"code\": \"221\"},\n\u00a0\u00a0}\n",
			Transcript: entries(greeting(), ehlo(1.0), []harness.Entry{
				{Direction: harness.Client, Time: ms(1.4), Data: []byte("NOOP\nNOOP\r\n")},
				{Direction: harness.Client, Time: ms(1.41), Data: []byte("QUIT\r\n")},
				{Direction: harness.Server, Time: ms(2.0), Data: []byte("250 Ok\r\n250 Ok\r\n221 Bye\r\n")},
				{Direction: harness.Event, Time: ms(2.2), Data: []byte("connection closed by server (EOF)")},
			}),
		},
		{
			ID: "rfc5321/2.3.8/bare-cr-does-not-end-command", Title: "A bare CR does not end a command line", Group: "rfc5321/2.3.8",
			File: "cases/rfc5321/2.3.8-lines.yaml", Line: 40,
			Spec: []string{"RFC 5321 §2.3.8"}, Level: harness.LevelMust, Tags: []string{"framing"},
			Requirement: "Only CRLF ends a line.",
			Verdict:     harness.Pass, Outcome: "one-line", Duration: ms(1.0),
		},
		{
			ID: "rfc3207/4/starttls-then-ehlo", Title: "After STARTTLS the client must say EHLO again", Group: "rfc3207/4",
			File: "cases/rfc3207/4-starttls.yaml", Line: 12,
			Spec: []string{"RFC 3207 §4.2"}, Level: harness.LevelMust, Tags: []string{"tls"},
			Requirement: "The server forgets what it learnt before TLS.",
			Verdict:     harness.Error, Duration: ms(5001),
			Message: "step 3: read: i/o timeout after 5s",
			Transcript: entries(greeting(), ehlo(1.0), []harness.Entry{
				{Direction: harness.Client, Time: ms(1.5), Data: []byte("STARTTLS\r\n")},
				{Direction: harness.Server, Time: ms(1.8), Data: []byte("220 2.0.0 go ahead\r\n")},
				{Direction: harness.Event, Time: ms(9.5), Data: []byte("TLS 1.3 handshake done")},
				{Direction: harness.Client, Time: ms(9.6), Data: []byte("MAIL FROM:<a@example.org>\r\n"), TLS: true},
				{Direction: harness.Server, Time: ms(10.1), Data: []byte("250 " + "x\r\n"), Omitted: 4096, TLS: true},
				{Direction: harness.Event, Time: ms(5010), Data: []byte("read timeout (5s)")},
			}),
		},
		{
			ID: "rfc3030/2/bdat-last", Title: "BDAT LAST ends the message", Group: "rfc3030/2",
			File: "cases/rfc3030/2-chunking.yaml", Line: 5,
			Spec: []string{"RFC 3030 §2"}, Level: harness.LevelMust,
			Requirement: "A BDAT chunk with LAST completes the transaction.",
			Verdict:     harness.Unimplemented, Duration: 0,
			Message: "unimplemented: the target does not advertise CHUNKING",
		},
		{
			ID: "rfc4954/4/auth-plain", Title: "AUTH PLAIN with valid credentials succeeds", Group: "rfc4954/4",
			File: "cases/rfc4954/4-auth.yaml", Line: 8,
			Spec: []string{"RFC 4954 §4", "RFC 4616"}, Level: harness.LevelMay,
			Requirement: "Valid credentials get 235.",
			Verdict:     harness.Skip,
			Message:     "skipped: the profile has no AUTH credentials (--auth)",
		},
		{
			ID: "rfc5321/4.1.1.1/ehlo-trailing-comment", Title: "Text after the EHLO argument", Group: "rfc5321/4.1.1.1",
			File: "cases/rfc5321/4.1.1.1-ehlo.yaml", Line: 120,
			Spec: []string{"RFC 5321 §4.1.1.1"}, Level: harness.LevelInfo, Tags: []string{"info"},
			Requirement: "Records whether the server accepts text after the domain.",
			Verdict:     harness.Info, Outcome: "accepted", Duration: ms(1.1),
			Message: `outcome "accepted"`,
		},
	}
	slices.SortStableFunc(rs, func(a, b *harness.Result) int { return harness.CompareIDs(a.ID, b.ID) })
	return &harness.Run{
		Target: harness.TargetInfo{
			Addr: "192.0.2.25:25", Greeting: "mx.example.net ESMTP ready",
			EHLO:    []string{"PIPELINING", "SIZE 10240000", "STARTTLS", "ENHANCEDSTATUSCODES"},
			EHLOTLS: []string{"PIPELINING", "SIZE 10240000", "ENHANCEDSTATUSCODES", "AUTH PLAIN"},
		},
		Started:  fixtureStart,
		Duration: ms(5123.4),
		Results:  rs,
	}
}

// fixtureBaseline lists one failure of fixtureRun (known), one passing
// case (stale) and one case the run lacks (unchecked); the other failure
// and the error are new.
func fixtureBaseline() *Baseline {
	return &Baseline{Name: "known.txt", Entries: []BaselineEntry{
		{ID: "rfc5321/2.3.8/bare-lf-does-not-end-command", Reason: "the server splits at bare LF (upstream issue 42)", Line: 4},
		{ID: "rfc5321/4.1.4/rcpt-before-mail", Reason: "used to answer 250", Line: 5},
		{ID: "rfc9999/1/gone", Reason: "case removed from the catalogue", Line: 6},
	}}
}

// hostile is wire data from a server that tries to break every format:
// terminal escapes, NUL, CDATA and script terminators, HTML comments,
// Markdown fences and details, a workflow command, bidi overrides,
// U+2028, invalid UTF-8, and an XML-illegal non-character.
const hostile = "220 \x1b[2J\x1b]0;owned\x07\x00 ]]> </script><script>alert(1)</script> <!-- -->" +
	" </details> ``` |a|b| *x* @team $x$ \u202e\u2028 \xff\xfe\xc3 \ufffe end"

// hostileRun is a failed case whose greeting, transcript, message, diff,
// outcome and target fields all carry hostile data.
func hostileRun() *harness.Run {
	r := &harness.Result{
		ID: "rfc5321/3.1/greeting-220", Title: "The server opens the session with a 220 reply", Group: "rfc5321/3.1",
		File: "cases/rfc5321/3.1-session-initiation.yaml", Line: 7, Spec: []string{"RFC 5321 §3.1"}, Level: harness.LevelMust,
		Requirement: "The first reply is 220.",
		Verdict:     harness.Fail, Outcome: "odd" + hostile, Duration: ms(1),
		Message: "step 0: got " + hostile + "\n::error::second line",
		Diff:    "-\u00a0\t\"text\": \"" + hostile + "\"\n+\u00a0\t\"text\": \"]]>\"\n",
		Transcript: []harness.Entry{
			{Direction: harness.Server, Time: ms(0.5), Data: []byte(hostile + "\r\n")},
			{Direction: harness.Server, Time: ms(0.6), Data: []byte("::error file=x,line=1::pwned\r\n::stop-commands::tok\n")},
			{Direction: harness.Event, Time: ms(0.7), Data: []byte("event " + hostile)},
			{Direction: harness.Client, Time: ms(0.8), Data: []byte("QUIT\r\n\x00\r\n")},
		},
	}
	return &harness.Run{
		Target:  harness.TargetInfo{Addr: "198.51.100.7:25", Greeting: hostile, EHLO: []string{hostile, "PIPELINING"}, Name: "evil" + hostile},
		Started: fixtureStart, Duration: ms(3),
		Results: []*harness.Result{r},
	}
}
