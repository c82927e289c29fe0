package gosmtp

import (
	"net"
	"os"
	"testing"

	"github.com/smtpspec/smtpspec/harness"
	"github.com/smtpspec/smtpspec/reports"
	"github.com/smtpspec/smtpspec/smtptest"
)

// TestConformance runs the whole smtpspec catalogue against the server,
// one subtest per case:
//
//	go test -run 'TestConformance/rfc5321/4.1.4' -v ./examples/gosmtp/
//
// The cases it is known to fail are listed, each with its reason, in
// baseline.txt; a new failure, or a listed case that starts to pass,
// fails the test.
func TestConformance(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	backend := &Backend{Domain: "example.test"}
	go Serve(l, backend)
	defer l.Close()

	f, err := os.Open("baseline.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	baseline, err := reports.ParseBaseline("baseline.txt", f)
	if err != nil {
		t.Fatal(err)
	}
	known := map[string]string{}
	for _, e := range baseline.Entries {
		known[e.ID] = e.Reason
	}

	profile := harness.DefaultProfile()
	profile.Rcpt = "postmaster@example.test"
	profile.Domain = "example.test"
	smtptest.Run(t, harness.Target{Addr: l.Addr().String()}, smtptest.Options{
		Options:       harness.Options{Profile: profile},
		KnownFailures: known,
	})
}
