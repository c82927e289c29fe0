package fuzz

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/smtpspec/smtpspec/inprocess"
	"github.com/smtpspec/smtpspec/reference"

	"github.com/smtpspec/smtpspec/harness"
)

func TestTokens_fit(t *testing.T) {
	if len(tokens) > tokEscape-tokFirst {
		t.Fatalf("%d tokens, room for %d", len(tokens), tokEscape-tokFirst)
	}
	seen := map[string]bool{}
	for _, tok := range tokens {
		if tok == "" || seen[tok] {
			t.Errorf("token %q is empty or repeated", tok)
		}
		seen[tok] = true
	}
}

func TestTokenize_roundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for range 500 {
		var b []byte
		for range rng.IntN(40) {
			if rng.IntN(2) == 0 {
				b = append(b, tokens[2+rng.IntN(len(tokens)-2)]...)
			} else {
				b = append(b, byte(rng.UintN(256)))
			}
		}
		if got := joined(expand(tokenize(b), false)); !bytes.Equal(got, b) {
			t.Fatalf("expand(tokenize(%q)) = %q", b, got)
		}
	}
}

// TestModel_judges feeds the model a dialogue and replies by hand.
func TestModel_judges(t *testing.T) {
	cfg := modelConfig{domains: []string{"example.test"}, mailboxes: []string{"user"}, maxErrors: 100, maxRcpts: 100, maxSize: 1000}
	reply := func(code int, text string) *harness.Reply {
		r, err := harness.NewReplyReader(bytes.NewReader([]byte(text))).ReadReply()
		if err != nil || r.Code != code {
			t.Fatalf("bad test reply %q: %v", text, err)
		}
		return r
	}
	for _, tc := range []struct {
		name    string
		script  string
		replies []string
		bad     int // index of the reply the model must refuse, -1 none
	}{
		{"mail-before-ehlo", "MAIL FROM:<a@b.example>\r\n", []string{"220 hi\r\n", "250 2.1.0 ok\r\n"}, 1},
		{"mail-before-ehlo-503", "MAIL FROM:<a@b.example>\r\n", []string{"220 hi\r\n", "503 5.5.1 no\r\n"}, -1},
		{"rcpt-without-mail", "EHLO c.example\r\nRCPT TO:<user@example.test>\r\n", []string{"220 hi\r\n", "250-x\r\n250 STARTTLS\r\n", "250 2.1.5 ok\r\n"}, 2},
		{"relay", "EHLO c.example\r\nMAIL FROM:<>\r\nRCPT TO:<x@relay.invalid>\r\n", []string{"220 hi\r\n", "250-x\r\n250 STARTTLS\r\n", "250 2.1.0 ok\r\n", "250 2.1.5 ok\r\n"}, 3},
		{"bare-lf-accepted", "EHLO c.example\r\nMAIL FROM:<>\r\nRCPT TO:<user@example.test>\r\nDATA\r\na\nb\r\n.\r\n", []string{"220 hi\r\n", "250-x\r\n250 STARTTLS\r\n", "250 2.1.0 ok\r\n", "250 2.1.5 ok\r\n", "354 go\r\n", "250 2.0.0 ok\r\n"}, 5},
		{"no-enhanced", "NOOP\r\n", []string{"220 hi\r\n", "250 ok\r\n"}, 1},
		{"extra", "NOOP\r\n", []string{"220 hi\r\n", "250 2.0.0 ok\r\n", "250 2.0.0 ok\r\n"}, 2},
		{"line-end-crlf-only", "NOOP\nNOOP\r\n", []string{"220 hi\r\n", "250 2.0.0 ok\r\n"}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := newModel(cfg, []byte(tc.script), nil)
			bad := -1
			for i, raw := range tc.replies {
				r := reply(int(raw[0]-'0')*100+int(raw[1]-'0')*10+int(raw[2]-'0'), raw)
				if v := m.reply(r); v != nil {
					bad = i
					t.Logf("reply %d: %v", i, v)
					break
				}
			}
			if bad != tc.bad {
				t.Errorf("model refused reply %d, want %d (log %+v)", bad, tc.bad, m.log)
			}
		})
	}
}

// TestSession_seedCodes checks that a plain transaction is judged reply by
// reply, so that a silent model cannot pass for a satisfied one.
func TestSession_seedCodes(t *testing.T) {
	in := append([]byte{4}, tokenize([]byte("DATA\r\nSubject: x\r\n\r\n..hi\r\n.\r\nQUIT\r\n"))...)
	res := runSession(in)
	if res.err != nil {
		t.Fatal(res.err)
	}
	var codes []int
	for _, j := range res.model.log {
		codes = append(codes, j.code)
	}
	if want := []int{220, 250, 250, 250, 354, 250, 221}; !slices.Equal(codes, want) {
		t.Errorf("codes %v, want %v", codes, want)
	}
	if len(res.model.stored) != 1 || string(res.model.stored[0]) != "Subject: x\r\n\r\n.hi\r\n" {
		t.Errorf("stored %q", res.model.stored)
	}
}

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		a, b  []int
		verbs []string
		want  string
	}{
		{[]int{220, 250}, []int{220, 250}, []string{"", "NOOP"}, ""},
		{[]int{220, 550}, []int{220, 554}, []string{"", "NOOP"}, "policy"},
		{[]int{220, 250}, []int{220, 550}, []string{"", "RCPT"}, "policy"},
		{[]int{220, 452}, []int{220, 552}, []string{"", "NOOP"}, "policy"},
		{[]int{220, 250}, []int{220, 502}, []string{"", "BDAT"}, "unimplemented"},
		{[]int{220, 503}, []int{220, 501}, []string{"", "DATA"}, "minor"},
		{[]int{220, 250}, []int{220, 500}, []string{"", "NOOP"}, "disagreement"},
		{[]int{220, 354}, []int{220, 503}, []string{"", "DATA"}, "disagreement"},
		{[]int{220, 500}, []int{220, 250}, []string{"", "XYZZY"}, "unimplemented"},
		{[]int{220, 503}, []int{220, 250}, []string{"", "RCPT"}, "policy"},
		{[]int{220, 503}, []int{220, 250}, []string{"", "NOOP"}, "disagreement"},
		{[]int{220, 250, 250}, []int{220, 250}, []string{"", "NOOP", "NOOP"}, "count"},
		{[]int{220, 421}, []int{220, 250}, []string{"", "NOOP"}, "closing"},
	} {
		d := classify(tc.a, tc.b, tc.verbs)
		got := ""
		if d != nil {
			got = d.class
		}
		if got != tc.want {
			t.Errorf("classify(%v, %v) = %q, want %q", tc.a, tc.b, got, tc.want)
		}
	}
}

// TestDictFile keeps the libFuzzer dictionary for OSS-Fuzz in step with the
// token table. SMTPSPEC_UPDATE_DICT=1 rewrites it.
func TestDictFile(t *testing.T) {
	var b strings.Builder
	b.WriteString("# smtpspec's fuzz dictionary for libFuzzer (OSS-Fuzz, ClusterFuzzLite):\n")
	b.WriteString("# the tokens of fuzz/dict_test.go up to libFuzzer's 64 octets. Generated by TestDictFile.\n")
	for i, tok := range tokens {
		if tok == specialFlush || tok == specialStartTLS || len(tok) > 64 {
			continue
		}
		fmt.Fprintf(&b, "t%03d=\"", i)
		for _, c := range []byte(tok) {
			switch {
			case c == '"' || c == '\\':
				b.WriteString(`\` + string(c))
			case c < 0x20 || c >= 0x7f:
				fmt.Fprintf(&b, `\x%02X`, c)
			default:
				b.WriteByte(c)
			}
		}
		b.WriteString("\"\n")
	}
	const path = "../.clusterfuzzlite/smtp.dict"
	if os.Getenv("SMTPSPEC_UPDATE_DICT") == "1" {
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil || string(got) != b.String() {
		t.Errorf("%s is out of date (%v): run SMTPSPEC_UPDATE_DICT=1 go test ./fuzz -run TestDictFile", path, err)
	}
}

// TestSessionScript_replays turns clean FuzzSession executions into case
// files, as a finding would be written, and replays them against the
// in-process reference configured alike: each must pass, so that a case
// file fails only where its finding is.
func TestSessionScript_replays(t *testing.T) {
	ref, err := inprocess.New(reference.Config{
		Hostname: "mx.example.test", Domains: []string{"example.test"}, Mailboxes: []string{"user"},
		Users: map[string]string{authUser: authPass}, MaxErrors: 1 << 30,
	})
	if err != nil {
		t.Fatal(err)
	}
	inputs := map[string][]byte{
		"transaction": append([]byte{4}, tokenize([]byte("DATA\r\nSubject: x\r\n\r\n..hi\r\n.\r\nBDAT 3 LAST\r\nabcNOOP\r\n"))...),
		"tls-auth":    append([]byte{6}, tokenize([]byte("MAIL FROM:<a@example.org>\r\nRCPT TO:<x@relay.invalid>\r\nRSET\r\n"))...),
		"errors":      append([]byte{0}, tokenize([]byte("MAIL FROM:<a@b.example>\r\nXYZZY\r\nEHLO c.example\r\nQUIT\r\n"))...),
		"pipelined":   append([]byte{2 | startCoalesce}, tokenize([]byte("MAIL FROM:<>\r\nRCPT TO:<user@example.test>\r\nDATA\r\nx\r\n.\r\n"))...),
	}
	for name, in := range inputs {
		t.Run(name, func(t *testing.T) {
			res := runSession(in)
			if res.err != nil {
				t.Fatal(res.err)
			}
			file := sessionScript(res).CaseFile(harness.ScriptCase{Group: "fuzz/session", ID: "replay", Title: name, Requirement: "Replays.",
				Spec: []string{"RFC 5321"}, Quit: !res.model.dead && res.model.framing == fCommand && res.model.pos == len(res.model.in)})
			cases, errs := harness.ParseFile("replay.yaml", file)
			if len(errs) > 0 {
				t.Fatalf("%v\n%s", errs, file)
			}
			info, err := harness.Probe(context.Background(), ref.Target, harness.Options{Profile: ref.Profile})
			if err != nil {
				t.Fatal(err)
			}
			r := harness.RunCase(context.Background(), ref.Target, info, cases[0], harness.Options{Profile: ref.Profile, StepTimeout: 5 * time.Second})
			t.Logf("%d transcript entries", len(r.Transcript))
			if r.Verdict != harness.Pass {
				t.Errorf("verdict %s: %s\n%s%s", r.Verdict, r.Message, file, r.Diff)
			}
		})
	}
}
