package harness

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// A Script is a dialogue as the client's octets, write by write: what a case
// sends once its variables are expanded, or what a fuzzer sent. It links the
// catalogue and the fuzz targets both ways: ScriptOf turns a case into octets
// (to seed a fuzzer), and CaseFile turns octets back into a replayable case
// file (a fuzzer's finding that `smtpspec run --cases DIR` reproduces).
type Script struct {
	Start  Start
	Writes []ScriptWrite
}

// ScriptWrite is one write of a Script and the replies that must follow it.
type ScriptWrite struct {
	// Data is sent as it is, in one write. Empty Data with TLS unset makes
	// a step that only reads (the greeting, after start: connect).
	Data []byte
	// TLS performs the TLS handshake instead of a write (after a 220 to
	// STARTTLS).
	TLS bool
	// Expect lists one entry per reply the server owes after the write.
	Expect []ScriptReply
}

// ScriptReply constrains one reply of a Script.
type ScriptReply struct {
	// Codes are the acceptable codes; nil accepts any reply.
	Codes []int
	// Closed: the server closes the connection after this reply.
	Closed bool
}

// ScriptOf returns the octets case c sends to a target with profile p, with
// every variable expanded (info supplies ${size}; it may be nil). Pauses are
// dropped; a STARTTLS handshake step becomes a TLS write. The expectations
// are not carried over.
func ScriptOf(c *Case, p Profile, info *TargetInfo) (*Script, error) {
	env := p.env(info)
	s := &Script{Start: c.Start}
	for i, st := range c.Steps {
		var data string
		var err error
		switch {
		case st.Send != "":
			data, err = expand(st.Send, env)
			data += "\r\n"
		case st.Raw != "":
			data, err = expand(st.Raw, env)
		case st.Pipeline != nil:
			var b strings.Builder
			for _, l := range st.Pipeline {
				var line string
				if line, err = expand(l, env); err != nil {
					break
				}
				b.WriteString(line + "\r\n")
			}
			data = b.String()
		case st.TLS:
			s.Writes = append(s.Writes, ScriptWrite{TLS: true})
			continue
		default:
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("%s: step %d: %w", c.ID, i+1, err)
		}
		s.Writes = append(s.Writes, ScriptWrite{Data: []byte(data)})
	}
	return s, nil
}

// ScriptCase names and describes the case that CaseFile writes.
type ScriptCase struct {
	Group       string // "fuzz/remote"
	ID          string // kebab-case, e.g. "hang-3f2a9c1d"
	Title       string
	Level       Level // default MUST
	Spec        []string
	Requirement string
	Tags        []string
	// Comment lines are written at the top of the file, each after "# ".
	Comment []string
	// Quit adds the trailing QUIT that must get 221 (the "exactly N
	// replies" check); leave it false when the dialogue ends the session.
	Quit bool
}

// CaseFile renders s as a case file in the catalogue's YAML format, with one
// raw step per write, so that `smtpspec run --cases DIR` replays it. The
// result loads with ParseFile.
func (s *Script) CaseFile(meta ScriptCase) []byte {
	var b bytes.Buffer
	for _, c := range meta.Comment {
		b.WriteString(strings.TrimRight("# "+c, " ") + "\n")
	}
	level := meta.Level
	if level == "" {
		level = LevelMust
	}
	fmt.Fprintf(&b, "group: %s\n", meta.Group)
	if len(meta.Spec) > 0 {
		fmt.Fprintf(&b, "spec: %s\n", yamlList(meta.Spec))
	}
	b.WriteString("cases:\n")
	fmt.Fprintf(&b, "  - id: %s\n", meta.ID)
	fmt.Fprintf(&b, "    title: %s\n", strconv.Quote(meta.Title))
	fmt.Fprintf(&b, "    level: %s\n", level)
	fmt.Fprintf(&b, "    requirement: %s\n", strconv.Quote(meta.Requirement))
	if len(meta.Tags) > 0 {
		fmt.Fprintf(&b, "    tags: [%s]\n", strings.Join(meta.Tags, ", "))
	}
	start := s.Start
	if start == "" {
		start = StartConnect
	}
	fmt.Fprintf(&b, "    start: %s\n", start)
	if !meta.Quit {
		b.WriteString("    quit: false\n")
	}
	b.WriteString("    steps:\n")
	steps := 0
	for _, w := range s.Writes {
		switch {
		case w.TLS:
			b.WriteString("      - tls: true\n")
		case len(w.Data) > 0:
			fmt.Fprintf(&b, "      - raw: %s\n", YAMLOctets(w.Data))
		case len(w.Expect) == 0:
			continue
		default:
			b.WriteString("      - expect: " + yamlExpects(w.Expect) + "\n")
			steps++
			continue
		}
		steps++
		if len(w.Expect) > 0 {
			b.WriteString("        expect: " + yamlExpects(w.Expect) + "\n")
		}
	}
	if steps == 0 {
		// A case needs a step; reading nothing at all is the closest.
		b.WriteString("      - expect: {any: true}\n")
	}
	return b.Bytes()
}

func yamlList(items []string) string {
	q := make([]string, len(items))
	for i, s := range items {
		q[i] = strconv.Quote(s)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

func yamlExpects(es []ScriptReply) string {
	parts := make([]string, len(es))
	for i, e := range es {
		var f []string
		if e.Codes == nil {
			if !e.Closed {
				f = append(f, "any: true")
			}
		} else {
			cs := make([]string, len(e.Codes))
			for j, c := range e.Codes {
				cs[j] = strconv.Itoa(c)
			}
			f = append(f, "code: ["+strings.Join(cs, ", ")+"]")
		}
		if e.Closed {
			f = append(f, "closed: true")
		}
		parts[i] = "{" + strings.Join(f, ", ") + "}"
	}
	if len(parts) == 1 {
		return parts[0]
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// YAMLOctets quotes arbitrary octets as a double-quoted YAML string that a
// case's raw field turns back into exactly those octets: control characters
// as YAML escapes, "$" as "$$", and octets from 0x80 up as ${hex:…}, since
// YAML's \xHH would make a Unicode character of them.
func YAMLOctets(data []byte) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(data); i++ {
		c := data[i]
		switch {
		case c >= 0x80:
			j := i
			for j < len(data) && data[j] >= 0x80 {
				j++
			}
			fmt.Fprintf(&b, "${hex:%X}", data[i:j])
			i = j - 1
		case c == '"':
			b.WriteString(`\"`)
		case c == '\\':
			b.WriteString(`\\`)
		case c == '$':
			b.WriteString("$$")
		case c == '\r':
			b.WriteString(`\r`)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\t':
			b.WriteString(`\t`)
		case c == 0:
			b.WriteString(`\0`)
		case c < 0x20 || c == 0x7f:
			fmt.Fprintf(&b, `\x%02X`, c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}
