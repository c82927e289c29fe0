package reports

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/smtpspec/smtpspec/harness"
)

// MarkdownLimit is the most a Markdown report may hold: GitHub refuses a
// job summary over 1 MiB, so the report stays a little under it.
const MarkdownLimit = 1000 * 1024

// Limits on one failure's detail in the Markdown report, so that one huge
// transcript cannot crowd out every other failure.
const (
	mdMaxTranscriptLines = 120
	mdMaxDiffLines       = 80
	mdMaxLineLen         = 400
)

// Markdown writes a summary for a CI job page (GitHub's
// $GITHUB_STEP_SUMMARY, a GitLab or Gitea comment): the closing line as a
// heading, the target, counts per verdict, failures first with their diff
// and a collapsible transcript, then a collapsible table per spec section.
// The whole stays under MarkdownLimit: when failures would not fit, the
// later ones lose their transcripts, then their blocks, with a note saying
// how many were left out.
func Markdown(w io.Writer, run *harness.Run, opts Options) error {
	head := mdHeader(run)
	sections := mdSections(run, opts.Gate)
	if len(sections) > MarkdownLimit/2 {
		sections = fmt.Sprintf("### Results by section\n\n_%d cases are too many to list here; the JSON, JUnit and HTML reports have them all._\n", len(run.Results))
	}
	budget := MarkdownLimit - len(head) - len(sections) - 512

	var body strings.Builder
	failing := mdFailing(run, opts.Gate)
	left := 0
	for _, part := range failing {
		if part.heading != "" {
			body.WriteString(part.heading)
			continue
		}
		full := mdFailure(part.r, opts.Gate, true)
		if body.Len()+len(full) <= budget {
			body.WriteString(full)
			continue
		}
		if short := mdFailure(part.r, opts.Gate, false); body.Len()+len(short) <= budget {
			body.WriteString(short)
			continue
		}
		left++
	}
	if left > 0 {
		fmt.Fprintf(&body, "_%d more %s left out to keep this summary under GitHub's 1 MiB limit; the JSON, JUnit and HTML reports have them all._\n\n", left, plural(left, "failure", "failures"))
	}
	if gate := opts.Gate; gate != nil && len(gate.Known) > 0 {
		body.WriteString(mdKnown(gate, budget-body.Len()))
	}

	bw := bufio.NewWriter(w)
	bw.WriteString(head)
	bw.WriteString(body.String())
	bw.WriteString(sections)
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write Markdown report: %w", err)
	}
	return nil
}

func mdHeader(run *harness.Run) string {
	var b strings.Builder
	s := run.Summary()
	fmt.Fprintf(&b, "## %s\n\n", ClosingLine(s))
	if other := OtherCounts(s); other != "" {
		fmt.Fprintf(&b, "%s\n\n", other)
	}
	tg := run.Target
	name := mdCode(tg.Addr)
	if tg.Name != "" {
		name += " (" + mdText(tg.Name) + ")"
	}
	if tg.TLS {
		name += ", implicit TLS"
	}
	fmt.Fprintf(&b, "**Target** %s · **greeting** %s · started %s · run time %v\n\n", name, mdCode(tg.Greeting),
		run.Started.UTC().Format(time.RFC3339), run.Duration.Round(time.Millisecond))
	var kws []string
	for _, k := range tg.EHLO {
		kws = append(kws, mdCode(k))
	}
	fmt.Fprintf(&b, "**EHLO** %s\n\n", strings.Join(kws, " "))
	var heads, rules, counts []string
	for _, v := range harness.Verdicts {
		heads = append(heads, Mark(v)+" "+string(v))
		rules = append(rules, "---:")
		counts = append(counts, fmt.Sprint(s[v]))
	}
	fmt.Fprintf(&b, "| %s |\n| %s |\n| %s |\n\n", strings.Join(heads, " | "), strings.Join(rules, " | "), strings.Join(counts, " | "))
	return b.String()
}

// mdPart is a heading or one failure of the failures part.
type mdPart struct {
	heading string
	r       *harness.Result
}

// mdFailing lists the failures to show in full, with their headings: all
// fails and errors, or with a baseline the new ones and the stale entries
// (the known failures get a compact table of their own).
func mdFailing(run *harness.Run, gate *Gate) []mdPart {
	var parts []mdPart
	add := func(title string, rs []*harness.Result) {
		if len(rs) == 0 {
			return
		}
		parts = append(parts, mdPart{heading: fmt.Sprintf("### %s (%d)\n\n", title, len(rs))})
		for _, r := range rs {
			parts = append(parts, mdPart{r: r})
		}
	}
	if gate != nil {
		add("New failures, not in baseline "+mdText(gate.Baseline.Name), gate.New)
		add("No longer failing, but listed in baseline "+mdText(gate.Baseline.Name)+": delete their lines", gate.Stale)
		return parts
	}
	var failed []*harness.Result
	for _, r := range run.Results {
		if r.Verdict.Failed() {
			failed = append(failed, r)
		}
	}
	add("Failures", failed)
	return parts
}

// mdFailure renders one failure block; full adds the diff and transcript.
func mdFailure(r *harness.Result, gate *Gate, full bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "#### %s %s %s: %s\n\n", Mark(r.Verdict), r.Verdict, mdCode(r.ID), mdText(r.Title))
	var specs []string
	for _, s := range r.Spec {
		specs = append(specs, mdLink(s, SpecURL(s)))
	}
	fmt.Fprintf(&b, "**%s** · %s · %s\n\n", r.Level, strings.Join(specs, ", "), mdCode(Location(r)))
	fmt.Fprintf(&b, "> %s\n\n", mdText(r.Requirement))
	if gate.Status(r) == "stale" {
		fmt.Fprintf(&b, "**Now:** %s; the baseline says: %s\n\n", r.Verdict, mdText(gate.Reason(r.ID)))
		return b.String()
	}
	fmt.Fprintf(&b, "**Problem:** %s\n\n", mdText(r.Message))
	if !full {
		return b.String()
	}
	if lines := DiffLines(r.Diff); len(lines) > 0 {
		b.WriteString(mdFence("diff", capLines(lines, mdMaxDiffLines)))
	}
	if len(r.Transcript) > 0 {
		var lines []string
		TranscriptLines(r.Transcript, func(l string) { lines = append(lines, l) })
		fmt.Fprintf(&b, "<details><summary>Transcript (%d %s)</summary>\n\n", len(lines), plural(len(lines), "line", "lines"))
		b.WriteString(mdFence("text", capLines(lines, mdMaxTranscriptLines)))
		b.WriteString("</details>\n\n")
	}
	return b.String()
}

// mdKnown is the compact table of known failures, cut short to fit room.
func mdKnown(gate *Gate, room int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "### Known failures (%d, listed in baseline %s)\n\n", len(gate.Known), mdText(gate.Baseline.Name))
	b.WriteString("| | Case | Level | Reason |\n|---|---|---|---|\n")
	for i, r := range gate.Known {
		row := fmt.Sprintf("| %s | %s | %s | %s |\n", Mark(r.Verdict), mdCell(r.ID), r.Level, mdText(gate.Reason(r.ID)))
		if b.Len()+len(row) > room-200 {
			fmt.Fprintf(&b, "\n_%d more known failures left out to stay under the size limit._\n", len(gate.Known)-i)
			break
		}
		b.WriteString(row)
	}
	b.WriteString("\n")
	return b.String()
}

// mdSections is the per-section part: one collapsible table per group.
func mdSections(run *harness.Run, gate *Gate) string {
	var b strings.Builder
	b.WriteString("### Results by section\n\n")
	for _, g := range Groups(run.Results) {
		fmt.Fprintf(&b, "<details><summary><b>%s</b>: %s</summary>\n\n", htmlText(g.Heading()), htmlText(CountsLine(g.Summary())))
		b.WriteString("| | Case | Level | Title | Note |\n|---|---|---|---|---|\n")
		for _, r := range g.Results {
			var note []string
			if r.Verdict != harness.Pass {
				note = append(note, string(r.Verdict))
			}
			if r.Outcome != "" {
				note = append(note, mdText(r.Outcome))
			}
			if s := gate.Status(r); s == "known" || s == "stale" {
				note = append(note, s+" in baseline")
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", Mark(r.Verdict), mdCell(LocalID(r)), r.Level, mdText(r.Title), strings.Join(note, ": "))
		}
		b.WriteString("\n</details>\n\n")
	}
	return b.String()
}

// mdText escapes s for Markdown prose and table cells: control octets
// made visible, Markdown punctuation and HTML tags neutralised, so that
// text from a server can neither format the page nor close a <details>.
func mdText(s string) string {
	s = Visible(s)
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '&':
			b.WriteString("&amp;")
		case '\\', '`', '*', '_', '[', ']', '|', '#', '~', '!', '$', '@':
			b.WriteRune('\\')
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// mdCode renders s as an inline code span. Entities are not decoded inside
// code spans and a backslash is literal, so escaping is impossible there:
// the span uses more backticks than s contains in a row, as CommonMark
// allows.
func mdCode(s string) string {
	s = Visible(s)
	fence := strings.Repeat("`", longestRun(s, '`')+1)
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") || s == "" {
		s = " " + s + " "
	}
	return fence + s + fence
}

// mdCell is mdCode for a table cell, where a pipe ends the cell even
// inside a code span unless escaped (GFM strips the backslash there).
func mdCell(s string) string {
	return strings.ReplaceAll(mdCode(s), "|", `\|`)
}

// mdFence renders lines as a fenced code block with a fence longer than
// any run of backticks inside, so the content cannot close it.
func mdFence(lang string, lines []string) string {
	body := strings.Join(lines, "\n")
	fence := strings.Repeat("`", max(3, longestRun(body, '`')+1))
	return fence + lang + "\n" + body + "\n" + fence + "\n\n"
}

// mdLink links text to url, or returns the escaped text without one.
func mdLink(text, url string) string {
	if url == "" {
		return mdText(text)
	}
	return "[" + mdText(text) + "](" + url + ")"
}

// htmlText escapes s for the raw HTML that Markdown passes through.
func htmlText(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;").Replace(Visible(s))
}

func longestRun(s string, c byte) int {
	best, n := 0, 0
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			n++
			best = max(best, n)
		} else {
			n = 0
		}
	}
	return best
}

// capLines keeps at most n lines, each at most mdMaxLineLen bytes (cut at
// a rune boundary), and says what it left out.
func capLines(lines []string, n int) []string {
	out := make([]string, 0, min(len(lines), n+1))
	for i, l := range lines {
		if i == n {
			out = append(out, fmt.Sprintf("… %d more lines (see the JSON or HTML report)", len(lines)-n))
			break
		}
		if len(l) > mdMaxLineLen {
			cut := mdMaxLineLen
			for cut > 0 && l[cut]&0xc0 == 0x80 {
				cut--
			}
			l = l[:cut] + fmt.Sprintf(" … (%d more bytes)", len(l)-cut)
		}
		out = append(out, l)
	}
	return out
}
