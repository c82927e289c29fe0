package main

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/smtpspec/smtpspec/cases"
	"github.com/smtpspec/smtpspec/harness"
)

// coverageRow is one row in `smtpspec list --coverage --format json`.
type coverageRow struct {
	ID     string   `json:"id"`
	Area   string   `json:"area"`
	Cases  []string `json:"cases"`
	Kind   string   `json:"kind,omitempty"`   // why no case covers it
	Reason string   `json:"reason,omitempty"` //
}

// listCoverage prints every row of the requirements catalogue with the
// selected cases that cover it, or the reason none does.
func listCoverage(kept []*harness.Case, format string, stdout, stderr io.Writer) int {
	rows, err := cases.Rows()
	if err != nil {
		fmt.Fprintf(stderr, "smtpspec list: %v\n", err)
		return exitTrouble
	}
	byRow := map[string][]string{}
	for _, c := range kept {
		for _, id := range c.Catalogue {
			byRow[id] = append(byRow[id], c.ID)
		}
	}
	out := make([]coverageRow, 0, len(rows))
	for _, r := range rows {
		out = append(out, coverageRow{ID: r.ID, Area: r.Area, Cases: append([]string{}, byRow[r.ID]...), Kind: r.Kind, Reason: r.Reason})
	}
	if format == "json" {
		return writeJSON(out, stdout, stderr)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	var (
		area             string
		covered, missing int
		kinds            = map[string]int{}
		caseIDs          = map[string]bool{}
	)
	for _, r := range out {
		if r.Area != area {
			if area != "" {
				fmt.Fprintln(tw)
			}
			area = r.Area
			fmt.Fprintf(tw, "%s\n", area)
		}
		switch {
		case len(r.Cases) > 0:
			covered++
			for _, id := range r.Cases {
				caseIDs[id] = true
			}
			fmt.Fprintf(tw, "  %s\t%s\n", r.ID, strings.Join(r.Cases, ", "))
		case r.Kind != "":
			kinds[r.Kind]++
			fmt.Fprintf(tw, "  %s\t– %s: %s\n", r.ID, r.Kind, r.Reason)
		default:
			missing++
			fmt.Fprintf(tw, "  %s\t× no selected case covers it\n", r.ID)
		}
	}
	tw.Flush()
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(kinds)) {
		parts = append(parts, fmt.Sprintf("%s %d", k, kinds[k]))
	}
	explained := 0
	for _, n := range kinds {
		explained += n
	}
	fmt.Fprintf(stdout, "\n%d rows: %d covered by %d cases, %d explained (%s)", len(out), covered, len(caseIDs), explained, strings.Join(parts, ", "))
	if missing > 0 {
		fmt.Fprintf(stdout, ", %d not covered by the selected cases", missing)
	}
	fmt.Fprintln(stdout)
	return exitOK
}
