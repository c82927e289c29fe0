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
	"github.com/smtpspec/smtpspec/reports"
)

func cmdRun(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("smtpspec run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		cf  caseFlags
		tf  targetFlags
		out reportFlags
	)
	cf.register(fs, true)
	tf.register(fs)
	out.register(fs)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: smtpspec run [flags]\n\nRun the conformance cases against a target (default: the bundled reference server, in-process).\n\nflags:\n")
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
	opts := harness.Options{}
	if err := cf.options(&opts); err != nil {
		fmt.Fprintf(stderr, "smtpspec run: %v\n", err)
		return exitUsage
	}
	profile, err := tf.profile()
	if err != nil {
		fmt.Fprintf(stderr, "smtpspec run: %v\n", err)
		return exitUsage
	}
	outputs, err := out.outputs()
	if err != nil {
		fmt.Fprintf(stderr, "smtpspec run: %v\n", err)
		return exitUsage
	}
	cat, err := cf.catalogue()
	if err != nil {
		fmt.Fprintf(stderr, "smtpspec run: invalid cases:\n%v\n", indent(err.Error()))
		return exitTrouble
	}
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
	opts.Cases = cat

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	progress := newProgress(stderr, len(cat.Cases))
	opts.Progress = progress.update
	run, err := harness.Check(ctx, target, opts)
	progress.finish()
	if run == nil {
		fmt.Fprintf(stderr, "smtpspec run: %v\n", err)
		var unreachable *harness.UnreachableError
		if errors.As(err, &unreachable) {
			return exitTrouble
		}
		return exitFailed
	}
	if err := writeReports(outputs, run, stdout); err != nil {
		fmt.Fprintf(stderr, "smtpspec run: %v\n", err)
		return exitTrouble
	}
	if run.Summary().Failed() {
		return exitFailed
	}
	return exitOK
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

// reportFlags collect --report FORMAT=PATH.
type reportFlags struct {
	reports listFlag
}

func (r *reportFlags) register(fs *flag.FlagSet) {
	fs.Var(&r.reports, "report", "write a report, FORMAT=PATH (repeatable; PATH - is stdout; formats: "+strings.Join(reports.Formats(), ", ")+"; default text=-)")
}

type output struct {
	format string
	path   string
	write  reports.Writer
}

func (r *reportFlags) outputs() ([]output, error) {
	specs := r.reports
	if len(specs) == 0 {
		specs = listFlag{"text=-"}
	}
	var outs []output
	stdout := 0
	for _, s := range specs {
		format, path, ok := strings.Cut(s, "=")
		if !ok || path == "" {
			return nil, fmt.Errorf("--report %q: want FORMAT=PATH", s)
		}
		w, err := reports.Lookup(format)
		if err != nil {
			return nil, fmt.Errorf("--report %q: %w", s, err)
		}
		if path == "-" {
			stdout++
		}
		outs = append(outs, output{format, path, w})
	}
	if stdout > 1 {
		return nil, errors.New("--report: only one report can go to stdout")
	}
	return outs, nil
}

// writeReports writes every requested report. A file is written to a
// temporary name first, so a failed run never leaves half a report.
func writeReports(outs []output, run *harness.Run, stdout io.Writer) error {
	for _, o := range outs {
		opts := reports.Options{}
		if o.path == "-" {
			opts.Color = colorWanted(stdout)
			if err := o.write(stdout, run, opts); err != nil {
				return err
			}
			continue
		}
		if err := writeFileAtomic(o.path, func(w io.Writer) error { return o.write(w, run, opts) }); err != nil {
			return fmt.Errorf("%s report: %w", o.format, err)
		}
	}
	return nil
}

func writeFileAtomic(path string, write func(io.Writer) error) error {
	f, err := os.CreateTemp(dirOf(path), ".smtpspec-report-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

func dirOf(path string) string {
	if i := strings.LastIndexAny(path, `/\`); i >= 0 {
		return path[:i+1]
	}
	return "."
}

// colorWanted reports whether w is a terminal and NO_COLOR is unset.
func colorWanted(w io.Writer) bool {
	if _, set := os.LookupEnv("NO_COLOR"); set {
		return false
	}
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
