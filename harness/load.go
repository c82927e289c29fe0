package harness

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// A Catalogue is a set of loaded, validated cases in a stable order.
type Catalogue struct {
	Cases []*Case
}

// Lookup returns the case with the given ID, or nil.
func (c *Catalogue) Lookup(id string) *Case {
	for _, k := range c.Cases {
		if k.ID == id {
			return k
		}
	}
	return nil
}

// Load reads every *.yaml and *.yml file under root in fsys and returns the
// cases, sorted by ID. Loading is strict: unknown fields, wrong types,
// duplicate IDs and invalid values are all reported, each as
// "file:line: field: problem", joined into one error; on any error no cases
// are returned.
func Load(fsys fs.FS, root string) (*Catalogue, error) {
	return LoadAll([]Source{{FS: fsys, Root: root}})
}

// A Source is a directory tree of case files.
type Source struct {
	FS   fs.FS
	Root string
	Name string // prefix for file names in messages; default Root
}

// LoadAll loads several case trees as one catalogue: IDs must be unique
// across all of them.
func LoadAll(sources []Source) (*Catalogue, error) {
	var (
		cases []*Case
		errs  []error
	)
	for _, src := range sources {
		name := src.Name
		if name == "" {
			name = src.Root
		}
		err := fs.WalkDir(src.FS, src.Root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() || !(strings.HasSuffix(p, ".yaml") || strings.HasSuffix(p, ".yml")) {
				return nil
			}
			data, err := fs.ReadFile(src.FS, p)
			if err != nil {
				return err
			}
			rel := strings.TrimPrefix(strings.TrimPrefix(p, src.Root), "/")
			display := path.Join(name, rel)
			if src.Root == "." {
				display = path.Join(name, p)
			}
			cs, ferrs := ParseFile(display, data)
			cases = append(cases, cs...)
			errs = append(errs, ferrs...)
			return nil
		})
		if err != nil {
			errs = append(errs, fmt.Errorf("load cases from %s: %w", name, err))
		}
	}
	seen := map[string]*Case{}
	for _, c := range cases {
		if prev, ok := seen[c.ID]; ok {
			errs = append(errs, fmt.Errorf("%s:%d: id: duplicate case ID %q (first defined at %s:%d)", c.File, c.Line, c.ID, prev.File, prev.Line))
			continue
		}
		seen[c.ID] = c
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	slices.SortStableFunc(cases, func(a, b *Case) int { return CompareIDs(a.ID, b.ID) })
	return &Catalogue{Cases: cases}, nil
}

// ParseFile parses one case file. It returns every problem it finds.
func ParseFile(name string, data []byte) ([]*Case, []error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, []error{yamlError(name, err)}
	}
	d := &decoder{file: name}
	if len(doc.Content) == 0 {
		d.errorf(&doc, "", "empty file")
		return nil, d.errs
	}
	cases := d.file_(doc.Content[0])
	if len(d.errs) > 0 {
		return nil, d.errs
	}
	return cases, nil
}

// yamlError rewrites a YAML syntax error ("yaml: line 7: mapping values
// are not allowed") into our "file:7: problem" form.
func yamlError(name string, err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	var line int
	if n, _ := fmt.Sscanf(msg, "line %d:", &line); n == 1 {
		_, rest, _ := strings.Cut(msg, ": ")
		return fmt.Errorf("%s:%d: %s", name, line, rest)
	}
	return fmt.Errorf("%s: %s", name, msg)
}

// decoder walks YAML nodes, collecting errors with positions.
type decoder struct {
	file string
	errs []error
}

func (d *decoder) errorf(n *yaml.Node, field, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if field != "" {
		msg = field + ": " + msg
	}
	d.errs = append(d.errs, fmt.Errorf("%s:%d: %s", d.file, n.Line, msg))
}

// fields checks that n is a mapping with only the allowed keys, and returns
// the value nodes by key.
func (d *decoder) fields(n *yaml.Node, what string, allowed ...string) map[string]*yaml.Node {
	n = deref(n)
	if n.Kind != yaml.MappingNode {
		d.errorf(n, what, "want a mapping, got %s", kindName(n))
		return nil
	}
	out := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		switch {
		case !slices.Contains(allowed, k.Value):
			d.errorf(k, what, "unknown field %q%s", k.Value, suggest(k.Value, allowed))
		case out[k.Value] != nil:
			d.errorf(k, what, "field %q given twice", k.Value)
		default:
			out[k.Value] = v
		}
	}
	return out
}

// deref follows YAML aliases (*name) to the anchored node, so that case
// files can share an outcome list or a step between cases. Alias chains
// are bounded by the YAML parser, which rejects cycles.
func deref(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "nothing"
		}
		return fmt.Sprintf("%q", n.Value)
	case yaml.AliasNode:
		return "an alias"
	}
	return "a document"
}

func (d *decoder) str(n *yaml.Node, field string) string {
	n = deref(n)
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		d.errorf(n, field, "want a string, got %s", kindName(n))
		return ""
	}
	return n.Value
}

func (d *decoder) boolean(n *yaml.Node, field string) bool {
	n = deref(n)
	var b bool
	if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" || n.Decode(&b) != nil {
		d.errorf(n, field, "want true or false, got %s", kindName(n))
	}
	return b
}

func (d *decoder) integer(n *yaml.Node, field string) int {
	n = deref(n)
	var i int
	if n.Kind != yaml.ScalarNode || n.Tag != "!!int" || n.Decode(&i) != nil {
		d.errorf(n, field, "want a whole number, got %s", kindName(n))
	}
	return i
}

// strs accepts a string or a list of strings.
func (d *decoder) strs(n *yaml.Node, field string) []string {
	n = deref(n)
	if n.Kind == yaml.ScalarNode {
		return []string{d.str(n, field)}
	}
	if n.Kind != yaml.SequenceNode {
		d.errorf(n, field, "want a string or a list of strings, got %s", kindName(n))
		return nil
	}
	out := make([]string, 0, len(n.Content))
	for _, e := range n.Content {
		out = append(out, d.str(e, field))
	}
	return out
}

// ints accepts a number or a list of numbers.
func (d *decoder) ints(n *yaml.Node, field string) []int {
	n = deref(n)
	if n.Kind == yaml.ScalarNode {
		return []int{d.integer(n, field)}
	}
	if n.Kind != yaml.SequenceNode {
		d.errorf(n, field, "want a number or a list of numbers, got %s", kindName(n))
		return nil
	}
	out := make([]int, 0, len(n.Content))
	for _, e := range n.Content {
		out = append(out, d.integer(e, field))
	}
	return out
}

// suggest returns " (did you mean "x"?)" for the closest candidate within a
// small edit distance, or "".
func suggest(s string, candidates []string) string {
	best, bestDist := "", 3
	for _, c := range candidates {
		if dist := editDistance(strings.ToLower(s), strings.ToLower(c)); dist < bestDist {
			best, bestDist = c, dist
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// CompareIDs orders case IDs the way people read spec sections: by path
// element, and numerically where both elements are numbers, so that
// rfc5321/4.1.1/… comes before rfc5321/4.1.1.5/… and 4.1.1.5 before 4.1.1.10.
func CompareIDs(a, b string) int {
	ea, eb := strings.Split(a, "/"), strings.Split(b, "/")
	for i := range min(len(ea), len(eb)) {
		if c := compareSection(ea[i], eb[i]); c != 0 {
			return c
		}
	}
	return len(ea) - len(eb)
}

// compareSection compares dotted section numbers part by part, numerically
// when both parts are numbers.
func compareSection(a, b string) int {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := range min(len(pa), len(pb)) {
		na, erra := strconv.Atoi(pa[i])
		nb, errb := strconv.Atoi(pb[i])
		if erra == nil && errb == nil {
			if na != nb {
				return na - nb
			}
			continue
		}
		if c := strings.Compare(pa[i], pb[i]); c != 0 {
			return c
		}
	}
	return len(pa) - len(pb)
}
