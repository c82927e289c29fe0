package reports

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/smtpspec/smtpspec/harness"
)

// A Comparison is what changed between two runs, case by case.
type Comparison struct {
	Old, New harness.TargetInfo
	// Regressions are cases that now fail or error and did not before.
	Regressions []Change
	// Fixes are cases that failed or errored and now pass, pass
	// non-strictly, or record info.
	Fixes []Change
	// Changed are the other verdict changes, such as pass to non-strict,
	// fail to error, or anything to skip.
	Changed []Change
	// Added and Removed are cases in only one of the runs (the catalogue
	// or the selection changed); an added failure is not a regression.
	Added, Removed []Change
	// Same counts the cases whose verdict did not change.
	Same int
}

// A Change is one case's verdict in the old and the new run; a verdict is
// empty where that run lacks the case.
type Change struct {
	ID      string          `json:"id"`
	Title   string          `json:"title"`
	Level   harness.Level   `json:"level"`
	Old     harness.Verdict `json:"old,omitempty"`
	New     harness.Verdict `json:"new,omitempty"`
	Message string          `json:"message,omitempty"` // the new run's message, or the old one's for removed cases
	File    string          `json:"file"`
	Line    int             `json:"line"`
}

// Compare matches the cases of two runs by ID.
func Compare(old, cur *harness.Run) *Comparison {
	c := &Comparison{Old: old.Target, New: cur.Target}
	before := map[string]*harness.Result{}
	for _, r := range old.Results {
		before[r.ID] = r
	}
	seen := map[string]bool{}
	for _, r := range cur.Results {
		seen[r.ID] = true
		ch := Change{ID: r.ID, Title: r.Title, Level: r.Level, New: r.Verdict, Message: r.Message, File: r.File, Line: r.Line}
		o := before[r.ID]
		if o == nil {
			c.Added = append(c.Added, ch)
			continue
		}
		ch.Old = o.Verdict
		switch {
		case o.Verdict == r.Verdict:
			c.Same++
		case r.Verdict.Failed() && !o.Verdict.Failed():
			c.Regressions = append(c.Regressions, ch)
		case o.Verdict.Failed() && (r.Verdict == harness.Pass || r.Verdict == harness.NonStrict || r.Verdict == harness.Info):
			c.Fixes = append(c.Fixes, ch)
		default:
			c.Changed = append(c.Changed, ch)
		}
	}
	for _, r := range old.Results {
		if !seen[r.ID] {
			c.Removed = append(c.Removed, Change{ID: r.ID, Title: r.Title, Level: r.Level, Old: r.Verdict, Message: r.Message, File: r.File, Line: r.Line})
		}
	}
	for _, list := range [][]Change{c.Regressions, c.Fixes, c.Changed, c.Added, c.Removed} {
		slices.SortStableFunc(list, func(a, b Change) int { return harness.CompareIDs(a.ID, b.ID) })
	}
	return c
}

// Regressed reports whether any case regressed.
func (c *Comparison) Regressed() bool { return len(c.Regressions) > 0 }

// sections lists the parts of a comparison in the order reports show them.
func (c *Comparison) sections() []struct {
	title string
	list  []Change
} {
	return []struct {
		title string
		list  []Change
	}{
		{"Regressions", c.Regressions},
		{"Fixes", c.Fixes},
		{"Other verdict changes", c.Changed},
		{"Added cases", c.Added},
		{"Removed cases", c.Removed},
	}
}

func (c *Comparison) tally() string {
	return fmt.Sprintf("%d %s, %d %s, %d other %s, %d added, %d removed, %d unchanged",
		len(c.Regressions), plural(len(c.Regressions), "regression", "regressions"),
		len(c.Fixes), plural(len(c.Fixes), "fix", "fixes"),
		len(c.Changed), plural(len(c.Changed), "change", "changes"),
		len(c.Added), len(c.Removed), c.Same)
}

// WriteText writes the comparison for a terminal.
func (c *Comparison) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Old: %s  %s\nNew: %s  %s\n\n", Visible(c.Old.Addr), Visible(c.Old.Greeting), Visible(c.New.Addr), Visible(c.New.Greeting))
	for _, s := range c.sections() {
		if len(s.list) == 0 {
			continue
		}
		fmt.Fprintf(&b, "%s (%d)\n", s.title, len(s.list))
		for _, ch := range s.list {
			fmt.Fprintf(&b, "  %-13s -> %-13s %s [%s]\n", verdictOrNone(ch.Old), verdictOrNone(ch.New), ch.ID, ch.Level)
			if ch.Message != "" && ch.New.Failed() {
				fmt.Fprintf(&b, "      %s:%d: %s\n", ch.File, ch.Line, Visible(ch.Message))
			}
		}
		fmt.Fprintln(&b)
	}
	fmt.Fprintf(&b, "smtpspec compare: %s\n", c.tally())
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("write comparison: %w", err)
	}
	return nil
}

// WriteMarkdown writes the comparison as Markdown, for a pull request
// comment or job summary.
func (c *Comparison) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "## smtpspec compare: %s\n\n", c.tally())
	fmt.Fprintf(&b, "Old %s · new %s\n\n", mdCode(c.Old.Addr), mdCode(c.New.Addr))
	for _, s := range c.sections() {
		if len(s.list) == 0 {
			continue
		}
		fmt.Fprintf(&b, "### %s (%d)\n\n| Case | Level | Old | New | Message |\n|---|---|---|---|---|\n", s.title, len(s.list))
		for _, ch := range s.list {
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", mdCell(ch.ID), ch.Level, verdictCell(ch.Old), verdictCell(ch.New), mdText(ch.Message))
		}
		b.WriteString("\n")
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("write comparison: %w", err)
	}
	return nil
}

// WriteJSON writes the comparison as JSON for scripts.
func (c *Comparison) WriteJSON(w io.Writer) error {
	nonNil := func(l []Change) []Change {
		if l == nil {
			return []Change{}
		}
		return l
	}
	doc := struct {
		Schema      string   `json:"schema"`
		Old         string   `json:"old"`
		New         string   `json:"new"`
		Regressions []Change `json:"regressions"`
		Fixes       []Change `json:"fixes"`
		Changed     []Change `json:"changed"`
		Added       []Change `json:"added"`
		Removed     []Change `json:"removed"`
		Unchanged   int      `json:"unchanged"`
	}{"smtpspec/compare/v1", c.Old.Addr, c.New.Addr, nonNil(c.Regressions), nonNil(c.Fixes), nonNil(c.Changed), nonNil(c.Added), nonNil(c.Removed), c.Same}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("write comparison: %w", err)
	}
	return nil
}

func verdictOrNone(v harness.Verdict) string {
	if v == "" {
		return "(absent)"
	}
	return string(v)
}

func verdictCell(v harness.Verdict) string {
	if v == "" {
		return "—"
	}
	return Mark(v) + " " + string(v)
}
