//go:build unix

package reports

import (
	"bytes"
	"context"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestHTML_browser loads the HTML report and matrix in headless Chromium
// (Debian package chromium; .ci/run installs it) from file:// URLs, as a
// user opening a CI artifact would, and checks what the browser made of
// them: the filters in the URL fragment hide the right rows, an anchor
// opens its case, hostile data stays text, and a screenshot shows a page.
// Set SMTPSPEC_SCREENSHOT=path.png to keep the screenshot.
func TestHTML_browser(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: no browser")
	}
	browser := findChromium(t)
	dir := t.TempDir()
	run := fixtureRun()
	write := func(name string, w func(*bytes.Buffer) error) string {
		var b bytes.Buffer
		if err := w(&b); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return "file://" + path
	}
	report := write("report.html", func(b *bytes.Buffer) error {
		return HTML(b, run, Options{Gate: fixtureBaseline().Check(run)})
	})
	hostilePage := write("hostile.html", func(b *bytes.Buffer) error { return HTML(b, hostileRun(), Options{}) })
	matrix := write("matrix.html", func(b *bytes.Buffer) error { return MatrixHTML(b, fixtureMatrix(t), Options{}) })

	t.Run("filter-verdict", func(t *testing.T) {
		dom := dumpDOM(t, browser, report+"#verdict=fail,error")
		got := visibleRows(dom)
		want := []string{"error rfc3207/4/starttls-then-ehlo", "fail rfc5321/2.3.8/bare-lf-does-not-end-command", "fail rfc5321/4.1.4/mail-before-ehlo"}
		if !slices.Equal(got, want) {
			t.Errorf("#verdict=fail,error shows %q, want %q", got, want)
		}
		if !strings.Contains(dom, "3 of 9 cases shown") {
			t.Errorf("the counter does not say 3 of 9 cases shown")
		}
		// Sections without a shown case are hidden as a whole.
		if !regexp.MustCompile(`<section class="group" id="group-rfc3030/2" hidden=""`).MatchString(dom) {
			t.Errorf("section rfc3030/2 (no failure) is not hidden")
		}
	})
	t.Run("filter-level-and-search", func(t *testing.T) {
		// Search terms must all occur, anywhere in the case's text.
		got := visibleRows(dumpDOM(t, browser, report+"#level=MUST&q=BARE-lf%20%20command"))
		want := []string{"fail rfc5321/2.3.8/bare-lf-does-not-end-command"}
		if !slices.Equal(got, want) {
			t.Errorf("#level=MUST&q=BARE-lf  command shows %q, want %q", got, want)
		}
		if got := visibleRows(dumpDOM(t, browser, report+"#level=SHOULD,INFO")); len(got) != 2 {
			t.Errorf("#level=SHOULD,INFO shows %q, want the SHOULD and the INFO case", got)
		}
	})
	t.Run("anchor", func(t *testing.T) {
		dom := dumpDOM(t, browser, report+"#case-rfc5321/4.1.4/mail-before-ehlo")
		row := regexp.MustCompile(`(?s)<tr class="case" id="case-rfc5321/4.1.4/mail-before-ehlo".*?<details( open="")?>`).FindStringSubmatch(dom)
		if row == nil || row[1] == "" {
			t.Errorf("the case named by the anchor is not opened")
		}
		if n := len(visibleRows(dom)); n != 9 {
			t.Errorf("an anchor shows %d cases, want all 9", n)
		}
	})
	t.Run("hostile", func(t *testing.T) {
		dom := dumpDOM(t, browser, hostilePage)
		if n := strings.Count(dom, "<script"); n != 1 {
			t.Errorf("the browser found %d script elements, want 1 (ours)", n)
		}
		if strings.Contains(dom, "alert(1)</script>") || !strings.Contains(dom, "&lt;script&gt;alert(1)&lt;/script&gt;") {
			t.Errorf("hostile markup did not stay text")
		}
	})
	t.Run("matrix", func(t *testing.T) {
		dom := dumpDOM(t, browser, matrix+"#differ=yes")
		rows := regexp.MustCompile(`<tr class="case" id="row-[^"]*"[^>]*>`).FindAllString(dom, -1)
		shown := 0
		for _, r := range rows {
			if strings.Contains(r, `hidden=""`) {
				if !strings.Contains(r, `data-differ=""`) {
					t.Errorf("#differ=yes hides a row where targets differ: %s", r)
				}
				continue
			}
			shown++
			if !strings.Contains(r, `data-differ="yes"`) {
				t.Errorf("#differ=yes shows a row where targets agree: %s", r)
			}
		}
		if shown != 9 {
			t.Errorf("#differ=yes shows %d rows, want 9", shown)
		}
	})
	t.Run("screenshot", func(t *testing.T) {
		shot := filepath.Join(dir, "report.png")
		runChromium(t, browser, "--window-size=1280,1600", "--screenshot="+shot, report+"#verdict=fail,error&expand=yes")
		f, err := os.Open(shot)
		if err != nil {
			t.Fatalf("no screenshot: %v", err)
		}
		defer f.Close()
		img, err := png.Decode(f)
		if err != nil {
			t.Fatalf("screenshot: %v", err)
		}
		b := img.Bounds()
		if b.Dx() != 1280 || b.Dy() != 1600 {
			t.Errorf("screenshot is %dx%d, want 1280x1600", b.Dx(), b.Dy())
		}
		colors := map[[3]uint32]bool{}
		for y := b.Min.Y; y < b.Max.Y; y += 7 {
			for x := b.Min.X; x < b.Max.X; x += 7 {
				r, g, bl, _ := img.At(x, y).RGBA()
				colors[[3]uint32{r >> 8, g >> 8, bl >> 8}] = true
			}
		}
		if len(colors) < 20 {
			t.Errorf("screenshot has %d colours: the page looks blank", len(colors))
		}
		if keep := os.Getenv("SMTPSPEC_SCREENSHOT"); keep != "" {
			data, _ := os.ReadFile(shot)
			if err := os.WriteFile(keep, data, 0o644); err != nil {
				t.Error(err)
			}
		}
	})
}

func findChromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "headless_shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("no Chromium found (Debian package chromium; .ci/run installs it): the HTML report was not checked in a browser")
	return ""
}

// runChromium runs headless Chromium with a fresh profile and no network
// chatter, in a process group of its own so that a timeout kills all of
// its helper processes, and returns what it printed.
func runChromium(t *testing.T, browser string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-dev-shm-usage", "--disable-breakpad", "--disable-crash-reporter", "--user-data-dir=" + t.TempDir()}
	cmd := exec.CommandContext(ctx, browser, append(base, args...)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if cmd.Process != nil {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // helpers that outlived the browser
	}
	if err != nil {
		t.Fatalf("%s: %v\n%s", browser, err, tail(stderr.String(), 2000))
	}
	return stdout.Bytes()
}

func dumpDOM(t *testing.T, browser, url string) string {
	t.Helper()
	dom := string(runChromium(t, browser, "--dump-dom", url))
	if !strings.Contains(dom, "</html>") {
		t.Fatalf("no DOM from %s", url)
	}
	return dom
}

var caseRow = regexp.MustCompile(`<tr class="case" id="case-([^"]*)" data-verdict="([^"]*)"[^>]*>`)

// visibleRows lists "verdict id" of each case row the page shows.
func visibleRows(dom string) []string {
	var out []string
	for _, m := range caseRow.FindAllStringSubmatch(dom, -1) {
		if !strings.Contains(m[0], `hidden=""`) {
			out = append(out, m[2]+" "+m[1])
		}
	}
	return out
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}
