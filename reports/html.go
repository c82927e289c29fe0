package reports

import (
	"bufio"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"io"
	"strings"
	"time"

	"github.com/smtpspec/smtpspec/harness"
)

// The page's style and script are separate files for editing and inlined
// into the page, which must work from a file:// URL with no network.
//
//go:embed report.html.tmpl matrix.html.tmpl report.css report.js
var assets embed.FS

var (
	reportCSS = mustAsset("report.css")
	reportJS  = mustAsset("report.js")
	pages     = template.Must(template.New("").ParseFS(assets, "*.tmpl"))
)

func mustAsset(name string) string {
	b, err := assets.ReadFile(name)
	if err != nil {
		panic(err) // embedded at build time: cannot fail
	}
	return string(b)
}

// csp allows the inline style and script by hash and nothing else, so the
// page loads nothing from the network, and markup that escaped escaping
// could not run script.
func csp(css, js string) string {
	h := func(s string) string {
		sum := sha256.Sum256([]byte(s))
		return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
	}
	return "default-src 'none'; style-src " + h(css) + "; script-src " + h(js) + "; img-src data:; base-uri 'none'; form-action 'none'"
}

// htmlPage is what the page templates share.
type htmlPage struct {
	Title string
	CSP   string
	CSS   template.CSS
	JS    template.JS
}

func newHTMLPage(title string) htmlPage {
	return htmlPage{
		Title: title,
		CSP:   csp(reportCSS, reportJS),
		CSS:   template.CSS(reportCSS),
		JS:    template.JS(reportJS),
	}
}

type htmlReport struct {
	htmlPage
	Closing  string
	Other    string
	Target   htmlTarget
	Verdicts []htmlCount
	Levels   []htmlCount
	Total    int
	Failed   int
	Groups   []htmlGroup
	Baseline string // the baseline's name, when gated
	Gate     string // the gate's tally, when gated
}

type htmlTarget struct {
	Addr, Name, Greeting string
	TLS                  bool
	EHLO, EHLOTLS        []string
	Started, Duration    string
}

// htmlCount is one filter checkbox: a verdict or level and how many cases
// have it.
type htmlCount struct {
	Key, Label, Mark string
	N                int
}

type htmlGroup struct {
	Name, Heading, Counts string
	Cases                 []htmlCase
}

type htmlCase struct {
	ID, Local, Title, Level, Verdict, Mark   string
	Outcome, Duration, Requirement, Message  string
	Location, Tags, Search, Baseline, Reason string
	Self                                     string // the element ID the case's own link points at
	Specs                                    []htmlSpec
	Diff                                     []htmlLine
	Transcript                               []htmlLine
}

type htmlSpec struct{ Text, URL string }

// htmlLine is one line of a diff or transcript with its CSS class.
type htmlLine struct{ Class, Text string }

// HTML writes the run as one self-contained page: inline CSS and JS and no
// network access (a Content-Security-Policy forbids it), summary counts, a
// table per spec section, filters by verdict and level and a search box
// (kept in the URL fragment, e.g. #verdict=fail,error&level=MUST&q=ehlo),
// and per case its requirement, the expected-vs-actual diff and the
// transcript. html/template escapes everything that comes from the run.
func HTML(w io.Writer, run *harness.Run, opts Options) error {
	s := run.Summary()
	page := htmlReport{
		htmlPage: newHTMLPage("smtpspec: " + Visible(run.Target.Addr)),
		Closing:  ClosingLine(s),
		Other:    OtherCounts(s),
		Target:   newHTMLTarget(run),
		Total:    len(run.Results),
		Failed:   s[harness.Fail] + s[harness.Error],
	}
	for _, v := range harness.Verdicts {
		page.Verdicts = append(page.Verdicts, htmlCount{Key: string(v), Label: string(v), Mark: Mark(v), N: s[v]})
	}
	page.Levels = levelCounts(run.Results)
	if g := opts.Gate; g != nil {
		page.Baseline = g.Baseline.Name
		page.Gate = fmt.Sprintf("%d known, %d new, %d stale", len(g.Known), len(g.New), len(g.Stale))
	}
	for _, g := range Groups(run.Results) {
		hg := htmlGroup{Name: g.Name, Heading: g.Heading(), Counts: CountsLine(g.Summary())}
		for _, r := range g.Results {
			hg.Cases = append(hg.Cases, newHTMLCase(r, opts.Gate))
		}
		page.Groups = append(page.Groups, hg)
	}
	return executePage(w, "report.html.tmpl", page)
}

func executePage(w io.Writer, name string, data any) error {
	bw := bufio.NewWriter(w)
	if err := pages.ExecuteTemplate(bw, name, data); err != nil {
		return fmt.Errorf("write HTML report: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write HTML report: %w", err)
	}
	return nil
}

func newHTMLTarget(run *harness.Run) htmlTarget {
	t := run.Target
	return htmlTarget{
		Addr:     Visible(t.Addr),
		Name:     Visible(t.Name),
		Greeting: Visible(t.Greeting),
		TLS:      t.TLS,
		EHLO:     visibleAll(t.EHLO),
		EHLOTLS:  visibleAll(t.EHLOTLS),
		Started:  run.Started.UTC().Format(time.RFC3339),
		Duration: run.Duration.Round(time.Millisecond).String(),
	}
}

// levelCounts counts the results by level, strongest first, listing only
// the levels that occur.
func levelCounts(results []*harness.Result) []htmlCount {
	n := map[string]int{}
	for _, r := range results {
		n[string(r.Level)]++
	}
	var out []htmlCount
	for _, l := range []harness.Level{harness.LevelMust, harness.LevelShould, harness.LevelMay, harness.LevelInfo} {
		if k := string(l); n[k] > 0 {
			out = append(out, htmlCount{Key: k, Label: k, N: n[k]})
			delete(n, k)
		}
	}
	for _, l := range sortedKeys(n) {
		out = append(out, htmlCount{Key: l, Label: l, N: n[l]})
	}
	return out
}

func newHTMLCase(r *harness.Result, gate *Gate) htmlCase {
	c := htmlCase{
		ID:          r.ID,
		Self:        "case-" + r.ID,
		Local:       LocalID(r),
		Title:       Visible(r.Title),
		Level:       string(r.Level),
		Verdict:     string(r.Verdict),
		Mark:        Mark(r.Verdict),
		Outcome:     Visible(r.Outcome),
		Duration:    millis(r.Duration),
		Requirement: Visible(r.Requirement),
		Message:     Visible(r.Message),
		Location:    Visible(Location(r)),
		Tags:        Visible(strings.Join(r.Tags, ", ")),
		Baseline:    gate.Status(r),
		Reason:      Visible(gate.Reason(r.ID)),
	}
	if c.Baseline == "new" {
		c.Baseline = "" // without the baseline's word every failure is new
	}
	for _, s := range r.Spec {
		c.Specs = append(c.Specs, htmlSpec{Text: Visible(s), URL: SpecURL(s)})
	}
	for _, l := range DiffLines(r.Diff) {
		class := ""
		switch {
		case strings.HasPrefix(l, "-"):
			class = "del"
		case strings.HasPrefix(l, "+"):
			class = "add"
		}
		c.Diff = append(c.Diff, htmlLine{Class: class, Text: l})
	}
	for _, l := range Transcript(r.Transcript) {
		c.Transcript = append(c.Transcript, htmlLine{Class: "t-" + string(l.Direction), Text: l.String()})
	}
	c.Search = strings.ToLower(strings.Join([]string{r.ID, c.Title, c.Requirement, c.Message, c.Outcome, c.Tags, strings.Join(r.Spec, " "), c.Verdict, c.Level}, " "))
	return c
}

func visibleAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = Visible(s)
	}
	return out
}
