package reference

import (
	"context"
	"crypto/tls"
	"net"
	"net/smtp"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// Clients that nobody here wrote must get their mail through.

func TestClientNetSMTP(t *testing.T) {
	t.Parallel()
	ts := startServer(t, baseConfig())
	nc, err := net.DialTimeout("tcp", ts.addr, testTimeout)
	if err != nil {
		t.Fatal(err)
	}
	nc.SetDeadline(time.Now().Add(testTimeout))
	c, err := smtp.NewClient(nc, "mx.example.test")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	steps := []struct {
		what string
		err  func() error
	}{
		{"EHLO", func() error { return c.Hello("c.example") }},
		{"STARTTLS", func() error {
			return c.StartTLS(&tls.Config{RootCAs: ts.pool, ServerName: "mx.example.test"})
		}},
		{"AUTH", func() error { return c.Auth(smtp.PlainAuth("", "user", "pass", "mx.example.test")) }},
		{"MAIL", func() error { return c.Mail("a@x.example") }},
		{"RCPT", func() error { return c.Rcpt("user@example.test") }},
		{"DATA", func() error {
			w, err := c.Data()
			if err != nil {
				return err
			}
			if _, err := w.Write([]byte("Subject: go\r\n\r\n.dot line\r\nend\r\n")); err != nil {
				return err
			}
			return w.Close()
		}},
		{"QUIT", func() error { return c.Quit() }},
	}
	for _, st := range steps {
		if err := st.err(); err != nil {
			t.Fatalf("%s: %v", st.what, err)
		}
	}
	msgs := ts.store.Messages()
	if len(msgs) != 1 {
		t.Fatalf("stored %d messages", len(msgs))
	}
	m := msgs[0]
	if string(m.Data) != "Subject: go\r\n\r\n.dot line\r\nend\r\n" || !m.TLS || m.AuthIdentity != "user" {
		t.Errorf("message = %q tls=%v auth=%q", m.Data, m.TLS, m.AuthIdentity)
	}
}

// pythonClient sends two messages with smtplib: one over STARTTLS with
// AUTH, one with SMTPUTF8 addresses.
const pythonClient = `
import smtplib, ssl, sys
host, port = sys.argv[1].rsplit(":", 1)
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
with smtplib.SMTP(host, int(port), local_hostname="py.example", timeout=5) as s:
    s.starttls(context=ctx)
    s.ehlo("py.example")
    s.login("user", "pass")
    s.sendmail("a@x.example", ["user@example.test"], b"Subject: py\r\n\r\n.leading dot\r\nend\r\n")
with smtplib.SMTP(host, int(port), local_hostname="py.example", timeout=5) as s:
    s.ehlo("py.example")
    s.sendmail("j\u00f6rg@x.example", ["postmaster@example.test"], "Subject: utf8\r\n\r\nhi\r\n".encode(), mail_options=["SMTPUTF8", "BODY=8BITMIME"])
print("ok")
`

func TestClientPythonSmtplib(t *testing.T) {
	t.Parallel()
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not installed")
	}
	ts := startServer(t, baseConfig())
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, py, "-c", pythonClient, ts.addr).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "ok" {
		t.Fatalf("python3: %v\n%s", err, out)
	}
	msgs := ts.store.Messages()
	if len(msgs) != 2 {
		t.Fatalf("stored %d messages, want 2", len(msgs))
	}
	if got := string(msgs[0].Data); got != "Subject: py\r\n\r\n.leading dot\r\nend\r\n" || !msgs[0].TLS || msgs[0].AuthIdentity != "user" {
		t.Errorf("first message = %q tls=%v auth=%q", got, msgs[0].TLS, msgs[0].AuthIdentity)
	}
	if msgs[1].From != "j\u00f6rg@x.example" || !msgs[1].SMTPUTF8 || msgs[1].Body != "8BITMIME" {
		t.Errorf("second message = %+v", msgs[1])
	}
}

// TestClientSwaks needs the Debian package swaks; CI installs it.
func TestClientSwaks(t *testing.T) {
	t.Parallel()
	swaks, err := exec.LookPath("swaks")
	if err != nil {
		t.Skip("swaks not installed (apt-get install swaks)")
	}
	ts := startServer(t, baseConfig())
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"tls-auth", []string{"-tls", "--auth", "PLAIN", "--auth-user", "user", "--auth-password", "pass"}},
		{"tls-auth-login", []string{"-tls", "--auth", "LOGIN", "--auth-user", "user", "--auth-password", "pass"}},
		{"pipeline", []string{"--pipeline"}},
		{"plain", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			args := append([]string{"--server", ts.addr, "--from", "a@x.example", "--to", "user@example.test",
				"--helo", "swaks.example", "--body", ".dotted\nline two", "--timeout", "5"}, tc.args...)
			out, err := exec.CommandContext(ctx, swaks, args...).CombinedOutput()
			if err != nil {
				t.Fatalf("swaks %s: %v\n%s", tc.name, err, out)
			}
			if !strings.Contains(string(out), "250 2.0.0 Message accepted") {
				t.Fatalf("swaks %s: no acceptance in transcript:\n%s", tc.name, out)
			}
		})
	}
	for _, m := range ts.store.Messages() {
		if !strings.Contains(string(m.Data), "\r\n.dotted\r\nline two\r\n") {
			t.Errorf("swaks message body not transparent: %q", m.Data)
		}
	}
}
