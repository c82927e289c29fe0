package cases

import (
	_ "embed"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// coverageText is the list of requirement-catalogue rows (coverage.txt).
//
//go:embed coverage.txt
var coverageText string

// A Row is one row of the requirements catalogue the cases are written
// from.
type Row struct {
	ID   string // "5321-4.1.4-nested-mail-503", "SEC-smuggle-lf-dot-crlf"
	Area string // the catalogue section: "D. Mail transaction sequencing"
	// Kind and Reason say why no case covers the row; both are empty for a
	// row that cases cover. Kind is one of ReasonKinds.
	Kind, Reason string
	Line         int // line in coverage.txt
}

// ReasonKinds are the reasons a row may have for not being covered.
var ReasonKinds = []string{"config", "slow", "trace", "next-hop", "dns", "engine", "server"}

var rowIDRE = regexp.MustCompile(`^(?:[0-9]{4}|SEC|LOGIN)-[A-Za-z0-9.-]+$`)

// Rows returns the rows of the requirements catalogue, in catalogue order,
// as listed in coverage.txt.
func Rows() ([]Row, error) { return ParseRows(coverageText) }

// ParseRows parses the coverage list format strictly: "## area" headings,
// one row ID per line, optionally followed by " | kind: reason". Comments
// start with "#" and a space. Every problem is reported, as
// "coverage.txt:LINE: problem".
func ParseRows(text string) ([]Row, error) {
	var (
		rows []Row
		errs []error
		area string
		seen = map[string]int{}
	)
	bad := func(n int, format string, args ...any) {
		errs = append(errs, fmt.Errorf("coverage.txt:%d: %s", n, fmt.Sprintf(format, args...)))
	}
	for i, line := range strings.Split(text, "\n") {
		n := i + 1
		switch {
		case strings.TrimSpace(line) == "":
			continue
		case strings.HasPrefix(line, "## "):
			area = strings.TrimSpace(line[3:])
			continue
		case line == "#" || strings.HasPrefix(line, "# "):
			continue
		}
		id, why, hasWhy := strings.Cut(line, " | ")
		r := Row{ID: strings.TrimSpace(id), Area: area, Line: n}
		switch {
		case !rowIDRE.MatchString(r.ID):
			bad(n, "%q is not a row ID such as 5321-4.1.4-nested-mail-503", r.ID)
			continue
		case id != r.ID:
			bad(n, "row %s: stray white space", r.ID)
		case area == "":
			bad(n, "row %s comes before any \"## area\" heading", r.ID)
		}
		if prev, dup := seen[r.ID]; dup {
			bad(n, "row %s listed twice (first on line %d)", r.ID, prev)
		}
		seen[r.ID] = n
		if hasWhy {
			kind, reason, ok := strings.Cut(why, ": ")
			r.Kind, r.Reason = kind, strings.TrimSpace(reason)
			switch {
			case !ok || r.Reason == "":
				bad(n, "row %s: want \" | KIND: reason\" after the ID", r.ID)
			case !slices.Contains(ReasonKinds, kind):
				bad(n, "row %s: reason kind %q is not one of %s", r.ID, kind, strings.Join(ReasonKinds, ", "))
			}
		}
		rows = append(rows, r)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return rows, nil
}
