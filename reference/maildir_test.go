package reference

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// helperEnv makes the test binary run a Maildir server instead of tests.
const helperEnv = "REFERENCE_MAILDIR_HELPER"

func TestMain(m *testing.M) {
	if dir := os.Getenv(helperEnv); dir != "" {
		runMaildirHelper(dir)
		return
	}
	os.Exit(m.Run())
}

// runMaildirHelper serves a Maildir on 127.0.0.1:0 and prints the address.
func runMaildirHelper(dir string) {
	md, err := NewMaildir(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	srv, err := New(Config{Backend: md})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	fmt.Println(l.Addr())
	srv.Serve(l)
}

// TestMaildirSurvivesKill sends messages to a server in another process,
// SIGKILLs it right after the last 250, and finds every acknowledged
// message complete in new/.
func TestMaildirSurvivesKill(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+dir)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	addr, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("helper address: %v", err)
	}
	ts := &testServer{addr: strings.TrimSpace(addr)}
	c := ts.dial(t)
	c.ehlo()
	const n = 3
	body := func(i int) string {
		return fmt.Sprintf("Subject: %d\r\n\r\n%s", i, strings.Repeat(strings.Repeat("x", 70)+"\r\n", 70))
	}
	for i := range n {
		c.send(txData)
		for _, w := range []string{"250", "250", "354"} {
			c.check("DATA", c.read(), w)
		}
		c.send(body(i) + ".\r\n")
		c.check("end of data", c.read(), "250")
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	files, err := filepath.Glob(filepath.Join(dir, "new", "*"))
	if err != nil || len(files) != n {
		t.Fatalf("new/ holds %d files (%v), want %d", len(files), err, n)
	}
	seen := map[string]bool{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		head, data, ok := strings.Cut(string(b), "\r\n\tby mx.example.test")
		if !ok || !strings.HasPrefix(head, "Return-Path: <a@x.example>\r\nReceived: from c.example") {
			t.Fatalf("%s: trace fields missing: %.200q", f, b)
		}
		_, data, _ = strings.Cut(data, "\r\nSubject: ")
		seen["Subject: "+data] = true
	}
	for i := range n {
		if !seen[body(i)] {
			t.Errorf("message %d missing or incomplete", i)
		}
	}
}

func TestMaildirInProcess(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	md, err := NewMaildir(dir)
	if err != nil {
		t.Fatal(err)
	}
	cfg := baseConfig()
	cfg.Backend = md
	ts := startServer(t, cfg)
	c := ts.dial(t)
	c.ehlo()
	c.send(txData)
	for _, w := range []string{"250", "250", "354"} {
		c.check("DATA", c.read(), w)
	}
	c.send("half\r\n")
	c.send("bare\nlf\r\n.\r\n")
	c.check("end of data", c.read(), "554")
	c.send(mailRcpt + "BDAT 5 LAST\r\nhello")
	for _, w := range []string{"250", "250", "250"} {
		c.check("BDAT", c.read(), w)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "new", "*"))
	tmp, _ := filepath.Glob(filepath.Join(dir, "tmp", "*"))
	if len(files) != 1 || len(tmp) != 0 {
		t.Fatalf("new/ %d files, tmp/ %d files; want 1 and 0", len(files), len(tmp))
	}
	b, _ := os.ReadFile(files[0])
	if !strings.HasSuffix(string(b), "\r\nhello") || !strings.HasPrefix(string(b), "Return-Path: <a@x.example>\r\n") {
		t.Errorf("delivered file = %q", b)
	}
}
