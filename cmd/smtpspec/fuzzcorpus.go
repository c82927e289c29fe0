package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
)

// fuzzPackage is the import path of the fuzz targets.
const fuzzPackage = "github.com/smtpspec/smtpspec/fuzz"

// cmdFuzzCorpus converts dvyukov/go-fuzz-corpus (smtp, mail, mime) into
// seed files in Go's "go test fuzz v1" format for the targets in package
// fuzz. The corpus is read where it lies and never copied into the
// repository; by default the seeds go to Go's fuzz cache, where
// `go test -fuzz` starts from them.
//
// The input encodings are those of fuzz/dict_test.go: the dialogue
// targets take a first byte (start preset or mode) and a script in which
// octets below 0x80 stand for themselves and 0xFF escapes the next octet.
func cmdFuzzCorpus(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("smtpspec fuzz-corpus", flag.ContinueOnError)
	fs.SetOutput(stderr)
	corpus := fs.String("corpus", defaultCorpus(), "go-fuzz-corpus directory (holding smtp/, mail/, mime/)")
	out := fs.String("out", "", "output directory, one subdirectory per fuzz target (default: Go's fuzz cache for "+fuzzPackage+")")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: smtpspec fuzz-corpus [flags]\n\nWrite go-fuzz-corpus as \"go test fuzz v1\" seed files for the fuzz targets.\n\nflags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return usageStatus(err)
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "smtpspec fuzz-corpus: unexpected arguments %q\n", fs.Args())
		return exitUsage
	}
	if st, err := os.Stat(*corpus); err != nil || !st.IsDir() {
		fmt.Fprintf(stderr, "smtpspec fuzz-corpus: no go-fuzz-corpus at %s (set --corpus or $SMTPSPEC_GO_FUZZ_CORPUS)\n", *corpus)
		return exitTrouble
	}
	dir := *out
	if dir == "" {
		cache, err := goFuzzCache()
		if err != nil {
			fmt.Fprintf(stderr, "smtpspec fuzz-corpus: %v (give --out)\n", err)
			return exitTrouble
		}
		dir = cache
	}
	seeds, err := fuzzSeeds(*corpus)
	if err != nil {
		fmt.Fprintf(stderr, "smtpspec fuzz-corpus: %v\n", err)
		return exitTrouble
	}
	targets := make([]string, 0, len(seeds))
	for t := range seeds {
		targets = append(targets, t)
	}
	sort.Strings(targets)
	for _, t := range targets {
		n, err := writeSeeds(filepath.Join(dir, t), seeds[t])
		if err != nil {
			fmt.Fprintf(stderr, "smtpspec fuzz-corpus: %v\n", err)
			return exitTrouble
		}
		fmt.Fprintf(stdout, "%s: %d seeds in %s\n", t, n, filepath.Join(dir, t))
	}
	return exitOK
}

// defaultCorpus is $SMTPSPEC_GO_FUZZ_CORPUS or ../shared/go-fuzz-corpus.
func defaultCorpus() string {
	if d := os.Getenv("SMTPSPEC_GO_FUZZ_CORPUS"); d != "" {
		return d
	}
	return filepath.Join("..", "shared", "go-fuzz-corpus")
}

// goFuzzCache returns the directory where go test -fuzz keeps the
// generated corpus of package fuzz.
func goFuzzCache() (string, error) {
	cache := os.Getenv("GOCACHE")
	if cache == "" {
		b, err := exec.Command("go", "env", "GOCACHE").Output()
		if err != nil {
			return "", fmt.Errorf("find GOCACHE: %w", err)
		}
		cache = strings.TrimSpace(string(b))
	}
	if cache == "" || cache == "off" {
		return "", fmt.Errorf("GOCACHE is %q", cache)
	}
	return filepath.Join(cache, "fuzz", filepath.FromSlash(fuzzPackage)), nil
}

// Input encodings of package fuzz (see fuzz/dict_test.go and the targets).
const (
	escapeOctet   = 0xFF
	sessionData   = 7 | 2<<4 // FuzzSession: start in DATA, SIZE limit 1000
	remoteRcpt    = 4        // FuzzRemote, FuzzDifferential: start after RCPT
	dataModeDATA  = 0        // FuzzData: DATA
	dataModeChunk = 1        // FuzzData: BDAT
)

// escape encodes octets as a script: from 0x80 up, each is escaped.
func escape(b []byte) []byte {
	out := make([]byte, 0, len(b))
	for _, c := range b {
		if c >= 0x80 {
			out = append(out, escapeOctet)
		}
		out = append(out, c)
	}
	return out
}

func crlf(b []byte) []byte {
	b = bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n"))
	return bytes.ReplaceAll(b, []byte("\n"), []byte("\r\n"))
}

// fuzzSeeds reads the corpus and returns the seed inputs per target.
func fuzzSeeds(corpus string) (map[string][][]byte, error) {
	read := func(name string) ([][]byte, error) {
		dir := filepath.Join(corpus, name, "corpus")
		entries, err := os.ReadDir(dir)
		if err != nil {
			return nil, err
		}
		var out [][]byte
		for _, e := range entries {
			if !e.Type().IsRegular() {
				continue
			}
			b, err := os.ReadFile(filepath.Join(dir, e.Name()))
			if err != nil {
				return nil, err
			}
			out = append(out, b)
		}
		return out, nil
	}
	seeds := map[string][][]byte{}
	replies, err := read("smtp")
	if err != nil {
		return nil, err
	}
	for _, r := range replies {
		seeds["FuzzReplyParser"] = append(seeds["FuzzReplyParser"], r, crlf(r))
	}
	for _, name := range []string{"mail", "mime"} {
		msgs, err := read(name)
		if err != nil {
			return nil, err
		}
		for _, m := range msgs {
			seeds["FuzzData"] = append(seeds["FuzzData"],
				append([]byte{dataModeDATA}, escape(crlf(m))...),
				append([]byte{dataModeChunk}, escape(m)...))
			seeds["FuzzSession"] = append(seeds["FuzzSession"],
				append(append([]byte{sessionData}, escape(m)...), "\r\n.\r\nNOOP\r\n"...),
				append(append([]byte{sessionData}, escape(crlf(m))...), "\r\n.\r\nNOOP\r\n"...))
			dialogue := append(append([]byte{remoteRcpt}, "DATA\r\n"...), escape(crlf(m))...)
			dialogue = append(dialogue, "\r\n.\r\n"...)
			seeds["FuzzRemote"] = append(seeds["FuzzRemote"], dialogue)
			seeds["FuzzDifferential"] = append(seeds["FuzzDifferential"], dialogue)
		}
	}
	return seeds, nil
}

// writeSeeds writes each input as a "go test fuzz v1" file named by its
// hash, as go test names them.
func writeSeeds(dir string, inputs [][]byte) (int, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return 0, err
	}
	n := 0
	for _, in := range inputs {
		sum := sha256.Sum256(in)
		name := filepath.Join(dir, "go-fuzz-corpus-"+hex.EncodeToString(sum[:8]))
		data := fmt.Appendf(nil, "go test fuzz v1\n[]byte(%q)\n", in)
		if err := os.WriteFile(name, data, 0o644); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}
