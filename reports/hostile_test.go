package reports

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/xml"
	"html"
	"io"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

// TestHostile renders a run full of hostile wire data in every format,
// with and without a baseline, and checks that each stays well-formed
// and shows the bytes rather than obeying them.
func TestHostile(t *testing.T) {
	run := hostileRun()
	gates := map[string]*Gate{
		"plain": nil,
		"known": (&Baseline{Name: "b.txt", Entries: []BaselineEntry{{ID: run.Results[0].ID, Reason: "because " + hostile, Line: 1}}}).Check(run),
	}
	checks := map[string]func(t *testing.T, out []byte){
		"text":     checkHostileText,
		"json":     checkHostileJSON,
		"junit":    checkHostileJUnit,
		"markdown": checkHostileMarkdown,
		"html":     checkHostileHTML,
	}
	for gname, gate := range gates {
		for format, check := range checks {
			t.Run(gname+"/"+format, func(t *testing.T) {
				w, err := Lookup(format)
				if err != nil {
					t.Fatal(err)
				}
				out := render(t, w, hostileRun(), Options{Gate: gate})
				if format != "json" {
					// JSON is data: it keeps text such as U+202E as it is
					// and escapes control octets its own way.
					checkPlainBytes(t, format, out)
				}
				check(t, out)
			})
		}
		t.Run(gname+"/annotations", func(t *testing.T) {
			var b bytes.Buffer
			if err := Annotations(&b, hostileRun(), gate); err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
			if gate == nil && len(lines) != 1 {
				t.Fatalf("annotations = %d lines, want 1 (a newline in the message must be escaped):\n%s", len(lines), b.String())
			}
			for _, l := range lines {
				if l != "" && !strings.HasPrefix(l, "::error file=") {
					t.Errorf("annotation line %q: want ::error file=…", l)
				}
			}
			checkPlainBytes(t, "annotations", b.Bytes())
		})
	}
}

// checkPlainBytes: valid UTF-8, no control octets but LF (and TAB in the
// JSON indentation), no bidi override or line separator from the data.
func checkPlainBytes(t *testing.T, format string, out []byte) {
	t.Helper()
	if !utf8.Valid(out) {
		t.Errorf("%s: output is not valid UTF-8", format)
	}
	for i, r := range string(out) {
		if (r < ' ' && r != '\n') || r == 0x7f || r == '\u202e' || r == '\u2028' || r == '\ufffe' {
			t.Errorf("%s: raw %U at offset %d: …%q…", format, r, i, out[max(0, i-40):min(len(out), i+40)])
			return
		}
	}
}

func checkHostileText(t *testing.T, out []byte) {
	s := string(out)
	for _, want := range []string{`\x1b[2J`, `\x00`, `\xff\xfe\xc3`, `\u202e`, `\ufffe`} {
		if !strings.Contains(s, want) {
			t.Errorf("text report lacks the visible form %s", want)
		}
	}
	checkNoWorkflowCommands(t, s)
}

// checkNoWorkflowCommands: GitHub's runner obeys a stdout or stderr line
// that starts (after spaces) with "::", so a report printed in a CI log
// must never let wire data start a line.
func checkNoWorkflowCommands(t *testing.T, s string) {
	t.Helper()
	for _, l := range strings.Split(s, "\n") {
		if trimmed := strings.TrimSpace(l); strings.HasPrefix(trimmed, "::") || strings.HasPrefix(trimmed, "##[") {
			t.Errorf("line starts a workflow command: %q", l)
		}
	}
}

func checkHostileJSON(t *testing.T, out []byte) {
	run, err := ReadJSON(bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	want := hostileRun().Results[0].Transcript
	got := run.Results[0].Transcript
	for i := range want {
		if !bytes.Equal(got[i].Data, want[i].Data) {
			t.Errorf("transcript[%d] after a JSON round trip = %q, want %q", i, got[i].Data, want[i].Data)
		}
	}
}

func checkHostileJUnit(t *testing.T, out []byte) {
	dec := xml.NewDecoder(bytes.NewReader(out))
	var text strings.Builder
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("JUnit report is not well-formed XML: %v", err)
		}
		if cd, ok := tok.(xml.CharData); ok {
			text.Write(cd)
		}
	}
	for _, want := range []string{`]]> </script>`, `\x1b[2J`, `\x00`, `\xff`} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("JUnit text lacks %q", want)
		}
	}
	validateJUnit(t, out)
}

// mdFenceLine matches a line that opens or closes a fenced code block.
var mdFenceLine = regexp.MustCompile("^(`{3,})")

func checkHostileMarkdown(t *testing.T, out []byte) {
	s := string(out)
	checkMarkdownStructure(t, s)
	for _, want := range []string{`&lt;/script&gt;`, `\@team`, `\$x\$`, `\|a\|b\|`} {
		if !strings.Contains(s, want) {
			t.Errorf("Markdown lacks the escaped form %s", want)
		}
	}
}

// checkMarkdownStructure parses a report as far as CommonMark block and
// code structure goes: outside fenced blocks and code spans (where
// everything is literal) the only markup must be the report's own, and
// every <details> it opens must be closed.
func checkMarkdownStructure(t *testing.T, s string) {
	t.Helper()
	own := strings.NewReplacer("<details><summary>", "", "</summary>", "", "</details>", "", "<b>", "", "</b>", "")
	fence := ""
	open := 0
	for _, l := range strings.Split(s, "\n") {
		if m := mdFenceLine.FindString(l); m != "" {
			switch {
			case fence == "":
				fence = m
				continue
			case len(m) >= len(fence) && strings.TrimLeft(l, "`") == "":
				fence = ""
				continue
			}
		}
		if fence != "" {
			continue
		}
		l = stripCodeSpans(t, l)
		open += strings.Count(l, "<details>") - strings.Count(l, "</details>")
		if open < 0 {
			t.Errorf("</details> closes more than was opened: %q", l)
		}
		if strings.Contains(own.Replace(l), "<") {
			t.Errorf("raw markup outside code: %q", l)
		}
	}
	if fence != "" {
		t.Errorf("a code block is left open")
	}
	if open != 0 {
		t.Errorf("%d <details> left open", open)
	}
}

// stripCodeSpans removes CommonMark code spans from a line: a run of n
// backticks up to the next run of exactly n.
func stripCodeSpans(t *testing.T, l string) string {
	t.Helper()
	var b strings.Builder
	for i := 0; i < len(l); {
		if l[i] != '`' || (i > 0 && l[i-1] == '\\') {
			b.WriteByte(l[i])
			i++
			continue
		}
		n := 0
		for i+n < len(l) && l[i+n] == '`' {
			n++
		}
		end := -1
		for j := i + n; j < len(l); {
			if l[j] != '`' {
				j++
				continue
			}
			k := 0
			for j+k < len(l) && l[j+k] == '`' {
				k++
			}
			if k == n {
				end = j + k
				break
			}
			j += k
		}
		if end < 0 {
			t.Errorf("unclosed code span in %q", l)
			return b.String()
		}
		i = end
	}
	return b.String()
}

var (
	inlineScript = regexp.MustCompile(`(?s)<script>(.*?)</script>`)
	inlineStyle  = regexp.MustCompile(`(?s)<style>(.*?)</style>`)
	cspMeta      = regexp.MustCompile(`http-equiv="Content-Security-Policy" content="([^"]*)"`)
)

func checkHostileHTML(t *testing.T, out []byte) {
	s := string(out)
	if n := strings.Count(strings.ToLower(s), "<script"); n != 1 {
		t.Errorf("%d <script occurrences, want 1 (ours)", n)
	}
	if n := strings.Count(strings.ToLower(s), "</script"); n != 1 {
		t.Errorf("%d </script occurrences, want 1 (ours)", n)
	}
	if strings.Contains(s, "<!--") {
		t.Errorf("an HTML comment opener got through")
	}
	checkCSP(t, s)
}

// checkCSP: the page's policy allows exactly its own inline style and
// script, by hash.
func checkCSP(t *testing.T, page string) {
	t.Helper()
	csp := cspMeta.FindStringSubmatch(page)
	if csp != nil {
		csp[1] = html.UnescapeString(csp[1])
	}
	js := inlineScript.FindStringSubmatch(page)
	css := inlineStyle.FindStringSubmatch(page)
	if csp == nil || js == nil || css == nil {
		t.Fatalf("page lacks its CSP, script or style")
	}
	hash := func(s string) string {
		sum := sha256.Sum256([]byte(s))
		return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
	}
	want := "default-src 'none'; style-src " + hash(css[1]) + "; script-src " + hash(js[1]) + "; img-src data:; base-uri 'none'; form-action 'none'"
	if diff := cmp.Diff(want, csp[1]); diff != "" {
		t.Errorf("CSP does not match the inline style and script (-want +got):\n%s", diff)
	}
}
