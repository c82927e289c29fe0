package harness

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"
)

// Verdict is the outcome of one case.
type Verdict string

// The verdicts.
const (
	Pass          Verdict = "pass"          // every reply strictly as required
	NonStrict     Verdict = "non-strict"    // acceptable only under a lenient reading
	Fail          Verdict = "fail"          // the server broke the requirement
	Unimplemented Verdict = "unimplemented" // the target does not advertise a keyword the case requires
	Skip          Verdict = "skip"          // filtered out, or the profile lacks what the case needs
	Error         Verdict = "error"         // transport or harness trouble: no verdict on the server
	Info          Verdict = "info"          // behaviour recorded, nothing required
)

// Verdicts lists every verdict in report order.
var Verdicts = []Verdict{Pass, NonStrict, Fail, Error, Unimplemented, Skip, Info}

// Failed reports whether the verdict makes a run fail.
func (v Verdict) Failed() bool { return v == Fail || v == Error }

// A Result is what running one case produced.
type Result struct {
	ID          string   `json:"id"`
	Title       string   `json:"title"`
	Group       string   `json:"group"`
	GroupTitle  string   `json:"group_title,omitempty"` // the title of the case's file: "Order of commands"
	File        string   `json:"file"`
	Line        int      `json:"line"`
	Spec        []string `json:"spec"`
	Level       Level    `json:"level"`
	Requirement string   `json:"requirement"`
	Tags        []string `json:"tags"`

	Verdict  Verdict       `json:"verdict"`
	Filtered bool          `json:"filtered,omitempty"`  // skipped because the run's filters left it out
	Outcome  string        `json:"outcome,omitempty"`   // the matched outcome, for cases with outcomes
	Duration time.Duration `json:"-"`                   // see DurationMS
	Message  string        `json:"message"`             // one line: why this verdict
	StepLine int           `json:"step_line,omitempty"` // the YAML line of the step that decided a fail or error
	Diff     string        `json:"diff"`                // go-cmp diff of expected against actual (-want +got)

	Transcript []Entry `json:"transcript"`
}

// DurationMS is Duration in milliseconds, as reports show it.
func (r *Result) DurationMS() float64 { return float64(r.Duration) / float64(time.Millisecond) }

type resultJSON Result

// MarshalJSON adds duration_ms.
func (r Result) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		resultJSON
		DurationMS float64 `json:"duration_ms"`
	}{resultJSON(r), roundMS(r.Duration)})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (r *Result) UnmarshalJSON(data []byte) error {
	var aux struct {
		resultJSON
		DurationMS float64 `json:"duration_ms"`
	}
	if err := json.Unmarshal(data, &aux); err != nil {
		return err
	}
	*r = Result(aux.resultJSON)
	r.Duration = fromMS(aux.DurationMS)
	return nil
}

// roundMS is d in milliseconds with microsecond precision, as the JSON
// report writes durations.
func roundMS(d time.Duration) float64 {
	return float64(d.Microseconds()) / 1000
}

// fromMS reads what roundMS wrote. Rounding to the microsecond undoes the
// float error that would otherwise turn 16.182 ms into 16.181999 ms.
func fromMS(ms float64) time.Duration {
	return time.Duration(math.Round(ms*1000)) * time.Microsecond
}

// Direction says who sent a transcript entry.
type Direction string

// The directions.
const (
	Client Direction = "client"
	Server Direction = "server"
	Event  Direction = "event" // TLS handshakes, closes, timeouts, harness notes
)

// An Entry is one transcript record: octets written or read, or an event.
type Entry struct {
	Direction Direction
	Time      time.Duration // since the case started
	Data      []byte
	Omitted   int  // octets left out of Data to keep the transcript small
	TLS       bool // inside TLS
}

type entryJSON struct {
	Direction  Direction `json:"direction"`
	Time       float64   `json:"time"` // milliseconds since the case started
	Data       string    `json:"data"`
	DataBase64 string    `json:"data_base64,omitempty"`
	Omitted    int       `json:"omitted,omitempty"`
	TLS        bool      `json:"tls,omitempty"`
}

// MarshalJSON writes the data as a string; when it is not valid UTF-8 the
// exact octets also go into data_base64.
func (e Entry) MarshalJSON() ([]byte, error) {
	j := entryJSON{Direction: e.Direction, Time: roundMS(e.Time), Data: string(e.Data), Omitted: e.Omitted, TLS: e.TLS}
	if !utf8.Valid(e.Data) {
		j.DataBase64 = base64.StdEncoding.EncodeToString(e.Data)
	}
	return json.Marshal(j)
}

// UnmarshalJSON reads what MarshalJSON writes.
func (e *Entry) UnmarshalJSON(data []byte) error {
	var j entryJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return err
	}
	*e = Entry{Direction: j.Direction, Time: fromMS(j.Time), Data: []byte(j.Data), Omitted: j.Omitted, TLS: j.TLS}
	if j.DataBase64 != "" {
		b, err := base64.StdEncoding.DecodeString(j.DataBase64)
		if err != nil {
			return fmt.Errorf("transcript data_base64: %w", err)
		}
		e.Data = b
	}
	return nil
}

// TargetInfo describes the server a run tested.
type TargetInfo struct {
	Addr     string   `json:"addr"`
	TLS      bool     `json:"tls"`                // implicit TLS
	Greeting string   `json:"greeting"`           // the 220 reply text
	EHLO     []string `json:"ehlo"`               // keywords with parameters
	EHLOTLS  []string `json:"ehlo_tls,omitempty"` // after STARTTLS, when offered
	Name     string   `json:"name,omitempty"`     // "reference" for the bundled server
	// ProbeError says what went wrong when the harness first talked to the
	// target (after connecting); keywords are then unknown and every case runs.
	ProbeError string `json:"probe_error,omitempty"`
}

// Has reports whether the target advertised keyword kw (before TLS, or
// after it when tls is true). kw may name a parameter too: "AUTH LOGIN"
// asks for the AUTH keyword with LOGIN among its parameters.
func (t *TargetInfo) Has(kw string, tls bool) bool {
	list := t.EHLO
	if tls && t.EHLOTLS != nil {
		list = t.EHLOTLS
	}
	name, param, withParam := strings.Cut(kw, " ")
	params := keywordParam(list, name)
	if params == nil || !withParam {
		return params != nil
	}
	for _, p := range strings.Fields(*params) {
		if strings.EqualFold(p, param) {
			return true
		}
	}
	return false
}

// keywordParam returns the parameters of keyword kw in list, or nil.
func keywordParam(list []string, kw string) *string {
	for _, k := range list {
		name, params, _ := strings.Cut(k, " ")
		if strings.EqualFold(name, kw) {
			return &params
		}
	}
	return nil
}

// Summary counts results by verdict.
type Summary map[Verdict]int

// Total is the number of results.
func (s Summary) Total() int {
	n := 0
	for _, c := range s {
		n += c
	}
	return n
}

// Failed reports whether any result failed or errored.
func (s Summary) Failed() bool { return s[Fail]+s[Error] > 0 }

// A Run is the result of running a catalogue against one target.
type Run struct {
	Target   TargetInfo
	Started  time.Time
	Duration time.Duration
	Results  []*Result
}

// Summary counts the run's results by verdict.
func (r *Run) Summary() Summary {
	s := Summary{}
	for _, v := range Verdicts {
		s[v] = 0
	}
	for _, res := range r.Results {
		s[res.Verdict]++
	}
	return s
}
