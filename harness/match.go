package harness

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/google/go-cmp/cmp"
)

// grade is how well a reply met an expectation.
type grade int

const (
	gradeStrict  grade = iota // as required
	gradeLenient              // only a lenient alternative
	gradeMiss                 // not acceptable
)

// View is the part of a reply an expectation looks at, rendered for a
// go-cmp diff: "code", "enhanced", "text", "wire", "lines", "keywords",
// "closed".
// Keys the expectation does not constrain are absent on both sides, and
// values that matched are copied from the expectation, so the diff shows
// only what is wrong.
type View map[string]string

// want renders the expectation.
func (e *Expect) want() View {
	v := View{}
	switch {
	case e.Silence > 0:
		v["code"] = fmt.Sprintf("(no reply within %v)", e.Silence)
	case e.Any:
		v["code"] = "(any reply)"
	case len(e.Code)+len(e.Lenient) > 0:
		c := joinCodes(e.Code)
		if len(e.Lenient) > 0 {
			if c != "" {
				c += " "
			}
			c += "(lenient: " + joinCodes(e.Lenient) + ")"
		}
		v["code"] = c
	default:
		v["code"] = "(no reply)"
	}
	if e.Closed {
		v["closed"] = "yes"
	}
	if e.Enhanced != "" {
		v["enhanced"] = e.Enhanced
	}
	if e.Text != nil {
		v["text"] = "/" + e.Text.String() + "/"
	}
	if e.Wire != nil {
		v["wire"] = "/" + e.Wire.String() + "/"
	}
	if l := e.linesWant(); l != "" {
		v["lines"] = l
	}
	var kws []string
	for _, k := range e.Has {
		kws = append(kws, "+"+k)
	}
	for _, k := range e.Lacks {
		kws = append(kws, "-"+k)
	}
	if kws != nil {
		v["keywords"] = strings.Join(kws, " ")
	}
	return v
}

func (e *Expect) linesWant() string {
	switch {
	case e.Lines > 0:
		return strconv.Itoa(e.Lines)
	case e.Multi == nil:
		return ""
	case *e.Multi:
		return "multi-line"
	}
	return "single-line"
}

func joinCodes(codes []int) string {
	s := make([]string, len(codes))
	for i, c := range codes {
		s[i] = strconv.Itoa(c)
	}
	return strings.Join(s, " or ")
}

// match grades reply r against e (which wants a reply) and renders what was
// seen. enhanced says whether the target advertised ENHANCEDSTATUSCODES:
// only then is a missing enhanced code a mismatch.
func (e *Expect) match(r *Reply, enhanced bool) (grade, View) {
	want := e.want()
	got := View{}
	if c, ok := want["closed"]; ok {
		got["closed"] = c
	}
	g := gradeStrict
	worse := func(to grade) {
		if to > g {
			g = to
		}
	}
	switch {
	case e.Any, slices.Contains(e.Code, r.Code):
		got["code"] = want["code"]
	case slices.Contains(e.Lenient, r.Code):
		got["code"] = want["code"]
		worse(gradeLenient)
	default:
		got["code"] = strconv.Itoa(r.Code)
		worse(gradeMiss)
	}
	if e.Enhanced != "" {
		have := r.Enhanced()
		switch {
		case enhancedMatches(e.Enhanced, have):
			got["enhanced"] = want["enhanced"]
		case have == "" && !enhanced:
			got["enhanced"] = want["enhanced"] // not advertised: nothing to hold the server to
		default:
			got["enhanced"] = have
			if have == "" {
				got["enhanced"] = "(none)"
			}
			// RFC 3463 subjects are SHOULD-level advice; a wrong one only
			// makes an otherwise strict reply non-strict.
			worse(gradeLenient)
		}
	}
	if e.Text != nil {
		got["text"] = want["text"]
		if !e.Text.MatchString(r.Text()) {
			got["text"] = r.Text()
			worse(gradeMiss)
		}
	}
	if e.Wire != nil {
		got["wire"] = want["wire"]
		if !e.Wire.Match(r.Raw) {
			got["wire"] = strconv.Quote(string(r.Raw))
			worse(gradeMiss)
		}
	}
	if l, ok := want["lines"]; ok {
		got["lines"] = l
		n := len(r.Lines)
		if !((e.Lines > 0 && n == e.Lines) || (e.Lines == 0 && (n > 1) == *e.Multi)) {
			got["lines"] = strconv.Itoa(n)
			worse(gradeMiss)
		}
	}
	var kws []string
	have := r.Keywords()
	for _, k := range e.Has {
		if keywordParam(have, k) != nil {
			kws = append(kws, "+"+k)
		} else {
			kws = append(kws, "-"+k)
			worse(gradeMiss)
		}
	}
	for _, k := range e.Lacks {
		if keywordParam(have, k) == nil {
			kws = append(kws, "-"+k)
		} else {
			kws = append(kws, "+"+k)
			worse(gradeMiss)
		}
	}
	if kws != nil {
		got["keywords"] = strings.Join(kws, " ")
	}
	return g, got
}

// enhancedMatches reports whether code (possibly "") matches pattern, where
// an "x" stands for any number.
func enhancedMatches(pattern, code string) bool {
	if code == "" {
		return false
	}
	p, c := strings.Split(pattern, "."), strings.Split(code, ".")
	if len(c) != 3 {
		return false
	}
	for i := range p {
		if p[i] != "x" && p[i] != c[i] {
			return false
		}
	}
	return true
}

// diffViews renders want against got as a go-cmp diff.
func diffViews(want, got []View) string {
	return cmp.Diff(want, got)
}
