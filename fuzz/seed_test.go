package fuzz

import (
	"bytes"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"testing"

	"github.com/smtpspec/smtpspec/harness"
)

// Seeds come from two places, both read at test time: the YAML catalogue
// (every case's octets, with the in-process reference's profile), and
// dvyukov/go-fuzz-corpus in ../shared/go-fuzz-corpus next to the checkout
// ($SMTPSPEC_GO_FUZZ_CORPUS overrides; Apache-2.0, never copied into this
// repository). Without the corpus the targets seed from the catalogue
// alone and say so. `smtpspec fuzz-corpus` writes the same corpus as Go's
// "go test fuzz v1" files for `go test -fuzz`.

// sampled keeps every n-th seed under the race detector, where each
// session costs many times more, or every $SMTPSPEC_FUZZ_SAMPLE-th (for a
// quick fuzz run whose baseline must not take all its time), and all of
// them otherwise.
func sampled(seeds [][]byte, n int) [][]byte {
	if k, err := strconv.Atoi(os.Getenv("SMTPSPEC_FUZZ_SAMPLE")); err == nil && k > 0 {
		n = k
	} else if !raceEnabled {
		return seeds
	}
	var out [][]byte
	for i := 0; i < len(seeds); i += n {
		out = append(out, seeds[i])
	}
	return out
}

// corpusDir returns the go-fuzz-corpus directory, or "".
func corpusDir() string {
	if d := os.Getenv("SMTPSPEC_GO_FUZZ_CORPUS"); d != "" {
		return d
	}
	wd, err := os.Getwd()
	if err != nil {
		return ""
	}
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			c := filepath.Join(filepath.Dir(d), "shared", "go-fuzz-corpus")
			if st, err := os.Stat(c); err == nil && st.IsDir() {
				return c
			}
			return ""
		}
		if filepath.Dir(d) == d {
			return ""
		}
	}
}

// seeding reports whether seeds are wanted: under go test, and not in a
// libFuzzer build (OSS-Fuzz), where f.Add does nothing and the target
// function runs for every input.
func seeding() bool { return testing.Testing() }

// corpusFiles returns the contents of go-fuzz-corpus/NAME/corpus, sorted by
// file name, keeping every step-th file; nil when the corpus is absent.
func corpusFiles(tb reporter, name string, step int) [][]byte {
	if !seeding() {
		return nil
	}
	dir := corpusDir()
	if dir == "" {
		tb.Logf("go-fuzz-corpus not found (../shared/go-fuzz-corpus or $SMTPSPEC_GO_FUZZ_CORPUS): seeding from the catalogue only")
		return nil
	}
	entries, err := os.ReadDir(filepath.Join(dir, name, "corpus"))
	if err != nil {
		tb.Logf("go-fuzz-corpus %s: %v: seeding without it", name, err)
		return nil
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Name() < entries[j].Name() })
	var out [][]byte
	for i, e := range entries {
		if i%step != 0 || !e.Type().IsRegular() {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, name, "corpus", e.Name()))
		if err == nil {
			out = append(out, data)
		}
	}
	return out
}

// toCRLF turns bare LF line ends into CRLF.
func toCRLF(b []byte) []byte {
	b = bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n"))
	return bytes.ReplaceAll(b, []byte("\n"), []byte("\r\n"))
}

// presetOf maps a case's start to a FuzzSession preset.
var presetOf = map[harness.Start]byte{
	harness.StartConnect: 0, harness.StartGreeting: 0, harness.StartHelo: 1, harness.StartEhlo: 2,
	harness.StartMail: 3, harness.StartRcpt: 4, harness.StartTLS: 5, harness.StartAuth: 6,
}

// seedProfile is the profile the catalogue seeds are expanded with: the
// names the in-process reference of FuzzSession accepts.
func seedProfile() harness.Profile {
	p := harness.DefaultProfile()
	p.Helo, p.Rcpt, p.Domain, p.UnknownRcpt = "client.example", "user@example.test", "example.test", "nosuchuser@example.test"
	p.AuthUser, p.AuthPass = authUser, authPass
	return p
}

// catalogueScripts returns every built-in case as a start preset and its
// writes.
func catalogueScripts(tb reporter) []*harness.Script {
	if !seeding() {
		return nil
	}
	scripts, err := loadCatalogueScripts()
	if err != nil {
		tb.Fatalf("catalogue: %v", err)
	}
	return scripts
}

// loadCatalogueScripts expands the catalogue once per process, leaving out
// cases that send more than a script may hold (the megabyte SIZE cases).
var loadCatalogueScripts = sync.OnceValues(func() ([]*harness.Script, error) {
	cat, err := harness.Builtin()
	if err != nil {
		return nil, err
	}
	info := &harness.TargetInfo{EHLO: []string{"SIZE 10485760"}}
	var out []*harness.Script
	for _, c := range cat.Cases {
		s, err := harness.ScriptOf(c, seedProfile(), info)
		if err != nil {
			continue // a variable the seed profile lacks
		}
		n := 0
		for _, w := range s.Writes {
			n += len(w.Data)
		}
		if n <= maxScript {
			out = append(out, s)
		}
	}
	return out, nil
})

// sessionSeeds returns FuzzSession inputs: the catalogue (plain and with
// writes coalesced), hand-made dialogues, and go-fuzz-corpus messages sent
// as DATA (as they are, and with CRLF line ends).
func sessionSeeds(tb reporter) [][]byte {
	if !seeding() {
		return nil
	}
	var seeds [][]byte
	for _, s := range catalogueScripts(tb) {
		script := encodeScript(s.Writes)
		seeds = append(seeds, append([]byte{presetOf[s.Start]}, script...))
		seeds = append(seeds, append([]byte{presetOf[s.Start] | startCoalesce | startFewErrors}, script...))
	}
	for _, h := range handSeeds {
		seeds = append(seeds, append([]byte{h.start}, tokenize([]byte(h.script))...))
	}
	for _, msg := range append(corpusFiles(tb, "mail", 8), corpusFiles(tb, "mime", 8)...) {
		for _, m := range [][]byte{msg, toCRLF(msg)} {
			seeds = append(seeds, append(append([]byte{7 | 2<<startSizeShift}, tokenize(m)...), tokenize([]byte("\r\n.\r\nNOOP\r\n"))...))
		}
	}
	return seeds
}

// handSeeds are dialogues the catalogue does not spell out.
var handSeeds = []struct {
	start  byte
	script string
}{
	{4, "BDAT 5\r\nhelloBDAT 3 LAST\r\nabcNOOP\r\n"},
	{4, "BDAT 99999999999 LAST\r\n"},
	{4 | 1<<startSizeShift, "BDAT 100 LAST\r\n" + string(bytes.Repeat([]byte("x"), 100)) + "NOOP\r\n"},
	{2 | startInsecure, "AUTH LOGIN\r\n" + "ZnV6eg==\r\n" + "ZnV6ei1zZWNyZXQ=\r\nMAIL FROM:<>\r\nRCPT TO:<x@relay.invalid>\r\n"},
	{2 | startInsecure, "AUTH PLAIN\r\n*\r\nAUTH PLAIN =\r\nAUTH XOAUTH2\r\n"},
	{5, "AUTH PLAIN " + authPlainOK + "\r\nMAIL FROM:<a@example.org> SMTPUTF8\r\nRCPT TO:<\xc3\xbc@example.test>\r\n"},
	{7, "a\r\n.\r\n.\r\n"},
	{7, "x\n.\nQUIT\r\n\r\n.\r\n"},
	{3 | startFewErrors, "X\r\nY\r\nZ\r\nW\r\nV\r\nNOOP\r\n"},
	{0, "EHLO [127.0.0.1]\r\nHELO [IPv6:::1]\r\nEHLO a_b\r\nMAIL FROM:<a@b> SIZE=99999999999999999999\r\n"},
	{2, "MAIL FROM:<a@example.org> BODY=BINARYMIME\r\nRCPT TO:<user@example.test>\r\nDATA\r\nBDAT 2 LAST\r\nhiQUIT\r\n"},
	{2, "STARTTLS\r\nNOOP\r\n"},
}
