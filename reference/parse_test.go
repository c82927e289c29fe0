package reference

import (
	"io"
	"math/rand/v2"
	"net"
	"slices"
	"strings"
	"testing"
	"time"
)

var parseCommandTests = []struct {
	line    string
	verb    string
	arg     string
	wantErr bool
}{
	{"NOOP", "NOOP", "", false},
	{"noop", "NOOP", "", false},
	{"mail FROM:<a@b>  ", "MAIL", "FROM:<a@b>", false},
	{"STARTTLS", "STARTTLS", "", false},
	{"EHLO  x", "EHLO", " x", false},
	{"", "", "", true},
	{"FOO bar", "FOO", "", true},
	{"NOOP\tx", "NOOP\tx", "", true},
	{"NOOP\nNOOP", "NOOP\nNOOP", "", true},
	{"STARTTLSX", "STARTTLSX", "", true},
}

func TestParseCommand(t *testing.T) {
	t.Parallel()
	for _, tt := range parseCommandTests {
		got, err := ParseCommand([]byte(tt.line))
		if (err != nil) != tt.wantErr || got.Verb != tt.verb || got.Arg != tt.arg {
			t.Errorf("ParseCommand(%q) = %+v, %v; want verb %q arg %q err %v", tt.line, got, err, tt.verb, tt.arg, tt.wantErr)
		}
	}
}

var parsePathTests = []struct {
	in       string
	want     Path
	rest     string
	nonASCII bool
	wantErr  bool
}{
	{in: "<>", want: Path{}},
	{in: "<a@b.example> SIZE=1", want: Path{LocalPart: "a", Domain: "b.example"}, rest: " SIZE=1"},
	{in: "<Postmaster>", want: Path{LocalPart: "Postmaster"}},
	{in: `<"a>b"@x.example>`, want: Path{LocalPart: `"a>b"`, Domain: "x.example"}},
	{in: `<"a\"b"@x.example>`, want: Path{LocalPart: `"a\"b"`, Domain: "x.example"}},
	{in: "<@r1.example,@[192.0.2.1]:a@x.example>", wantErr: true}, // At-domain is a Domain, never a literal
	{in: `<"postmaster">`, wantErr: true},                         // <Postmaster> is spelt unquoted
	{in: "<a.b.c@x-y.example>", want: Path{LocalPart: "a.b.c", Domain: "x-y.example"}},
	{in: "<j\xc3\xb6rg@x.example>", want: Path{LocalPart: "j\xc3\xb6rg", Domain: "x.example"}, nonASCII: true},
	{in: "a@x.example", wantErr: true},
	{in: "<a@x.example", wantErr: true},
	{in: "<a..b@x.example>", wantErr: true},
	{in: "<.a@x.example>", wantErr: true},
	{in: "<a.@x.example>", wantErr: true},
	{in: "<a@-x.example>", wantErr: true},
	{in: "<a@x-.example>", wantErr: true},
	{in: "<a@x..example>", wantErr: true},
	{in: "<a@x.example.>", wantErr: true},
	{in: "<a@" + strings.Repeat("x", 64) + ".example>", wantErr: true},
	{in: "<user>", wantErr: true},
	{in: "<@r.example:Postmaster>", wantErr: true},
	{in: `<"unterminated@x.example>`, wantErr: true},
	{in: "<a b@x.example>", wantErr: true},
	{in: "<a@[1.2.3]>", wantErr: true},
	{in: "<a@[IPv6:1.2.3.4]>", wantErr: true},
	{in: "<a@[IPv6:fe80::1%eth0]>", wantErr: true},
	{in: "<a@[tag:stuff]>", wantErr: true},
	{in: "<\xff@x.example>", wantErr: true},
	{in: "<", wantErr: true},
	{in: "<@", wantErr: true},
	{in: "<@x", wantErr: true},
	{in: `<"`, wantErr: true},
	{in: `<"\`, wantErr: true},
	{in: "<a@[", wantErr: true},
}

func TestParsePath(t *testing.T) {
	t.Parallel()
	for _, tt := range parsePathTests {
		got, rest, nonASCII, err := ParsePath(tt.in)
		if tt.wantErr {
			if err == nil {
				t.Errorf("ParsePath(%q) = %+v, want an error", tt.in, got)
			}
			continue
		}
		if err != nil || got.LocalPart != tt.want.LocalPart || got.Domain != tt.want.Domain ||
			!slices.Equal(got.Route, tt.want.Route) || rest != tt.rest || nonASCII != tt.nonASCII {
			t.Errorf("ParsePath(%q) = %+v, %q, %v, %v; want %+v, %q, %v", tt.in, got, rest, nonASCII, err, tt.want, tt.rest, tt.nonASCII)
		}
	}
}

func TestPathHelpers(t *testing.T) {
	t.Parallel()
	p := Path{LocalPart: `"Post\master"`, Domain: "x.example"}
	if got := p.UnquotedLocalPart(); got != "Postmaster" {
		t.Errorf("UnquotedLocalPart = %q", got)
	}
	if !p.IsPostmaster() || p.Mailbox() != `"Post\master"@x.example` || p.String() != `<"Post\master"@x.example>` {
		t.Errorf("helpers on %+v: %v %q %q", p, p.IsPostmaster(), p.Mailbox(), p.String())
	}
	if (Path{}).String() != "<>" || !(Path{}).IsNull() {
		t.Errorf("null path helpers wrong")
	}
}

func TestDecodeXtext(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"abc": "abc", "a+2Bb": "a+b", "+3D": "=", "QQ+20x": "QQ x"} {
		if got, err := DecodeXtext(in); err != nil || got != want {
			t.Errorf("DecodeXtext(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"a+", "a+2", "a+2b", "a=b", "a b", "+ZZ"} {
		if got, err := DecodeXtext(in); err == nil {
			t.Errorf("DecodeXtext(%q) = %q, want an error", in, got)
		}
	}
}

func TestParseBDAT(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		arg  string
		size int64
		last bool
		err  bool
	}{
		{"0", 0, false, false}, {"10 LAST", 10, true, false}, {"10 last", 10, true, false},
		{"10 FIRST", 10, false, true}, {"10  LAST", 10, false, true}, {"10 ", 10, false, true},
		{"", -1, false, true}, {"abc", -1, false, true}, {"-1", -1, false, true},
		{"99999999999999999999", -1, false, true}, {"1e3", -1, false, true},
	} {
		size, last, err := ParseBDAT(tt.arg)
		if size != tt.size || last != tt.last || (err != nil) != tt.err {
			t.Errorf("ParseBDAT(%q) = %d, %v, %v; want %d, %v, err %v", tt.arg, size, last, err, tt.size, tt.last, tt.err)
		}
	}
}

func TestParseHeloDomain(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"c.example": "c.example", "[192.0.2.1] text": "[192.0.2.1]", "localhost": "localhost", "[IPv6:::1]": "[IPv6:::1]",
	} {
		if got, err := ParseHeloDomain(in); err != nil || got != want {
			t.Errorf("ParseHeloDomain(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "bad_name", "-x.example", "x..example", "[1.2.3.4", "caf\xc3\xa9.example", " x"} {
		if got, err := ParseHeloDomain(in); err == nil {
			t.Errorf("ParseHeloDomain(%q) = %q, want an error", in, got)
		}
	}
}

// TestServeConnRandomInput throws random command-like input at sessions
// over net.Pipe: every session must end without a panic reply (421 4.3.0)
// and within its deadline.
func TestServeConnRandomInput(t *testing.T) {
	t.Parallel()
	cfg := baseConfig()
	cfg.AllowInsecureAuth = true
	cfg.CommandTimeout = 2 * time.Second
	cfg.DataTimeout = 2 * time.Second
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	pieces := []string{"EHLO c.example\r\n", "HELO x\r\n", "MAIL FROM:<a@x.example>\r\n", "RCPT TO:<user@example.test>\r\n",
		"RCPT TO:<postmaster>\r\n", "DATA\r\n", "BDAT 3\r\n", "BDAT 2 LAST\r\n", "RSET\r\n", "NOOP\r\n", ".\r\n", "\r\n",
		"\n", "\r", ".", "..", "\x00", "AUTH PLAIN\r\n", "AUTH LOGIN\r\n", "*\r\n", plainIR + "\r\n", "STARTTLS x\r\n",
		"MAIL FROM:<> SIZE=5 BODY=BINARYMIME\r\n", "abc", "VRFY x\r\n", "HELP\r\n", "\xff\xfe", strings.Repeat("Z", 600)}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 300 {
		var b strings.Builder
		for range rng.IntN(30) {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		b.WriteString("\r\n.\r\nQUIT\r\n")
		cli, sc := net.Pipe()
		done := make(chan struct{})
		out := make(chan []byte, 1)
		go func() { srv.ServeConn(sc); close(done) }()
		go func() { b, _ := io.ReadAll(cli); out <- b }()
		cli.SetWriteDeadline(time.Now().Add(5 * time.Second))
		cli.Write([]byte(b.String()))
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("input %d: session did not end: %q", i, b.String())
		}
		cli.Close()
		if replies := <-out; strings.Contains(string(replies), "421 4.3.0") {
			t.Fatalf("input %d: internal error for %q:\n%s", i, b.String(), replies)
		}
	}
}
