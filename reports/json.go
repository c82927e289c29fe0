package reports

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/smtpspec/smtpspec/harness"
)

// Schema identifies the JSON report format; it changes when a field changes
// meaning or goes away (new fields may appear without a change).
const Schema = "smtpspec/run/v1"

// Document is the JSON report, documented in reports/JSON.md.
type Document struct {
	Schema     string             `json:"schema"`
	Started    time.Time          `json:"started"`
	DurationMS float64            `json:"duration_ms"`
	Target     harness.TargetInfo `json:"target"`
	Summary    harness.Summary    `json:"summary"`
	Cases      []*harness.Result  `json:"cases"`
}

// JSON writes the run as a JSON document (see JSON.md). A baseline does
// not change it: the document is the run, which can be gated again later.
func JSON(w io.Writer, run *harness.Run, _ Options) error {
	target := run.Target
	target.EHLO = nonNil(target.EHLO)
	cases := make([]*harness.Result, len(run.Results))
	for i, r := range run.Results {
		// Lists are always lists, never null, so that scripts can iterate
		// (jq '.cases[].tags[]') without guarding.
		c := *r
		c.Spec, c.Tags, c.Transcript = nonNil(c.Spec), nonNil(c.Tags), nonNil(c.Transcript)
		cases[i] = &c
	}
	doc := Document{
		Schema:     Schema,
		Started:    run.Started.UTC(),
		DurationMS: float64(run.Duration.Microseconds()) / 1000,
		Target:     target,
		Summary:    run.Summary(),
		Cases:      cases,
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("write JSON report: %w", err)
	}
	return nil
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// ReadJSON reads a JSON report back into a run.
func ReadJSON(r io.Reader) (*harness.Run, error) {
	var doc Document
	dec := json.NewDecoder(r)
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("read JSON report: %w", err)
	}
	if doc.Schema != Schema {
		return nil, fmt.Errorf("read JSON report: schema %q, want %q", doc.Schema, Schema)
	}
	return &harness.Run{
		Target:   doc.Target,
		Started:  doc.Started,
		Duration: time.Duration(math.Round(doc.DurationMS * float64(time.Millisecond))),
		Results:  doc.Cases,
	}, nil
}
