package reports

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/smtpspec/smtpspec/harness"
)

var colors = map[harness.Verdict]string{
	harness.Pass:          "\x1b[32m",
	harness.NonStrict:     "\x1b[33m",
	harness.Fail:          "\x1b[31m",
	harness.Error:         "\x1b[35m",
	harness.Unimplemented: "\x1b[36m",
	harness.Skip:          "\x1b[90m",
	harness.Info:          "\x1b[34m",
}

// Text writes the human-readable report: the target, the cases grouped by
// spec section with a mark each, a Failures section with the requirement,
// the YAML location, the expected-vs-actual diff and the transcript of every
// fail and error, and the closing summary line (see ClosingLine), with the
// other verdict counts on the line after it.
func Text(w io.Writer, run *harness.Run, opts Options) error {
	bw := bufio.NewWriter(w)
	t := &textWriter{w: bw, color: opts.Color, gate: opts.Gate}
	t.header(run)
	t.groups(run)
	t.failures(run)
	s := run.Summary()
	fmt.Fprintln(bw, ClosingLine(s))
	if other := OtherCounts(s); other != "" {
		fmt.Fprintln(bw, other)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write text report: %w", err)
	}
	return nil
}

type textWriter struct {
	w     *bufio.Writer
	color bool
	gate  *Gate
}

func (t *textWriter) paint(v harness.Verdict, s string) string {
	if !t.color {
		return s
	}
	return colors[v] + s + "\x1b[0m"
}

func (t *textWriter) header(run *harness.Run) {
	tg := run.Target
	name := Visible(tg.Addr)
	if tg.Name != "" {
		name += " (" + Visible(tg.Name) + ")"
	}
	if tg.TLS {
		name += ", implicit TLS"
	}
	fmt.Fprintf(t.w, "Target:     %s\n", name)
	fmt.Fprintf(t.w, "Greeting:   %s\n", Visible(tg.Greeting))
	fmt.Fprintf(t.w, "EHLO:       %s\n", Visible(strings.Join(tg.EHLO, ", ")))
	if tg.EHLOTLS != nil {
		fmt.Fprintf(t.w, "EHLO (TLS): %s\n", Visible(strings.Join(tg.EHLOTLS, ", ")))
	}
	fmt.Fprintf(t.w, "Started:    %s, run time %v\n", run.Started.UTC().Format(time.RFC3339), run.Duration.Round(time.Millisecond))
	var legend []string
	for _, v := range harness.Verdicts {
		legend = append(legend, t.paint(v, Mark(v))+" "+string(v))
	}
	fmt.Fprintf(t.w, "Legend:     %s\n\n", strings.Join(legend, "  "))
}

func (t *textWriter) groups(run *harness.Run) {
	for _, g := range Groups(run.Results) {
		fmt.Fprintf(t.w, "%s  (%s)\n", Visible(g.Heading()), CountsLine(g.Summary()))
		for _, r := range g.Results {
			fmt.Fprintf(t.w, "  %s %s: %s [%s]", t.paint(r.Verdict, Mark(r.Verdict)), LocalID(r), Visible(r.Title), r.Level)
			var notes []string
			if r.Verdict != harness.Pass && r.Verdict != harness.Fail && r.Verdict != harness.Error {
				notes = append(notes, string(r.Verdict))
			}
			if r.Outcome != "" {
				notes = append(notes, Visible(r.Outcome))
			}
			if s := t.gate.Status(r); s == "known" || s == "stale" {
				notes = append(notes, s+" in baseline")
			}
			if len(notes) > 0 {
				fmt.Fprintf(t.w, " (%s)", strings.Join(notes, ": "))
			}
			fmt.Fprintln(t.w)
		}
		fmt.Fprintln(t.w)
	}
}

func (t *textWriter) failures(run *harness.Run) {
	first := true
	for _, r := range run.Results {
		if !r.Verdict.Failed() {
			continue
		}
		if first {
			fmt.Fprintf(t.w, "Failures\n\n")
			first = false
		}
		fmt.Fprintf(t.w, "%s %s: %s\n", t.paint(r.Verdict, Mark(r.Verdict)+" "+string(r.Verdict)), r.ID, Visible(r.Title))
		fmt.Fprintf(t.w, "  Level:       %s\n", r.Level)
		fmt.Fprintf(t.w, "  Spec:        %s\n", Visible(strings.Join(r.Spec, "; ")))
		loc := fmt.Sprintf("%s:%d", r.File, r.Line)
		if r.StepLine > 0 && r.StepLine != r.Line {
			loc += fmt.Sprintf(" (failing step at line %d)", r.StepLine)
		}
		fmt.Fprintf(t.w, "  Case:        %s\n", Visible(loc))
		fmt.Fprintf(t.w, "  Requirement: %s\n", Visible(r.Requirement))
		fmt.Fprintf(t.w, "  Problem:     %s\n", Visible(r.Message))
		if t.gate.Status(r) == "known" {
			fmt.Fprintf(t.w, "  Baseline:    known failure: %s\n", Visible(t.gate.Reason(r.ID)))
		}
		if lines := DiffLines(r.Diff); len(lines) > 0 {
			fmt.Fprintf(t.w, "  Expected vs actual (-want +got):\n")
			for _, l := range lines {
				fmt.Fprintf(t.w, "    %s\n", l)
			}
		}
		if len(r.Transcript) > 0 {
			fmt.Fprintf(t.w, "  Transcript:\n")
			TranscriptLines(r.Transcript, func(line string) { fmt.Fprintf(t.w, "    %s\n", line) })
		}
		fmt.Fprintln(t.w)
	}
}
