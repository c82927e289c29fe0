package reports

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode"

	"github.com/smtpspec/smtpspec/harness"
)

// A Baseline lists the cases a target is known to fail, each with the
// reason, so that CI can hold the line: a run passes when its only failures
// are listed ones, and fails on a new failure and also on a listed case that
// no longer fails (a stale entry), so the list only ever shrinks.
//
// The file format is one case per line, the case ID and then the reason;
// blank lines and lines starting with # are comments:
//
//	# smtpspec baseline
//	rfc5321/2.3.8/bare-lf-does-not-end-command  go-smtp ends lines at a bare LF (upstream #123)
type Baseline struct {
	Name    string // the file name, for messages
	Entries []BaselineEntry
}

// A BaselineEntry is one known-failing case.
type BaselineEntry struct {
	ID     string
	Reason string
	Line   int // line in the file; 0 for entries made from a run
}

// ParseBaseline parses a baseline file. It reports every problem it finds,
// each as "name:line: problem".
func ParseBaseline(name string, r io.Reader) (*Baseline, error) {
	b := &Baseline{Name: name}
	seen := map[string]int{}
	var errs []error
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		id, reason := line, ""
		if i := strings.IndexFunc(line, unicode.IsSpace); i >= 0 {
			id, reason = line[:i], strings.TrimSpace(line[i:])
		}
		switch {
		case reason == "":
			errs = append(errs, fmt.Errorf("%s:%d: %s: no reason given (write the reason after the case ID)", name, n, id))
		case seen[id] > 0:
			errs = append(errs, fmt.Errorf("%s:%d: %s: listed twice (first at line %d)", name, n, id, seen[id]))
		default:
			seen[id] = n
			b.Entries = append(b.Entries, BaselineEntry{ID: id, Reason: reason, Line: n})
		}
	}
	if err := sc.Err(); err != nil {
		errs = append(errs, fmt.Errorf("read baseline %s: %w", name, err))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return b, nil
}

// NewBaseline lists the failed and errored cases of run. Reasons are taken
// from previous (which may be nil) for cases it already lists; the others
// get the verdict and message as a starting point for a human to edit.
func NewBaseline(name string, run *harness.Run, previous *Baseline) *Baseline {
	b := &Baseline{Name: name}
	for _, r := range run.Results {
		if !r.Verdict.Failed() {
			continue
		}
		reason := fmt.Sprintf("%s: %s", r.Verdict, Visible(r.Message))
		if e, ok := previous.lookup(r.ID); ok {
			reason = e.Reason
		}
		b.Entries = append(b.Entries, BaselineEntry{ID: r.ID, Reason: reason})
	}
	slices.SortStableFunc(b.Entries, func(x, y BaselineEntry) int { return harness.CompareIDs(x.ID, y.ID) })
	return b
}

// Write writes the baseline in its file format.
func (b *Baseline) Write(w io.Writer) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "# smtpspec baseline: cases this target is known to fail, one per line,\n")
	fmt.Fprintf(bw, "# the case ID and then the reason. A run with --baseline fails on any\n")
	fmt.Fprintf(bw, "# failure not listed here, and on a listed case that no longer fails.\n")
	for _, e := range b.Entries {
		fmt.Fprintf(bw, "%s  %s\n", e.ID, strings.ReplaceAll(e.Reason, "\n", " "))
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write baseline: %w", err)
	}
	return nil
}

// lookup finds the entry for a case ID; b may be nil.
func (b *Baseline) lookup(id string) (BaselineEntry, bool) {
	if b == nil {
		return BaselineEntry{}, false
	}
	for _, e := range b.Entries {
		if e.ID == id {
			return e, true
		}
	}
	return BaselineEntry{}, false
}

// A Gate is a run checked against a baseline.
type Gate struct {
	Baseline *Baseline
	New      []*harness.Result // failed or errored, not listed
	Known    []*harness.Result // failed or errored, listed
	Stale    []*harness.Result // listed, and now pass, non-strict or info
	// Unchecked are the listed cases this run did not decide: not selected,
	// skipped, unimplemented, or gone from the catalogue. They neither pass
	// nor fail the gate.
	Unchecked []BaselineEntry

	entries map[string]BaselineEntry
}

// Check sorts the run's results against the baseline.
func (b *Baseline) Check(run *harness.Run) *Gate {
	g := &Gate{Baseline: b, entries: map[string]BaselineEntry{}}
	for _, e := range b.Entries {
		g.entries[e.ID] = e
	}
	decided := map[string]bool{}
	for _, r := range run.Results {
		_, listed := g.entries[r.ID]
		switch {
		case r.Verdict.Failed() && listed:
			g.Known = append(g.Known, r)
		case r.Verdict.Failed():
			g.New = append(g.New, r)
		case listed && (r.Verdict == harness.Pass || r.Verdict == harness.NonStrict || r.Verdict == harness.Info):
			g.Stale = append(g.Stale, r)
		default:
			continue
		}
		decided[r.ID] = true
	}
	for _, e := range b.Entries {
		if !decided[e.ID] {
			g.Unchecked = append(g.Unchecked, e)
		}
	}
	return g
}

// Failed reports whether the gate fails the run: a new failure, or a
// listed case that no longer fails.
func (g *Gate) Failed() bool { return len(g.New) > 0 || len(g.Stale) > 0 }

// Status says how the gate sees one result: "known" (a listed failure),
// "new" (an unlisted failure), "stale" (listed, no longer failing) or "".
// A nil gate has no opinion.
func (g *Gate) Status(r *harness.Result) string {
	if g == nil {
		return ""
	}
	_, listed := g.entries[r.ID]
	switch {
	case r.Verdict.Failed() && listed:
		return "known"
	case r.Verdict.Failed():
		return "new"
	case listed && (r.Verdict == harness.Pass || r.Verdict == harness.NonStrict || r.Verdict == harness.Info):
		return "stale"
	}
	return ""
}

// Reason is the baseline's reason for a listed case, or "".
func (g *Gate) Reason(id string) string {
	if g == nil {
		return ""
	}
	return g.entries[id].Reason
}

// Explain writes what the gate found for people: new failures, stale
// entries with how to update the file, and a one-line tally.
func (g *Gate) Explain(w io.Writer) {
	name := g.Baseline.Name
	if len(g.New) > 0 {
		fmt.Fprintf(w, "smtpspec: %d %s not in baseline %s (fix, or list with a reason in %s):\n", len(g.New), plural(len(g.New), "failure", "failures"), name, name)
		for _, r := range g.New {
			fmt.Fprintf(w, "  %s  %s: %s\n", r.ID, r.Verdict, Visible(r.Message))
		}
	}
	if len(g.Stale) > 0 {
		fmt.Fprintf(w, "smtpspec: %d %s in baseline %s no longer %s; delete %s from %s (or rewrite it with --write-baseline %s):\n",
			len(g.Stale), plural(len(g.Stale), "case", "cases"), name, plural(len(g.Stale), "fails", "fail"), plural(len(g.Stale), "its line", "their lines"), name, name)
		for _, r := range g.Stale {
			e := g.entries[r.ID]
			fmt.Fprintf(w, "  %s:%d: %s  now %s\n", name, e.Line, r.ID, r.Verdict)
		}
	}
	if len(g.Unchecked) > 0 {
		ids := make([]string, 0, 3)
		for _, e := range g.Unchecked[:min(3, len(g.Unchecked))] {
			ids = append(ids, e.ID)
		}
		more := ""
		if len(g.Unchecked) > 3 {
			more = fmt.Sprintf(" and %d more", len(g.Unchecked)-3)
		}
		fmt.Fprintf(w, "smtpspec: %d %s in baseline %s not decided by this run (not selected, skipped or unimplemented): %s%s\n",
			len(g.Unchecked), plural(len(g.Unchecked), "case", "cases"), name, strings.Join(ids, ", "), more)
	}
	verdict := "passes"
	if g.Failed() {
		verdict = "fails"
	}
	fmt.Fprintf(w, "smtpspec: baseline %s: %d known, %d new, %d stale: the run %s the baseline\n", name, len(g.Known), len(g.New), len(g.Stale), verdict)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
