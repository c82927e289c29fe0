package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"

	"github.com/smtpspec/smtpspec/harness"
)

func cmdRun(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("smtpspec run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		cf  caseFlags
		tf  targetFlags
		out reportFlags
		gf  gateFlags
	)
	cf.register(fs, true)
	tf.register(fs)
	out.register(fs)
	gf.register(fs)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: smtpspec run [flags]\n\nRun the conformance cases against a target (default: the bundled reference server, in-process).\n\nExit status: 0 when no case failed or errored (with --baseline: when every failure is listed\nand every listed case still fails), 1 otherwise, 2 for usage errors, invalid case files\nor an unreachable target. Which reports are written never changes it.\n\nflags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return usageStatus(err)
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "smtpspec run: unexpected arguments %q\n", fs.Args())
		return exitUsage
	}
	if status, done := tf.mx.dispatch(fs, tf.target, stdout, stderr, "run", cmdRun); done {
		return status
	}
	baseline, err := gf.load()
	if err != nil {
		fmt.Fprintf(stderr, "smtpspec run: %v\n", err)
		return exitUsage
	}
	cr, status := loadCaseRun("smtpspec run", &cf, &tf, &out, stderr)
	if cr == nil {
		return status
	}
	opts, profile := cr.opts, cr.profile
	var target harness.Target
	if tf.target == "" && tf.mx.domain == "" {
		ref, err := newInProcess(profile, fs)
		if err != nil {
			fmt.Fprintf(stderr, "smtpspec run: %v\n", err)
			return exitTrouble
		}
		target, profile = ref.Target, ref.Profile
	} else if target, err = tf.external(); err != nil {
		fmt.Fprintf(stderr, "smtpspec run: %v\n", err)
		return exitUsage
	}
	opts.Profile = profile

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	progress := newProgress(stderr, len(cr.cat.Cases))
	opts.Progress = progress.update
	run, err := harness.Check(ctx, target, opts)
	progress.finish()
	if run == nil {
		return noRun("smtpspec run", err, stderr)
	}
	return finish("smtpspec run", cr.outputs, run, &gf, baseline, stdout, stderr)
}

// usageStatus maps a flag parsing error to an exit status: -h is not an
// error.
func usageStatus(err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	return exitUsage
}

func indent(s string) string {
	return "  " + strings.ReplaceAll(s, "\n", "\n  ")
}
