package harness

import (
	"regexp"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

var (
	fileFields     = []string{"group", "title", "spec", "tags", "cases"}
	caseFields     = []string{"id", "title", "spec", "level", "requirement", "tags", "catalogue", "requires", "start", "steps", "quit"}
	stepFields     = []string{"send", "raw", "pipeline", "tls", "close", "pause", "expect", "outcomes", "delivered"}
	expectFields   = []string{"code", "lenient", "enhanced", "text", "wire", "lines", "multiline", "has", "lacks", "any", "closed", "more", "silence"}
	outcomeFields  = []string{"name", "verdict", "expect"}
	deliveryFields = []string{"from", "to", "data", "trace", "trace_not"}
)

// file_ decodes a whole case file.
func (d *decoder) file_(n *yaml.Node) []*Case {
	n = deref(n)
	f := d.fields(n, "file", fileFields...)
	if f == nil {
		return nil
	}
	var group, title string
	var spec, tags []string
	if v := f["group"]; v != nil {
		group = d.str(v, "group")
		if !groupRE.MatchString(group) {
			d.errorf(v, "group", "%q is not a lower-case path such as rfc5321/4.1.4", group)
		}
	} else {
		d.errorf(n, "group", "missing (the ID prefix of every case in the file, e.g. rfc5321/4.1.4)")
	}
	if v := f["title"]; v != nil {
		title = d.str(v, "title")
	}
	if v := f["spec"]; v != nil {
		spec = d.strs(v, "spec")
	}
	if v := f["tags"]; v != nil {
		tags = d.tags(v)
	}
	list := f["cases"]
	if list == nil {
		d.errorf(n, "cases", "missing")
		return nil
	}
	if list.Kind != yaml.SequenceNode {
		d.errorf(list, "cases", "want a list, got %s", kindName(list))
		return nil
	}
	var cases []*Case
	for _, cn := range list.Content {
		c := d.case_(cn, spec, tags)
		if c == nil {
			continue
		}
		c.Group, c.GroupTitle, c.File = group, title, d.file
		c.ID = group + "/" + c.ID
		cases = append(cases, c)
	}
	return cases
}

var (
	groupRE   = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]*(/[a-z0-9][a-z0-9.-]*)*$`)
	idRE      = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
	keywordRE = regexp.MustCompile(`^[A-Z0-9][A-Z0-9-]*$`)
	// requirementRE is a keyword, or a keyword and one of its parameters.
	requirementRE = regexp.MustCompile(`^[A-Z0-9][A-Z0-9-]*( [A-Z0-9][A-Z0-9_=.-]*)?$`)
	enhRE         = regexp.MustCompile(`^[245]\.(x|0|[1-9][0-9]{0,2})\.(x|0|[1-9][0-9]{0,2})$`)
)

func (d *decoder) tags(n *yaml.Node) []string {
	n = deref(n)
	tags := d.strs(n, "tags")
	for _, t := range tags {
		if !idRE.MatchString(t) {
			d.errorf(n, "tags", "%q is not kebab-case", t)
		}
	}
	return tags
}

func (d *decoder) case_(n *yaml.Node, fileSpec, fileTags []string) *Case {
	n = deref(n)
	f := d.fields(n, "case", caseFields...)
	if f == nil {
		return nil
	}
	c := &Case{Line: n.Line, Spec: fileSpec, Tags: slices.Clone(fileTags), Start: StartEhlo, Quit: true}
	if v := f["id"]; v != nil {
		c.Line = v.Line
		c.ID = d.str(v, "id")
		if !idRE.MatchString(c.ID) {
			d.errorf(v, "id", "%q is not kebab-case (lower-case letters, digits, single hyphens)", c.ID)
		}
	} else {
		d.errorf(n, "id", "missing")
	}
	required := func(key string, dst *string) {
		if v := f[key]; v != nil {
			*dst = strings.TrimSpace(d.str(v, key))
			if *dst == "" {
				d.errorf(v, key, "empty")
			}
		} else {
			d.errorf(n, key, "missing")
		}
	}
	required("title", &c.Title)
	required("requirement", &c.Requirement)
	var level string
	required("level", &level)
	c.Level = Level(strings.ToUpper(level))
	if level != "" && c.Level.rank() == 0 && c.Level != LevelInfo {
		d.errorf(f["level"], "level", "%q is not MUST, SHOULD, MAY or INFO%s", level, suggest(level, []string{"MUST", "SHOULD", "MAY", "INFO"}))
	}
	if v := f["spec"]; v != nil {
		c.Spec = d.strs(v, "spec")
	}
	if len(c.Spec) == 0 {
		d.errorf(n, "spec", "missing (give it on the case or the file, e.g. \"RFC 5321 §4.1.4\")")
	}
	if v := f["tags"]; v != nil {
		c.Tags = append(c.Tags, d.tags(v)...)
	}
	if v := f["catalogue"]; v != nil {
		c.Catalogue = d.strs(v, "catalogue")
	}
	if v := f["requires"]; v != nil {
		c.Requires = d.strs(v, "requires")
		for _, k := range c.Requires {
			if !requirementRE.MatchString(k) {
				d.errorf(v, "requires", "%q is not an upper-case EHLO keyword, optionally with one parameter (\"AUTH LOGIN\")", k)
			}
		}
	}
	if v := f["start"]; v != nil {
		s := Start(d.str(v, "start"))
		if !slices.Contains(starts, s) {
			names := make([]string, len(starts))
			for i, s := range starts {
				names[i] = string(s)
			}
			d.errorf(v, "start", "%q is not one of %s%s", s, strings.Join(names, ", "), suggest(string(s), names))
		}
		c.Start = s
	}
	if v := f["quit"]; v != nil {
		c.Quit = d.boolean(v, "quit")
	}
	steps := f["steps"]
	switch {
	case steps == nil:
		d.errorf(n, "steps", "missing")
	case steps.Kind != yaml.SequenceNode || len(steps.Content) == 0:
		d.errorf(steps, "steps", "want a non-empty list, got %s", kindName(steps))
	default:
		for _, sn := range steps.Content {
			if s, ok := d.step(sn, c); ok {
				c.Steps = append(c.Steps, s)
			}
		}
	}
	c.vars = caseVars(c)
	return c
}

// caseVars lists the profile variables a case needs, from its start preset
// and what its steps send.
func caseVars(c *Case) []string {
	var vars []string
	switch c.Start {
	case StartAuth:
		vars = append(vars, "auth_plain")
	case StartRcpt:
		vars = append(vars, "rcpt", "mail_from")
	case StartMail:
		vars = append(vars, "mail_from")
	}
	add := func(s string) {
		names, _ := scanVars(s)
		vars = append(vars, names...)
	}
	for _, s := range c.Steps {
		add(s.Send)
		add(s.Raw)
		for _, p := range s.Pipeline {
			add(p)
		}
		if s.Delivered != nil {
			for _, m := range *s.Delivered {
				if m.Data != nil {
					add(*m.Data)
				}
				if m.From != nil {
					add(*m.From)
				}
				for _, t := range m.To {
					add(t)
				}
			}
		}
	}
	slices.Sort(vars)
	return slices.Compact(vars)
}

func (d *decoder) step(n *yaml.Node, c *Case) (Step, bool) {
	n = deref(n)
	f := d.fields(n, "step", stepFields...)
	if f == nil {
		return Step{}, false
	}
	s := Step{Line: n.Line}
	actions := 0
	checkVars := func(v *yaml.Node, field, text string) {
		if _, err := scanVars(text); err != nil {
			d.errorf(v, field, "%v", err)
		}
	}
	if v := f["send"]; v != nil {
		actions++
		s.Send = d.str(v, "send")
		if strings.ContainsAny(s.Send, "\r\n") {
			d.errorf(v, "send", "contains CR or LF; use raw for exact octets")
		}
		checkVars(v, "send", s.Send)
	}
	if v := f["raw"]; v != nil {
		actions++
		s.Raw = d.str(v, "raw")
		if s.Raw == "" {
			d.errorf(v, "raw", "empty")
		}
		checkVars(v, "raw", s.Raw)
	}
	if v := f["pipeline"]; v != nil {
		actions++
		s.Pipeline = d.strs(v, "pipeline")
		for _, p := range s.Pipeline {
			if strings.ContainsAny(p, "\r\n") {
				d.errorf(v, "pipeline", "command %q contains CR or LF; use raw for exact octets", p)
			}
			checkVars(v, "pipeline", p)
		}
	}
	if v := f["tls"]; v != nil {
		actions++
		s.TLS = d.boolean(v, "tls")
		if !s.TLS {
			d.errorf(v, "tls", "only tls: true means something")
		}
	}
	if v := f["close"]; v != nil {
		actions++
		if s.Close = d.boolean(v, "close"); !s.Close {
			d.errorf(v, "close", "only close: true means something")
		}
	}
	if v := f["pause"]; v != nil {
		actions++
		s.Pause = d.duration(v, "pause")
	}
	if actions > 1 {
		d.errorf(n, "step", "one action per step (send, raw, pipeline, tls, close or pause)")
	}
	if v := f["expect"]; v != nil {
		s.Expect = d.expectList(v, false)
	}
	if v := f["outcomes"]; v != nil {
		if s.Expect != nil {
			d.errorf(v, "outcomes", "a step has expect or outcomes, not both")
		}
		s.Outcomes = d.outcomes(v)
	}
	if v := f["delivered"]; v != nil {
		list := d.deliveries(v)
		s.Delivered = &list
	}
	if actions == 0 && s.Expect == nil && s.Outcomes == nil && s.Delivered == nil {
		d.errorf(n, "step", "does nothing: give an action (send, raw, pipeline, tls, close, pause) or an expectation")
	}
	return s, true
}

func (d *decoder) duration(n *yaml.Node, field string) time.Duration {
	n = deref(n)
	dur, err := time.ParseDuration(d.str(n, field))
	if err != nil || dur <= 0 {
		d.errorf(n, field, "want a positive duration such as 500ms or 2s, got %s", kindName(n))
	}
	return dur
}

// expectList accepts one expectation (a code or a mapping) or a list of them.
func (d *decoder) expectList(n *yaml.Node, inOutcome bool) []Expect {
	n = deref(n)
	if n.Kind != yaml.SequenceNode {
		return []Expect{d.expect(n, inOutcome)}
	}
	if len(n.Content) == 0 {
		return []Expect{}
	}
	out := make([]Expect, 0, len(n.Content))
	for i, e := range n.Content {
		x := d.expect(e, inOutcome)
		if x.More && i != len(n.Content)-1 {
			d.errorf(e, "more", "only the last expectation of an outcome may have more: true")
		}
		out = append(out, x)
	}
	return out
}

func (d *decoder) expect(n *yaml.Node, inOutcome bool) Expect {
	n = deref(n)
	e := Expect{Line: n.Line}
	if n.Kind == yaml.ScalarNode {
		e.Code = []int{d.integer(n, "expect")}
		d.checkCodes(n, "expect", e.Code)
		return e
	}
	f := d.fields(n, "expect", expectFields...)
	if f == nil {
		return e
	}
	if v := f["code"]; v != nil {
		e.Code = d.ints(v, "code")
		d.checkCodes(v, "code", e.Code)
	}
	if v := f["lenient"]; v != nil {
		e.Lenient = d.ints(v, "lenient")
		d.checkCodes(v, "lenient", e.Lenient)
	}
	if v := f["enhanced"]; v != nil {
		e.Enhanced = d.str(v, "enhanced")
		if !enhRE.MatchString(e.Enhanced) {
			d.errorf(v, "enhanced", "%q is not an enhanced status code such as 5.5.1 or a class such as 5.x.x", e.Enhanced)
		}
	}
	if v := f["text"]; v != nil {
		re, err := regexp.Compile(d.str(v, "text"))
		if err != nil {
			d.errorf(v, "text", "bad regular expression: %v", err)
		}
		e.Text = re
	}
	if v := f["wire"]; v != nil {
		re, err := regexp.Compile(d.str(v, "wire"))
		if err != nil {
			d.errorf(v, "wire", "bad regular expression: %v", err)
		}
		e.Wire = re
	}
	if v := f["lines"]; v != nil {
		if e.Lines = d.integer(v, "lines"); e.Lines < 1 {
			d.errorf(v, "lines", "want 1 or more")
		}
	}
	if v := f["multiline"]; v != nil {
		b := d.boolean(v, "multiline")
		e.Multi = &b
	}
	for key, dst := range map[string]*[]string{"has": &e.Has, "lacks": &e.Lacks} {
		if v := f[key]; v != nil {
			*dst = d.strs(v, key)
			for _, k := range *dst {
				if !keywordRE.MatchString(k) {
					d.errorf(v, key, "%q is not an upper-case EHLO keyword", k)
				}
			}
		}
	}
	if v := f["any"]; v != nil {
		e.Any = d.boolean(v, "any")
	}
	if v := f["closed"]; v != nil {
		e.Closed = d.boolean(v, "closed")
	}
	if v := f["more"]; v != nil {
		e.More = d.boolean(v, "more")
		if !inOutcome {
			d.errorf(v, "more", "only allowed inside outcomes")
		}
	}
	if v := f["silence"]; v != nil {
		e.Silence = d.duration(v, "silence")
		if len(f) > 1 {
			d.errorf(v, "silence", "stands alone: no other field may go with it")
		}
	}
	constrains := len(e.Code) > 0 || len(e.Lenient) > 0 || e.Any || e.Closed || e.Silence > 0
	if !constrains {
		d.errorf(n, "expect", "give code, lenient, any, closed or silence")
	}
	if e.Any && len(e.Code)+len(e.Lenient) > 0 {
		d.errorf(n, "any", "any: true with codes makes no sense")
	}
	return e
}

func (d *decoder) checkCodes(n *yaml.Node, field string, codes []int) {
	for _, c := range codes {
		if c < 200 || c > 559 || c%100 > 59 {
			d.errorf(n, field, "%d is not a valid reply code (2yz to 5yz, second digit 0 to 5)", c)
		}
	}
}

func (d *decoder) outcomes(n *yaml.Node) []Outcome {
	n = deref(n)
	if n.Kind != yaml.SequenceNode || len(n.Content) == 0 {
		d.errorf(n, "outcomes", "want a non-empty list, got %s", kindName(n))
		return nil
	}
	var out []Outcome
	names := map[string]bool{}
	for _, on := range n.Content {
		f := d.fields(on, "outcome", outcomeFields...)
		if f == nil {
			continue
		}
		o := Outcome{Line: on.Line}
		if v := f["name"]; v != nil {
			o.Name = d.str(v, "name")
			if !idRE.MatchString(o.Name) {
				d.errorf(v, "name", "%q is not kebab-case", o.Name)
			}
			if names[o.Name] {
				d.errorf(v, "name", "outcome %q given twice", o.Name)
			}
			names[o.Name] = true
		} else {
			d.errorf(on, "name", "missing")
		}
		if v := f["verdict"]; v != nil {
			o.Verdict = Verdict(d.str(v, "verdict"))
			allowed := []string{string(Pass), string(NonStrict), string(Fail), string(Info)}
			if !slices.Contains(allowed, string(o.Verdict)) {
				d.errorf(v, "verdict", "%q is not one of %s%s", o.Verdict, strings.Join(allowed, ", "), suggest(string(o.Verdict), allowed))
			}
		} else {
			d.errorf(on, "verdict", "missing")
		}
		if v := f["expect"]; v != nil {
			o.Expect = d.expectList(v, true)
		} else {
			d.errorf(on, "expect", "missing")
		}
		out = append(out, o)
	}
	return out
}

func (d *decoder) deliveries(n *yaml.Node) []Delivery {
	n = deref(n)
	if n.Kind != yaml.SequenceNode {
		d.errorf(n, "delivered", "want a list of messages (possibly empty), got %s", kindName(n))
		return nil
	}
	out := []Delivery{}
	for _, mn := range n.Content {
		f := d.fields(mn, "delivered", deliveryFields...)
		if f == nil {
			continue
		}
		m := Delivery{Line: mn.Line}
		if v := f["from"]; v != nil {
			s := d.str(v, "from")
			m.From = &s
		}
		if v := f["to"]; v != nil {
			m.To = d.strs(v, "to")
		}
		if v := f["data"]; v != nil {
			s := d.str(v, "data")
			if _, err := scanVars(s); err != nil {
				d.errorf(v, "data", "%v", err)
			}
			m.Data = &s
		}
		for key, dst := range map[string]*[]*regexp.Regexp{"trace": &m.Trace, "trace_not": &m.TraceNot} {
			if v := f[key]; v != nil {
				for _, p := range d.strs(v, key) {
					re, err := regexp.Compile(p)
					if err != nil {
						d.errorf(v, key, "bad regular expression: %v", err)
						continue
					}
					*dst = append(*dst, re)
				}
			}
		}
		out = append(out, m)
	}
	return out
}
