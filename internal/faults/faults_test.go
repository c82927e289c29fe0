package faults

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/smtpspec/smtpspec/harness"
)

// stepTimeout is the per-read timeout of the fault runs. A handful of
// faults make the server fall silent (lost or held-back replies); each of
// those cases then costs one timeout.
const stepTimeout = 4 * time.Second

// faultRuns bounds how many fault runs go at once, so that the timing of
// any one case stays far from its timeouts on a small, busy machine.
var faultRuns = make(chan struct{}, 4)

// run runs cases (nil: the whole built-in catalogue) against a fresh
// reference behind fault f, and returns the results by case ID.
func run(t *testing.T, f *Fault, cases []*harness.Case) map[string]*harness.Result {
	t.Helper()
	target, profile, err := Target(f, Config())
	if err != nil {
		t.Fatal(err)
	}
	cat, err := harness.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	if cases != nil {
		cat = &harness.Catalogue{Cases: cases}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res, err := harness.Check(ctx, target, harness.Options{
		Profile:     profile,
		Cases:       cat,
		Parallel:    8,
		StepTimeout: stepTimeout,
		CaseTimeout: 30 * time.Second,
	})
	var unreachable *harness.UnreachableError
	if errors.As(err, &unreachable) || res == nil {
		t.Fatalf("fault %s: %v", f.Name, err)
	}
	out := map[string]*harness.Result{}
	for _, r := range res.Results {
		out[r.ID] = r
	}
	return out
}

// passed reports whether a verdict is acceptable against the reference.
func passed(v harness.Verdict) bool { return v == harness.Pass || v == harness.Info }

func describe(r *harness.Result) string {
	msg := fmt.Sprintf("%s: %s", r.Verdict, r.Message)
	if r.Outcome != "" {
		msg += fmt.Sprintf(" (outcome %q)", r.Outcome)
	}
	return msg
}

func transcript(r *harness.Result) string {
	var b strings.Builder
	for _, e := range r.Transcript {
		fmt.Fprintf(&b, "    %s %q\n", e.Direction, e.Data)
	}
	return b.String()
}

// TestIdentity runs the whole catalogue through the proxy without a fault:
// it must be as transparent as a wire, so every case passes (or records
// information) exactly as against the reference itself.
func TestIdentity(t *testing.T) {
	t.Parallel()
	for id, r := range run(t, nil, nil) {
		if !passed(r.Verdict) {
			t.Errorf("%s through the transparent proxy: %s\n%s", id, describe(r), transcript(r))
		}
	}
}

// TestProofTable keeps the proof table and the catalogue in step: every
// MUST and SHOULD case has a fault, every entry names a case that exists
// and a fault that exists, and every fault proves at least one case.
func TestProofTable(t *testing.T) {
	t.Parallel()
	cat, err := harness.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cat.Cases {
		_, ok := proofs[c.ID]
		switch need := c.Level == harness.LevelMust || c.Level == harness.LevelShould; {
		case need && !ok:
			t.Errorf("%s (%s) has no entry in proofs: name a fault under which it fails (%s:%d)", c.ID, c.Level, c.File, c.Line)
		case !need && ok:
			t.Errorf("%s is %s: only MUST and SHOULD cases need a proof; drop its entry", c.ID, c.Level)
		}
	}
	used := map[string]bool{}
	for id, name := range proofs {
		if cat.Lookup(id) == nil {
			t.Errorf("proofs names case %s, which the catalogue does not have", id)
		}
		if Lookup(name) == nil {
			t.Errorf("proofs names fault %q for %s, which faults.All does not have", name, id)
		}
		used[name] = true
	}
	seen := map[string]bool{}
	for _, f := range All {
		if seen[f.Name] {
			t.Errorf("fault %q defined twice", f.Name)
		}
		seen[f.Name] = true
		if !used[f.Name] {
			t.Errorf("fault %q proves no case: use it in proofs or remove it", f.Name)
		}
		if f.Doc == "" {
			t.Errorf("fault %q has no Doc", f.Name)
		}
	}
}

// TestProofs runs, for every fault, the cases it is the proof for: each
// must pass against the reference (TestIdentity shows that) and fail once
// the fault is in place.
func TestProofs(t *testing.T) {
	t.Parallel()
	cat, err := harness.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	byFault := map[string][]*harness.Case{}
	for id, name := range proofs {
		if c := cat.Lookup(id); c != nil {
			byFault[name] = append(byFault[name], c)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(byFault)) {
		f := Lookup(name)
		if f == nil {
			continue // TestProofTable reports it
		}
		cases := byFault[name]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			faultRuns <- struct{}{}
			defer func() { <-faultRuns }()
			got := run(t, f, cases)
			for _, c := range cases {
				r := got[c.ID]
				if r.Verdict != harness.Fail {
					t.Errorf("%s under fault %s: %s, want fail\n%s", c.ID, name, describe(r), transcript(r))
					continue
				}
				t.Logf("%s: %s", c.ID, describe(r))
			}
		})
	}
}
