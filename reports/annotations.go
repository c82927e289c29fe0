package reports

import (
	"fmt"
	"io"
	"strings"

	"github.com/smtpspec/smtpspec/harness"
)

// MaxAnnotations is how many ::error lines Annotations writes: GitHub shows
// at most 10 error annotations per step and drops the rest.
const MaxAnnotations = 10

// Annotations writes GitHub Actions workflow commands that mark failures in
// the YAML case files: one "::error file=…,line=…,title=…::message" line for
// each of the first MaxAnnotations failures (with a gate, only the new
// failures and stale baseline entries, since known failures do not fail
// the run), then a ::notice saying how many were left out. The runner reads
// workflow commands from stdout and stderr alike.
func Annotations(w io.Writer, run *harness.Run, gate *Gate) error {
	var rs []*harness.Result
	if gate != nil {
		rs = append(append(rs, gate.New...), gate.Stale...)
	} else {
		for _, r := range run.Results {
			if r.Verdict.Failed() {
				rs = append(rs, r)
			}
		}
	}
	var b strings.Builder
	for i, r := range rs {
		if i == MaxAnnotations {
			fmt.Fprintf(&b, "::notice title=smtpspec::%s\n", ghData(fmt.Sprintf("%d more failing cases not annotated (GitHub shows at most %d); see the job summary or the reports", len(rs)-i, MaxAnnotations)))
			break
		}
		line := r.Line
		if r.StepLine > 0 {
			line = r.StepLine
		}
		title := fmt.Sprintf("%s %s (%s)", r.ID, r.Verdict, r.Level)
		msg := Visible(r.Message)
		if gate.Status(r) == "stale" {
			title = fmt.Sprintf("%s no longer fails (%s)", r.ID, r.Verdict)
			msg = fmt.Sprintf("listed in baseline %s as a known failure, but now %s: delete its line", gate.Baseline.Name, r.Verdict)
		}
		fmt.Fprintf(&b, "::error file=%s,line=%d,title=%s::%s\n", ghProperty(r.File), line, ghProperty(title), ghData(msg))
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("write annotations: %w", err)
	}
	return nil
}

// ghData escapes a workflow command's message, as @actions/core does.
func ghData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

// ghProperty escapes a workflow command's property value, as @actions/core
// does: a colon or comma would otherwise end it.
func ghProperty(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}
