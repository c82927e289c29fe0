// Command smtpspec checks an SMTP server against RFC 5321 and its
// extensions, case by case, and serves the bundled reference server.
//
// Usage:
//
//	smtpspec run [flags]      run the conformance cases (default target: the bundled reference)
//	smtpspec list [flags]     list the cases
//	smtpspec serve [flags]    run the reference server
//
// Run "smtpspec COMMAND -h" for a command's flags.
//
// Exit status: 0 when no case failed or errored, 1 when some did, 2 for
// usage errors, invalid case files or an unreachable target.
package main

import (
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
)

// Exit statuses shared by every subcommand.
const (
	exitOK      = 0
	exitFailed  = 1
	exitUsage   = 2
	exitTrouble = 2 // invalid case files, unreachable target
)

// commands maps each subcommand to its entry point.
var commands = map[string]func(args []string, stdout, stderr io.Writer) int{
	"run":         cmdRun,
	"diff":        cmdDiff,
	"list":        cmdList,
	"serve":       cmdServe,
	"report":      cmdReport,
	"compare":     cmdCompare,
	"matrix":      cmdMatrix,
	"fuzz-corpus": cmdFuzzCorpus,
}

func main() {
	os.Exit(dispatch(os.Args[1:], os.Stdout, os.Stderr))
}

func dispatch(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "smtpspec: unknown command %q\n", args[0])
		usage(stderr)
		return exitUsage
	}
	return cmd(args[1:], stdout, stderr)
}

func usage(w io.Writer) {
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	slices.Sort(names)
	fmt.Fprintf(w, "usage: smtpspec COMMAND [flags]\n\ncommands: %s\n\nRun \"smtpspec COMMAND -h\" for a command's flags.\n", strings.Join(names, ", "))
}
