package inprocess_test

import (
	"bufio"
	"crypto/tls"
	"strings"
	"testing"
	"time"

	"github.com/smtpspec/smtpspec/harness"
	"github.com/smtpspec/smtpspec/inprocess"
	"github.com/smtpspec/smtpspec/reference"
)

// TestStart checks one per-case instance by hand: its connections speak SMTP,
// its certificate is trusted by the target's TLS config, its mailbox shows
// what was delivered, and Settle waits for a closed session to end.
func TestStart(t *testing.T) {
	t.Parallel()
	ref, err := inprocess.New(reference.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if ref.Profile.AuthUser == "" || ref.Profile.UnknownRcpt == "" || ref.Profile.Domain != inprocess.Domain {
		t.Errorf("profile %+v lacks what the reference is configured with", ref.Profile)
	}
	inst, err := ref.Target.Start(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer inst.Stop()

	nc, err := inst.Dial(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	nc.SetDeadline(time.Now().Add(5 * time.Second))
	br := bufio.NewReader(nc)
	readCodes := func(n int) string {
		var codes []string
		for len(codes) < n {
			l, err := br.ReadString('\n')
			if err != nil {
				t.Fatalf("after %v: %v", codes, err)
			}
			if l[3] == ' ' {
				codes = append(codes, l[:3])
			}
		}
		return strings.Join(codes, " ")
	}
	nc.Write([]byte("EHLO c.example\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<postmaster>\r\nDATA\r\n"))
	if got := readCodes(5); got != "220 250 250 250 354" {
		t.Fatalf("replies %s", got)
	}
	nc.Write([]byte("Subject: x\r\n\r\nbody\r\n.\r\nSTARTTLS\r\n"))
	if got := readCodes(2); got != "250 220" {
		t.Fatalf("replies %s", got)
	}
	cfg := ref.Target.TLSConfig.Clone()
	cfg.ServerName = "127.0.0.1"
	tc := tls.Client(nc, cfg)
	if err := tc.Handshake(); err != nil {
		t.Fatalf("the target's TLS config does not trust the reference: %v", err)
	}
	tc.Close()

	settler, ok := inst.Mailbox.(harness.Settler)
	if !ok {
		t.Fatal("the in-process mailbox cannot settle")
	}
	if err := settler.Settle(t.Context(), 0); err != nil {
		t.Fatalf("Settle after the client closed: %v", err)
	}
	msgs := inst.Mailbox.Messages()
	if len(msgs) != 1 || string(msgs[0].Data) != "Subject: x\r\n\r\nbody\r\n" || !strings.HasPrefix(string(msgs[0].Trace), "Return-Path: <a@example.org>\r\nReceived: ") {
		t.Errorf("stored %+v", msgs)
	}
}
