// Package reports renders a harness.Run in the formats people read and CI
// systems consume: text, JSON, JUnit XML, Markdown and a self-contained HTML
// page. Every format is produced from the same Run, so a run can be saved as
// JSON once and rendered again later in any format. The package also holds
// the CI gates built on runs: baselines of known failures, comparisons of
// two runs, and the side-by-side matrix of several targets.
package reports

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/smtpspec/smtpspec/harness"
)

// Options tune rendering.
type Options struct {
	// Color enables ANSI colour in the text format.
	Color bool
	// Gate, when set, is the run checked against a baseline: formats mark
	// listed failures as known and listed cases that now pass as stale.
	Gate *Gate
}

// A Writer renders a run in one format.
type Writer func(w io.Writer, run *harness.Run, opts Options) error

// formats maps each format name to its writer.
var formats = map[string]Writer{
	"text":     Text,
	"json":     JSON,
	"junit":    JUnit,
	"markdown": Markdown,
	"html":     HTML,
}

// Formats returns the names of the available formats, sorted.
func Formats() []string {
	return sortedKeys(formats)
}

// Lookup returns the writer for a format name.
func Lookup(format string) (Writer, error) {
	w, ok := formats[format]
	if !ok {
		return nil, fmt.Errorf("unknown report format %q (want one of %s)", format, strings.Join(Formats(), ", "))
	}
	return w, nil
}

func sortedKeys[V any](m map[string]V) []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// ClosingLine is the last line of the text report, which scripts may grep:
// "smtpspec: N passed, N failed, N skipped".
func ClosingLine(s harness.Summary) string {
	return fmt.Sprintf("smtpspec: %d passed, %d failed, %d skipped", s[harness.Pass], s[harness.Fail], s[harness.Skip])
}

// OtherCounts is the line after ClosingLine with the remaining verdicts that
// occurred ("2 errors, 1 non-strict, 3 unimplemented, 4 info"), or "".
func OtherCounts(s harness.Summary) string {
	var parts []string
	add := func(n int, one, many string) {
		switch {
		case n == 1:
			parts = append(parts, "1 "+one)
		case n > 1:
			parts = append(parts, fmt.Sprintf("%d %s", n, many))
		}
	}
	add(s[harness.Error], "error", "errors")
	add(s[harness.NonStrict], "non-strict", "non-strict")
	add(s[harness.Unimplemented], "unimplemented", "unimplemented")
	add(s[harness.Info], "info", "info")
	return strings.Join(parts, ", ")
}
