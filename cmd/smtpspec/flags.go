package main

import (
	"crypto/tls"
	"flag"
	"fmt"
	"net"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/smtpspec/smtpspec/harness"
)

// listFlag is a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(s string) error { *l = append(*l, s); return nil }

// caseFlags selects and filters cases; shared by run, list and the
// commands that run cases.
type caseFlags struct {
	dirs     listFlag
	run      string
	level    string
	tags     string
	skip     listFlag
	parallel int
	timeout  time.Duration
	caseCap  time.Duration
}

func (c *caseFlags) register(fs *flag.FlagSet, runs bool) {
	fs.Var(&c.dirs, "cases", "case directory (repeatable; \"builtin\" is the embedded catalogue, the default)")
	fs.StringVar(&c.run, "run", "", "run only cases whose ID matches this regular expression")
	fs.StringVar(&c.level, "level", "", "lowest requirement level to include: must, should, may (default: all, INFO included)")
	fs.StringVar(&c.tags, "tags", "", "comma-separated tags: include only cases with at least one")
	fs.Var(&c.skip, "skip", "skip cases whose ID starts with this prefix (repeatable)")
	if runs {
		fs.IntVar(&c.parallel, "parallel", 8, "cases run at once")
		fs.DurationVar(&c.timeout, "timeout", 5*time.Second, "timeout for each read and write")
		fs.DurationVar(&c.caseCap, "case-timeout", 60*time.Second, "timeout for a whole case")
	}
}

// catalogue loads the selected case directories.
func (c *caseFlags) catalogue() (*harness.Catalogue, error) {
	dirs := c.dirs
	if len(dirs) == 0 {
		dirs = listFlag{"builtin"}
	}
	var sources []harness.Source
	for _, d := range dirs {
		if d == "builtin" {
			sources = append(sources, harness.BuiltinSource())
			continue
		}
		st, err := os.Stat(d)
		if err != nil {
			return nil, fmt.Errorf("case directory: %w", err)
		}
		if !st.IsDir() {
			return nil, fmt.Errorf("case directory %s: not a directory", d)
		}
		sources = append(sources, harness.Source{FS: os.DirFS(d), Root: ".", Name: d})
	}
	return harness.LoadAll(sources)
}

// options fills the filter and timing fields of harness.Options.
func (c *caseFlags) options(o *harness.Options) error {
	if c.run != "" {
		re, err := regexp.Compile(c.run)
		if err != nil {
			return fmt.Errorf("--run: %w", err)
		}
		o.Run = re
	}
	if c.level != "" {
		l, err := harness.ParseLevel(c.level)
		if err != nil {
			return fmt.Errorf("--level: %w", err)
		}
		o.Level = l
	}
	if c.tags != "" {
		o.Tags = strings.Split(c.tags, ",")
	}
	o.Skip = c.skip
	o.Parallel, o.StepTimeout, o.CaseTimeout = c.parallel, c.timeout, c.caseCap
	return nil
}

// targetFlags describe the server under test and its profile; shared by
// every command that talks to a target.
type targetFlags struct {
	target      string
	tls         bool
	insecure    bool
	helo        string
	mailFrom    string
	rcpt        string
	relayRcpt   string
	unknownRcpt string
	domain      string
	auth        string
	mx          mxFlags // --mx and its companions (mx.go)
}

func (t *targetFlags) register(fs *flag.FlagSet) {
	d := harness.DefaultProfile()
	fs.StringVar(&t.target, "target", "", "server to test, host[:port] (port 25 when omitted); default: the bundled reference, in-process")
	fs.BoolVar(&t.tls, "tls", false, "connect with implicit TLS (as on port 465)")
	fs.BoolVar(&t.insecure, "insecure", false, "do not verify the target's TLS certificate")
	fs.StringVar(&t.helo, "helo", d.Helo, "name to send in EHLO/HELO")
	fs.StringVar(&t.mailFrom, "mail-from", d.MailFrom, "a sender address the target accepts")
	fs.StringVar(&t.rcpt, "rcpt", d.Rcpt, "a recipient the target accepts")
	fs.StringVar(&t.relayRcpt, "relay-rcpt", d.RelayRcpt, "a recipient in a domain the target must not relay to")
	fs.StringVar(&t.unknownRcpt, "unknown-rcpt", "", "a recipient in a local domain that does not exist (cases that need one are skipped without it)")
	fs.StringVar(&t.domain, "domain", "", "a domain the target accepts mail for (default: the domain of --rcpt or --unknown-rcpt)")
	fs.StringVar(&t.auth, "auth", "", "AUTH credentials USER:PASS (cases that need them are skipped without)")
	t.mx.register(fs)
}

// set reports whether the user gave the named flag.
func flagSet(fs *flag.FlagSet, name string) bool {
	found := false
	fs.Visit(func(f *flag.Flag) {
		if f.Name == name {
			found = true
		}
	})
	return found
}

// profile builds the profile from the flags.
func (t *targetFlags) profile() (harness.Profile, error) {
	p := harness.Profile{
		Helo: t.helo, MailFrom: t.mailFrom, Rcpt: t.rcpt, RelayRcpt: t.relayRcpt,
		UnknownRcpt: t.unknownRcpt, Domain: t.domain,
	}
	if t.auth != "" {
		user, pass, ok := strings.Cut(t.auth, ":")
		if !ok || user == "" {
			return p, fmt.Errorf("--auth %q: want USER:PASS", t.auth)
		}
		p.AuthUser, p.AuthPass = user, pass
	}
	return p, nil
}

// external returns the target named by --target.
func (t *targetFlags) external() (harness.Target, error) {
	if t.mx.domain != "" {
		return t.mx.target(t)
	}
	addr := t.target
	if _, _, err := net.SplitHostPort(addr); err != nil {
		if strings.Count(addr, ":") > 1 && !strings.HasPrefix(addr, "[") {
			addr = "[" + addr + "]" // a bare IPv6 address
		}
		addr = net.JoinHostPort(strings.Trim(addr, "[]"), "25")
	}
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return harness.Target{}, fmt.Errorf("--target %q: %w", t.target, err)
	}
	return harness.Target{
		Addr: addr,
		TLS:  t.tls,
		// Cases open hundreds of connections: resuming TLS sessions keeps
		// the handshakes from dominating a run.
		TLSConfig: &tls.Config{InsecureSkipVerify: t.insecure, ServerName: t.mx.tlsName, ClientSessionCache: tls.NewLRUClientSessionCache(64)},
	}, nil
}
