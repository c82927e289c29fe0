package harness

import (
	"context"
	"errors"
	"io"
	"net"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/smtpspec/smtpspec/internal/smtpfake"
)

var fakeReplies = map[string]string{
	"EHLO":    "250-fake.example\r\n250-PIPELINING\r\n250-AUTH PLAIN\r\n250 ENHANCEDSTATUSCODES\r\n",
	"NOOP":    "250 2.0.0 ok\r\n",
	"LENIENT": "502 5.5.1 not implemented\r\n",
	"ACCEPT":  "250 2.0.0 fine\r\n",
	"EXTRA":   "250 2.0.0 one\r\n250 2.0.0 two\r\n",
	"BADLF":   "250 2.0.0 bare\n",
	"MULTI":   "250-first\r\n251 second\r\n",
	"ENH":     "250 2.1.0 sender ok\r\n",
	"BYE":     "421 4.3.0 going away\r\nCLOSE",
	"SILENT":  "",
	"QUIT":    "221 2.0.0 bye\r\nCLOSE",
}

func catalogueOf(t *testing.T, yaml string) *Catalogue {
	t.Helper()
	cases, errs := ParseFile("test.yaml", []byte(yaml))
	if len(errs) > 0 {
		t.Fatalf("test cases do not parse: %v", errors.Join(errs...))
	}
	return &Catalogue{Cases: cases}
}

const engineCases = `group: t
spec: test
cases:
  - {id: pass, title: t, level: MUST, requirement: r, steps: [{send: NOOP, expect: {code: 250, enhanced: 2.0.0}}]}
  - {id: lenient, title: t, level: MUST, requirement: r, steps: [{send: LENIENT, expect: {code: 500, lenient: 502}}]}
  - {id: enhanced-mismatch, title: t, level: MUST, requirement: r, steps: [{send: ENH, expect: {code: 250, enhanced: 2.0.0}}]}
  - {id: wrong-code, title: t, level: MUST, requirement: r, steps: [{send: ACCEPT, expect: {code: 503}}]}
  - {id: extra-reply, title: t, level: MUST, requirement: r, steps: [{send: EXTRA, expect: 250}]}
  - {id: bare-lf, title: t, level: MUST, requirement: r, steps: [{send: BADLF, expect: 250}]}
  - {id: mixed-codes, title: t, level: MUST, requirement: r, steps: [{send: MULTI, expect: 250}]}
  - {id: info, title: t, level: INFO, requirement: r, steps: [{send: ACCEPT, expect: 503}]}
  - {id: closed, title: t, level: MUST, requirement: r, steps: [{send: BYE, expect: {code: 421, closed: true}}]}
  - {id: closed-unexpectedly, title: t, level: MUST, requirement: r, steps: [{send: BYE, expect: 250}]}
  - {id: timeout, title: t, level: MUST, requirement: r, steps: [{send: SILENT, expect: 250}]}
  - {id: silence, title: t, level: MUST, requirement: r, steps: [{send: SILENT, expect: {silence: 100ms}}, {send: NOOP, expect: 250}]}
  - {id: silence-broken, title: t, level: MUST, requirement: r, steps: [{send: NOOP, expect: {silence: 100ms}}]}
  - {id: pipeline, title: t, level: MUST, requirement: r, steps: [{pipeline: [NOOP, ACCEPT, LENIENT], expect: [250, 250, {code: 502}]}]}
  - {id: keywords, title: t, level: MUST, requirement: r, start: greeting, steps: [{send: EHLO x, expect: {code: 250, has: [PIPELINING], lacks: [STARTTLS], lines: 4}}]}
  - {id: wire, title: t, level: MUST, requirement: r, steps: [{send: NOOP, expect: {code: 250, wire: '^250 2\.0\.0 ok\r\n$'}}]}
  - {id: wire-wrong, title: t, level: MUST, requirement: r, steps: [{send: NOOP, expect: {code: 250, wire: '^250 \r\n$'}}]}
  - {id: mechanism, title: t, level: MUST, requirement: r, requires: [AUTH PLAIN], steps: [{send: NOOP, expect: 250}]}
  - {id: mechanism-missing, title: t, level: MUST, requirement: r, requires: [AUTH LOGIN], steps: [{send: NOOP, expect: 250}]}
  - {id: keywords-wrong, title: t, level: MUST, requirement: r, start: greeting, steps: [{send: EHLO x, expect: {code: 250, has: [CHUNKING]}}]}
  - {id: unimplemented, title: t, level: MUST, requirement: r, requires: [CHUNKING], steps: [{send: NOOP, expect: 250}]}
  - {id: needs-auth, title: t, level: MUST, requirement: r, steps: [{send: "AUTH PLAIN ${auth_plain}", expect: 235}]}
  - {id: needs-tls, title: t, level: MUST, requirement: r, start: tls, steps: [{send: NOOP, expect: 250}]}
  - id: outcome-pass
    title: t
    level: MUST
    requirement: r
    steps:
      - send: EXTRA
        outcomes:
          - {name: single, verdict: pass, expect: [250]}
          - {name: double, verdict: fail, expect: [250, 250]}
  - id: outcome-fail
    title: t
    level: MUST
    requirement: r
    steps:
      - raw: "EXTRA\r\nQUIT\r\n"
        outcomes:
          - {name: single, verdict: pass, expect: [250, {code: 221, closed: true}]}
          - {name: double, verdict: fail, expect: [250, 250, {code: 221, closed: true}]}
  - id: outcome-none
    title: t
    level: MUST
    requirement: r
    steps:
      - send: LENIENT
        outcomes:
          - {name: a, verdict: pass, expect: [250]}
          - {name: b, verdict: pass, expect: [{code: 421, more: true}]}
  - id: outcome-more
    title: t
    level: MUST
    requirement: r
    steps:
      - raw: "BYE\r\n"
        outcomes:
          - {name: anything, verdict: non-strict, expect: [{code: 421, more: true}]}
`

func TestCheck_verdicts(t *testing.T) {
	t.Parallel()
	addr := smtpfake.Serve(t, smtpfake.Scripted(fakeReplies))
	cat := catalogueOf(t, engineCases)
	run, err := Check(t.Context(), Target{Addr: addr}, Options{Cases: cat, StepTimeout: 300 * time.Millisecond})
	if run == nil {
		t.Fatalf("Check: %v", err)
	}
	want := map[string]Verdict{
		"t/pass": Pass, "t/lenient": NonStrict, "t/enhanced-mismatch": NonStrict, "t/wrong-code": Fail,
		"t/extra-reply": Fail, "t/bare-lf": Fail, "t/mixed-codes": Fail, "t/info": Info,
		"t/closed": Pass, "t/closed-unexpectedly": Fail, "t/timeout": Error, "t/silence": Pass,
		"t/silence-broken": Fail, "t/pipeline": Pass, "t/keywords": Pass, "t/keywords-wrong": Fail,
		"t/wire": Pass, "t/wire-wrong": Fail, "t/mechanism": Pass, "t/mechanism-missing": Unimplemented,
		"t/unimplemented": Unimplemented, "t/needs-auth": Skip, "t/needs-tls": Unimplemented,
		"t/outcome-pass": Fail, "t/outcome-fail": Fail, "t/outcome-none": Fail, "t/outcome-more": NonStrict,
	}
	var failed []string
	for _, r := range run.Results {
		if r.Verdict != want[r.ID] {
			t.Errorf("%s: verdict %s (%s), want %s", r.ID, r.Verdict, r.Message, want[r.ID])
		}
		if r.Verdict.Failed() {
			failed = append(failed, r.ID)
			if len(r.Transcript) == 0 {
				t.Errorf("%s: %s without a transcript", r.ID, r.Verdict)
			}
		}
	}
	if len(run.Results) != len(want) {
		t.Errorf("got %d results, want %d", len(run.Results), len(want))
	}
	// The error joins one *CaseError per failed case.
	for _, id := range failed {
		if err == nil || !strings.Contains(err.Error(), "test.yaml:") || !strings.Contains(err.Error(), id+": ") {
			t.Errorf("Check error does not report %s: %v", id, err)
		}
	}
	byID := map[string]*Result{}
	for _, r := range run.Results {
		byID[r.ID] = r
	}
	if r := byID["t/outcome-fail"]; r.Outcome != "double" {
		t.Errorf("outcome-fail matched outcome %q, want double", r.Outcome)
	}
	if r := byID["t/wrong-code"]; !strings.Contains(r.Diff, `"503"`) || !strings.Contains(r.Diff, `"250"`) {
		t.Errorf("wrong-code diff does not show 503 against 250:\n%s", r.Diff)
	}
	if r := byID["t/extra-reply"]; !strings.Contains(r.Message, "QUIT got") {
		t.Errorf("extra-reply message = %q, want the trailing QUIT to catch it", r.Message)
	}
}

func TestCheck_filters(t *testing.T) {
	t.Parallel()
	addr := smtpfake.Serve(t, smtpfake.Scripted(fakeReplies))
	cat := catalogueOf(t, engineCases)
	opts := Options{Cases: cat, Level: LevelMust, Tags: nil, Skip: []string{"t/p"}}
	opts.Run = mustRegexp(t, "^t/(pass|pipeline|info|lenient)$")
	run, _ := Check(t.Context(), Target{Addr: addr}, opts)
	ran := map[string]Verdict{}
	for _, r := range run.Results {
		if r.Verdict != Skip {
			ran[r.ID] = r.Verdict
		}
	}
	if len(ran) != 1 || ran["t/lenient"] != NonStrict {
		t.Errorf("filters ran %v, want only t/lenient (pass and pipeline skipped by prefix, info below MUST)", ran)
	}
}

func TestCheck_unreachable(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	run, err := Check(t.Context(), Target{Addr: addr}, Options{Cases: catalogueOf(t, engineCases)})
	var unreachable *UnreachableError
	if run != nil || !errors.As(err, &unreachable) {
		t.Errorf("Check(closed port) = %v, %v; want nil and an *UnreachableError", run, err)
	}
}

// tenMB is the payload of the "sends a 10 MB line" server, made once so
// that the heap measurement sees only what the harness allocates.
var tenMB = []byte("220 " + strings.Repeat("a", 10<<20) + "\r\n")

// hostile servers misbehave in the ways that hang or exhaust naive clients.
var hostile = map[string]func(net.Conn){
	"never speaks": func(c net.Conn) { io.Copy(io.Discard, c) },
	"drips a byte a second": func(c net.Conn) {
		for _, b := range []byte("220 slow.example ESMTP\r\n") {
			if _, err := c.Write([]byte{b}); err != nil {
				return
			}
			time.Sleep(time.Second)
		}
	},
	"floods without CRLF": func(c net.Conn) {
		junk := make([]byte, 64<<10)
		for i := range junk {
			junk[i] = 'x'
		}
		for {
			if _, err := c.Write(junk); err != nil {
				return
			}
		}
	},
	"closes inside a multi-line reply": func(c net.Conn) {
		c.Write([]byte("220-hello\r\n220-still"))
	},
	"sends a 10 MB line": func(c net.Conn) { c.Write(tenMB) },
	"greets, then never answers": func(c net.Conn) {
		c.Write([]byte("220 mute.example ESMTP\r\n"))
		io.Copy(io.Discard, c)
	},
}

// TestRunCase_hostile runs against each hostile server in turn, not in
// parallel with anything, so that the heap it measures is the harness's.
func TestRunCase_hostile(t *testing.T) {
	cat := catalogueOf(t, `group: h
spec: test
cases:
  - {id: ehlo, title: t, level: MUST, requirement: r, start: connect, steps: [{expect: 220}, {send: EHLO x, expect: 250}]}
  - {id: preset, title: t, level: MUST, requirement: r, steps: [{send: NOOP, expect: 250}]}
`)
	for name, handle := range hostile {
		t.Run(name, func(t *testing.T) {
			addr := smtpfake.Serve(t, handle)
			before := heapInUse()
			opts := Options{Cases: cat, StepTimeout: 300 * time.Millisecond, CaseTimeout: 2 * time.Second}
			done := make(chan *Run, 1)
			go func() {
				run, err := Check(context.Background(), Target{Addr: addr}, opts)
				if run == nil {
					t.Errorf("Check: %v", err)
				}
				done <- run
			}()
			var run *Run
			select {
			case run = <-done:
			case <-time.After(30 * time.Second):
				t.Fatal("the run did not end")
			}
			if grew := heapInUse() - before; grew > 16<<20 {
				t.Errorf("heap grew by %d MB", grew>>20)
			}
			if run == nil {
				return
			}
			for _, r := range run.Results {
				if r.Verdict != Error && r.Verdict != Fail {
					t.Errorf("%s: verdict %s (%s), want error or fail", r.ID, r.Verdict, r.Message)
				}
				if r.Duration > opts.CaseTimeout+time.Second {
					t.Errorf("%s took %v, beyond the case timeout %v", r.ID, r.Duration, opts.CaseTimeout)
				}
				size := 0
				for _, e := range r.Transcript {
					size += len(e.Data)
				}
				if size > maxTranscriptData {
					t.Errorf("%s kept %d octets of transcript", r.ID, size)
				}
			}
		})
	}
}

func heapInUse() int64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapInuse)
}

func TestCheck_noGoroutineLeak(t *testing.T) {
	// Not parallel: it counts the process's goroutines.
	addr := smtpfake.Serve(t, smtpfake.Scripted(fakeReplies))
	cat := catalogueOf(t, engineCases)
	before := runtime.NumGoroutine()
	for range 3 {
		Check(t.Context(), Target{Addr: addr}, Options{Cases: cat, StepTimeout: 200 * time.Millisecond})
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<16)
		t.Errorf("%d goroutines before, %d after:\n%s", before, n, buf[:runtime.Stack(buf, true)])
	}
}

func mustRegexp(t *testing.T, s string) *regexp.Regexp {
	t.Helper()
	re, err := regexp.Compile(s)
	if err != nil {
		t.Fatal(err)
	}
	return re
}
