package main

import (
	"context"
	"crypto/tls"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"

	"github.com/smtpspec/smtpspec/differential"
	"github.com/smtpspec/smtpspec/harness"
	"github.com/smtpspec/smtpspec/inprocess"
	"github.com/smtpspec/smtpspec/reference"
)

// againstFlags describe the server the target is compared with, and its
// profile: --against ADDR and --against-rcpt and so on. The EHLO name and
// the sender are the target's unless set, so that both servers get the
// same octets wherever the profile allows.
type againstFlags struct {
	addr        string
	tls         bool
	insecure    bool
	mailFrom    string
	rcpt        string
	relayRcpt   string
	unknownRcpt string
	domain      string
	auth        string
}

func (a *againstFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&a.addr, "against", "", "the server to compare with, host[:port]; default: the bundled reference, in-process")
	fs.BoolVar(&a.tls, "against-tls", false, "connect to --against with implicit TLS")
	fs.BoolVar(&a.insecure, "against-insecure", false, "do not verify the TLS certificate of --against")
	fs.StringVar(&a.mailFrom, "against-mail-from", "", "a sender --against accepts (default: --mail-from)")
	fs.StringVar(&a.rcpt, "against-rcpt", "", "a recipient --against accepts (default: --rcpt, or the reference's)")
	fs.StringVar(&a.relayRcpt, "against-relay-rcpt", "", "a recipient --against must not relay to (default: --relay-rcpt)")
	fs.StringVar(&a.unknownRcpt, "against-unknown-rcpt", "", "a non-existent local recipient of --against")
	fs.StringVar(&a.domain, "against-domain", "", "a domain --against accepts mail for")
	fs.StringVar(&a.auth, "against-auth", "", "AUTH credentials USER:PASS for --against")
}

// side returns the server to compare with and its profile, given the
// target's profile.
func (a *againstFlags) side(fs *flag.FlagSet, target harness.Profile) (differential.Side, error) {
	p := target
	if a.addr == "" {
		ref, err := inprocess.New(reference.Config{})
		if err != nil {
			return differential.Side{}, err
		}
		p = ref.Profile
		p.Helo = target.Helo
		if flagSet(fs, "mail-from") {
			p.MailFrom = target.MailFrom
		}
		if flagSet(fs, "relay-rcpt") {
			p.RelayRcpt = target.RelayRcpt
		}
		a.apply(&p)
		return differential.Side{Target: ref.Target, Profile: p}, nil
	}
	tf := targetFlags{target: a.addr, tls: a.tls, insecure: a.insecure}
	t, err := tf.external()
	if err != nil {
		return differential.Side{}, fmt.Errorf("--against: %w", err)
	}
	t.Name = a.addr
	t.TLSConfig = &tls.Config{InsecureSkipVerify: a.insecure}
	if a.rcpt != "" || a.domain != "" || a.unknownRcpt != "" {
		// A profile of its own: do not inherit the target's local names.
		p.Rcpt, p.Domain, p.UnknownRcpt = harness.DefaultProfile().Rcpt, "", ""
	}
	p.AuthUser, p.AuthPass = "", ""
	if err := a.apply(&p); err != nil {
		return differential.Side{}, err
	}
	return differential.Side{Target: t, Profile: p}, nil
}

// apply sets the profile values given with --against-* flags.
func (a *againstFlags) apply(p *harness.Profile) error {
	set := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	set(&p.MailFrom, a.mailFrom)
	set(&p.Rcpt, a.rcpt)
	set(&p.RelayRcpt, a.relayRcpt)
	set(&p.UnknownRcpt, a.unknownRcpt)
	set(&p.Domain, a.domain)
	if a.auth != "" {
		auth, err := (&targetFlags{auth: a.auth}).profile()
		if err != nil {
			return fmt.Errorf("--against-auth: %w", err)
		}
		p.AuthUser, p.AuthPass = auth.AuthUser, auth.AuthPass
	}
	return nil
}

func cmdDiff(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("smtpspec diff", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		cf      caseFlags
		tf      targetFlags
		af      againstFlags
		out     reportFlags
		scripts listFlag
		text    bool
	)
	cf.register(fs, true)
	tf.register(fs)
	af.register(fs)
	out.register(fs)
	fs.Var(&scripts, "scripts", "a directory of YAML scripts (fuzz findings) to replay as well (repeatable)")
	fs.BoolVar(&text, "text", false, "also compare the text of replies")
	fs.Usage = func() {
		fmt.Fprintf(stderr, `usage: smtpspec diff --target ADDR|--mx DOMAIN [--against ADDR] [flags]

Send the same octets of every selected case to two servers (the target and,
by default, the bundled reference) and compare their replies step by step:
code, enhanced code, number of replies, connection state (and the text with
--text). Each case is classified:

  same             nothing that matters differs          verdict pass
  both-acceptable  they differ, the case allows both     verdict non-strict
  policy           a difference left to the operator     verdict info
  disagreement     a real difference                     verdict fail

Exit status: 0 without a disagreement, 1 with one, 2 for usage errors or a
server that cannot be reached.

flags:
`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return usageStatus(err)
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "smtpspec diff: unexpected arguments %q\n", fs.Args())
		return exitUsage
	}
	if tf.target == "" && tf.mx.domain == "" {
		fmt.Fprintf(stderr, "smtpspec diff: give the server to compare: --target ADDR or --mx DOMAIN\n")
		return exitUsage
	}
	if status, done := tf.mx.dispatch(fs, tf.target, stdout, stderr, "diff", cmdDiff); done {
		return status
	}
	cf.dirs = append(cf.dirs, scripts...)
	if len(scripts) > 0 && len(cf.dirs) == len(scripts) {
		cf.dirs = append(listFlag{"builtin"}, cf.dirs...)
	}
	cr, status := loadCaseRun("smtpspec diff", &cf, &tf, &out, stderr)
	if cr == nil {
		return status
	}
	against, err := af.side(fs, cr.profile)
	if err != nil {
		fmt.Fprintf(stderr, "smtpspec diff: %v\n", err)
		return exitUsage
	}
	target, err := tf.external()
	if err != nil {
		fmt.Fprintf(stderr, "smtpspec diff: %v\n", err)
		return exitUsage
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	progress := newProgress(stderr, len(cr.cat.Cases))
	run, err := differential.Run(ctx,
		differential.Side{Target: target, Profile: cr.profile}, against,
		differential.RunOptions{Options: differential.Options{Text: text}, Harness: cr.opts, Progress: progress.update})
	progress.finish()
	if run == nil {
		return noRun("smtpspec diff", err, stderr)
	}
	if err := writeReports(cr.outputs, run, stdout); err != nil {
		fmt.Fprintf(stderr, "smtpspec diff: %v\n", err)
		return exitTrouble
	}
	if run.Summary().Failed() {
		return exitFailed
	}
	return exitOK
}
