package fuzz

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/smtpspec/smtpspec/harness"
)

// reporter is what the helpers need of *testing.F, *testing.T and
// *testing.B. It is not testing.TB, which the libFuzzer shim of
// go-118-fuzz-build (OSS-Fuzz) lacks.
type reporter interface {
	Helper()
	Logf(format string, args ...any)
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
}

// findingsRoot is where findings go: $SMTPSPEC_FUZZ_FINDINGS, or
// testdata/findings in this package. Tests that provoke findings on purpose
// point it at a temporary directory.
var findingsRoot = func() string {
	if d := os.Getenv("SMTPSPEC_FUZZ_FINDINGS"); d != "" {
		return d
	}
	return filepath.Join("testdata", "findings")
}()

// writeFinding writes a finding as three files in findingsRoot/target (a
// parser target's, with s nil, has no case file):
// CLASS.yaml, a case that `smtpspec run --cases DIR` replays; CLASS.raw, the
// octets the client sent; CLASS.input, the fuzz input in Go's corpus format
// (copy it to testdata/fuzz/TARGET/ to keep it as a regression input). A
// later finding of the same class replaces the files, so that minimization
// leaves the smallest input. It returns the YAML file's path.
func writeFinding(t reporter, target, class string, input, octets []byte, s *harness.Script, meta harness.ScriptCase) string {
	t.Helper()
	dir := filepath.Join(findingsRoot, target)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Logf("write finding: %v", err)
		return "(not written)"
	}
	base := filepath.Join(dir, class)
	files := map[string][]byte{
		".raw":   octets,
		".input": fmt.Appendf(nil, "go test fuzz v1\n[]byte(%q)\n", input),
	}
	if s != nil {
		file := s.CaseFile(meta)
		if _, errs := harness.ParseFile(class+".yaml", file); len(errs) > 0 {
			t.Errorf("the finding's case file does not load: %v\n%s", errs, file)
		}
		files[".yaml"] = file
	}
	for ext, data := range files {
		if err := os.WriteFile(base+ext, data, 0o644); err != nil {
			t.Logf("write finding: %v", err)
		}
	}
	if s == nil {
		return base + ".raw"
	}
	return base + ".yaml"
}
