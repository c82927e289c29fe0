package main

import (
	"flag"

	"github.com/smtpspec/smtpspec/harness"
	"github.com/smtpspec/smtpspec/inprocess"
	"github.com/smtpspec/smtpspec/reference"
)

// newInProcess prepares the bundled reference as the target. Profile
// values the user set explicitly win over the reference's own.
func newInProcess(user harness.Profile, fs *flag.FlagSet) (*inprocess.Reference, error) {
	ref, err := inprocess.New(reference.Config{})
	if err != nil {
		return nil, err
	}
	p := &ref.Profile
	for name, pair := range map[string][2]*string{
		"helo":         {&p.Helo, &user.Helo},
		"mail-from":    {&p.MailFrom, &user.MailFrom},
		"rcpt":         {&p.Rcpt, &user.Rcpt},
		"relay-rcpt":   {&p.RelayRcpt, &user.RelayRcpt},
		"unknown-rcpt": {&p.UnknownRcpt, &user.UnknownRcpt},
		"domain":       {&p.Domain, &user.Domain},
	} {
		if flagSet(fs, name) {
			*pair[0] = *pair[1]
		}
	}
	return ref, nil
}
