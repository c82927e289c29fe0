package main

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
)

func TestListCoverage(t *testing.T) {
	var out, errb bytes.Buffer
	if st := dispatch([]string{"list", "--coverage"}, &out, &errb); st != exitOK {
		t.Fatalf("list --coverage: status %d, stderr %s", st, errb.String())
	}
	text := out.String()
	for _, want := range []string{
		"A. Session opening and closing\n",
		"rfc5321/4.1.4/nested-mail",
		"– slow: ",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("list --coverage output lacks %q", want)
		}
	}
	last := regexp.MustCompile(`(?m)^(\d+) rows: (\d+) covered by \d+ cases, (\d+) explained \(.*\)$`).FindStringSubmatch(text)
	if last == nil {
		t.Fatalf("no summary line in:\n%s", text)
	}
	if last[1] != "242" {
		t.Errorf("summary counts %s rows, want 242", last[1])
	}
	if strings.Contains(text, "not covered") {
		t.Errorf("some row is neither covered nor explained:\n%s", text)
	}
}

func TestListCoverage_json(t *testing.T) {
	var out, errb bytes.Buffer
	if st := dispatch([]string{"list", "--coverage", "--format", "json", "--run", "^security/smuggling/"}, &out, &errb); st != exitOK {
		t.Fatalf("status %d, stderr %s", st, errb.String())
	}
	var rows []coverageRow
	if err := json.Unmarshal(out.Bytes(), &rows); err != nil {
		t.Fatal(err)
	}
	got := map[string]coverageRow{}
	for _, r := range rows {
		got[r.ID] = r
	}
	if r := got["SEC-smuggle-lf-dot-crlf"]; len(r.Cases) != 1 || r.Cases[0] != "security/smuggling/lf-dot-crlf" {
		t.Errorf("SEC-smuggle-lf-dot-crlf covered by %v, want [security/smuggling/lf-dot-crlf] under --run", r.Cases)
	}
	if r := got["5321-4.5.3.2.7-server-timeout-5min"]; r.Kind != "slow" || r.Reason == "" {
		t.Errorf("server-timeout row = %+v, want kind slow with a reason", r)
	}
}
