package faults

import (
	"bytes"
	"regexp"
	"strings"

	"github.com/smtpspec/smtpspec/harness"
)

// storeFaults are wrong in what the server keeps rather than in what it
// says: the trace fields it adds at delivery and the content it stores.
var storeFaults = []*Fault{
	{Name: "received-for-every-recipient", Doc: "the FOR clause lists every recipient, leaking the envelope to each of them",
		Stored: func(m *harness.Delivered) {
			if len(m.To) < 2 {
				return
			}
			paths := "<" + strings.Join(m.To, ">, <") + ">"
			m.Trace = bytes.Replace(m.Trace, []byte(";\r\n\t"), []byte("\r\n\tfor "+paths+";\r\n\t"), 1)
		}},
	{Name: "return-path-missing", Doc: "final delivery adds no Return-Path",
		Stored: func(m *harness.Delivered) { m.Trace = dropField(m.Trace, "Return-Path:") }},
	{Name: "utf8smtp-not-traced", Doc: "an SMTPUTF8 transaction is traced \"with ESMTP\" instead of the UTF8SMTP family",
		Stored: func(m *harness.Delivered) {
			m.Trace = utf8smtpWith.ReplaceAll(m.Trace, []byte("with ESMTP"))
		}},
	{Name: "store-on-disconnect", Doc: "a client that disconnects in the middle of DATA gets what it sent so far delivered (servers that take EOF for the end of data)",
		EndOnDisconnect: true},
	{Name: "existing-trace-rewritten", Doc: "Received fields the message already had are dropped from the stored content",
		Stored: func(m *harness.Delivered) { m.Data = dropField(m.Data, "Received:") }},
}

var utf8smtpWith = regexp.MustCompile(`with UTF8SMTP`)

// dropField removes every header field (with its folded continuation
// lines) whose name starts the line as prefix does.
func dropField(header []byte, prefix string) []byte {
	var out []byte
	skipping := false
	for _, line := range bytes.SplitAfter(header, []byte("\r\n")) {
		switch {
		case bytes.HasPrefix(line, []byte(prefix)):
			skipping = true
			continue
		case skipping && len(line) > 0 && (line[0] == ' ' || line[0] == '\t'):
			continue
		}
		skipping = false
		out = append(out, line...)
	}
	return out
}
