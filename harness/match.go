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
// go-cmp diff. Fields the expectation does not constrain stay empty on both
// sides, and fields that matched are copied from the expectation, so the
// diff shows only what is wrong.
type View struct {
	Code     string   `json:",omitempty"`
	Enhanced string   `json:",omitempty"`
	Text     string   `json:",omitempty"`
	Lines    string   `json:",omitempty"`
	Keywords []string `json:",omitempty"`
	Closed   bool     `json:",omitempty"`
}

// want renders the expectation.
func (e *Expect) want() View {
	v := View{Closed: e.Closed}
	switch {
	case e.Silence > 0:
		v.Code = fmt.Sprintf("(no reply within %v)", e.Silence)
	case e.Any:
		v.Code = "(any reply)"
	case len(e.Code)+len(e.Lenient) > 0:
		v.Code = joinCodes(e.Code)
		if len(e.Lenient) > 0 {
			if v.Code != "" {
				v.Code += " "
			}
			v.Code += "(lenient: " + joinCodes(e.Lenient) + ")"
		}
	default:
		v.Code = "(no reply)"
	}
	v.Enhanced = e.Enhanced
	if e.Text != nil {
		v.Text = "/" + e.Text.String() + "/"
	}
	v.Lines = e.linesWant()
	for _, k := range e.Has {
		v.Keywords = append(v.Keywords, "+"+k)
	}
	for _, k := range e.Lacks {
		v.Keywords = append(v.Keywords, "-"+k)
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
	got := View{Closed: want.Closed}
	g := gradeStrict
	worse := func(to grade) {
		if to > g {
			g = to
		}
	}
	switch {
	case e.Any:
		got.Code = want.Code
	case slices.Contains(e.Code, r.Code):
		got.Code = want.Code
	case slices.Contains(e.Lenient, r.Code):
		got.Code = want.Code
		worse(gradeLenient)
	default:
		got.Code = strconv.Itoa(r.Code)
		worse(gradeMiss)
	}
	if e.Enhanced != "" {
		have := r.Enhanced()
		switch {
		case enhancedMatches(e.Enhanced, have):
			got.Enhanced = want.Enhanced
		case have == "" && !enhanced:
			got.Enhanced = want.Enhanced // not advertised: nothing to hold the server to
		default:
			got.Enhanced = have
			if have == "" {
				got.Enhanced = "(none)"
			}
			// RFC 3463 subjects are SHOULD-level advice; a wrong one only
			// makes an otherwise strict reply non-strict.
			worse(gradeLenient)
		}
	}
	if e.Text != nil {
		got.Text = want.Text
		if !e.Text.MatchString(r.Text()) {
			got.Text = r.Text()
			worse(gradeMiss)
		}
	}
	if want.Lines != "" {
		got.Lines = want.Lines
		n := len(r.Lines)
		ok := (e.Lines > 0 && n == e.Lines) || (e.Lines == 0 && (n > 1) == *e.Multi)
		if !ok {
			got.Lines = strconv.Itoa(n)
			worse(gradeMiss)
		}
	}
	kws := r.Keywords()
	for _, k := range e.Has {
		if keywordParam(kws, k) != nil {
			got.Keywords = append(got.Keywords, "+"+k)
		} else {
			got.Keywords = append(got.Keywords, "-"+k)
			worse(gradeMiss)
		}
	}
	for _, k := range e.Lacks {
		if keywordParam(kws, k) == nil {
			got.Keywords = append(got.Keywords, "-"+k)
		} else {
			got.Keywords = append(got.Keywords, "+"+k)
			worse(gradeMiss)
		}
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
