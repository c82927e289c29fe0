package reports

import (
	"encoding/json"
	"fmt"
	"io"
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

// JSON writes the run as a JSON document.
func JSON(w io.Writer, run *harness.Run, _ Options) error {
	doc := Document{
		Schema:     Schema,
		Started:    run.Started.UTC(),
		DurationMS: float64(run.Duration.Microseconds()) / 1000,
		Target:     run.Target,
		Summary:    run.Summary(),
		Cases:      run.Results,
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("write JSON report: %w", err)
	}
	return nil
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
		Duration: time.Duration(doc.DurationMS * float64(time.Millisecond)),
		Results:  doc.Cases,
	}, nil
}
