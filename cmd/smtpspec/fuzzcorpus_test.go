package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestFuzzCorpus(t *testing.T) {
	corpus := t.TempDir()
	files := map[string]string{
		"smtp/corpus/a": "220 x\n250 ok\n",
		"mail/corpus/b": "Subject: \xe9\n\n.dot\n",
		"mime/corpus/c": "Content-Type: text/plain\r\n\r\nhi\r\n",
	}
	for name, data := range files {
		p := filepath.Join(corpus, filepath.FromSlash(name))
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte(data), 0o644)
	}
	out := t.TempDir()
	var stdout, stderr bytes.Buffer
	if code := dispatch([]string{"fuzz-corpus", "--corpus", corpus, "--out", out}, &stdout, &stderr); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	want := map[string]int{"FuzzReplyParser": 2, "FuzzData": 4, "FuzzSession": 3, "FuzzRemote": 2, "FuzzDifferential": 2}
	for target, n := range want {
		entries, err := os.ReadDir(filepath.Join(out, target))
		if err != nil || len(entries) != n {
			t.Errorf("%s: %d files (%v), want %d", target, len(entries), err, n)
			continue
		}
		for _, e := range entries {
			data, _ := os.ReadFile(filepath.Join(out, target, e.Name()))
			head, body, _ := strings.Cut(string(data), "\n")
			lit := strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(body), "[]byte("), ")")
			in, err := strconv.Unquote(lit)
			if head != "go test fuzz v1" || err != nil || in == "" {
				t.Errorf("%s/%s is not a go test fuzz v1 []byte file: %q", target, e.Name(), data)
			}
		}
	}
	// FuzzData's BDAT seed escapes the 8-bit octet.
	if !strings.Contains(stdout.String(), "FuzzData: 4 seeds") {
		t.Errorf("stdout %q", stdout.String())
	}
	if got := escape([]byte("a\xe9")); !bytes.Equal(got, []byte("a\xff\xe9")) {
		t.Errorf("escape = %q", got)
	}
}
