package main

import (
	"bufio"
	"crypto/tls"
	"io"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestServeUsage(t *testing.T) {
	for _, args := range [][]string{
		{"--bogus"},
		{"extra"},
		{"--tls-cert", "cert.pem"},
		{"--max-rcpt", "5"},
		{"--auth", "nocolon"},
		{"--hostname", "bad_name"},
	} {
		if got := cmdServe(args, io.Discard, io.Discard); got != exitUsage {
			t.Errorf("cmdServe(%q) = %d, want %d", args, got, exitUsage)
		}
	}
}

// TestServeRunsAndStops serves one message, then stops on SIGTERM.
func TestServeRunsAndStops(t *testing.T) {
	pr, pw := io.Pipe()
	exit := make(chan int, 1)
	go func() {
		exit <- cmdServe([]string{"--listen", "127.0.0.1:0", "--tls-listen", "127.0.0.1:0", "--mailboxes", "user", "--max-size", "1000"}, pw, io.Discard)
		pw.Close()
	}()
	out := bufio.NewReader(pr)
	line, err := out.ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	tlsLine, err := out.ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	go io.Copy(io.Discard, pr)
	addr := strings.TrimSpace(line[strings.LastIndex(line, " "):])
	tlsAddr := strings.Fields(tlsLine)[4]
	tc, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", tlsAddr, &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatalf("implicit TLS listener %s: %v", tlsAddr, err)
	}
	tc.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(tc, "EHLO c.example\r\n")
	tr := bufio.NewReader(tc)
	var ehlo []string
	for {
		l, err := tr.ReadString('\n')
		if err != nil {
			t.Fatalf("over implicit TLS: %v", err)
		}
		ehlo = append(ehlo, l)
		if len(l) > 3 && l[:3] == "250" && l[3] == ' ' {
			break
		}
	}
	if all := strings.Join(ehlo, ""); !strings.HasPrefix(all, "220 ") || strings.Contains(all, "STARTTLS") || !strings.Contains(all, "AUTH") {
		t.Errorf("over implicit TLS the greeting and EHLO were %q, want 220, AUTH and no STARTTLS", all)
	}
	tc.Close()
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(nc, "EHLO c.example\r\nMAIL FROM:<a@x.example> SIZE=2000\r\nMAIL FROM:<a@x.example>\r\n"+
		"RCPT TO:<nouser@example.test>\r\nRCPT TO:<user@example.test>\r\nDATA\r\n")
	br := bufio.NewReader(nc)
	var codes []string
	for len(codes) < 7 {
		l, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("after %v: %v", codes, err)
		}
		if l[3] == ' ' {
			codes = append(codes, l[:3])
		}
	}
	if got := strings.Join(codes, " "); got != "220 250 552 250 550 250 354" {
		t.Fatalf("replies %s", got)
	}
	io.WriteString(nc, "hi\r\n.\r\n")
	if l, _ := br.ReadString('\n'); !strings.HasPrefix(l, "250 ") {
		t.Fatalf("end of data: %q", l)
	}
	syscall.Kill(syscall.Getpid(), syscall.SIGTERM)
	if l, _ := br.ReadString('\n'); !strings.HasPrefix(l, "421 ") {
		t.Errorf("idle session on shutdown got %q, want 421", l)
	}
	select {
	case code := <-exit:
		if code != exitOK {
			t.Errorf("exit status %d, want %d", code, exitOK)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not stop on SIGTERM")
	}
}
