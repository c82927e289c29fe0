package reference

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// Param is one ESMTP parameter of MAIL or RCPT (RFC 5321 §4.1.2).
type Param struct {
	Keyword  string // upper case
	Value    string // raw value, still xtext-encoded where the extension says so
	HasValue bool
}

// ParseParams splits space-separated "KEYWORD[=value]" parameters. It checks
// only the generic syntax (esmtp-keyword, esmtp-value) and fails with 501.
// Values may contain UTF-8 (RFC 6531 §3.3); the caller checks SMTPUTF8.
func ParseParams(s string) ([]Param, error) {
	if s == "" {
		return nil, nil
	}
	var params []Param
	for _, f := range strings.Split(s, " ") {
		kw, val, hasVal := strings.Cut(f, "=")
		if kw == "" || !isLetDig(kw[0]) {
			return nil, errorf(CodeParamSyntax, "5.5.4", "Invalid parameter syntax")
		}
		for i := 1; i < len(kw); i++ {
			if !isLetDig(kw[i]) && kw[i] != '-' {
				return nil, errorf(CodeParamSyntax, "5.5.4", "Invalid parameter keyword")
			}
		}
		if hasVal {
			if val == "" {
				return nil, errorf(CodeParamSyntax, "5.5.4", "Empty parameter value")
			}
			for i := 0; i < len(val); i++ {
				if c := val[i]; c < 33 || c == '=' || c == 127 {
					return nil, errorf(CodeParamSyntax, "5.5.4", "Invalid parameter value")
				}
			}
		}
		params = append(params, Param{Keyword: strings.ToUpper(kw), Value: val, HasValue: hasVal})
	}
	return params, nil
}

// MailOptions are the MAIL parameters the reference supports.
type MailOptions struct {
	// Size is the declared SIZE (RFC 1870), 0 when absent.
	Size int64
	// Body is "7BIT", "8BITMIME", "BINARYMIME" or "" (RFC 6152, RFC 3030).
	Body string
	// SMTPUTF8 is set by the SMTPUTF8 parameter (RFC 6531 §3.4).
	SMTPUTF8 bool
	// Ret is the DSN RET value, "FULL" or "HDRS" (RFC 3461 §4.3).
	Ret string
	// EnvID is the decoded DSN ENVID (RFC 3461 §4.4).
	EnvID string
	// Auth is the decoded AUTH= mailbox (RFC 4954 §5); "<>" when the client
	// sent AUTH=<>.
	Auth string

	given int // parameters parsed, even those with a zero value (SIZE=0)
}

// RcptOptions are the RCPT parameters the reference supports (RFC 3461).
type RcptOptions struct {
	// Notify lists the upper-case NOTIFY values; nil when absent.
	Notify []string
	// ORCPTType is the ORCPT addr-type ("rfc822"), ORCPT the decoded address.
	ORCPTType, ORCPT string
}

// ParseMailFrom parses the argument of MAIL ("FROM:<path> [params]"). The
// reverse path may be null. It fails with an *SMTPError: 501 for syntax, 555
// for unknown parameters, 553 5.6.7 for a non-ASCII address without
// SMTPUTF8. Size limits are left to the caller.
func ParseMailFrom(arg string) (Path, MailOptions, error) {
	var opts MailOptions
	if len(arg) < 5 || !strings.EqualFold(arg[:5], "FROM:") {
		return Path{}, opts, errorf(CodeParamSyntax, "5.5.4", "Syntax: MAIL FROM:<address> [parameters]")
	}
	p, rest, nonASCII, err := ParsePath(arg[5:])
	if err != nil {
		return Path{}, opts, errorf(CodeParamSyntax, "5.1.7", "Bad sender address syntax: %s", err)
	}
	if p.Domain == "" && !p.IsNull() {
		return Path{}, opts, errorf(CodeParamSyntax, "5.1.7", "Bad sender address syntax: domain required")
	}
	params, err := splitParams(rest)
	if err != nil {
		return Path{}, opts, err
	}
	seen := map[string]bool{}
	for _, pr := range params {
		if seen[pr.Keyword] {
			return Path{}, opts, errorf(CodeParamSyntax, "5.5.4", "Duplicate %s parameter", pr.Keyword)
		}
		seen[pr.Keyword] = true
		if err := opts.set(pr); err != nil {
			return Path{}, opts, err
		}
	}
	if !opts.SMTPUTF8 && (nonASCII || paramsNonASCII(params)) {
		return Path{}, opts, errUTF8NotAllowed
	}
	return p, opts, nil
}

// present reports whether any parameter was given.
func (o *MailOptions) present() bool { return o.given > 0 }

// set validates one MAIL parameter and records it.
func (o *MailOptions) set(pr Param) error {
	o.given++
	switch pr.Keyword {
	case "SIZE":
		if !pr.HasValue || len(pr.Value) > 20 || !allDigits(pr.Value) {
			return errorf(CodeParamSyntax, "5.5.4", "SIZE takes 1 to 20 digits")
		}
		n, err := strconv.ParseInt(pr.Value, 10, 64)
		if err != nil { // more than an int64 holds: larger than any limit
			n = 1<<63 - 1
		}
		o.Size = n
	case "BODY":
		v := strings.ToUpper(pr.Value)
		if v != "7BIT" && v != "8BITMIME" && v != "BINARYMIME" {
			return errorf(CodeParamSyntax, "5.5.4", "BODY must be 7BIT, 8BITMIME or BINARYMIME")
		}
		o.Body = v
	case "SMTPUTF8":
		if pr.HasValue {
			return errorf(CodeParamSyntax, "5.5.4", "SMTPUTF8 takes no value")
		}
		o.SMTPUTF8 = true
	case "RET":
		v := strings.ToUpper(pr.Value)
		if v != "FULL" && v != "HDRS" {
			return errorf(CodeParamSyntax, "5.5.4", "RET must be FULL or HDRS")
		}
		o.Ret = v
	case "ENVID":
		if len(pr.Value) > MaxEnvIDLen {
			return errorf(CodeParamSyntax, "5.5.4", "ENVID longer than %d characters", MaxEnvIDLen)
		}
		v, err := DecodeXtext(pr.Value)
		if err != nil || v == "" {
			return errorf(CodeParamSyntax, "5.5.4", "ENVID must be xtext")
		}
		o.EnvID = v
	case "AUTH":
		if pr.Value == "<>" {
			o.Auth = "<>"
			return nil
		}
		v, err := DecodeXtext(pr.Value)
		if err != nil || v == "" {
			return errorf(CodeParamSyntax, "5.5.4", "AUTH must be <> or xtext")
		}
		o.Auth = v
	default:
		return errorf(CodeParamsNotRecognized, "5.5.4", "Unsupported MAIL parameter %s", pr.Keyword)
	}
	return nil
}

// ParseRcptTo parses the argument of RCPT ("TO:<path> [params]"). smtputf8
// tells whether the transaction carries the SMTPUTF8 parameter. Errors are
// *SMTPError values as for ParseMailFrom.
func ParseRcptTo(arg string, smtputf8 bool) (Path, RcptOptions, error) {
	var opts RcptOptions
	if len(arg) < 3 || !strings.EqualFold(arg[:3], "TO:") {
		return Path{}, opts, errorf(CodeParamSyntax, "5.5.4", "Syntax: RCPT TO:<address> [parameters]")
	}
	p, rest, nonASCII, err := ParsePath(arg[3:])
	if err != nil {
		return Path{}, opts, errorf(CodeParamSyntax, "5.1.3", "Bad recipient address syntax: %s", err)
	}
	if p.IsNull() {
		return Path{}, opts, errorf(CodeParamSyntax, "5.1.3", "Null recipient not allowed")
	}
	if !smtputf8 && nonASCII {
		return Path{}, opts, errUTF8NotAllowed
	}
	params, err := splitParams(rest)
	if err != nil {
		return Path{}, opts, err
	}
	if !smtputf8 && paramsNonASCII(params) {
		return Path{}, opts, errUTF8NotAllowed
	}
	seen := map[string]bool{}
	for _, pr := range params {
		if seen[pr.Keyword] {
			return Path{}, opts, errorf(CodeParamSyntax, "5.5.4", "Duplicate %s parameter", pr.Keyword)
		}
		seen[pr.Keyword] = true
		if err := opts.set(pr); err != nil {
			return Path{}, opts, err
		}
	}
	return p, opts, nil
}

// set validates one RCPT parameter and records it.
func (o *RcptOptions) set(pr Param) error {
	switch pr.Keyword {
	case "NOTIFY":
		if !pr.HasValue {
			return errorf(CodeParamSyntax, "5.5.4", "NOTIFY needs a value")
		}
		vals := strings.Split(strings.ToUpper(pr.Value), ",")
		for i, v := range vals {
			switch v {
			case "NEVER":
				if len(vals) != 1 {
					return errorf(CodeParamSyntax, "5.5.4", "NOTIFY=NEVER must stand alone")
				}
			case "SUCCESS", "FAILURE", "DELAY":
				for _, prev := range vals[:i] {
					if prev == v {
						return errorf(CodeParamSyntax, "5.5.4", "Duplicate NOTIFY value %s", v)
					}
				}
			default:
				return errorf(CodeParamSyntax, "5.5.4", "NOTIFY values are NEVER or SUCCESS, FAILURE, DELAY")
			}
		}
		o.Notify = vals
	case "ORCPT":
		typ, addr, ok := strings.Cut(pr.Value, ";")
		if !ok || typ == "" || addr == "" || !isAtom(typ) {
			return errorf(CodeParamSyntax, "5.5.4", "ORCPT must be addr-type;xtext")
		}
		v, err := DecodeXtext(addr)
		if err != nil {
			return errorf(CodeParamSyntax, "5.5.4", "ORCPT address must be xtext")
		}
		o.ORCPTType, o.ORCPT = typ, v
	default:
		return errorf(CodeParamsNotRecognized, "5.5.4", "Unsupported RCPT parameter %s", pr.Keyword)
	}
	return nil
}

// splitParams parses what follows a path: nothing, or SP and parameters.
func splitParams(rest string) ([]Param, error) {
	if rest == "" {
		return nil, nil
	}
	if rest[0] != ' ' {
		return nil, errorf(CodeParamSyntax, "5.5.4", "Unexpected text after address")
	}
	return ParseParams(rest[1:])
}

func paramsNonASCII(params []Param) bool {
	for _, p := range params {
		for i := 0; i < len(p.Value); i++ {
			if p.Value[i] >= utf8.RuneSelf {
				return true
			}
		}
	}
	return false
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func isAtom(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isAtext(s[i]) || s[i] >= 0x80 {
			return false
		}
	}
	return s != ""
}

// DecodeXtext decodes RFC 3461 §4 xtext: printable ASCII except "+" and "=",
// with "+XX" (upper-case hex) standing for any octet. UTF-8 is passed
// through (RFC 6533 utf-8-addr-xtext).
func DecodeXtext(s string) (string, error) {
	if strings.IndexByte(s, '+') < 0 {
		for i := 0; i < len(s); i++ {
			if c := s[i]; c < 33 || c == '=' || c == 127 {
				return "", &pathError{"invalid xtext"}
			}
		}
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '+':
			if i+2 >= len(s) || !isUpperHex(s[i+1]) || !isUpperHex(s[i+2]) {
				return "", &pathError{"invalid xtext hexchar"}
			}
			v, _ := strconv.ParseUint(s[i+1:i+3], 16, 8)
			b.WriteByte(byte(v))
			i += 2
		case c < 33 || c == '=' || c == 127:
			return "", &pathError{"invalid xtext"}
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}

func isUpperHex(c byte) bool { return '0' <= c && c <= '9' || 'A' <= c && c <= 'F' }

// ParseBDAT parses the argument of BDAT: a chunk size of 1 to 20 digits,
// optionally followed by LAST (RFC 3030 §2). When the size parses but the
// rest does not, size is still returned so the caller can consume the chunk
// before answering 501.
func ParseBDAT(arg string) (size int64, last bool, err error) {
	sz, rest, _ := strings.Cut(arg, " ")
	if !allDigits(sz) || len(sz) > 20 {
		return -1, false, errorf(CodeParamSyntax, "5.5.4", "Syntax: BDAT chunk-size [LAST]")
	}
	size, perr := strconv.ParseInt(sz, 10, 64)
	if perr != nil {
		return -1, false, errorf(CodeParamSyntax, "5.5.4", "BDAT chunk size out of range")
	}
	switch {
	case rest == "" && !strings.Contains(arg, " "):
		return size, false, nil
	case strings.EqualFold(rest, "LAST"):
		return size, true, nil
	}
	return size, false, errorf(CodeParamSyntax, "5.5.4", "Syntax: BDAT chunk-size [LAST]")
}
