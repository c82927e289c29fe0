package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/smtpspec/smtpspec/harness"
)

// caseRun is what the flags every case-running command shares (run, diff)
// turn into.
type caseRun struct {
	opts    harness.Options
	profile harness.Profile
	outputs []output
	cat     *harness.Catalogue
}

// loadCaseRun reads the case, target and report flags and loads the
// catalogue. On a problem it says so on stderr and returns nil with the
// exit status.
func loadCaseRun(cmd string, cf *caseFlags, tf *targetFlags, out *reportFlags, stderr io.Writer) (*caseRun, int) {
	cr := &caseRun{}
	if err := cf.options(&cr.opts); err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", cmd, err)
		return nil, exitUsage
	}
	var err error
	if cr.profile, err = tf.profile(); err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", cmd, err)
		return nil, exitUsage
	}
	if cr.outputs, err = out.outputs(); err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", cmd, err)
		return nil, exitUsage
	}
	if cr.cat, err = cf.catalogue(); err != nil {
		fmt.Fprintf(stderr, "%s: invalid cases:\n%v\n", cmd, indent(err.Error()))
		return nil, exitTrouble
	}
	cr.opts.Cases = cr.cat
	return cr, exitOK
}

// noRun reports a run that did not happen: exit 2 for a target that could
// not be reached, 1 otherwise (a cancelled run).
func noRun(cmd string, err error, stderr io.Writer) int {
	fmt.Fprintf(stderr, "%s: %v\n", cmd, err)
	var unreachable *harness.UnreachableError
	if errors.As(err, &unreachable) {
		return exitTrouble
	}
	return exitFailed
}
