package cases_test

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/smtpspec/smtpspec/cases"
	"github.com/smtpspec/smtpspec/harness"
)

// sharedCatalogue is where the requirements catalogue lives in the
// project's working tree; tests that compare with it skip when it is absent.
const sharedCatalogue = "../../shared/requirements.md"

func builtin(t *testing.T) *harness.Catalogue {
	t.Helper()
	cat, err := harness.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	return cat
}

func rows(t *testing.T) []cases.Row {
	t.Helper()
	rs, err := cases.Rows()
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

// TestCoverage checks that every catalogue row is covered by a case or says
// why not, and that every case names rows that exist.
func TestCoverage(t *testing.T) {
	t.Parallel()
	cat, rs := builtin(t), rows(t)
	if len(rs) < 242 {
		t.Errorf("coverage.txt lists %d rows, want all 242 of the catalogue", len(rs))
	}
	known := map[string]cases.Row{}
	for _, r := range rs {
		known[r.ID] = r
	}
	covered := map[string][]string{}
	for _, c := range cat.Cases {
		if len(c.Catalogue) == 0 {
			t.Errorf("%s:%d: %s names no catalogue row (catalogue: [...])", c.File, c.Line, c.ID)
		}
		for _, id := range c.Catalogue {
			if _, ok := known[id]; !ok {
				t.Errorf("%s:%d: %s names catalogue row %q, which coverage.txt does not list", c.File, c.Line, c.ID, id)
			}
			covered[id] = append(covered[id], c.ID)
		}
	}
	for _, r := range rs {
		switch ids := covered[r.ID]; {
		case r.Kind == "" && len(ids) == 0:
			t.Errorf("coverage.txt:%d: row %s is covered by no case: write one, or give the reason (\" | KIND: reason\")", r.Line, r.ID)
		case r.Kind != "" && len(ids) > 0:
			t.Errorf("coverage.txt:%d: row %s says %q, but %s cover it: drop the reason", r.Line, r.ID, r.Kind, strings.Join(ids, ", "))
		}
	}
}

// TestCoverage_matchesCatalogue compares the row list with the catalogue
// itself, where the project's working tree has it.
func TestCoverage_matchesCatalogue(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(sharedCatalogue)
	if err != nil {
		t.Skipf("no requirements catalogue to compare with: %v", err)
	}
	idRE := regexp.MustCompile(`(?m)^\| ((?:[0-9]{4}|SEC|LOGIN)-[^ |]+) \|`)
	var want []string
	for _, m := range idRE.FindAllStringSubmatch(string(data), -1) {
		want = append(want, m[1])
	}
	var got []string
	for _, r := range rows(t) {
		got = append(got, r.ID)
	}
	if !slices.Equal(got, want) {
		for _, id := range want {
			if !slices.Contains(got, id) {
				t.Errorf("catalogue row %s is missing from coverage.txt", id)
			}
		}
		for _, id := range got {
			if !slices.Contains(want, id) {
				t.Errorf("coverage.txt lists %s, which the catalogue does not have", id)
			}
		}
		if !t.Failed() {
			t.Errorf("coverage.txt lists the catalogue rows in another order")
		}
	}
}

// TestOwnWords guards the rule that cases paraphrase: no requirement or
// title shares a run of eight words with the catalogue's text.
func TestOwnWords(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(sharedCatalogue)
	if err != nil {
		t.Skipf("no requirements catalogue to compare with: %v", err)
	}
	const n = 8
	words := func(s string) []string {
		return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9')
		})
	}
	grams := map[string]bool{}
	w := words(string(data))
	for i := 0; i+n <= len(w); i++ {
		grams[strings.Join(w[i:i+n], " ")] = true
	}
	for _, c := range builtin(t).Cases {
		for _, text := range []string{c.Requirement, c.Title} {
			cw := words(text)
			for i := 0; i+n <= len(cw); i++ {
				if numeric(cw[i : i+n]) {
					continue // lists of reply codes are facts, not prose
				}
				if g := strings.Join(cw[i:i+n], " "); grams[g] {
					t.Errorf("%s:%d: %s repeats the catalogue's words %q; say it in our own words", c.File, c.Line, c.ID, g)
					break
				}
			}
		}
	}
}

// numeric reports whether most words are numbers.
func numeric(ws []string) bool {
	n := 0
	for _, w := range ws {
		if strings.Trim(w, "0123456789") == "" {
			n++
		}
	}
	return 2*n > len(ws)
}

// TestLoadDirectory loads this directory as `smtpspec run --cases cases`
// would: the files that are not cases (coverage.txt, README.md) must not
// get in the way.
func TestLoadDirectory(t *testing.T) {
	t.Parallel()
	cat, err := harness.Load(os.DirFS("."), ".")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(cat.Cases), len(builtin(t).Cases); got != want {
		t.Errorf("loading the directory gives %d cases, the embedded catalogue %d", got, want)
	}
}

func TestParseRows(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, text, wantErr string
	}{
		{"ok", "## A. Area\n5321-1-x\n5321-1-y | slow: takes minutes\n", ""},
		{"before-area", "5321-1-x\n", "before any"},
		{"duplicate", "## A\n5321-1-x\n5321-1-x\n", "listed twice (first on line 2)"},
		{"bad-id", "## A\nnot a row\n", "is not a row ID"},
		{"bad-kind", "## A\n5321-1-x | later: maybe\n", `reason kind "later"`},
		{"empty-reason", "## A\n5321-1-x | slow: \n", "want \" | KIND: reason\""},
		{"no-colon", "## A\n5321-1-x | slow\n", "want \" | KIND: reason\""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := cases.ParseRows(tc.text)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("ParseRows: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Errorf("ParseRows error = %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
}
