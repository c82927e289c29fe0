package reports

import (
	"bufio"
	"encoding/xml"
	"fmt"
	"io"
	"strings"

	"github.com/smtpspec/smtpspec/harness"
)

// The JUnit document, restricted to what the common consumers read
// (Jenkins, GitLab, dorny/test-reporter, action-junit-report); see
// testdata/junit.xsd for which of them reads what.
type (
	junitSuites struct {
		XMLName   xml.Name     `xml:"testsuites"`
		Name      string       `xml:"name,attr"`
		Tests     int          `xml:"tests,attr"`
		Failures  int          `xml:"failures,attr"`
		Errors    int          `xml:"errors,attr"`
		Skipped   int          `xml:"skipped,attr"`
		Time      string       `xml:"time,attr"`
		Timestamp string       `xml:"timestamp,attr"`
		Suites    []junitSuite `xml:"testsuite"`
	}
	junitSuite struct {
		Name       string           `xml:"name,attr"`
		Tests      int              `xml:"tests,attr"`
		Failures   int              `xml:"failures,attr"`
		Errors     int              `xml:"errors,attr"`
		Skipped    int              `xml:"skipped,attr"`
		Time       string           `xml:"time,attr"`
		Timestamp  string           `xml:"timestamp,attr"`
		Properties *junitProperties `xml:"properties"`
		Cases      []junitCase      `xml:"testcase"`
	}
	junitProperties struct {
		Property []junitProperty `xml:"property"`
	}
	junitProperty struct {
		Name  string `xml:"name,attr"`
		Value string `xml:"value,attr"`
	}
	junitCase struct {
		Name      string        `xml:"name,attr"`
		Classname string        `xml:"classname,attr"`
		Time      string        `xml:"time,attr"`
		File      string        `xml:"file,attr,omitempty"`
		Line      int           `xml:"line,attr,omitempty"`
		Failure   *junitProblem `xml:"failure"`
		Error     *junitProblem `xml:"error"`
		Skipped   *junitSkipped `xml:"skipped"`
		SystemOut *junitText    `xml:"system-out"`
	}
	// Bodies are CDATA so that the file stays readable (chardata would
	// write every newline as &#xA;); encoding/xml splits any "]]>" inside.
	junitProblem struct {
		Message string `xml:"message,attr"`
		Type    string `xml:"type,attr"`
		Body    string `xml:",cdata"`
	}
	junitText struct {
		Text string `xml:",cdata"`
	}
	// The reason goes in the message (Jenkins) and the content (GitLab).
	junitSkipped struct {
		Message string `xml:"message,attr"`
		Text    string `xml:",chardata"`
	}
)

// JUnit writes the run as JUnit XML: one testsuite per group, one testcase
// per case named by its ID with the group as classname and the YAML file
// and line of the case. A fail becomes a failure and an error an error, each
// with a one-line message and the diff and transcript in the body; skip and
// unimplemented become skipped with the reason. With a baseline, listed
// failures are reported as skipped (as pytest reports xfail) and listed
// cases that now pass as failures, matching the exit status.
//
// Wire data goes through Visible, and encoding/xml escapes the rest, so a
// hostile transcript cannot end the document early or carry octets XML 1.0
// forbids.
func JUnit(w io.Writer, run *harness.Run, opts Options) error {
	stamp := run.Started.UTC().Format("2006-01-02T15:04:05")
	doc := junitSuites{
		Name:      "smtpspec " + Visible(run.Target.Addr),
		Time:      seconds(run.Duration),
		Timestamp: stamp,
	}
	for i, g := range Groups(run.Results) {
		suite := junitSuite{Name: g.Name, Time: seconds(g.Duration()), Timestamp: stamp}
		if i == 0 {
			suite.Properties = targetProperties(run.Target)
		}
		for _, r := range g.Results {
			c := junitTestcase(r, opts.Gate)
			suite.Tests++
			switch {
			case c.Failure != nil:
				suite.Failures++
			case c.Error != nil:
				suite.Errors++
			case c.Skipped != nil:
				suite.Skipped++
			}
			suite.Cases = append(suite.Cases, c)
		}
		doc.Tests += suite.Tests
		doc.Failures += suite.Failures
		doc.Errors += suite.Errors
		doc.Skipped += suite.Skipped
		doc.Suites = append(doc.Suites, suite)
	}
	bw := bufio.NewWriter(w)
	bw.WriteString(xml.Header)
	enc := xml.NewEncoder(bw)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("write JUnit report: %w", err)
	}
	bw.WriteString("\n")
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write JUnit report: %w", err)
	}
	return nil
}

// targetProperties describe the target once, on the first suite, where
// Jenkins shows suite properties.
func targetProperties(t harness.TargetInfo) *junitProperties {
	props := []junitProperty{
		{"target", Visible(t.Addr)},
		{"greeting", Visible(t.Greeting)},
		{"ehlo", Visible(strings.Join(t.EHLO, ", "))},
	}
	if t.Name != "" {
		props = append(props, junitProperty{"target.name", Visible(t.Name)})
	}
	return &junitProperties{props}
}

func junitTestcase(r *harness.Result, gate *Gate) junitCase {
	c := junitCase{Name: r.ID, Classname: r.Group, Time: seconds(r.Duration), File: r.File, Line: r.Line}
	msg := Visible(r.Message)
	switch status := gate.Status(r); {
	case status == "known":
		reason := "known failure (baseline): " + Visible(gate.Reason(r.ID))
		c.Skipped = &junitSkipped{Message: reason, Text: reason}
		c.SystemOut = &junitText{junitBody(r)}
	case status == "stale":
		c.Failure = &junitProblem{
			Message: fmt.Sprintf("listed in baseline %s as failing, but now %s: delete its line", gate.Baseline.Name, r.Verdict),
			Type:    "stale-baseline",
			Body:    junitBody(r),
		}
	case r.Verdict == harness.Fail:
		c.Failure = &junitProblem{Message: msg, Type: string(r.Level), Body: junitBody(r)}
	case r.Verdict == harness.Error:
		c.Error = &junitProblem{Message: msg, Type: "error", Body: junitBody(r)}
	case r.Verdict == harness.Skip || r.Verdict == harness.Unimplemented:
		reason := msg
		if !strings.HasPrefix(msg, string(r.Verdict)) {
			reason = string(r.Verdict) + ": " + msg
		}
		c.Skipped = &junitSkipped{Message: reason, Text: reason}
	case r.Verdict == harness.NonStrict || r.Verdict == harness.Info:
		// Passes, but the note is worth keeping where Jenkins and GitLab
		// show a test's output.
		c.SystemOut = &junitText{junitBody(r)}
	}
	return c
}

// junitBody is the failure text: the location and message first (so that
// tools which scan the body for "file:line" find the case), then the
// requirement, the diff and the transcript.
func junitBody(r *harness.Result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s: %s: %s\n", Visible(Location(r)), r.ID, r.Verdict, Visible(r.Message))
	if r.Outcome != "" {
		fmt.Fprintf(&b, "Outcome: %s\n", Visible(r.Outcome))
	}
	fmt.Fprintf(&b, "Level: %s; spec: %s\n", r.Level, Visible(strings.Join(r.Spec, "; ")))
	fmt.Fprintf(&b, "Requirement: %s\n", Visible(r.Requirement))
	if lines := DiffLines(r.Diff); len(lines) > 0 {
		b.WriteString("\nExpected vs actual (-want +got):\n")
		for _, l := range lines {
			b.WriteString("  " + l + "\n")
		}
	}
	if len(r.Transcript) > 0 {
		b.WriteString("\nTranscript:\n")
		TranscriptLines(r.Transcript, func(l string) { b.WriteString("  " + l + "\n") })
	}
	return b.String()
}
