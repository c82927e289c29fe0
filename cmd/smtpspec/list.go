package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/smtpspec/smtpspec/harness"
)

// listedCase is one case in `smtpspec list --format json`.
type listedCase struct {
	ID          string   `json:"id"`
	Title       string   `json:"title"`
	Level       string   `json:"level"`
	Spec        []string `json:"spec"`
	Requirement string   `json:"requirement"`
	Tags        []string `json:"tags"`
	Requires    []string `json:"requires"`
	Catalogue   []string `json:"catalogue"`
	File        string   `json:"file"`
	Line        int      `json:"line"`
}

func cmdList(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("smtpspec list", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cf caseFlags
	cf.register(fs, false)
	format := fs.String("format", "text", "output format: text or json")
	coverage := fs.Bool("coverage", false, "list the rows of the requirements catalogue instead, each with the cases that cover it or the reason none does")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: smtpspec list [flags]\n\nList the cases: ID, level, spec reference and title.\nWith --coverage, list the requirements catalogue rows and what covers them.\n\nflags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return usageStatus(err)
	}
	if *format != "text" && *format != "json" {
		fmt.Fprintf(stderr, "smtpspec list: --format %q: want text or json\n", *format)
		return exitUsage
	}
	var opts harness.Options
	if err := cf.options(&opts); err != nil {
		fmt.Fprintf(stderr, "smtpspec list: %v\n", err)
		return exitUsage
	}
	cat, err := cf.catalogue()
	if err != nil {
		fmt.Fprintf(stderr, "smtpspec list: invalid cases:\n%v\n", indent(err.Error()))
		return exitTrouble
	}
	kept := harness.Select(cat, opts)
	if *coverage {
		return listCoverage(kept, *format, stdout, stderr)
	}
	if *format == "json" {
		out := make([]listedCase, 0, len(kept))
		for _, c := range kept {
			out = append(out, listedCase{
				ID: c.ID, Title: c.Title, Level: string(c.Level), Spec: c.Spec, Requirement: c.Requirement,
				Tags: c.Tags, Requires: c.Requires, Catalogue: c.Catalogue, File: c.File, Line: c.Line,
			})
		}
		return writeJSON(out, stdout, stderr)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	for _, c := range kept {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", c.ID, c.Level, strings.Join(c.Spec, "; "), c.Title)
	}
	tw.Flush()
	fmt.Fprintf(stdout, "%d cases\n", len(kept))
	return exitOK
}

// writeJSON writes v as indented JSON for `smtpspec list`.
func writeJSON(v any, stdout, stderr io.Writer) int {
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		fmt.Fprintf(stderr, "smtpspec list: %v\n", err)
		return exitTrouble
	}
	return exitOK
}
