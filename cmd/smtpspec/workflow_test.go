package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/smtpspec/smtpspec/reports"
)

// The CI recipe users copy: docs/github-actions.yml, also shown in the
// README. The test parses it as YAML and checks that every smtpspec
// command line in it uses flags and formats that exist, so that a
// renamed flag cannot leave the recipe broken.
var (
	workflowPath = filepath.Join("..", "..", "docs", "github-actions.yml")
	readmePath   = filepath.Join("..", "..", "README.md")
)

type workflow struct {
	Name string
	On   map[string]any
	Jobs map[string]struct {
		RunsOn string `yaml:"runs-on"`
		Steps  []struct {
			Name string
			ID   string
			If   string
			Uses string
			Run  string
			With map[string]string
		}
	}
}

func TestWorkflow(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(workflowPath)
	if err != nil {
		t.Fatal(err)
	}
	var wf workflow
	if err := yaml.Unmarshal(data, &wf); err != nil {
		t.Fatalf("%s: %v", workflowPath, err)
	}
	if wf.Name == "" || len(wf.On) == 0 || len(wf.Jobs) != 1 {
		t.Fatalf("%s: want a named workflow with triggers and one job", workflowPath)
	}
	var calls [][]string
	uses := map[string]map[string]string{}
	var scripts strings.Builder
	for _, job := range wf.Jobs {
		for _, step := range job.Steps {
			if step.Uses != "" {
				uses[strings.Split(step.Uses, "@")[0]] = step.With
			}
			scripts.WriteString(step.Run + "\n")
			calls = append(calls, smtpspecCalls(step.Run)...)
		}
	}
	if len(calls) == 0 {
		t.Fatalf("%s runs no smtpspec command", workflowPath)
	}
	flagsSeen := map[string]bool{}
	for _, call := range calls {
		sub, args := call[0], call[1:]
		help := subcommandHelp(t, sub)
		for i, a := range args {
			if !strings.HasPrefix(a, "--") {
				continue
			}
			name, value, hasValue := strings.Cut(strings.TrimPrefix(a, "--"), "=")
			if !hasValue && i+1 < len(args) {
				value = args[i+1]
			}
			if !regexp.MustCompile(`(?m)^  -` + regexp.QuoteMeta(name) + `\b`).MatchString(help) {
				t.Errorf("%s: smtpspec %s has no flag --%s", workflowPath, sub, name)
			}
			flagsSeen[name] = true
			switch name {
			case "report":
				format, _, _ := strings.Cut(value, "=")
				if _, err := reports.Lookup(format); err != nil {
					t.Errorf("%s: --report %s: %v", workflowPath, value, err)
				}
			case "annotations":
				if value != "github" {
					t.Errorf("%s: --annotations %s", workflowPath, value)
				}
			}
		}
	}
	// What the recipe promises: JUnit and Markdown outputs, a baseline,
	// annotations, and a cached binary.
	for _, f := range []string{"baseline", "report", "annotations"} {
		if !flagsSeen[f] {
			t.Errorf("%s does not use --%s", workflowPath, f)
		}
	}
	if !strings.Contains(string(data), "junit=smtpspec-junit.xml") || uses["mikepenz/action-junit-report"]["report_paths"] != "smtpspec-junit.xml" {
		t.Errorf("%s: the JUnit report is not published", workflowPath)
	}
	if !strings.Contains(scripts.String(), `cat smtpspec.md >> "$GITHUB_STEP_SUMMARY"`) {
		t.Errorf("%s: the Markdown report does not go to the job summary", workflowPath)
	}
	if cache := uses["actions/cache"]; cache == nil || !strings.Contains(cache["path"], "smtpspec") {
		t.Errorf("%s: the smtpspec binary is not cached", workflowPath)
	}
	if !strings.Contains(scripts.String(), "go install \"github.com/smtpspec/smtpspec/cmd/smtpspec@") {
		t.Errorf("%s: does not install this module's command", workflowPath)
	}
}

// TestWorkflow_readme: the README shows the same workflow as the file.
func TestWorkflow_readme(t *testing.T) {
	t.Parallel()
	wf, err := os.ReadFile(workflowPath)
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(readmePath)
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "\n## Using smtpspec in CI\n")
	if !ok {
		t.Fatalf("README.md has no section \"## Using smtpspec in CI\"")
	}
	section, _, _ = strings.Cut(section, "\n## ")
	_, block, ok := strings.Cut(section, "```yaml\n")
	if !ok {
		t.Fatalf("the CI section of README.md shows no workflow")
	}
	block, _, _ = strings.Cut(block, "```\n")
	if block != string(wf) {
		t.Errorf("the workflow in README.md differs from %s; copy the file into the README", workflowPath)
	}
}

// smtpspecCalls finds the smtpspec command lines in a shell script:
// continuation lines joined, quotes dropped, split into words, starting at
// the subcommand.
func smtpspecCalls(script string) [][]string {
	var calls [][]string
	script = strings.ReplaceAll(script, "\\\n", " ")
	for _, line := range strings.Split(script, "\n") {
		words := strings.Fields(strings.NewReplacer(`"`, "", `'`, "").Replace(line))
		for i, w := range words {
			if (w == "smtpspec" || strings.HasSuffix(w, "/smtpspec")) && i+1 < len(words) {
				calls = append(calls, words[i+1:])
				break
			}
		}
	}
	return calls
}

// subcommandHelp returns what "smtpspec SUB -h" prints.
func subcommandHelp(t *testing.T, sub string) string {
	t.Helper()
	code, _, help := smtpspec(t, sub, "-h")
	if code != exitOK {
		t.Fatalf("smtpspec %s -h = %d (no such command?)\n%s", sub, code, help)
	}
	return help
}
