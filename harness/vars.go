package harness

import (
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
)

// Variables a case may use in what it sends, as ${name}. Each comes from the
// target profile or from what the target advertised.
var variableDocs = map[string]string{
	"helo":           "the EHLO/HELO name (--helo)",
	"mail_from":      "a sender the target accepts (--mail-from)",
	"rcpt":           "a recipient the target accepts (--rcpt)",
	"relay_rcpt":     "a recipient in a domain the target must not relay to (--relay-rcpt)",
	"unknown_rcpt":   "a recipient in a local domain that does not exist (--unknown-rcpt)",
	"domain":         "a domain the target accepts mail for (--domain)",
	"auth_user":      "the AUTH user name (--auth)",
	"auth_pass":      "the AUTH password (--auth)",
	"auth_plain":     "base64 of the AUTH PLAIN response for the profile's credentials",
	"bad_auth_plain": "base64 of an AUTH PLAIN response with a wrong password",
	"auth_user_b64":  "base64 of the AUTH user name",
	"auth_pass_b64":  "base64 of the AUTH password",
	"size":           "the SIZE limit the target advertises (a number > 0)",
}

// Functions a case may use: ${repeat:N:TEXT}, ${body:N}, ${hex:HEX}. N is a
// decimal number, or size, size+K or size-K.
var functionNames = []string{"repeat", "body", "hex"}

// maxExpansion caps what one ${} may produce, so a typo cannot make the
// harness allocate gigabytes.
const maxExpansion = 256 << 20

// scanVars checks the ${} syntax of s and returns the variables it needs.
func scanVars(s string) ([]string, error) {
	var names []string
	_, err := expandWith(s, func(name string) (string, error) {
		names = append(names, name)
		return "", nil
	}, true)
	return names, err
}

// expand replaces every ${} in s using env. A variable missing from env is
// an error.
func expand(s string, env map[string]string) (string, error) {
	return expandWith(s, func(name string) (string, error) {
		v, ok := env[name]
		if !ok {
			return "", fmt.Errorf("variable %q has no value", name)
		}
		return v, nil
	}, false)
}

func expandWith(s string, lookup func(string) (string, error), dry bool) (string, error) {
	if !strings.Contains(s, "$") {
		return s, nil
	}
	var b strings.Builder
	for {
		i := strings.IndexByte(s, '$')
		if i < 0 {
			b.WriteString(s)
			return b.String(), nil
		}
		b.WriteString(s[:i])
		s = s[i:]
		switch {
		case strings.HasPrefix(s, "$$"):
			b.WriteByte('$')
			s = s[2:]
			continue
		case !strings.HasPrefix(s, "${"):
			return "", fmt.Errorf("lone $ (write $$ for a dollar sign)")
		}
		end := strings.IndexByte(s, '}')
		if end < 0 {
			return "", fmt.Errorf("unclosed ${")
		}
		v, err := expandOne(s[2:end], lookup, dry)
		if err != nil {
			return "", err
		}
		if b.Len()+len(v) > maxExpansion {
			return "", fmt.Errorf("expansion longer than %d octets", maxExpansion)
		}
		b.WriteString(v)
		s = s[end+1:]
	}
}

func expandOne(expr string, lookup func(string) (string, error), dry bool) (string, error) {
	fn, arg, isFunc := strings.Cut(expr, ":")
	if !isFunc {
		if _, ok := variableDocs[expr]; !ok {
			return "", fmt.Errorf("unknown variable ${%s}%s", expr, suggest(expr, keys(variableDocs)))
		}
		return lookup(expr)
	}
	switch fn {
	case "hex":
		b, err := hex.DecodeString(arg)
		if err != nil {
			return "", fmt.Errorf("${hex:%s}: %v", arg, err)
		}
		return string(b), nil
	case "repeat":
		count, text, ok := strings.Cut(arg, ":")
		if !ok || text == "" {
			return "", fmt.Errorf("${repeat:%s}: want ${repeat:N:TEXT}", arg)
		}
		n, err := evalCount(count, lookup, dry)
		if err != nil || dry {
			return "", err
		}
		if n*len(text) > maxExpansion {
			return "", fmt.Errorf("${repeat:%s}: longer than %d octets", arg, maxExpansion)
		}
		return strings.Repeat(text, n), nil
	case "body":
		n, err := evalCount(arg, lookup, dry)
		if err != nil || dry {
			return "", err
		}
		if n > maxExpansion {
			return "", fmt.Errorf("${body:%s}: longer than %d octets", arg, maxExpansion)
		}
		return messageBody(n), nil
	}
	return "", fmt.Errorf("unknown function ${%s:…}%s", fn, suggest(fn, functionNames))
}

// evalCount evaluates N, size, size+K or size-K.
func evalCount(s string, lookup func(string) (string, error), dry bool) (int, error) {
	base, op, k := s, byte(0), ""
	if i := strings.IndexAny(s, "+-"); i > 0 {
		base, op, k = s[:i], s[i], s[i+1:]
	}
	var n int
	if base == "size" {
		v, err := lookup("size")
		if err != nil || dry {
			return 0, err
		}
		if n, err = strconv.Atoi(v); err != nil {
			return 0, fmt.Errorf("size %q is not a number", v)
		}
	} else {
		var err error
		if n, err = strconv.Atoi(base); err != nil || n < 0 {
			return 0, fmt.Errorf("count %q: want a number, size, size+K or size-K", s)
		}
	}
	if op != 0 {
		d, err := strconv.Atoi(k)
		if err != nil || d < 0 {
			return 0, fmt.Errorf("count %q: bad offset %q", s, k)
		}
		if op == '-' {
			d = -d
		}
		n += d
	}
	if n < 0 {
		return 0, fmt.Errorf("count %q is negative", s)
	}
	return n, nil
}

// messageBody returns exactly n octets of plain message text: lines of at
// most 78 characters ending in CRLF. No line starts with a dot, so the text
// needs no dot-stuffing. A body shorter than 2 octets is "x" or "".
func messageBody(n int) string {
	if n < 2 {
		return strings.Repeat("x", n)
	}
	var b strings.Builder
	b.Grow(n)
	const line = "The quick brown fox jumps over the lazy dog; smtpspec pads messages with this."
	for n > 0 {
		k := min(n, len(line)+2) - 2
		if n-(k+2) == 1 {
			k-- // never leave a 1-octet remainder, which could not end in CRLF
		}
		b.WriteString(line[:k])
		b.WriteString("\r\n")
		n -= k + 2
	}
	return b.String()
}

func keys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
