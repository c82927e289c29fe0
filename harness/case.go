// Package harness loads smtpspec conformance cases and runs them against an
// SMTP server.
//
// A case is a short dialogue written in YAML (see cases/README.md): what the
// client sends, byte for byte where that matters, and which replies the
// server may give. The engine opens one fresh connection per case, drives the
// dialogue with a deadline on every read and write, parses every reply
// strictly, and returns a Result with a verdict, a go-cmp diff of expected
// against actual, and the full transcript.
//
// The harness does not import testing; package smtptest adapts it to go test.
package harness

import (
	"regexp"
	"time"
)

// Level is the requirement level a case checks.
type Level string

// The requirement levels, from strongest to weakest. INFO cases only record
// behaviour and never fail.
const (
	LevelMust   Level = "MUST"
	LevelShould Level = "SHOULD"
	LevelMay    Level = "MAY"
	LevelInfo   Level = "INFO"
)

// rank orders levels so that a --level filter can keep "this or stronger".
func (l Level) rank() int {
	switch l {
	case LevelMust:
		return 3
	case LevelShould:
		return 2
	case LevelMay:
		return 1
	}
	return 0
}

// Start is the state a case's connection is brought to before its steps run.
type Start string

// The start presets.
const (
	StartConnect  Start = "connect"  // TCP (or TLS) connected, nothing read
	StartGreeting Start = "greeting" // the 220 greeting read
	StartHelo     Start = "helo"     // after HELO
	StartEhlo     Start = "ehlo"     // after EHLO
	StartTLS      Start = "tls"      // after EHLO, STARTTLS, handshake, EHLO
	StartAuth     Start = "auth"     // after tls (when offered) and AUTH PLAIN
	StartMail     Start = "mail"     // after ehlo and an accepted MAIL FROM
	StartRcpt     Start = "rcpt"     // after mail and an accepted RCPT TO
)

var starts = []Start{StartConnect, StartGreeting, StartHelo, StartEhlo, StartTLS, StartAuth, StartMail, StartRcpt}

// A Case is one conformance check.
type Case struct {
	ID          string   // group + "/" + local id: "rfc5321/4.1.4/rcpt-before-mail"
	Group       string   // the file's group: "rfc5321/4.1.4"
	GroupTitle  string   // the file's title: "Order of commands"
	Title       string   // one line
	Spec        []string // references: "RFC 5321 §4.1.4"
	Level       Level
	Requirement string   // one sentence, our words
	Tags        []string //
	Catalogue   []string // rows of the requirements catalogue this case covers
	Requires    []string // EHLO keywords the target must advertise; "AUTH LOGIN" also needs the parameter
	Start       Start
	Steps       []Step
	Quit        bool // send QUIT after the last step and expect 221 (default true)

	File string // the YAML file, relative to its case directory root
	Line int    // the line of the case's "id" key

	vars []string // profile variables the case uses
}

// A Step is one action and what must follow it.
type Step struct {
	Line int // YAML line of the step

	// Exactly one action, or none (then the step only reads replies).
	Send     string        // a command; CRLF is appended
	Raw      string        // octets sent as they are (after ${} expansion)
	Pipeline []string      // commands, each with CRLF, in one write
	TLS      bool          // perform the TLS handshake (after a 220 to STARTTLS)
	Close    bool          // close the connection from the client's side
	Pause    time.Duration // sleep

	// Expect lists one expectation per reply, in order.
	Expect []Expect
	// Outcomes, if set instead of Expect, classify the replies that arrive
	// until the server closes the connection: the first outcome that matches
	// gives the verdict.
	Outcomes []Outcome
	// Delivered, if non-nil, lists the messages the target must have stored
	// by the end of this step (needs a target with a Mailbox).
	Delivered *[]Delivery
}

// Expect constrains one reply, or the absence of one.
type Expect struct {
	Line int

	Code     []int  // strictly acceptable codes
	Lenient  []int  // codes that are tolerated, giving verdict non-strict
	Enhanced string // "5.5.1", or a pattern with x: "5.x.x", "5.5.x"
	Text     *regexp.Regexp
	Wire     *regexp.Regexp // over the raw octets of the reply, CRLFs included
	Lines    int            // exact number of reply lines, when > 0
	Multi    *bool          // multi-line (true) or single-line (false)
	Has      []string
	Lacks    []string
	Any      bool // any reply is fine
	Closed   bool // the server closes the connection (after the reply, if one is expected)
	More     bool // (outcomes only) this reply and any number of further ones

	// Silence, if set, expects no reply at all within this long.
	Silence time.Duration
}

// wantsReply reports whether the expectation consumes a reply.
func (e *Expect) wantsReply() bool {
	return e.Silence == 0 && (len(e.Code) > 0 || len(e.Lenient) > 0 || e.Any || !e.Closed)
}

// An Outcome names one way a server may answer a step.
type Outcome struct {
	Line    int
	Name    string // "vulnerable", "absorbed", "rejected"
	Verdict Verdict
	Expect  []Expect
}

// A Delivery describes one message the target must have stored.
type Delivery struct {
	Line int
	From *string  // reverse path, without angle brackets
	To   []string // forward paths, without angle brackets
	Data *string  // exact message content after dot-unstuffing
	// Trace and TraceNot are patterns the trace fields the server added
	// (Return-Path, Received) must and must not match.
	Trace, TraceNot []*regexp.Regexp
}
