package reports

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/smtpspec/smtpspec/harness"
)

// marks are the per-verdict symbols of the text report.
var marks = map[harness.Verdict]string{
	harness.Pass:          "✔",
	harness.NonStrict:     "~",
	harness.Fail:          "×",
	harness.Error:         "!",
	harness.Unimplemented: "∅",
	harness.Skip:          "–",
	harness.Info:          "i",
}

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
// spec section, a Failures section with diff and transcript for every fail
// and error, and the closing summary line.
func Text(w io.Writer, run *harness.Run, opts Options) error {
	bw := bufio.NewWriter(w)
	t := &textWriter{w: bw, color: opts.Color}
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
}

func (t *textWriter) paint(v harness.Verdict, s string) string {
	if !t.color {
		return s
	}
	return colors[v] + s + "\x1b[0m"
}

func (t *textWriter) header(run *harness.Run) {
	tg := run.Target
	name := tg.Addr
	if tg.Name != "" {
		name += " (" + tg.Name + ")"
	}
	if tg.TLS {
		name += ", implicit TLS"
	}
	fmt.Fprintf(t.w, "Target:    %s\n", name)
	fmt.Fprintf(t.w, "Greeting:  %s\n", Visible(tg.Greeting))
	fmt.Fprintf(t.w, "EHLO:      %s\n", Visible(strings.Join(tg.EHLO, ", ")))
	if tg.EHLOTLS != nil {
		fmt.Fprintf(t.w, "EHLO (TLS): %s\n", Visible(strings.Join(tg.EHLOTLS, ", ")))
	}
	fmt.Fprintf(t.w, "Started:   %s, run time %v\n\n", run.Started.UTC().Format(time.RFC3339), run.Duration.Round(time.Millisecond))
}

func (t *textWriter) groups(run *harness.Run) {
	group := "\x00"
	for _, r := range run.Results {
		if r.Group != group {
			if group != "\x00" {
				fmt.Fprintln(t.w)
			}
			group = r.Group
			fmt.Fprintf(t.w, "%s\n", group)
		}
		local := strings.TrimPrefix(r.ID, r.Group+"/")
		fmt.Fprintf(t.w, "  %s %s: %s [%s]", t.paint(r.Verdict, marks[r.Verdict]), local, r.Title, r.Level)
		if r.Verdict != harness.Pass && r.Verdict != harness.Fail && r.Verdict != harness.Error {
			fmt.Fprintf(t.w, " (%s", r.Verdict)
			if r.Outcome != "" {
				fmt.Fprintf(t.w, ": %s", r.Outcome)
			}
			fmt.Fprint(t.w, ")")
		} else if r.Outcome != "" {
			fmt.Fprintf(t.w, " (%s)", r.Outcome)
		}
		fmt.Fprintln(t.w)
	}
	fmt.Fprintln(t.w)
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
		fmt.Fprintf(t.w, "%s %s: %s\n", t.paint(r.Verdict, marks[r.Verdict]+" "+string(r.Verdict)), r.ID, r.Title)
		fmt.Fprintf(t.w, "  Level:       %s\n", r.Level)
		fmt.Fprintf(t.w, "  Spec:        %s\n", strings.Join(r.Spec, "; "))
		loc := fmt.Sprintf("%s:%d", r.File, r.Line)
		if r.StepLine > 0 && r.StepLine != r.Line {
			loc += fmt.Sprintf(" (failing step at line %d)", r.StepLine)
		}
		fmt.Fprintf(t.w, "  Case:        %s\n", loc)
		fmt.Fprintf(t.w, "  Requirement: %s\n", r.Requirement)
		fmt.Fprintf(t.w, "  Problem:     %s\n", Visible(r.Message))
		if r.Diff != "" {
			fmt.Fprintf(t.w, "  Expected vs actual (-want +got):\n")
			for _, l := range strings.Split(strings.TrimRight(r.Diff, "\n"), "\n") {
				fmt.Fprintf(t.w, "    %s\n", Visible(strings.ReplaceAll(l, "\t", "  ")))
			}
		}
		if len(r.Transcript) > 0 {
			fmt.Fprintf(t.w, "  Transcript:\n")
			TranscriptLines(r.Transcript, func(line string) { fmt.Fprintf(t.w, "    %s\n", line) })
		}
		fmt.Fprintln(t.w)
	}
}

// TranscriptLines renders a transcript one line at a time: "C:" for what
// the client sent, "S:" for what the server sent, "*" for events, each
// wire line quoted so that control octets are visible, with its time.
func TranscriptLines(entries []harness.Entry, emit func(string)) {
	for _, e := range entries {
		prefix := map[harness.Direction]string{harness.Client: "C:", harness.Server: "S:", harness.Event: "* "}[e.Direction]
		stamp := fmt.Sprintf("%8.3fms", float64(e.Time.Microseconds())/1000)
		if e.TLS {
			prefix = "[tls] " + prefix
		}
		if e.Direction == harness.Event {
			emit(fmt.Sprintf("%s %s %s", stamp, prefix, Visible(string(e.Data))))
			continue
		}
		for _, l := range splitLines(e.Data) {
			emit(fmt.Sprintf("%s %s %s", stamp, prefix, strconv.Quote(string(l))))
		}
		if e.Omitted > 0 {
			emit(fmt.Sprintf("%s %s … %d more octets not kept", stamp, prefix, e.Omitted))
		}
	}
}

// splitLines splits data after each LF, keeping the terminators.
func splitLines(data []byte) [][]byte {
	var out [][]byte
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			out = append(out, data)
			break
		}
		out = append(out, data[:i+1])
		data = data[i+1:]
	}
	return out
}

// Visible makes control characters and invalid UTF-8 in s visible, keeping
// printable text (including non-ASCII) as it is.
func Visible(s string) string {
	var b strings.Builder
	for i, r := range s {
		switch {
		case r == '\uFFFD' && !strings.HasPrefix(s[i:], "\uFFFD"):
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r < ' ' || r == 0x7f || (r >= 0x80 && r < 0xa0):
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
