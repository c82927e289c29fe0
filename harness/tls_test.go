package harness_test

import (
	"crypto/tls"
	"net"
	"testing"

	"github.com/smtpspec/smtpspec/harness"
	"github.com/smtpspec/smtpspec/inprocess"
	"github.com/smtpspec/smtpspec/reference"
)

// TestCheck_implicitTLS runs the catalogue over implicit TLS (port 465
// style) against the reference on a TLS listener: the cases run inside TLS
// from the first octet, and the ones that need STARTTLS are unimplemented.
func TestCheck_implicitTLS(t *testing.T) {
	t.Parallel()
	serverTLS, pool, err := reference.SelfSigned("localhost", "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	ref, err := inprocess.New(reference.Config{TLSConfig: serverTLS})
	if err != nil {
		t.Fatal(err)
	}
	cfg := ref.Config
	srv, err := reference.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(tls.NewListener(l, srv.TLSConfig()))
	t.Cleanup(func() { srv.Close() })

	target := harness.Target{Addr: l.Addr().String(), TLS: true, TLSConfig: &tls.Config{RootCAs: pool}}
	run, err := harness.Check(t.Context(), target, harness.Options{Profile: ref.Profile})
	if run == nil {
		t.Fatal(err)
	}
	if !run.Target.Has("AUTH", false) || run.Target.Has("STARTTLS", false) {
		t.Errorf("EHLO over implicit TLS = %v, want AUTH and no STARTTLS", run.Target.EHLO)
	}
	s := run.Summary()
	if s[harness.Pass] < len(run.Results)/2 {
		t.Errorf("only %d of %d cases passed over implicit TLS", s[harness.Pass], len(run.Results))
	}
	for _, r := range run.Results {
		if r.Verdict.Failed() {
			t.Errorf("%s: %s: %s", r.ID, r.Verdict, r.Message)
		}
		if len(r.Transcript) > 0 && !r.Transcript[0].TLS {
			t.Errorf("%s: the first transcript entry is not marked TLS", r.ID)
		}
	}
}
