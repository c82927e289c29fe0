package differential

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/smtpspec/smtpspec/harness"
)

// A Side is one of the two servers: the target and the profile the cases
// use with it. Each side gets its own profile, because each server has
// its own local domain and recipients; everything else a case sends is the
// same octets on both sides.
type Side struct {
	Target  harness.Target
	Profile harness.Profile
}

// RunOptions control a differential run.
type RunOptions struct {
	Options
	// Harness supplies the catalogue, the filters and the timeouts; its
	// Profile is ignored (each Side has its own).
	Harness harness.Options
	// Progress, if set, is called after each case (one call at a time).
	Progress func(done, total int, r *harness.Result)
}

// Run replays the selected cases against target and against, compares
// them, and returns the comparison as a harness.Run about the target (see
// the package documentation for how classes become verdicts). When either
// server cannot be reached at all, the error is a *harness.UnreachableError
// and the run is nil. Run, like harness.Check, also returns the failed
// cases as joined *harness.CaseError values.
func Run(ctx context.Context, target, against Side, o RunOptions) (*harness.Run, error) {
	cat := o.Harness.Cases
	if cat == nil {
		var err error
		if cat, err = harness.Builtin(); err != nil {
			return nil, err
		}
	}
	to, ao := o.Harness, o.Harness
	to.Profile, ao.Profile = target.Profile, against.Profile
	run := &harness.Run{Started: time.Now()}
	tinfo, err := harness.Probe(ctx, target.Target, to)
	if err != nil {
		return nil, err
	}
	ainfo, err := harness.Probe(ctx, against.Target, ao)
	if err != nil {
		return nil, err
	}
	run.Target = *tinfo
	run.Target.Name = fmt.Sprintf("differential, against %s", sideName(against.Target, ainfo))
	if target.Target.Name != "" {
		run.Target.Name = target.Target.Name + "; " + run.Target.Name
	}

	parallel := o.Harness.Parallel
	if parallel <= 0 {
		parallel = 8
	}
	results, err := harness.RunAll(ctx, cat.Cases, parallel, o.Progress, func(c *harness.Case) *harness.Result {
		var rt, ra *harness.Replay
		var pair sync.WaitGroup
		pair.Go(func() { rt = harness.ReplayCase(ctx, target.Target, tinfo, c, to) })
		pair.Go(func() { ra = harness.ReplayCase(ctx, against.Target, ainfo, c, ao) })
		pair.Wait()
		return Result(rt, ra, o.Options)
	})
	if results == nil {
		return nil, err
	}
	run.Results = results
	run.Duration = time.Since(run.Started)
	return run, err
}

func sideName(t harness.Target, info *harness.TargetInfo) string {
	if t.Name != "" {
		return t.Name
	}
	return info.Addr
}

// Result turns the replays of one case against the target (t) and the other
// server (a) into a harness.Result about the target.
func Result(t, a *harness.Replay, o Options) *harness.Result {
	c := t.Case
	r := harness.NewResult(c)
	r.Duration = max(t.Duration, a.Duration)
	r.Transcript = append(r.Transcript, t.Transcript...)
	if len(a.Transcript) > 0 {
		r.Transcript = append(r.Transcript, harness.Entry{Direction: harness.Event, Data: []byte("--- the same case against the other server ---")})
		r.Transcript = append(r.Transcript, a.Transcript...)
	}
	switch {
	case t.Verdict == harness.Skip || a.Verdict == harness.Skip:
		r.Verdict, r.Message, r.Filtered = harness.Skip, notCompared(t, a, harness.Skip), t.Filtered
		return r
	case t.Verdict == harness.Error || a.Verdict == harness.Error:
		r.Verdict, r.Message = harness.Error, notCompared(t, a, harness.Error)
		return r
	case t.Verdict == harness.Unimplemented || a.Verdict == harness.Unimplemented:
		r.Verdict, r.Message = harness.Unimplemented, notCompared(t, a, harness.Unimplemented)
		return r
	}
	cmpn := Compare(t, a, o)
	r.Verdict, r.Outcome = cmpn.Class.Verdict(), string(cmpn.Class)
	r.Message = string(cmpn.Class)
	if cmpn.Reason != "" {
		r.Message += ": " + cmpn.Reason
		r.StepLine = cmpn.Line
	}
	if cmpn.Diff != "" {
		r.Diff = "(-against +target)\n" + cmpn.Diff
	}
	// Transport trouble (a failed TLS handshake, a reset write) and a reply
	// that did not come within the step timeout leave no verdict on the
	// server, as in a normal run.
	for _, side := range []struct {
		name string
		rp   *harness.Replay
	}{{"target", t}, {"other server", a}} {
		for _, s := range side.rp.Steps {
			if (s.End == harness.EndFailed || s.End == harness.EndTimeout) && cmpn.Class != Same {
				r.Verdict = harness.Error
				r.Message = fmt.Sprintf("%s (%s: %s)", r.Message, side.name, s.Detail)
				return r
			}
		}
	}
	return r
}

// notCompared explains why a case was not compared.
func notCompared(t, a *harness.Replay, v harness.Verdict) string {
	switch {
	case t.Verdict == v && a.Verdict == v && t.Message == a.Message:
		return t.Message
	case t.Verdict == v && a.Verdict == v:
		return fmt.Sprintf("target: %s; other server: %s", t.Message, a.Message)
	case t.Verdict == v:
		return "target: " + t.Message
	}
	return "other server: " + a.Message
}
