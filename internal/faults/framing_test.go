package faults

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestScanLine(t *testing.T) {
	t.Parallel()
	strict := Framing{}
	for _, tc := range []struct {
		name    string
		f       Framing
		in      string
		line    string
		n       int
		pending bool
	}{
		{"crlf", strict, "NOOP\r\nRSET\r\n", "NOOP", 6, false},
		{"incomplete", strict, "NOOP", "", 0, false},
		{"cr-at-end-strict", strict, "NOOP\r", "", 0, false},
		{"bare-lf-is-content", strict, "A\nB\r\n", "A\nB", 5, false},
		{"bare-cr-is-content", strict, "A\rB\r\n", "A\rB", 5, false},
		{"cr-cr-lf-strict", strict, "A\r\r\n", "A\r", 4, false},
		{"nul-is-content", strict, "A\x00B\r\n", "A\x00B", 5, false},
		{"bare-lf-ends", Framing{BareLF: true}, "A\nB\r\n", "A", 2, false},
		{"bare-cr-ends", Framing{BareCR: true}, "A\rB\r\n", "A", 2, false},
		{"bare-cr-waits-at-end", Framing{BareCR: true}, "A\r", "", 0, true},
		{"crlf-under-bare-cr", Framing{BareCR: true}, "A\r\nB", "A", 3, false},
		{"collapse", Framing{CollapseCR: true}, "A\r\r\r\nB", "A", 5, false},
		{"collapse-bare-cr-is-content", Framing{CollapseCR: true}, "A\rB\r\n", "A\rB", 5, false},
		{"nul-ends", Framing{NULEnds: true}, "A\x00B\r\n", "A", 2, false},
		{"max-line-cut", Framing{MaxLine: 4}, "ABCDEFG\r\n", "ABCD", 4, false},
		{"max-line-exact", Framing{MaxLine: 4}, "ABCD\r\nE", "ABCD", 6, false},
		{"max-line-shorter", Framing{MaxLine: 4}, "AB\r\n", "AB", 4, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			line, n, pending := scanLine([]byte(tc.in), 0, &tc.f)
			got := []any{string(line), n, pending}
			want := []any{tc.line, tc.n, tc.pending}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("scanLine(%q) (-want +got):\n%s", tc.in, diff)
			}
		})
	}
}

// TestScanLine_resume checks that scanning from where the last call stopped
// finds the same line as scanning from the start.
func TestScanLine_resume(t *testing.T) {
	t.Parallel()
	f := Framing{}
	buf := []byte("NOOP AAAA")
	if _, n, _ := scanLine(buf, 0, &f); n != 0 {
		t.Fatalf("found a line in %q", buf)
	}
	buf = append(buf, "\r\nRSET"...)
	line, n, _ := scanLine(buf, len("NOOP AAAA")-1, &f)
	if string(line) != "NOOP AAAA" || n != 11 {
		t.Errorf("resumed scan = %q, %d; want \"NOOP AAAA\", 11", line, n)
	}
}

func TestParseBDATSize(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		line string
		size int64
		last bool
	}{
		{"BDAT 12", 12, false},
		{"BDAT 0 LAST", 0, true},
		{"BDAT 3 last", 3, true},
		{"BDAT 6 FIRST", 6, false},
		{"BDAT", -1, false},
		{"BDAT abc", -1, false},
	} {
		c := parseCommand([]byte(tc.line), "command", State{})
		size, last := parseBDATSize(c)
		if size != tc.size || last != tc.last {
			t.Errorf("parseBDATSize(%q) = %d, %v; want %d, %v", tc.line, size, last, tc.size, tc.last)
		}
	}
}
