package fuzz

import (
	"strings"
)

// modelPath is a path as the model reads it (RFC 5321 §4.1.2).
type modelPath struct {
	null, postmaster, quoted, literal, nonASCII bool
	local, domain                               string
}

// parseModelPath parses "<" [A-d-l ":"] Mailbox ">" at the start of s, and
// "<>" and "<Postmaster>". ok is false when the model is unsure.
func parseModelPath(s string) (p modelPath, rest string, ok bool) {
	if !strings.HasPrefix(s, "<") {
		return p, s, false
	}
	end := -1
	inQuote := false
	for i := 1; i < len(s); i++ {
		switch c := s[i]; {
		case inQuote && c == '\\':
			i++
		case c == '"':
			inQuote = !inQuote
		case !inQuote && c == '>':
			end = i
		}
		if end >= 0 {
			break
		}
	}
	if end < 0 {
		return p, s, false
	}
	inner, rest := s[1:end], s[end+1:]
	p.nonASCII = hasHigh([]byte(inner))
	if inner == "" {
		p.null = true
		return p, rest, true
	}
	if len(inner)+2 > 256 {
		return p, rest, false
	}
	if strings.HasPrefix(inner, "@") {
		route, mbox, found := strings.Cut(inner, ":")
		if !found {
			return p, rest, false
		}
		for _, d := range strings.Split(route, ",") {
			if !strings.HasPrefix(d, "@") || !isDomain(d[1:]) {
				return p, rest, false
			}
		}
		inner = mbox
	} else if strings.EqualFold(inner, "postmaster") {
		p.postmaster, p.local = true, inner
		return p, rest, true
	}
	at := strings.LastIndexByte(inner, '@')
	if at <= 0 {
		return p, rest, false
	}
	p.local, p.domain = inner[:at], inner[at+1:]
	p.quoted = strings.HasPrefix(p.local, "\"")
	if len(p.local) > 64 || !p.quoted && !isDotAtom(p.local) || p.quoted && !isQuoted(p.local) {
		return p, rest, false
	}
	if strings.HasPrefix(p.domain, "[") {
		p.literal = true
		return p, rest, strings.HasSuffix(p.domain, "]")
	}
	return p, rest, isDomain(p.domain)
}

func afterPath(s string) string {
	_, rest, ok := parseModelPath(s)
	if !ok {
		if i := strings.LastIndexByte(s, '>'); i >= 0 {
			return s[i+1:]
		}
		return ""
	}
	return rest
}

// modelParams lists the parameter keywords after a path (" KW[=v] ..."),
// upper case, "KW=" for those with a value.
func modelParams(rest string) map[string]bool {
	out := map[string]bool{}
	for _, f := range strings.Split(strings.TrimPrefix(rest, " "), " ") {
		kw, _, hasV := strings.Cut(f, "=")
		out[strings.ToUpper(kw)] = true
		if hasV {
			out[strings.ToUpper(kw)+"="] = true
		}
	}
	return out
}

func paramValue(rest, kw string) string {
	for _, f := range strings.Split(strings.TrimPrefix(rest, " "), " ") {
		k, v, _ := strings.Cut(f, "=")
		if strings.EqualFold(k, kw) {
			return v
		}
	}
	return ""
}

// isDomain reports whether s is an RFC 5321 Domain: LDH labels of 1 to 63
// octets, 255 in all.
func isDomain(s string) bool {
	if s == "" || len(s) > 255 {
		return false
	}
	for _, l := range strings.Split(s, ".") {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

const atext = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-/=?^_`{|}~"

func isDotAtom(s string) bool {
	for _, a := range strings.Split(s, ".") {
		if a == "" || strings.Trim(a, atext) != "" {
			return false
		}
	}
	return true
}

func isQuoted(s string) bool {
	if len(s) < 2 || s[0] != '"' || s[len(s)-1] != '"' {
		return false
	}
	for i := 1; i < len(s)-1; i++ {
		c := s[i]
		switch {
		case c == '\\':
			i++
			if i >= len(s)-1 || s[i] < 32 || s[i] > 126 {
				return false
			}
		case c < 32 || c > 126 || c == '"':
			return false
		}
	}
	return true
}

func hasHigh(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 {
			return true
		}
	}
	return false
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}
