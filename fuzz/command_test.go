package fuzz

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/smtpspec/smtpspec/harness"
	"github.com/smtpspec/smtpspec/reference"
)

// FuzzCommandParser runs the reference's exported parsers on one command
// line (the input in the token language, everything in one line) and its
// argument. Invariants: no panic; errors are *reference.SMTPError with a
// 5yz code whose enhanced code has the same class; ParseCommand splits at
// the first SP; a parsed path re-parses from its String form; ParsePath and
// ParseBDAT agree with independent readings of the RFC 5321 §4.1.2 and
// RFC 3030 §2 grammars on ASCII input (knownPathDeviations aside); the
// SMTPUTF8 rule of RFC 6531 §3.5 holds; xtext decodes what an xtext
// encoder wrote.
func FuzzCommandParser(f *testing.F) {
	for _, s := range []string{
		"MAIL FROM:<a@example.org> SIZE=1000 BODY=8BITMIME", "RCPT TO:<@a.example,@b.example:u@example.test> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;u+40x",
		"MAIL FROM:<\"a b\\\"c\"@[IPv6:::1]> SMTPUTF8", "RCPT TO:<Postmaster>", "BDAT 10 LAST", "EHLO [127.0.0.1] text",
		"MAIL FROM:<\xc3\xbc@ex\xc3\xa4mple.test> SMTPUTF8 ENVID=a+2Bb AUTH=<>", "rcpt to:<user@example.test>", "NOOP\tx",
	} {
		f.Add(tokenize([]byte(s)))
	}
	seen := map[string]bool{}
	var lines [][]byte
	for _, s := range catalogueScripts(f) {
		for _, w := range s.Writes {
			if len(w.Data) > 4096 {
				continue
			}
			for _, line := range strings.Split(string(w.Data), "\r\n") {
				if line != "" && len(line) < 600 && !seen[line] {
					seen[line] = true
					lines = append(lines, tokenize([]byte(line)))
				}
			}
		}
	}
	for _, l := range sampled(lines, 1) {
		f.Add(l)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		line := joined(expand(in, true))
		if err := checkCommand(line); err != nil {
			path := writeFinding(t, "FuzzCommandParser", "parser", in, line, nil, harness.ScriptCase{})
			t.Fatalf("%q: %v\nline written to %s", line, err, path)
		}
	})
}

func checkCommand(line []byte) error {
	cmd, err := reference.ParseCommand(line)
	if err := smtpErr(err, 500); err != nil {
		return fmt.Errorf("ParseCommand: %w", err)
	}
	arg := string(line)
	// Trailing white space is tolerated (RFC 5321 §4.1.1), also right
	// after a verb.
	trimmed := strings.TrimRight(string(line), " \t")
	if err == nil {
		if !slices.Contains(knownVerbs, cmd.Verb) || !hasPrefixFold(trimmed, cmd.Verb) {
			return fmt.Errorf("ParseCommand = %+v: not a known verb that starts the line", cmd)
		}
		want := ""
		if rest := trimmed[len(cmd.Verb):]; len(rest) > 0 {
			if rest[0] != ' ' {
				return fmt.Errorf("ParseCommand = %+v: the verb is not followed by SP", cmd)
			}
			want = rest[1:]
		}
		if cmd.Arg != want {
			return fmt.Errorf("ParseCommand: Arg = %q, want %q", cmd.Arg, want)
		}
		arg = cmd.Arg
	}
	for _, a := range []string{arg, string(line)} {
		if err := checkArg(a); err != nil {
			return err
		}
	}
	return nil
}

func checkArg(arg string) error {
	if _, _, err := reference.ParseMailFrom(arg); err != nil {
		if err := smtpErr(err, 501, 553, 555); err != nil {
			return fmt.Errorf("ParseMailFrom: %w", err)
		}
	} else if len(arg) >= 5 {
		if _, rest, _ := strings.Cut(arg[5:], ">"); hasHigh([]byte(arg)) && !modelParams(rest)["SMTPUTF8"] && !strings.Contains(strings.ToUpper(arg), " SMTPUTF8") {
			return fmt.Errorf("ParseMailFrom(%q) accepted non-ASCII without SMTPUTF8 (RFC 6531 §3.5)", arg)
		}
	}
	for _, utf8 := range []bool{false, true} {
		_, _, err := reference.ParseRcptTo(arg, utf8)
		if err != nil {
			if err := smtpErr(err, 501, 553, 555); err != nil {
				return fmt.Errorf("ParseRcptTo: %w", err)
			}
		} else if !utf8 && hasHigh([]byte(arg)) {
			return fmt.Errorf("ParseRcptTo(%q, false) accepted non-ASCII (RFC 6531 §3.5)", arg)
		}
	}
	for _, s := range []string{arg, strings.TrimPrefix(arg, "FROM:"), strings.TrimPrefix(arg, "TO:")} {
		if err := checkPath(s); err != nil {
			return err
		}
	}
	if params, err := reference.ParseParams(arg); err != nil {
		if err := smtpErr(err, 501); err != nil {
			return fmt.Errorf("ParseParams: %w", err)
		}
	} else {
		var parts []string
		for _, p := range params {
			if p.Keyword != strings.ToUpper(p.Keyword) || p.Keyword == "" {
				return fmt.Errorf("ParseParams(%q): keyword %q", arg, p.Keyword)
			}
			s := p.Keyword
			if p.HasValue {
				s += "=" + p.Value
			}
			parts = append(parts, s)
		}
		if got := strings.Join(parts, " "); !strings.EqualFold(got, arg) {
			return fmt.Errorf("ParseParams(%q) = %q joined", arg, got)
		}
	}
	size, last, err := reference.ParseBDAT(arg)
	wsize, wlast, wok, wconsumed := parseBDATModel(arg)
	if (err == nil) != wok || err == nil && (size != wsize || last != wlast) || (size >= 0) != wconsumed {
		return fmt.Errorf("ParseBDAT(%q) = %d, %v, %v; RFC 3030 §2 reading: size %d last %v ok %v consumed %v", arg, size, last, err, wsize, wlast, wok, wconsumed)
	}
	if err := smtpErr(err, 501); err != nil {
		return fmt.Errorf("ParseBDAT: %w", err)
	}
	if dec, err := reference.DecodeXtext(arg); err == nil {
		if !hasHigh([]byte(arg)) {
			if want, ok := decodeXtext(arg); !ok || want != dec {
				return fmt.Errorf("DecodeXtext(%q) = %q; RFC 3461 §4 reading: %q, %v", arg, dec, want, ok)
			}
		}
	} else if want, ok := decodeXtext(arg); ok && !hasHigh([]byte(arg)) {
		return fmt.Errorf("DecodeXtext(%q) refused RFC 3461 xtext (decodes to %q)", arg, want)
	}
	if back, err := reference.DecodeXtext(encodeXtext(arg)); err != nil || back != arg {
		return fmt.Errorf("DecodeXtext(encode(%q)) = %q, %v", arg, back, err)
	}
	if name, err := reference.ParseHeloDomain(arg); err == nil {
		first, _, _ := strings.Cut(arg, " ")
		if name != first || !isDomain(name) && !isLiteral(name) {
			return fmt.Errorf("ParseHeloDomain(%q) = %q: not the first word, or not a domain or literal", arg, name)
		}
	} else if first, _, _ := strings.Cut(arg, " "); isDomain(first) {
		return fmt.Errorf("ParseHeloDomain(%q) refused the domain %q", arg, first)
	}
	return nil
}

// checkPath compares reference.ParsePath with the RFC 5321 grammar.
func checkPath(s string) error {
	p, rest, nonASCII, err := reference.ParsePath(s)
	if err == nil {
		if !strings.HasSuffix(s, rest) {
			return fmt.Errorf("ParsePath(%q): rest %q is not a suffix", s, rest)
		}
		consumed := s[:len(s)-len(rest)]
		if nonASCII != hasHigh([]byte(consumed)) || nonASCII && !utf8.ValidString(consumed) {
			return fmt.Errorf("ParsePath(%q): nonASCII = %v for %q", s, nonASCII, consumed)
		}
		if len(p.Route) == 0 {
			p2, rest2, _, err := reference.ParsePath(p.String())
			if err != nil || rest2 != "" || p2.Mailbox() != p.Mailbox() {
				return fmt.Errorf("ParsePath(%q) = %v; re-parsing %q gives %v, %q, %v", s, p, p.String(), p2, rest2, err)
			}
		}
	}
	if hasHigh([]byte(s)) {
		return nil // the grammar below is ASCII (RFC 6531 widens it)
	}
	n, ok := grammarPath(s)
	refOK := err == nil
	if ok == refOK && (!ok || n == len(s)-len(rest)) {
		return nil
	}
	for _, d := range knownPathDeviations {
		if d.match(s[:max(n, len(s)-len(rest))], refOK) {
			return nil
		}
	}
	return fmt.Errorf("ParsePath(%q): reference ok=%v (rest %q, err %v); RFC 5321 grammar ok=%v (%d octets)", s, refOK, rest, err, ok, n)
}

// knownPathDeviations are documented differences between the reference and
// the bare grammar.
var knownPathDeviations = []struct {
	why   string
	match func(path string, refOK bool) bool
}{
	{"reference/doc.go: general address literals (Standardized-tag) are refused, none being registered",
		func(p string, refOK bool) bool { return !refOK && strings.Contains(p, "[") && strings.Contains(p, ":") }},
}

// grammarPath reads Reverse-path / Forward-path at the start of s:
//
//	Path = "<" [ A-d-l ":" ] Mailbox ">"  /  "<>"  /  "<Postmaster>"
//	A-d-l = At-domain *( "," At-domain );  At-domain = "@" Domain
//	Mailbox = Local-part "@" ( Domain / address-literal )
//
// with the §4.5.3.1 size limits (local part 64, domain 255, path 256).
func grammarPath(s string) (int, bool) {
	if !strings.HasPrefix(s, "<") {
		return 0, false
	}
	end := -1
	inQuote := false
	for i := 1; i < len(s) && end < 0; i++ {
		switch c := s[i]; {
		case inQuote && c == '\\':
			i++
		case c == '"':
			inQuote = !inQuote
		case !inQuote && c == '>':
			end = i
		}
	}
	if end < 0 {
		return 0, false
	}
	inner := s[1:end]
	n := end + 1
	if inner == "" || strings.EqualFold(inner, "Postmaster") {
		return n, true
	}
	if n > 256 {
		return n, false
	}
	if strings.HasPrefix(inner, "@") {
		route, mbox, ok := strings.Cut(inner, ":")
		if !ok {
			return n, false
		}
		for _, d := range strings.Split(route, ",") {
			if !strings.HasPrefix(d, "@") || !isDomain(d[1:]) {
				return n, false
			}
		}
		inner = mbox
	}
	at := strings.LastIndexByte(inner, '@')
	if at <= 0 {
		return n, false
	}
	local, domain := inner[:at], inner[at+1:]
	if len(local) > 64 || !isDotAtom(local) && !isQuoted(local) {
		return n, false
	}
	return n, isDomain(domain) || isLiteral(domain)
}

// isLiteral reports whether s is an IPv4 or IPv6 address literal (RFC 5321
// §4.1.3).
func isLiteral(s string) bool {
	if len(s) < 3 || s[0] != '[' || s[len(s)-1] != ']' {
		return false
	}
	in := s[1 : len(s)-1]
	if len(in) > 5 && strings.EqualFold(in[:5], "IPv6:") {
		a, err := netip.ParseAddr(in[5:])
		return err == nil && a.Is6() && a.Zone() == ""
	}
	parts := strings.Split(in, ".")
	if len(parts) != 4 {
		return false
	}
	for _, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || len(p) > 3 || n > 255 || strings.Trim(p, "0123456789") != "" {
			return false
		}
	}
	return true
}

// decodeXtext decodes RFC 3461 §4 xtext: xchar (33-126 but "+" and "=")
// and "+" two upper-case hex digits.
func decodeXtext(s string) (string, bool) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '+':
			if i+2 >= len(s) || strings.Trim(s[i+1:i+3], "0123456789ABCDEF") != "" {
				return "", false
			}
			v, _ := strconv.ParseUint(s[i+1:i+3], 16, 8)
			b.WriteByte(byte(v))
			i += 2
		case c < 33 || c > 126 || c == '=':
			return "", false
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), true
}

func encodeXtext(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 33 || c > 126 || c == '+' || c == '=' {
			fmt.Fprintf(&b, "+%02X", c)
		} else {
			b.WriteByte(c)
		}
	}
	return b.String()
}

// smtpErr checks that err is nil or an *SMTPError with one of codes and a
// matching enhanced class.
func smtpErr(err error, codes ...int) error {
	if err == nil {
		return nil
	}
	var se *reference.SMTPError
	if !errors.As(err, &se) {
		return fmt.Errorf("error %v (%T) is not an *SMTPError", err, err)
	}
	if !slices.Contains(codes, se.Code) {
		return fmt.Errorf("code %d (%v), want one of %v", se.Code, err, codes)
	}
	if se.Enhanced != "" && int(se.Enhanced[0]-'0') != se.Code/100 {
		return fmt.Errorf("enhanced code %s does not match %d", se.Enhanced, se.Code)
	}
	return nil
}
