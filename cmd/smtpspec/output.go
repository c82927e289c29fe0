package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/smtpspec/smtpspec/harness"
	"github.com/smtpspec/smtpspec/reports"
)

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
	specs, err := parseOutputSpecs(r.reports)
	if err != nil {
		return nil, err
	}
	var outs []output
	for _, s := range specs {
		w, err := reports.Lookup(s.format)
		if err != nil {
			return nil, fmt.Errorf("--report %s=%s: %w", s.format, s.path, err)
		}
		outs = append(outs, output{s.format, s.path, w})
	}
	return outs, nil
}

type outputSpec struct{ format, path string }

// parseOutputSpecs splits FORMAT=PATH values (default text=-) and allows
// at most one on stdout, since two would interleave.
func parseOutputSpecs(values listFlag) ([]outputSpec, error) {
	if len(values) == 0 {
		values = listFlag{"text=-"}
	}
	var specs []outputSpec
	stdout := 0
	for _, v := range values {
		format, path, ok := strings.Cut(v, "=")
		if !ok || format == "" || path == "" {
			return nil, fmt.Errorf("--report %q: want FORMAT=PATH", v)
		}
		if path == "-" {
			stdout++
		}
		specs = append(specs, outputSpec{format, path})
	}
	if stdout > 1 {
		return nil, errors.New("--report: only one report can go to stdout")
	}
	return specs, nil
}

// writeReports writes every requested report.
func writeReports(outs []output, run *harness.Run, stdout io.Writer) error {
	return writeReportsWith(outs, run, reports.Options{}, stdout)
}

// writeReportsWith writes every requested report with opts. Colour is
// decided per output: only the text report on a terminal stdout gets it.
func writeReportsWith(outs []output, run *harness.Run, opts reports.Options, stdout io.Writer) error {
	for _, o := range outs {
		if err := writeOutput(o.path, stdout, func(w io.Writer, color bool) error {
			ro := opts
			ro.Color = color && o.format == "text"
			return o.write(w, run, ro)
		}); err != nil {
			return fmt.Errorf("%s report: %w", o.format, err)
		}
	}
	return nil
}

// writeOutput writes to stdout for "-" and to a file otherwise. write is
// told whether colour is wanted.
func writeOutput(path string, stdout io.Writer, write func(w io.Writer, color bool) error) error {
	if path == "-" {
		return write(stdout, colorWanted(stdout))
	}
	return writeFileAtomic(path, func(w io.Writer) error { return write(w, false) })
}

// writeFileAtomic writes a file under a temporary name and renames it into
// place, so a failed run never leaves half a report. A path that exists
// and is not a regular file (/dev/stderr, a pipe) is written directly.
func writeFileAtomic(path string, write func(io.Writer) error) error {
	if st, err := os.Stat(path); err == nil && !st.Mode().IsRegular() {
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			return err
		}
		if err := write(f); err != nil {
			f.Close()
			return err
		}
		return f.Close()
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".smtpspec-report-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	// CreateTemp makes the file private; reports are meant to be shared
	// (CI artifacts, published pages).
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// colorWanted reports whether w is a terminal and NO_COLOR is unset.
func colorWanted(w io.Writer) bool {
	if _, set := os.LookupEnv("NO_COLOR"); set {
		return false
	}
	return isTerminal(w)
}

// gateFlags are the CI flags of run and report: a baseline of known
// failures, writing one, and annotations for the CI system.
type gateFlags struct {
	baseline      string
	writeBaseline string
	annotations   string
}

func (g *gateFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&g.baseline, "baseline", "", "file of known-failing case IDs with reasons: exit 0 when the only failures are listed, 1 on a new failure or a listed case that now passes")
	fs.StringVar(&g.writeBaseline, "write-baseline", "", "write the failing cases to this baseline file (keeping the reasons of cases already listed there)")
	fs.StringVar(&g.annotations, "annotations", "", "also write CI annotations on stderr: github (at most 10 ::error lines pointing at the YAML cases)")
}

// load checks the flags and reads the baseline, if one was given. It runs
// before any case does, so that a bad file costs no run.
func (g *gateFlags) load() (*reports.Baseline, error) {
	if g.annotations != "" && g.annotations != "github" {
		return nil, fmt.Errorf("--annotations %q: want github", g.annotations)
	}
	if g.baseline == "" {
		return nil, nil
	}
	return readBaseline(g.baseline)
}

func readBaseline(path string) (*reports.Baseline, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("baseline: %w", err)
	}
	defer f.Close()
	return reports.ParseBaseline(path, f)
}

// finish does everything after a run (or a run read back from JSON): it
// writes the reports, the baseline and the annotations, explains the gate,
// and returns the exit status, which depends on the verdicts and the
// baseline and never on which reports were written.
func finish(cmd string, outs []output, run *harness.Run, g *gateFlags, baseline *reports.Baseline, stdout, stderr io.Writer) int {
	var gate *reports.Gate
	if baseline != nil {
		gate = baseline.Check(run)
	}
	if err := writeReportsWith(outs, run, reports.Options{Gate: gate}, stdout); err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", cmd, err)
		return exitTrouble
	}
	if g.writeBaseline != "" {
		if err := writeNewBaseline(g.writeBaseline, run, baseline); err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", cmd, err)
			return exitTrouble
		}
		fmt.Fprintf(stderr, "smtpspec: wrote baseline %s\n", g.writeBaseline)
	}
	if g.annotations == "github" {
		if err := reports.Annotations(stderr, run, gate); err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", cmd, err)
			return exitTrouble
		}
	}
	if gate != nil {
		gate.Explain(stderr)
		if gate.Failed() {
			return exitFailed
		}
		return exitOK
	}
	if run.Summary().Failed() {
		return exitFailed
	}
	return exitOK
}

// writeNewBaseline writes the run's failures to path, keeping the reasons
// from the baseline in use or, failing that, from the file being replaced.
func writeNewBaseline(path string, run *harness.Run, previous *reports.Baseline) error {
	if previous == nil {
		old, err := readBaseline(path)
		switch {
		case err == nil:
			previous = old
		case !errors.Is(err, fs.ErrNotExist):
			return fmt.Errorf("--write-baseline: not replacing %s, which is not a baseline: %w", path, err)
		}
	}
	b := reports.NewBaseline(path, run, previous)
	if err := writeFileAtomic(path, b.Write); err != nil {
		return fmt.Errorf("write baseline %s: %w", path, err)
	}
	return nil
}

// readRun reads a JSON report written by smtpspec run; "-" is stdin.
func readRun(path string) (*harness.Run, error) {
	if path == "-" {
		run, err := reports.ReadJSON(os.Stdin)
		if err != nil {
			return nil, fmt.Errorf("stdin: %w", err)
		}
		return run, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	run, err := reports.ReadJSON(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return run, nil
}
