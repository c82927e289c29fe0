package main

import (
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/smtpspec/smtpspec/harness"
	"github.com/smtpspec/smtpspec/reports"
)

func cmdMatrix(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("smtpspec matrix", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var ins, outs listFlag
	fs.Var(&ins, "in", "a target's JSON run, NAME=PATH or PATH (the name defaults to the file name); repeatable, one column each")
	fs.Var(&outs, "report", "write the matrix, FORMAT=PATH (repeatable; PATH - is stdout; formats: "+strings.Join(reports.MatrixFormats(), ", ")+"; default text=-)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, `usage: smtpspec matrix --in NAME=RUN.json --in NAME=RUN.json ... [--report FORMAT=PATH ...]

Set the saved runs of several targets side by side, Autobahn-style: one
column per target, one row per case, rows where the targets differ marked.

Exit status: 0, or 2 for usage errors or an unreadable run.

flags:
`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return usageStatus(err)
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "smtpspec matrix: unexpected arguments %q\n", fs.Args())
		return exitUsage
	}
	if len(ins) == 0 {
		fmt.Fprintf(stderr, "smtpspec matrix: give at least one --in NAME=RUN.json\n")
		return exitUsage
	}
	specs, err := parseOutputSpecs(outs)
	if err != nil {
		fmt.Fprintf(stderr, "smtpspec matrix: %v\n", err)
		return exitUsage
	}
	writers := make([]reports.MatrixWriter, len(specs))
	for i, s := range specs {
		if writers[i], err = reports.LookupMatrix(s.format); err != nil {
			fmt.Fprintf(stderr, "smtpspec matrix: --report %s=%s: %v\n", s.format, s.path, err)
			return exitUsage
		}
	}
	var names []string
	var runs []*harness.Run
	for _, in := range ins {
		name, path, ok := strings.Cut(in, "=")
		if !ok {
			path = in
			name = strings.TrimSuffix(filepath.Base(in), filepath.Ext(in))
		}
		run, err := readRun(path)
		if err != nil {
			fmt.Fprintf(stderr, "smtpspec matrix: %v\n", err)
			return exitTrouble
		}
		names = append(names, name)
		runs = append(runs, run)
	}
	m, err := reports.NewMatrix(names, runs)
	if err != nil {
		fmt.Fprintf(stderr, "smtpspec matrix: %v\n", err)
		return exitUsage
	}
	for i, s := range specs {
		if err := writeOutput(s.path, stdout, func(w io.Writer, color bool) error {
			return writers[i](w, m, reports.Options{Color: color && s.format == "text"})
		}); err != nil {
			fmt.Fprintf(stderr, "smtpspec matrix: %s report: %v\n", s.format, err)
			return exitTrouble
		}
	}
	return exitOK
}
