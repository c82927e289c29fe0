package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/smtpspec/smtpspec/reports"
)

func cmdCompare(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("smtpspec compare", flag.ContinueOnError)
	fs.SetOutput(stderr)
	format := fs.String("format", "text", "output format: text, markdown or json")
	fs.Usage = func() {
		fmt.Fprintf(stderr, `usage: smtpspec compare [--format text|markdown|json] OLD.json NEW.json

Compare two saved runs case by case: regressions (a case that now fails or
errors and did not), fixes, other verdict changes, and cases only one run has.

Exit status: 0 without regressions, 1 with some, 2 for usage errors or an
unreadable run.

flags:
`)
		fs.PrintDefaults()
	}
	files, err := parseInterspersed(fs, args)
	if err != nil {
		return usageStatus(err)
	}
	if len(files) != 2 {
		fmt.Fprintf(stderr, "smtpspec compare: want two JSON runs, OLD and NEW; got %d arguments\n", len(files))
		return exitUsage
	}
	write := map[string]func(*reports.Comparison, io.Writer) error{
		"text":     (*reports.Comparison).WriteText,
		"markdown": (*reports.Comparison).WriteMarkdown,
		"json":     (*reports.Comparison).WriteJSON,
	}[*format]
	if write == nil {
		fmt.Fprintf(stderr, "smtpspec compare: --format %q: want text, markdown or json\n", *format)
		return exitUsage
	}
	old, err := readRun(files[0])
	if err != nil {
		fmt.Fprintf(stderr, "smtpspec compare: %v\n", err)
		return exitTrouble
	}
	cur, err := readRun(files[1])
	if err != nil {
		fmt.Fprintf(stderr, "smtpspec compare: %v\n", err)
		return exitTrouble
	}
	c := reports.Compare(old, cur)
	if err := write(c, stdout); err != nil {
		fmt.Fprintf(stderr, "smtpspec compare: %v\n", err)
		return exitTrouble
	}
	if c.Regressed() {
		return exitFailed
	}
	return exitOK
}

// parseInterspersed parses flags that may come after the positional
// arguments too ("compare a.json b.json --format markdown"), which the
// flag package alone stops at.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}
