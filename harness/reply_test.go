package harness

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestReadReply(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		in    string
		code  int
		lines []string
		enh   string
	}{
		{"single", "250 2.1.0 Ok\r\n", 250, []string{"2.1.0 Ok"}, "2.1.0"},
		{"code only", "250\r\n", 250, []string{""}, ""},
		{"code and space", "334 \r\n", 334, []string{""}, ""},
		{"multi-line", "250-mx.example Hello\r\n250-PIPELINING\r\n250 SIZE 100\r\n", 250, []string{"mx.example Hello", "PIPELINING", "SIZE 100"}, ""},
		{"empty continuation", "214-\r\n214 end\r\n", 214, []string{"", "end"}, ""},
		{"eight-bit text", "250 caf\xc3\xa9\r\n", 250, []string{"caf\xc3\xa9"}, ""},
		{"tab in text", "250 a\tb\r\n", 250, []string{"a\tb"}, ""},
		{"512 octets", "250 " + strings.Repeat("a", 506) + "\r\n", 250, []string{strings.Repeat("a", 506)}, ""},
		{"no enhanced with leading zero", "250 2.01.0 x\r\n", 250, []string{"2.01.0 x"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := NewReplyReader(strings.NewReader(tt.in)).ReadReply()
			if err != nil {
				t.Fatalf("ReadReply(%q) error: %v", tt.in, err)
			}
			if r.Code != tt.code {
				t.Errorf("ReadReply(%q).Code = %d, want %d", tt.in, r.Code, tt.code)
			}
			if diff := cmp.Diff(tt.lines, r.Lines); diff != "" {
				t.Errorf("ReadReply(%q).Lines (-want +got):\n%s", tt.in, diff)
			}
			if got := r.Enhanced(); got != tt.enh {
				t.Errorf("ReadReply(%q).Enhanced() = %q, want %q", tt.in, got, tt.enh)
			}
			if string(r.Raw) != tt.in {
				t.Errorf("ReadReply(%q).Raw = %q", tt.in, r.Raw)
			}
			if got := string(r.Bytes()); got != tt.in {
				t.Errorf("ReadReply(%q).Bytes() = %q, want the input back", tt.in, got)
			}
		})
	}
}

func TestReadReply_protocolErrors(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, in, problem string }{
		{"bare LF", "250 ok\n", "bare LF"},
		{"bare LF in multi-line", "250-a\r\n250 b\n", "bare LF"},
		{"bare CR inside", "250 o\rk\r\n", "bare CR or LF"},
		{"mismatched codes", "250-a\r\n251 b\r\n", "inside multi-line"},
		{"non-digit code", "2x0 ok\r\n", "invalid reply code"},
		{"first digit 1", "150 ok\r\n", "invalid reply code"},
		{"second digit 6", "260 ok\r\n", "invalid reply code"},
		{"short", "25\r\n", "shorter than"},
		{"bad separator", "250:ok\r\n", "not SP"},
		{"NUL in text", "250 a\x00b\r\n", "control octet"},
		{"513 octets", "250 " + strings.Repeat("a", 507) + "\r\n", "longer than 512"},
		{"10 MB line", "250 " + strings.Repeat("a", 10<<20), "longer than 512"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewReplyReader(strings.NewReader(tt.in)).ReadReply()
			var perr *ProtocolError
			if !errors.As(err, &perr) {
				t.Fatalf("ReadReply(%.40q) error = %v, want a *ProtocolError", tt.in, err)
			}
			if !strings.Contains(perr.Problem, tt.problem) {
				t.Errorf("ReadReply(%.40q) problem = %q, want it to mention %q", tt.in, perr.Problem, tt.problem)
			}
			if len(perr.Raw) > MaxReplyLine+1 {
				t.Errorf("ProtocolError keeps %d octets, want at most %d", len(perr.Raw), MaxReplyLine+1)
			}
		})
	}
}

func TestReadReply_endOfStream(t *testing.T) {
	t.Parallel()
	if _, err := NewReplyReader(strings.NewReader("")).ReadReply(); err != io.EOF {
		t.Errorf("ReadReply(empty) error = %v, want io.EOF", err)
	}
	r, err := NewReplyReader(strings.NewReader("250-first\r\n250-sec")).ReadReply()
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("ReadReply(truncated) error = %v, want io.ErrUnexpectedEOF", err)
	}
	if want := "250-first\r\n250-sec"; string(r.Raw) != want {
		t.Errorf("ReadReply(truncated).Raw = %q, want %q", r.Raw, want)
	}
}

func TestReadReply_tooManyLines(t *testing.T) {
	t.Parallel()
	in := strings.Repeat("250-x\r\n", MaxReplyLines+5) + "250 end\r\n"
	_, err := NewReplyReader(strings.NewReader(in)).ReadReply()
	var perr *ProtocolError
	if !errors.As(err, &perr) {
		t.Fatalf("ReadReply(%d lines) error = %v, want a *ProtocolError", MaxReplyLines+6, err)
	}
}

func TestReadReply_sequence(t *testing.T) {
	t.Parallel()
	rr := NewReplyReader(bytes.NewReader([]byte("220 hi\r\n250-a\r\n250 b\r\n221 bye\r\n")))
	var codes []int
	for {
		r, err := rr.ReadReply()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		codes = append(codes, r.Code)
	}
	if diff := cmp.Diff([]int{220, 250, 221}, codes); diff != "" {
		t.Errorf("codes (-want +got):\n%s", diff)
	}
}

func TestIsEnhancedCode(t *testing.T) {
	t.Parallel()
	for s, want := range map[string]bool{
		"2.0.0": true, "5.7.1": true, "4.4.2": true, "5.1.10": true, "5.999.999": true,
		"3.0.0": false, "5.07.1": false, "5.1": false, "5.1.1.1": false, "5.1.1000": false, "x.1.1": false, "": false, "5..1": false,
	} {
		if got := IsEnhancedCode(s); got != want {
			t.Errorf("IsEnhancedCode(%q) = %v, want %v", s, got, want)
		}
	}
}
