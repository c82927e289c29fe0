package reports

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/smtpspec/smtpspec/harness"
)

// A Matrix sets the runs of several targets side by side, as the Autobahn
// testsuite does: one column per target, one row per case.
type Matrix struct {
	Columns []MatrixColumn
	Rows    []*MatrixRow
}

// A MatrixColumn is one target's run.
type MatrixColumn struct {
	Name string // chosen by the user: "postfix", "reference"
	Run  *harness.Run
}

// A MatrixRow is one case across the targets.
type MatrixRow struct {
	ID, Group, Title string
	Level            harness.Level
	Spec             []string
	Requirement      string
	// Cells holds one result per column, nil where that run lacks the case
	// (another catalogue version, or a --run filter).
	Cells []*harness.Result
}

// NewMatrix builds the matrix of runs, one column per name, with the rows
// in case ID order. Names must be distinct and non-empty.
func NewMatrix(names []string, runs []*harness.Run) (*Matrix, error) {
	if len(names) != len(runs) {
		return nil, fmt.Errorf("matrix: %d names for %d runs", len(names), len(runs))
	}
	m := &Matrix{}
	rows := map[string]*MatrixRow{}
	for i, name := range names {
		if name == "" {
			return nil, fmt.Errorf("matrix: column %d has no name", i+1)
		}
		if slices.ContainsFunc(m.Columns, func(c MatrixColumn) bool { return c.Name == name }) {
			return nil, fmt.Errorf("matrix: two columns named %q", name)
		}
		m.Columns = append(m.Columns, MatrixColumn{Name: name, Run: runs[i]})
		for _, r := range runs[i].Results {
			row := rows[r.ID]
			if row == nil {
				row = &MatrixRow{ID: r.ID, Group: r.Group, Title: r.Title, Level: r.Level, Spec: r.Spec, Requirement: r.Requirement, Cells: make([]*harness.Result, len(names))}
				rows[r.ID] = row
				m.Rows = append(m.Rows, row)
			}
			row.Cells[i] = r
		}
	}
	slices.SortStableFunc(m.Rows, func(a, b *MatrixRow) int { return harness.CompareIDs(a.ID, b.ID) })
	return m, nil
}

// Differs reports whether the targets got different verdicts for the row
// (a missing cell counts as a verdict of its own).
func (r *MatrixRow) Differs() bool {
	for _, c := range r.Cells[1:] {
		if cellVerdict(c) != cellVerdict(r.Cells[0]) {
			return true
		}
	}
	return false
}

// Summary counts one column's verdicts.
func (c *MatrixColumn) Summary() harness.Summary { return c.Run.Summary() }

// Differing counts the rows that differ.
func (m *Matrix) Differing() int {
	n := 0
	for _, r := range m.Rows {
		if r.Differs() {
			n++
		}
	}
	return n
}

// groups splits the rows by group, in order.
func (m *Matrix) groups() [][]*MatrixRow {
	var out [][]*MatrixRow
	for i, r := range m.Rows {
		if i == 0 || r.Group != m.Rows[i-1].Group {
			out = append(out, nil)
		}
		out[len(out)-1] = append(out[len(out)-1], r)
	}
	return out
}

func cellVerdict(r *harness.Result) harness.Verdict {
	if r == nil {
		return ""
	}
	return r.Verdict
}

// cellMark is the mark of a cell, "·" where the case did not run.
func cellMark(r *harness.Result) string {
	if r == nil {
		return "·"
	}
	return Mark(r.Verdict)
}

// A MatrixWriter renders a matrix in one format.
type MatrixWriter func(w io.Writer, m *Matrix, opts Options) error

var matrixFormats = map[string]MatrixWriter{
	"html":     MatrixHTML,
	"markdown": MatrixMarkdown,
	"text":     MatrixText,
}

// MatrixFormats returns the names of the matrix formats, sorted.
func MatrixFormats() []string { return sortedKeys(matrixFormats) }

// LookupMatrix returns the matrix writer for a format name.
func LookupMatrix(format string) (MatrixWriter, error) {
	w, ok := matrixFormats[format]
	if !ok {
		return nil, fmt.Errorf("unknown matrix format %q (want one of %s)", format, strings.Join(MatrixFormats(), ", "))
	}
	return w, nil
}

// MatrixText writes the matrix for a terminal: a legend of the targets,
// then per group one line per case with a mark per target.
func MatrixText(w io.Writer, m *Matrix, opts Options) error {
	var b strings.Builder
	t := &textWriter{color: opts.Color}
	fmt.Fprintf(&b, "smtpspec matrix: %d targets, %d cases, %d differ\n\n", len(m.Columns), len(m.Rows), m.Differing())
	width := 0
	for _, c := range m.Columns {
		width = max(width, len([]rune(c.Name)))
	}
	for i, c := range m.Columns {
		fmt.Fprintf(&b, "  %c  %-*s  %s: %s\n", 'A'+rune(i%26), width, Visible(c.Name), Visible(c.Run.Target.Addr), CountsLine(c.Summary()))
	}
	letters := make([]string, len(m.Columns))
	for i := range m.Columns {
		letters[i] = string(rune('A' + i%26))
	}
	fmt.Fprintf(&b, "\n  %s\n", strings.Join(letters, " "))
	for _, rows := range m.groups() {
		fmt.Fprintf(&b, "%s\n", rows[0].Group)
		for _, r := range rows {
			var cells []string
			for _, c := range r.Cells {
				cells = append(cells, t.paint(cellVerdict(c), cellMark(c)))
			}
			differs := " "
			if r.Differs() {
				differs = "≠"
			}
			fmt.Fprintf(&b, "  %s %s  %s [%s]\n", strings.Join(cells, " "), differs, strings.TrimPrefix(r.ID, r.Group+"/"), r.Level)
		}
		fmt.Fprintln(&b)
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("write matrix: %w", err)
	}
	return nil
}

// MatrixMarkdown writes the matrix as Markdown: a table of the targets and
// their counts, then a table per group with a mark per target. Over
// MarkdownLimit it lists only the rows where the targets differ.
func MatrixMarkdown(w io.Writer, m *Matrix, _ Options) error {
	out := matrixMarkdown(m, false)
	if len(out) > MarkdownLimit {
		out = matrixMarkdown(m, true)
	}
	if _, err := io.WriteString(w, out); err != nil {
		return fmt.Errorf("write matrix: %w", err)
	}
	return nil
}

func matrixMarkdown(m *Matrix, onlyDiffering bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "## smtpspec matrix: %d targets, %d cases, %d differ\n\n", len(m.Columns), len(m.Rows), m.Differing())
	heads := []string{"Target", "Address", "Greeting"}
	for _, v := range harness.Verdicts {
		heads = append(heads, Mark(v)+" "+string(v))
	}
	fmt.Fprintf(&b, "| %s |\n|%s\n", strings.Join(heads, " | "), strings.Repeat("---|", len(heads)))
	for _, c := range m.Columns {
		cells := []string{mdText(c.Name), mdCell(c.Run.Target.Addr), mdCell(c.Run.Target.Greeting)}
		s := c.Summary()
		for _, v := range harness.Verdicts {
			cells = append(cells, fmt.Sprint(s[v]))
		}
		fmt.Fprintf(&b, "| %s |\n", strings.Join(cells, " | "))
	}
	var legend []string
	for _, v := range harness.Verdicts {
		legend = append(legend, Mark(v)+" "+string(v))
	}
	fmt.Fprintf(&b, "\nLegend: %s · `·` not run · ≠ the targets differ\n\n", mdText(strings.Join(legend, " · ")))
	if onlyDiffering {
		b.WriteString("_Only the rows where the targets differ are listed, to stay under the size limit._\n\n")
	}
	for _, rows := range m.groups() {
		var lines []string
		for _, r := range rows {
			if onlyDiffering && !r.Differs() {
				continue
			}
			cells := []string{"", mdCell(strings.TrimPrefix(r.ID, r.Group+"/")), string(r.Level)}
			if r.Differs() {
				cells[0] = "≠"
			}
			for _, c := range r.Cells {
				cells = append(cells, cellMark(c))
			}
			lines = append(lines, "| "+strings.Join(cells, " | ")+" |\n")
		}
		if len(lines) == 0 {
			continue
		}
		fmt.Fprintf(&b, "### %s\n\n| | Case | Level |", mdText(rows[0].Group))
		for _, c := range m.Columns {
			fmt.Fprintf(&b, " %s |", mdText(c.Name))
		}
		fmt.Fprintf(&b, "\n|---|---|---|%s\n", strings.Repeat(":-:|", len(m.Columns)))
		b.WriteString(strings.Join(lines, ""))
		b.WriteString("\n")
	}
	return b.String()
}
