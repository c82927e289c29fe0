// Package smtptest runs the smtpspec conformance cases from go test.
//
// In a server's own tests:
//
//	func TestConformance(t *testing.T) {
//		addr := startMyServer(t) // on 127.0.0.1:0
//		smtptest.Run(t, harness.Target{Addr: addr}, smtptest.Options{
//			Options: harness.Options{Level: harness.LevelMust},
//			KnownFailures: map[string]string{
//				"rfc5321/4.1.4/nested-mail": "our parser accepts a second MAIL; fix pending",
//			},
//		})
//	}
//
// Each case becomes a subtest named by its ID, so
// `go test -run 'TestConformance/rfc5321/4.1.4' -v` runs one section. A
// failing case reports the YAML file and line first, then the go-cmp diff of
// expected against actual, then the transcript.
//
// The engine itself lives in package harness (harness.Check is the
// error-returning twin of Run that does not import testing).
package smtptest

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/smtpspec/smtpspec/harness"
	"github.com/smtpspec/smtpspec/reports"
)

// Options are harness options plus what only go test needs.
type Options struct {
	harness.Options
	// KnownFailures maps the IDs of cases the target is known to fail to
	// the reason. Such a case that fails is logged, not failed; one that
	// passes fails the test as a stale entry, so the list shrinks as the
	// server improves.
	KnownFailures map[string]string
}

// Run runs the selected cases against target, one subtest per case, and up
// to opts.Parallel cases at once. Run returns when every case is done, so
// the caller may stop its server right after. Cases skipped by a filter do
// not appear; cases the target or profile cannot run are skipped with the
// reason.
func Run(t *testing.T, target harness.Target, opts Options) {
	t.Helper()
	cat := opts.Cases
	if cat == nil {
		var err error
		if cat, err = harness.Builtin(); err != nil {
			t.Fatal(err)
		}
	}
	if opts.Profile == (harness.Profile{}) {
		opts.Profile = harness.DefaultProfile()
	}
	parallel := opts.Parallel
	if parallel <= 0 {
		parallel = 8
	}
	ctx := t.Context()
	info, err := harness.Probe(ctx, target, opts.Options)
	if err != nil {
		t.Fatal(err)
	}
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	for _, c := range harness.Select(cat, opts.Options) {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			t.Run(c.ID, func(t *testing.T) { runOne(ctx, t, target, info, c, opts) })
		})
	}
	wg.Wait()
}

func runOne(ctx context.Context, t *testing.T, target harness.Target, info *harness.TargetInfo, c *harness.Case, opts Options) {
	t.Attr("spec", strings.Join(c.Spec, "; "))
	t.Attr("level", string(c.Level))
	t.Attr("case", fmt.Sprintf("%s:%d", c.File, c.Line))
	r := harness.RunCase(ctx, target, info, c, opts.Options)
	t.Attr("verdict", string(r.Verdict))
	if reason, known := opts.KnownFailures[c.ID]; known {
		if r.Verdict.Failed() {
			t.Logf("known failure (%s): %s", reason, r.Message)
		} else {
			t.Errorf("%s:%d: %s is listed as a known failure (%s) but its verdict is now %s: remove it from KnownFailures", r.File, r.Line, r.ID, reason, r.Verdict)
		}
		return
	}
	switch r.Verdict {
	case harness.Fail, harness.Error:
		t.Error(Explain(r))
	case harness.Skip, harness.Unimplemented:
		t.Skip(r.Message)
	case harness.NonStrict, harness.Info:
		t.Logf("%s: %s", r.Verdict, r.Message)
	}
}

// Explain renders a failed result as a test failure message: the YAML
// location and the problem, the diff, and the transcript.
func Explain(r *harness.Result) string {
	var b strings.Builder
	line := r.Line
	if r.StepLine > 0 {
		line = r.StepLine
	}
	fmt.Fprintf(&b, "%s:%d: %s: %s", r.File, line, r.ID, r.Message)
	if r.Verdict == harness.Error {
		b.WriteString(" (error: the harness could not judge the server)")
	}
	b.WriteString("\n")
	if r.Diff != "" {
		fmt.Fprintf(&b, "(-want +got):\n%s", r.Diff)
	}
	b.WriteString("transcript:\n")
	reports.TranscriptLines(r.Transcript, func(l string) { fmt.Fprintf(&b, "  %s\n", l) })
	return b.String()
}
