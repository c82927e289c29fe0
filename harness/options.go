package harness

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"net"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// A Target is the server under test.
type Target struct {
	// Addr is host:port.
	Addr string
	// TLS selects implicit TLS (as on port 465) for every connection.
	TLS bool
	// TLSConfig is used for implicit TLS and STARTTLS. Nil means the system
	// roots and the host name from Addr.
	TLSConfig *tls.Config
	// Name labels the target in reports; optional.
	Name string
	// Start, if set, starts a fresh server for each case (and one for the
	// initial probe); Addr is then ignored.
	Start func(ctx context.Context) (*Instance, error)
}

// An Instance is one server started by Target.Start.
type Instance struct {
	Addr string // host:port; may be empty when Dial is set
	// Dial, if set, connects to the instance instead of dialing Addr over
	// TCP: in-process servers hand out one end of a socket pair, which
	// takes no port and leaves no TIME_WAIT behind.
	Dial func(ctx context.Context) (net.Conn, error)
	// Mailbox, if set, lets cases check what the server stored.
	Mailbox Mailbox
	// Stop shuts the server down; it is called once the case is done.
	Stop func()
}

// A Mailbox gives access to the messages a server stored.
type Mailbox interface {
	Messages() []Delivered
}

// A Settler is a Mailbox that can wait until the server has finished with
// the sessions of connections that are gone, so that a case that closed its
// connection sees what the server made of it (for example, store nothing).
type Settler interface {
	// Settle returns once the server serves at most open sessions.
	Settle(ctx context.Context, open int) error
}

// Delivered is one stored message.
type Delivered struct {
	From string
	To   []string
	Data []byte // the content the client sent, after dot-unstuffing
	// Trace holds the header fields the server added at delivery
	// (Return-Path, Received), as they would head the stored message.
	Trace []byte
}

// Profile is what the harness knows about the target's configuration: the
// names and addresses that cases put into their commands.
type Profile struct {
	Helo        string // EHLO/HELO name
	MailFrom    string // a sender the target accepts
	Rcpt        string // a recipient the target accepts; every server must accept postmaster
	RelayRcpt   string // a recipient in a domain the target must not relay to
	UnknownRcpt string // a recipient in a local domain that does not exist ("" if unknown)
	Domain      string // a domain the target accepts mail for ("" derives it from Rcpt or UnknownRcpt)
	AuthUser    string // AUTH credentials ("" if none)
	AuthPass    string
}

// DefaultProfile returns the profile used when nothing is configured.
func DefaultProfile() Profile {
	return Profile{
		Helo:      "client.smtpspec.test",
		MailFrom:  "smtpspec@example.org",
		Rcpt:      "postmaster",
		RelayRcpt: "smtpspec@relay.invalid",
	}
}

// domain returns the profile's local domain, derived when not set.
func (p *Profile) domain() string {
	if p.Domain != "" {
		return p.Domain
	}
	for _, a := range []string{p.Rcpt, p.UnknownRcpt} {
		if _, d, ok := strings.Cut(a, "@"); ok {
			return d
		}
	}
	return ""
}

// env returns the values of the case variables for this profile and target.
func (p *Profile) env(info *TargetInfo) map[string]string {
	env := map[string]string{}
	set := func(k, v string) {
		if v != "" {
			env[k] = v
		}
	}
	set("helo", p.Helo)
	set("mail_from", p.MailFrom)
	set("rcpt", p.Rcpt)
	set("relay_rcpt", p.RelayRcpt)
	set("unknown_rcpt", p.UnknownRcpt)
	set("domain", p.domain())
	if p.AuthUser != "" {
		b64 := base64.StdEncoding.EncodeToString
		set("auth_user", p.AuthUser)
		set("auth_pass", p.AuthPass)
		set("auth_plain", b64([]byte("\x00"+p.AuthUser+"\x00"+p.AuthPass)))
		set("bad_auth_plain", b64([]byte("\x00"+p.AuthUser+"\x00"+p.AuthPass+"-wrong")))
		set("auth_user_b64", b64([]byte(p.AuthUser)))
		set("auth_pass_b64", b64([]byte(p.AuthPass)))
	}
	if info != nil {
		if size := keywordParam(info.EHLO, "SIZE"); size != nil {
			if n, err := strconv.ParseInt(*size, 10, 64); err == nil && n > 0 {
				set("size", *size)
			}
		}
	}
	return env
}

// missingVar explains how to provide a variable that has no value.
func missingVar(name string) string {
	switch name {
	case "size":
		return "the target advertises no SIZE limit"
	case "auth_user", "auth_pass", "auth_plain", "bad_auth_plain", "auth_user_b64", "auth_pass_b64":
		return "the profile has no AUTH credentials (--auth USER:PASS)"
	}
	flag := "--" + strings.ReplaceAll(name, "_", "-")
	return fmt.Sprintf("the profile has no %s (%s)", variableDocs[name], flag)
}

// Options control a run.
type Options struct {
	Profile Profile

	// Cases is the catalogue to run; nil means the built-in one.
	Cases *Catalogue

	Run   *regexp.Regexp // keep cases whose ID matches; nil keeps all
	Level Level          // keep cases of this level or stronger; "" keeps all, INFO included
	Tags  []string       // keep cases with at least one of these tags; nil keeps all
	Skip  []string       // drop cases whose ID starts with one of these

	Parallel    int           // cases at once; default 8
	StepTimeout time.Duration // per read or write; default 5s
	CaseTimeout time.Duration // per case; default 60s

	// Progress, if set, is called after each case finishes (from several
	// goroutines, one call at a time).
	Progress func(done, total int, r *Result)
}

func (o *Options) withDefaults() Options {
	out := *o
	if out.Parallel <= 0 {
		out.Parallel = 8
	}
	if out.StepTimeout <= 0 {
		out.StepTimeout = 5 * time.Second
	}
	if out.CaseTimeout <= 0 {
		out.CaseTimeout = 60 * time.Second
	}
	if out.Profile == (Profile{}) {
		out.Profile = DefaultProfile()
	}
	return out
}

// ParseLevel parses a --level value (case-insensitive): must, should, may
// or info.
func ParseLevel(s string) (Level, error) {
	l := Level(strings.ToUpper(s))
	if l.rank() == 0 && l != LevelInfo {
		return "", fmt.Errorf("level %q: want must, should, may or info", s)
	}
	return l, nil
}

// filtered returns why the options exclude c, or "".
func (o *Options) filtered(c *Case) string {
	if o.Run != nil && !o.Run.MatchString(c.ID) {
		return fmt.Sprintf("filtered out: ID does not match --run %q", o.Run)
	}
	if o.Level != "" && c.Level.rank() < o.Level.rank() {
		return fmt.Sprintf("filtered out: level %s is below --level %s", c.Level, o.Level)
	}
	if o.Tags != nil && !slices.ContainsFunc(o.Tags, func(t string) bool { return slices.Contains(c.Tags, t) }) {
		return fmt.Sprintf("filtered out: no tag in --tags %s", strings.Join(o.Tags, ","))
	}
	for _, p := range o.Skip {
		if strings.HasPrefix(c.ID, p) {
			return fmt.Sprintf("filtered out: ID starts with %q", p)
		}
	}
	return ""
}

// Select returns the catalogue's cases that the options keep.
func Select(cat *Catalogue, opts Options) []*Case {
	var out []*Case
	for _, c := range cat.Cases {
		if opts.filtered(c) == "" {
			out = append(out, c)
		}
	}
	return out
}
