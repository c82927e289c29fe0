package reference

import (
	"bytes"
	"net/netip"
	"strings"
	"unicode/utf8"
)

// Limits of RFC 5321 §4.5.3.1 that the parsers enforce. Objects up to these
// sizes must be accepted; the reference refuses anything longer.
const (
	MaxLocalPartLen = 64   // §4.5.3.1.1
	MaxDomainLen    = 255  // §4.5.3.1.2
	MaxPathLen      = 256  // §4.5.3.1.3, including the angle brackets
	MaxCommandLine  = 512  // §4.5.3.1.4, including CRLF
	MaxTextLine     = 1000 // §4.5.3.1.6, a line of message data including CRLF
	// MaxAuthLine is the longest AUTH command or SASL response line accepted,
	// including CRLF; RFC 4954 §4 deems 12288 octets enough for PLAIN/LOGIN.
	MaxAuthLine = 12288 + 2
	// MaxEnvIDLen is the longest ENVID value, in xtext form (RFC 3461 §4.4).
	MaxEnvIDLen = 100
)

// Command is one parsed command line.
type Command struct {
	// Verb is the upper-case verb ("MAIL") when it is one the server knows;
	// for an unknown verb it is the raw first word.
	Verb string
	// Arg is everything after the single space that follows the verb, with
	// trailing spaces and tabs removed (RFC 5321 §4.1.1 asks servers to
	// tolerate them).
	Arg string
}

// Verbs recognised by ParseCommand.
var knownVerbs = []string{
	"HELO", "EHLO", "MAIL", "RCPT", "DATA", "BDAT", "RSET", "NOOP", "QUIT",
	"VRFY", "EXPN", "HELP", "STARTTLS", "AUTH", "TURN", "SAML", "SEND", "SOML",
}

// ParseCommand splits a command line (without its CRLF) into verb and
// argument. It fails with a 500 *SMTPError for an empty line or an unknown
// verb; the returned Command still carries what was read.
func ParseCommand(line []byte) (Command, error) {
	// Trailing white space is tolerated (RFC 5321 §4.1.1), also right
	// after a verb that takes no argument ("NOOP<TAB>").
	line = bytes.TrimRight(line, " \t")
	if len(line) == 0 {
		return Command{}, errEmptyCommand
	}
	word, rest, hasArg := bytes.Cut(line, []byte{' '})
	verb := canonicalVerb(word)
	if verb == "" {
		return Command{Verb: string(word)}, errUnknownCommand
	}
	cmd := Command{Verb: verb}
	if hasArg {
		cmd.Arg = string(rest)
	}
	return cmd, nil
}

// canonicalVerb returns the upper-case constant for a known verb in any case,
// or "". It does not allocate: verbs are matched in a fixed array.
func canonicalVerb(b []byte) string {
	if len(b) < 4 || len(b) > 8 {
		return ""
	}
	var up [8]byte
	for i, c := range b {
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		up[i] = c
	}
	for _, v := range knownVerbs {
		if string(up[:len(b)]) == v {
			return v
		}
	}
	return ""
}

// Path is a reverse-path or forward-path of MAIL or RCPT (RFC 5321 §4.1.2).
type Path struct {
	// Route lists the domains of a source route (without "@"); RFC 5321
	// §4.1.1.3 says to ignore it, so it is kept only for the record.
	Route []string
	// LocalPart is the local part as written, quotes included.
	LocalPart string
	// Domain is the domain or the bracketed address literal; it is empty for
	// the null path "<>" and for "<Postmaster>".
	Domain string
}

// IsNull reports whether p is the null reverse-path "<>".
func (p Path) IsNull() bool { return p.LocalPart == "" && p.Domain == "" }

// Mailbox returns "local@domain", the bare local part for <Postmaster>, or
// "" for the null path.
func (p Path) Mailbox() string {
	if p.Domain == "" {
		return p.LocalPart
	}
	return p.LocalPart + "@" + p.Domain
}

// String returns the path in angle brackets, without its source route.
func (p Path) String() string { return "<" + p.Mailbox() + ">" }

// UnquotedLocalPart returns the local part with quoting removed, so that
// "user" and user compare equal (RFC 5321 §4.1.2).
func (p Path) UnquotedLocalPart() string {
	lp := p.LocalPart
	if len(lp) < 2 || lp[0] != '"' {
		return lp
	}
	var b strings.Builder
	for i := 1; i < len(lp)-1; i++ {
		if lp[i] == '\\' && i+1 < len(lp)-1 {
			i++
		}
		b.WriteByte(lp[i])
	}
	return b.String()
}

// IsPostmaster reports whether p names the postmaster local part, in any case.
func (p Path) IsPostmaster() bool {
	return strings.EqualFold(p.UnquotedLocalPart(), "postmaster")
}

// pathError is a syntax problem found in a path; the caller turns it into a
// reply with the enhanced code of its role (5.1.7 sender, 5.1.3 recipient).
type pathError struct{ msg string }

func (e *pathError) Error() string { return e.msg }

// ParsePath parses a path at the start of s and returns it with the rest of
// s. The null path "<>" and "<Postmaster>" (no domain) are returned as parsed;
// whether they are allowed depends on the command. Non-ASCII UTF-8 is
// accepted here: nonASCII tells the caller to check for SMTPUTF8.
func ParsePath(s string) (p Path, rest string, nonASCII bool, err error) {
	if len(s) == 0 || s[0] != '<' {
		return Path{}, s, false, &pathError{"path must be enclosed in <>"}
	}
	end, err := scanPath(s, &p)
	if err != nil {
		return Path{}, s, false, err
	}
	raw := s[:end]
	if end > MaxPathLen {
		return Path{}, s, false, &pathError{"path too long"}
	}
	for i := 0; i < len(raw); i++ {
		if raw[i] >= utf8.RuneSelf {
			if !utf8.ValidString(raw) {
				return Path{}, s, false, &pathError{"invalid UTF-8 in address"}
			}
			nonASCII = true
			break
		}
	}
	return p, s[end:], nonASCII, nil
}

// scanPath parses the path starting at s[0] == '<' into p and returns the
// index just after the closing '>'.
func scanPath(s string, p *Path) (int, error) {
	i := 1
	if i < len(s) && s[i] == '>' {
		return i + 1, nil
	}
	if i < len(s) && s[i] == '@' {
		for {
			i++ // the '@'
			// At-domain = "@" Domain: a route names domains, never
			// address literals (RFC 5321 §4.1.2).
			n, err := scanDomain(s[i:], true)
			if err != nil {
				return 0, &pathError{"malformed source route: " + err.Error()}
			}
			p.Route = append(p.Route, s[i:i+n])
			i += n
			if i < len(s) && s[i] == ',' && i+1 < len(s) && s[i+1] == '@' {
				i++
				continue
			}
			if i < len(s) && s[i] == ':' {
				i++
				break
			}
			return 0, &pathError{"malformed source route"}
		}
	}
	n, err := scanLocalPart(s[i:])
	if err != nil {
		return 0, err
	}
	p.LocalPart = s[i : i+n]
	i += n
	if n > MaxLocalPartLen {
		return 0, &pathError{"local part too long"}
	}
	if i < len(s) && s[i] == '>' && len(p.Route) == 0 && strings.EqualFold(p.LocalPart, "postmaster") {
		// <Postmaster>, RFC 5321 §4.1.1.3: the grammar spells it unquoted,
		// so <"postmaster"> is a mailbox without a domain like any other.
		return i + 1, nil
	}
	if i >= len(s) || s[i] != '@' {
		return 0, &pathError{"address must be local-part@domain"}
	}
	i++
	n, err = scanDomainOrLiteral(s[i:])
	if err != nil {
		return 0, err
	}
	p.Domain = s[i : i+n]
	i += n
	if i >= len(s) || s[i] != '>' {
		return 0, &pathError{"path must end with >"}
	}
	return i + 1, nil
}

// scanLocalPart returns the length of the Dot-string or Quoted-string local
// part at the start of s (RFC 5321 §4.1.2, extended by RFC 6531 §3.3).
func scanLocalPart(s string) (int, error) {
	if len(s) > 0 && s[0] == '"' {
		for i := 1; i < len(s); i++ {
			c := s[i]
			switch {
			case c == '"':
				return i + 1, nil
			case c == '\\':
				if i+1 >= len(s) || s[i+1] < 32 || s[i+1] > 126 {
					return 0, &pathError{"bad quoted-pair in local part"}
				}
				i++
			case c < 32 || c == 127:
				return 0, &pathError{"control character in local part"}
			}
		}
		return 0, &pathError{"unterminated quoted local part"}
	}
	i := 0
	for {
		start := i
		for i < len(s) && isAtext(s[i]) {
			i++
		}
		if i == start {
			if i < len(s) && (s[i] < 32 || s[i] == 127) {
				return 0, &pathError{"control character in local part"}
			}
			return 0, &pathError{"invalid local part"}
		}
		if i < len(s) && s[i] == '.' {
			i++
			continue
		}
		return i, nil
	}
}

// isAtext reports whether c may appear in an Atom (RFC 5322 atext); octets of
// UTF-8 sequences are allowed and validated later (RFC 6531 §3.3).
func isAtext(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c >= 0x80:
		return true
	}
	return strings.IndexByte("!#$%&'*+-/=?^_`{|}~", c) >= 0
}

// scanDomainOrLiteral returns the length of the domain or address literal at
// the start of s.
func scanDomainOrLiteral(s string) (int, error) {
	if len(s) > 0 && s[0] == '[' {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return 0, &pathError{"unterminated address literal"}
		}
		if err := checkAddressLiteral(s[:end+1]); err != nil {
			return 0, err
		}
		return end + 1, nil
	}
	return scanDomain(s, true)
}

// scanDomain returns the length of the Domain at the start of s: labels of
// letters, digits and inner hyphens (RFC 5321 §4.1.2), at most 63 octets each
// and 255 in all. With utf8 set, U-labels are allowed (RFC 6531 §3.3).
func scanDomain(s string, allowUTF8 bool) (int, error) {
	i := 0
	for {
		start := i
		for i < len(s) && (isLetDig(s[i]) || s[i] == '-' || (allowUTF8 && s[i] >= 0x80)) {
			i++
		}
		label := s[start:i]
		switch {
		case len(label) == 0:
			return 0, &pathError{"invalid domain"}
		case label[0] == '-' || label[len(label)-1] == '-':
			return 0, &pathError{"domain label must not start or end with a hyphen"}
		case len(label) > 63:
			return 0, &pathError{"domain label too long"}
		}
		if i < len(s) && s[i] == '.' {
			i++
			continue
		}
		if i > MaxDomainLen {
			return 0, &pathError{"domain too long"}
		}
		return i, nil
	}
}

func isLetDig(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

// checkAddressLiteral validates "[IPv4]" or "[IPv6:addr]" (RFC 5321 §4.1.3).
// General address literals need an IANA-registered tag and none is in use,
// so they are refused.
func checkAddressLiteral(lit string) error {
	inner := lit[1 : len(lit)-1]
	if len(inner) >= 5 && strings.EqualFold(inner[:5], "IPv6:") {
		a, err := netip.ParseAddr(inner[5:])
		if err != nil || !a.Is6() || a.Zone() != "" {
			return &pathError{"invalid IPv6 address literal"}
		}
		return nil
	}
	parts := strings.Split(inner, ".")
	if len(parts) != 4 {
		return &pathError{"invalid address literal"}
	}
	for _, p := range parts {
		if len(p) == 0 || len(p) > 3 {
			return &pathError{"invalid IPv4 address literal"}
		}
		n := 0
		for i := 0; i < len(p); i++ {
			if p[i] < '0' || p[i] > '9' {
				return &pathError{"invalid IPv4 address literal"}
			}
			n = n*10 + int(p[i]-'0')
		}
		if n > 255 {
			return &pathError{"invalid IPv4 address literal"}
		}
	}
	return nil
}

// ParseHeloDomain checks the argument of EHLO or HELO: a Domain or an address
// literal (RFC 5321 §4.1.1.1), optionally followed by text that RFC 2821-era
// clients send and §4.1.1.1 advises tolerating. It returns the name.
func ParseHeloDomain(arg string) (string, error) {
	name, _, _ := strings.Cut(arg, " ")
	if name == "" {
		return "", errorf(CodeParamSyntax, "5.5.4", "Syntax: EHLO domain or address literal")
	}
	var n int
	var err error
	if name[0] == '[' {
		n, err = scanDomainOrLiteral(name)
	} else {
		n, err = scanDomain(name, false)
	}
	if err != nil || n != len(name) {
		return "", errorf(CodeParamSyntax, "5.5.2", "Invalid domain name")
	}
	return name, nil
}
