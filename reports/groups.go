package reports

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/smtpspec/smtpspec/harness"
)

// marks are the per-verdict symbols every format uses.
var marks = map[harness.Verdict]string{
	harness.Pass:          "✔",
	harness.NonStrict:     "~",
	harness.Fail:          "×",
	harness.Error:         "!",
	harness.Unimplemented: "∅",
	harness.Skip:          "–",
	harness.Info:          "i",
}

// Mark returns the symbol reports show for verdict v.
func Mark(v harness.Verdict) string {
	if m, ok := marks[v]; ok {
		return m
	}
	return "?"
}

// A Group is the results of one spec section, in run order.
type Group struct {
	Name    string
	Title   string // the case file's title, "" in runs saved before it existed
	Results []*harness.Result
}

// Heading is the group's name followed by its title when there is one.
func (g *Group) Heading() string {
	if g.Title == "" {
		return g.Name
	}
	return g.Name + " — " + g.Title
}

// Summary counts the group's results by verdict.
func (g *Group) Summary() harness.Summary {
	return (&harness.Run{Results: g.Results}).Summary()
}

// Duration is the sum of the group's case durations.
func (g *Group) Duration() time.Duration {
	var d time.Duration
	for _, r := range g.Results {
		d += r.Duration
	}
	return d
}

// Groups splits the run's results by group, in order of first appearance,
// so that the order follows the run (which lists cases in ID order). Cases
// the run's filters left out are not listed (the summary still counts them
// as skipped), as go test -run does not list the tests it did not select.
func Groups(results []*harness.Result) []*Group {
	var out []*Group
	index := map[string]*Group{}
	for _, r := range results {
		if r.Filtered {
			continue
		}
		g := index[r.Group]
		if g == nil {
			g = &Group{Name: r.Group, Title: r.GroupTitle}
			index[r.Group] = g
			out = append(out, g)
		}
		g.Results = append(g.Results, r)
	}
	return out
}

// LocalID is the case ID without its group prefix, as tables show it under
// a group heading.
func LocalID(r *harness.Result) string {
	return strings.TrimPrefix(r.ID, r.Group+"/")
}

// Location is "file:line" of the case, or of the step that decided a fail
// or error when there is one.
func Location(r *harness.Result) string {
	if r.StepLine > 0 {
		return fmt.Sprintf("%s:%d", r.File, r.StepLine)
	}
	return fmt.Sprintf("%s:%d", r.File, r.Line)
}

// CountsLine describes a summary in words, verdicts in report order and
// zero counts left out: "35 passed, 19 failed, 1 skipped, 5 non-strict".
func CountsLine(s harness.Summary) string {
	var parts []string
	for _, v := range harness.Verdicts {
		if s[v] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", s[v], verdictWord(v, s[v])))
		}
	}
	if len(parts) == 0 {
		return "no cases"
	}
	return strings.Join(parts, ", ")
}

// verdictWord is the verdict as a count of n reads: "3 passed", "2 errors".
func verdictWord(v harness.Verdict, n int) string {
	switch v {
	case harness.Pass:
		return "passed"
	case harness.Fail:
		return "failed"
	case harness.Skip:
		return "skipped"
	case harness.Error:
		if n == 1 {
			return "error"
		}
		return "errors"
	}
	return string(v)
}

// specRef matches "RFC 5321 §4.1.4" so that reports can link to the RFC.
var specRef = regexp.MustCompile(`^RFC ?(\d+)(?: §(\d+(?:\.\d+)*|[A-Z](?:\.\d+)*))?`)

// SpecURL returns the RFC Editor address of a spec reference such as
// "RFC 5321 §4.1.4", or "" when the reference names no RFC.
func SpecURL(ref string) string {
	m := specRef.FindStringSubmatch(ref)
	if m == nil {
		return ""
	}
	u := "https://www.rfc-editor.org/rfc/rfc" + m[1]
	if m[2] != "" {
		kind := "section-"
		if m[2][0] >= 'A' && m[2][0] <= 'Z' {
			kind = "appendix-"
		}
		u += "#" + kind + m[2]
	}
	return u
}

// seconds formats a duration in seconds with millisecond precision, as
// JUnit consumers expect.
func seconds(d time.Duration) string {
	return fmt.Sprintf("%.3f", d.Seconds())
}

// millis formats a duration for people: "3.9 ms", "1.204 s".
func millis(d time.Duration) string {
	if d >= time.Second {
		return fmt.Sprintf("%.3f s", d.Seconds())
	}
	return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000)
}
