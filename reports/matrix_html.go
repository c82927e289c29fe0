package reports

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/smtpspec/smtpspec/harness"
)

type htmlMatrix struct {
	htmlPage
	Columns  []htmlColumn
	Verdicts []htmlCount
	Levels   []htmlCount
	Total    int
	Differ   int
	Groups   []htmlMatrixGroup
	Details  []htmlCellDetail
}

type htmlColumn struct {
	Name, Addr, Greeting, Counts, Started string
}

type htmlMatrixGroup struct {
	Name string
	Rows []htmlMatrixRow
}

type htmlMatrixRow struct {
	ID, Local, Title, Level, Verdicts, Differ, Search string
	Cells                                             []htmlCell
}

type htmlCell struct {
	Verdict, Mark, Anchor, Tip string
}

// htmlCellDetail is one target's result for one case, shown below the
// table and linked from its cell.
type htmlCellDetail struct {
	Anchor, Column, RowAnchor string
	htmlCase
}

// MatrixHTML writes the matrix as one self-contained page (the same style,
// script and Content-Security-Policy as the HTML report): the targets with
// their counts, a table per group with one column per target, filters by
// verdict and level, "only where targets differ", a search box, and below
// the tables the detail of every cell that is not a plain pass (and of
// every cell of a row where the targets differ), each linked from its cell.
func MatrixHTML(w io.Writer, m *Matrix, _ Options) error {
	page := htmlMatrix{
		htmlPage: newHTMLPage(fmt.Sprintf("smtpspec matrix: %d targets", len(m.Columns))),
		Total:    len(m.Rows),
		Differ:   m.Differing(),
	}
	var results []*harness.Result
	for _, c := range m.Columns {
		s := c.Summary()
		page.Columns = append(page.Columns, htmlColumn{
			Name:     Visible(c.Name),
			Addr:     Visible(c.Run.Target.Addr),
			Greeting: Visible(c.Run.Target.Greeting),
			Counts:   CountsLine(s),
			Started:  c.Run.Started.UTC().Format("2006-01-02 15:04 MST"),
		})
	}
	// The filter shows rows with any of the checked verdicts, so each chip
	// counts the rows that have its verdict in some column.
	rows := harness.Summary{}
	for _, r := range m.Rows {
		seen := map[harness.Verdict]bool{}
		for _, c := range r.Cells {
			if c != nil && !seen[c.Verdict] {
				seen[c.Verdict] = true
				rows[c.Verdict]++
			}
		}
		results = append(results, &harness.Result{Level: r.Level})
	}
	for _, v := range harness.Verdicts {
		page.Verdicts = append(page.Verdicts, htmlCount{Key: string(v), Label: string(v), Mark: Mark(v), N: rows[v]})
	}
	page.Levels = levelCounts(results)
	for _, rows := range m.groups() {
		g := htmlMatrixGroup{Name: rows[0].Group}
		for _, r := range rows {
			g.Rows = append(g.Rows, page.row(m, r))
		}
		page.Groups = append(page.Groups, g)
	}
	return executePage(w, "matrix.html.tmpl", page)
}

// row renders one row and adds the details of its cells to the page.
func (page *htmlMatrix) row(m *Matrix, r *MatrixRow) htmlMatrixRow {
	differs := r.Differs()
	hr := htmlMatrixRow{
		ID:    r.ID,
		Local: strings.TrimPrefix(r.ID, r.Group+"/"),
		Title: Visible(r.Title),
		Level: string(r.Level),
	}
	if differs {
		hr.Differ = "yes"
	}
	var verdicts []string
	for i, res := range r.Cells {
		cell := htmlCell{Verdict: "none", Mark: cellMark(res), Tip: "not run"}
		if res == nil {
			hr.Cells = append(hr.Cells, cell)
			continue
		}
		cell.Verdict = string(res.Verdict)
		cell.Tip = string(res.Verdict)
		if res.Message != "" {
			cell.Tip += ": " + Visible(res.Message)
		}
		if !slices.Contains(verdicts, cell.Verdict) {
			verdicts = append(verdicts, cell.Verdict)
		}
		if differs || res.Verdict != harness.Pass {
			cell.Anchor = fmt.Sprintf("m%d-%s", i, r.ID)
			d := htmlCellDetail{Anchor: cell.Anchor, Column: Visible(m.Columns[i].Name), RowAnchor: "row-" + r.ID, htmlCase: newHTMLCase(res, nil)}
			d.Self = cell.Anchor
			page.Details = append(page.Details, d)
		}
		hr.Cells = append(hr.Cells, cell)
	}
	hr.Verdicts = strings.Join(verdicts, " ")
	hr.Search = strings.ToLower(strings.Join([]string{r.ID, hr.Title, Visible(r.Requirement), strings.Join(r.Spec, " "), hr.Verdicts, hr.Level}, " "))
	return hr
}
