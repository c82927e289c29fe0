package main

import (
	"flag"
	"fmt"
	"io"
)

func cmdReport(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("smtpspec report", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		out reportFlags
		gf  gateFlags
	)
	in := fs.String("in", "", "the JSON report of a run (smtpspec run --report json=PATH); - is stdin")
	out.register(fs)
	gf.register(fs)
	fs.Usage = func() {
		fmt.Fprintf(stderr, `usage: smtpspec report --in RUN.json [--report FORMAT=PATH ...] [flags]

Render a saved run in any format, and gate it against a baseline, without
running anything again.

Exit status: what smtpspec run returned for the run: 0 when no case failed
or errored (with --baseline: when every failure is listed and every listed
case still fails), 1 otherwise; 2 for usage errors or an unreadable run.

flags:
`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return usageStatus(err)
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "smtpspec report: unexpected arguments %q\n", fs.Args())
		return exitUsage
	}
	if *in == "" {
		fmt.Fprintf(stderr, "smtpspec report: --in RUN.json is required\n")
		return exitUsage
	}
	outputs, err := out.outputs()
	if err != nil {
		fmt.Fprintf(stderr, "smtpspec report: %v\n", err)
		return exitUsage
	}
	baseline, err := gf.load()
	if err != nil {
		fmt.Fprintf(stderr, "smtpspec report: %v\n", err)
		return exitUsage
	}
	run, err := readRun(*in)
	if err != nil {
		fmt.Fprintf(stderr, "smtpspec report: %v\n", err)
		return exitTrouble
	}
	return finish("smtpspec report", outputs, run, &gf, baseline, stdout, stderr)
}
