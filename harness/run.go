package harness

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"
)

// An UnreachableError reports that the target could not be reached at all,
// so no case ran.
type UnreachableError struct {
	Addr string
	Err  error
}

func (e *UnreachableError) Error() string {
	return fmt.Sprintf("target %s unreachable: %v", e.Addr, e.Err)
}

func (e *UnreachableError) Unwrap() error { return e.Err }

// A CaseError reports a case that failed or errored.
type CaseError struct {
	Result *Result
}

func (e *CaseError) Error() string {
	r := e.Result
	line := r.Line
	if r.StepLine > 0 {
		line = r.StepLine
	}
	return fmt.Sprintf("%s:%d: %s: %s: %s", r.File, line, r.ID, r.Verdict, r.Message)
}

// Check runs the selected cases against the target and returns the run,
// with every failed or errored case also reported in the error (joined
// *CaseError values, as testing/fstest does). When the target cannot be
// reached at all the error is an *UnreachableError and the run is nil; a
// cancelled context gives the context's error.
func Check(ctx context.Context, target Target, opts Options) (*Run, error) {
	o := opts.withDefaults()
	cat := o.Cases
	if cat == nil {
		var err error
		if cat, err = Builtin(); err != nil {
			return nil, err
		}
	}
	run := &Run{Started: time.Now()}
	info, err := Probe(ctx, target, o)
	if err != nil {
		return nil, err
	}
	run.Target = *info
	results, err := RunAll(ctx, cat.Cases, o.Parallel, o.Progress, func(c *Case) *Result {
		return RunCase(ctx, target, info, c, o)
	})
	if results == nil {
		return nil, err
	}
	run.Results = results
	run.Duration = time.Since(run.Started)
	return run, err
}

// RunAll calls each for every case, on up to parallel goroutines, and
// returns the results in the order of cases, with progress reported after
// each one (one call at a time). The error joins a *CaseError for every
// result that failed or errored; when ctx ends first, RunAll returns nil
// and the context's error.
func RunAll(ctx context.Context, cases []*Case, parallel int, progress func(done, total int, r *Result), each func(*Case) *Result) ([]*Result, error) {
	results := make([]*Result, len(cases))
	var (
		mu   sync.Mutex
		done int
		wg   sync.WaitGroup
	)
	work := make(chan int)
	for range min(max(1, parallel), max(1, len(cases))) {
		wg.Go(func() {
			for i := range work {
				results[i] = each(cases[i])
				if progress != nil {
					mu.Lock()
					done++
					progress(done, len(cases), results[i])
					mu.Unlock()
				}
			}
		})
	}
	for i := range cases {
		if ctx.Err() != nil {
			break
		}
		work <- i
	}
	close(work)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("run cancelled: %w", err)
	}
	var errs []error
	for _, r := range results {
		if r.Verdict.Failed() {
			errs = append(errs, &CaseError{Result: r})
		}
	}
	return results, errors.Join(errs...)
}

// Probe connects once to learn the target's greeting and EHLO keywords,
// before and (when STARTTLS is offered) after TLS. It fails only when the
// target cannot be reached at all (an *UnreachableError); a server that
// connects but then misbehaves gets TargetInfo.ProbeError, and its cases
// run and show the trouble.
func Probe(ctx context.Context, target Target, opts Options) (*TargetInfo, error) {
	o := opts.withDefaults()
	info := &TargetInfo{Addr: target.Addr, TLS: target.TLS, Name: target.Name}
	addr := target.Addr
	var inst *Instance
	if target.Start != nil {
		var err error
		if inst, err = target.Start(ctx); err != nil {
			return nil, &UnreachableError{Addr: "(started per case)", Err: err}
		}
		defer inst.Stop()
		addr = inst.Addr
		if info.Addr == "" {
			info.Addr = "in-process, a fresh server per case"
		}
	}
	begin := time.Now()
	nc, err := dial(ctx, target, inst, addr, o.StepTimeout)
	if err != nil {
		return nil, &UnreachableError{Addr: addr, Err: err}
	}
	c := newConn(nc, begin, begin.Add(o.CaseTimeout), o.StepTimeout)
	defer c.close()
	// Past the connect, trouble is the server's: record it and let every
	// case run and show it with its own transcript.
	failed := func(what string, r *Reply, err error) (*TargetInfo, error) {
		if err == nil {
			err = fmt.Errorf("got %s", r)
		}
		info.ProbeError = fmt.Sprintf("%s: %v", what, err)
		return info, nil
	}
	greet, kind, err := c.read(o.StepTimeout)
	if kind != readOK {
		return failed("read greeting", greet, err)
	}
	info.Greeting = greet.Text()
	if greet.Code != 220 {
		return failed("greeting", greet, nil)
	}
	ehlo := func() ([]string, error) {
		c.write([]byte("EHLO " + o.Profile.Helo + "\r\n"))
		r, kind, err := c.read(o.StepTimeout)
		if kind != readOK {
			return nil, err
		}
		if r.Code != 250 {
			return []string{}, nil // HELO-only server: no extensions
		}
		return r.Keywords(), nil
	}
	if info.EHLO, err = ehlo(); err != nil {
		return failed("EHLO", nil, err)
	}
	if !target.TLS && info.Has("STARTTLS", false) {
		c.write([]byte("STARTTLS\r\n"))
		if r, kind, _ := c.read(o.StepTimeout); kind == readOK && r.Code == 220 {
			if c.startTLS(ctx, clientTLSConfig(target.TLSConfig, addr)) == nil {
				info.EHLOTLS, _ = ehlo()
			}
		}
	}
	c.write([]byte("QUIT\r\n"))
	c.read(o.StepTimeout)
	return info, nil
}

// dial connects to addr, or to inst when the target started one, as the
// target says (implicit TLS or not).
func dial(ctx context.Context, target Target, inst *Instance, addr string, timeout time.Duration) (net.Conn, error) {
	var connect func(context.Context) (net.Conn, error)
	if inst != nil {
		connect = inst.Dial
	}
	var cfg *tls.Config
	if target.TLS {
		cfg = clientTLSConfig(target.TLSConfig, addr)
	}
	return dialTarget(ctx, addr, connect, cfg, timeout)
}

// RunCase runs one case against the target, whose probe result is info
// (from Probe). It never fails: trouble becomes the result's verdict.
func RunCase(ctx context.Context, target Target, info *TargetInfo, c *Case, opts Options) *Result {
	o := opts.withDefaults()
	r := NewResult(c)
	if why := o.filtered(c); why != "" {
		r.Verdict, r.Message, r.Filtered = Skip, why, true
		return r
	}
	begin := time.Now()
	x, release, v, why := prepare(ctx, target, info, c, &o, true)
	if x == nil {
		if v == Error {
			r.Duration = time.Since(begin)
		}
		r.Verdict, r.Message = v, why
		return r
	}
	defer release()
	x.res = r
	x.run()
	r.Duration = time.Since(begin)
	return r
}

// prepare decides whether c, which the filters kept, can run against the
// target and, when it can, starts a server for it (if the target starts one
// per case) and connects.
// It returns the execution and the function that releases what it holds,
// or no execution and the verdict and reason why not. With checkDelivered,
// cases that check stored messages are skipped on targets without a
// mailbox.
func prepare(ctx context.Context, target Target, info *TargetInfo, c *Case, o *Options, checkDelivered bool) (*execution, func(), Verdict, string) {
	if why := unimplemented(c, info, target.TLS); why != "" && info.ProbeError == "" {
		return nil, nil, Unimplemented, why
	}
	env := o.Profile.env(info)
	for _, v := range c.vars {
		if _, ok := env[v]; !ok {
			return nil, nil, Skip, "skipped: " + missingVar(v)
		}
	}
	begin := time.Now()
	var held []func()
	release := func() {
		for i := len(held) - 1; i >= 0; i-- {
			held[i]()
		}
	}
	addr := target.Addr
	var (
		mailbox Mailbox
		inst    *Instance
	)
	if target.Start != nil {
		var err error
		if inst, err = target.Start(ctx); err != nil {
			return nil, nil, Error, fmt.Sprintf("start a server for the case: %v", err)
		}
		held = append(held, inst.Stop)
		addr, mailbox = inst.Addr, inst.Mailbox
	}
	if checkDelivered && needsMailbox(c) && mailbox == nil {
		release()
		return nil, nil, Skip, "skipped: the case checks stored messages, and this target gives no access to them"
	}
	cctx, cancel := context.WithTimeout(ctx, o.CaseTimeout)
	held = append(held, cancel)
	nc, err := dial(cctx, target, inst, addr, o.StepTimeout)
	if err != nil {
		release()
		return nil, nil, Error, err.Error()
	}
	deadline, _ := cctx.Deadline()
	x := &execution{
		ctx: cctx, c: c, o: o, env: env, info: info, target: target, addr: addr, mailbox: mailbox,
		conn: newConn(nc, begin, deadline, o.StepTimeout), res: NewResult(c),
	}
	return x, release, "", ""
}

// NewResult returns a result for c with the case's description filled in
// and no verdict yet.
func NewResult(c *Case) *Result {
	return &Result{
		ID: c.ID, Title: c.Title, Group: c.Group, GroupTitle: c.GroupTitle, File: c.File, Line: c.Line,
		Spec: c.Spec, Level: c.Level, Requirement: c.Requirement, Tags: c.Tags,
	}
}

// unimplemented returns why the target cannot run c, or "".
func unimplemented(c *Case, info *TargetInfo, implicitTLS bool) string {
	inTLS := implicitTLS || c.Start == StartTLS || c.Start == StartAuth
	var missing []string
	for _, kw := range c.Requires {
		if !info.Has(kw, false) && !(inTLS && info.Has(kw, true)) {
			missing = append(missing, kw)
		}
	}
	if c.Start == StartTLS && !implicitTLS && !info.Has("STARTTLS", false) {
		missing = append(missing, "STARTTLS")
	}
	if c.Start == StartAuth && !info.Has("AUTH PLAIN", false) && !info.Has("AUTH PLAIN", true) {
		missing = append(missing, "AUTH PLAIN")
	}
	if len(missing) == 0 {
		return ""
	}
	return "unimplemented: the target does not advertise " + strings.Join(missing, ", ")
}

func needsMailbox(c *Case) bool {
	for _, s := range c.Steps {
		if s.Delivered != nil {
			return true
		}
	}
	return false
}
