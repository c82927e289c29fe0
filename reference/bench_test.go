package reference

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	gosmtp "github.com/emersion/go-smtp"
)

// Benchmarks compare the reference with a minimal go-smtp server and
// Postfix's smtp-sink, driven by the same Go load generator: benchConns
// concurrent sessions, each sending one 1 KiB message per connection.
//
//	go test -run '^$' -bench 'Messages' -count 6 ./reference/ | tee bench.txt
//	benchstat -col /server bench.txt
//
// smtp-sink is looked up in $SMTP_SINK, /usr/sbin/smtp-sink and
// /tmp/postfix-root/usr/sbin/smtp-sink (unpacked with apt-get download
// postfix && dpkg -x postfix_*.deb /tmp/postfix-root); without it that
// sub-benchmark is skipped.

const benchConns = 20

// benchBody is a 1 KiB message: a header, 15 lines of 64 octets and one
// of 46, CRLF included.
var benchBody = "Subject: bench\r\n\r\n" + strings.Repeat(strings.Repeat("b", 62)+"\r\n", 15) + strings.Repeat("b", 44) + "\r\n"

func BenchmarkMessages(b *testing.B) {
	b.Run("server=reference", func(b *testing.B) {
		srv, err := New(Config{Backend: discardBackend{}})
		if err != nil {
			b.Fatal(err)
		}
		benchServer(b, func(l net.Listener) { srv.Serve(l) }, func() { srv.Close() })
	})
	b.Run("server=go-smtp", func(b *testing.B) {
		srv := gosmtp.NewServer(goSMTPBackend{})
		srv.Domain = "mx.example.test"
		srv.MaxMessageBytes = DefaultMaxMessageSize
		srv.MaxRecipients = 100
		srv.ReadTimeout = time.Minute
		srv.WriteTimeout = time.Minute
		benchServer(b, func(l net.Listener) { srv.Serve(l) }, func() { srv.Close() })
	})
	b.Run("server=smtp-sink", func(b *testing.B) {
		addr, stop := startSmtpSink(b)
		defer stop()
		runLoad(b, addr)
	})
}

// benchServer runs the load against an in-process server.
func benchServer(b *testing.B, serve func(net.Listener), stop func()) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go serve(l)
	defer stop()
	runLoad(b, l.Addr().String())
}

// runLoad sends b.N messages over benchConns concurrent connections, one
// message per connection, and reports messages per second.
func runLoad(b *testing.B, addr string) {
	b.ReportAllocs()
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, benchConns)
	b.ResetTimer()
	start := time.Now()
	for range benchConns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(b.N) {
				if err := sendBenchMessage(addr); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msgs/s")
}

// sendBenchMessage runs one session: EHLO, MAIL, RCPT, DATA, QUIT, waiting
// for each reply (no pipelining, so every server is driven alike).
func sendBenchMessage(addr string) error {
	nc, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return err
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(30 * time.Second))
	br := bufio.NewReaderSize(nc, 1024)
	expect := func(code string) error {
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				return err
			}
			if !strings.HasPrefix(line, code) {
				return fmt.Errorf("got %q, want %s", line, code)
			}
			if len(line) > 3 && line[3] == ' ' {
				return nil
			}
		}
	}
	for _, st := range [...]struct{ send, want string }{
		{"", "220"},
		{"EHLO load.example\r\n", "250"},
		{"MAIL FROM:<a@x.example>\r\n", "250"},
		{"RCPT TO:<user@example.test>\r\n", "250"},
		{"DATA\r\n", "354"},
		{benchBody + ".\r\n", "250"},
		{"QUIT\r\n", "221"},
	} {
		if st.send != "" {
			if _, err := io.WriteString(nc, st.send); err != nil {
				return err
			}
		}
		if err := expect(st.want); err != nil {
			return fmt.Errorf("after %q: %w", st.send, err)
		}
	}
	return nil
}

// discardBackend accepts every message and keeps nothing, like smtp-sink.
type discardBackend struct{}

func (discardBackend) NewSession(ConnInfo) (Session, error) { return discardSession{}, nil }

type discardSession struct{}

func (discardSession) Mail(Path, *MailOptions) error { return nil }
func (discardSession) Rcpt(Path, *RcptOptions) error { return nil }
func (discardSession) Data(r io.Reader) error {
	_, err := io.Copy(io.Discard, r)
	return err
}
func (discardSession) Reset()        {}
func (discardSession) Logout() error { return nil }

// goSMTPBackend is the minimal go-smtp server: it discards messages.
type goSMTPBackend struct{}

func (goSMTPBackend) NewSession(*gosmtp.Conn) (gosmtp.Session, error) { return goSMTPSession{}, nil }

type goSMTPSession struct{}

func (goSMTPSession) Mail(string, *gosmtp.MailOptions) error { return nil }
func (goSMTPSession) Rcpt(string, *gosmtp.RcptOptions) error { return nil }
func (goSMTPSession) Data(r io.Reader) error {
	_, err := io.Copy(io.Discard, r)
	return err
}
func (goSMTPSession) Reset()        {}
func (goSMTPSession) Logout() error { return nil }

// startSmtpSink runs Postfix's smtp-sink on a free port.
func startSmtpSink(b *testing.B) (string, func()) {
	path := os.Getenv("SMTP_SINK")
	for _, p := range []string{"/usr/sbin/smtp-sink", "/tmp/postfix-root/usr/sbin/smtp-sink"} {
		if path != "" {
			break
		}
		if _, err := os.Stat(p); err == nil {
			path = p
		}
	}
	if path == "" {
		b.Skip("smtp-sink not found; set SMTP_SINK")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	cmd := exec.Command(path, "-u", "nobody", addr, "256")
	// An unpacked (not installed) package keeps its libraries beside it.
	libs := filepath.Join(filepath.Dir(filepath.Dir(path)), "lib", "postfix")
	cmd.Env = append(os.Environ(), "LD_LIBRARY_PATH="+libs)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Skipf("smtp-sink: %v", err)
	}
	stop := func() { cmd.Process.Kill(); cmd.Wait() }
	for deadline := time.Now().Add(5 * time.Second); ; {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			stop()
			b.Fatalf("smtp-sink did not start: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return addr, stop
}

// BenchmarkServeConnPipe measures one short session (EHLO, one 1 KiB
// message, QUIT) over net.Pipe, as in-process fuzzing runs it; allocs/op
// include net.Pipe's own few.
func BenchmarkServeConnPipe(b *testing.B) {
	srv, err := New(Config{Backend: discardBackend{}})
	if err != nil {
		b.Fatal(err)
	}
	script := []byte("EHLO c.example\r\n" + txData + benchBody + ".\r\nQUIT\r\n")
	b.ReportAllocs()
	b.SetBytes(int64(len(script)))
	for b.Loop() {
		cli, sc := net.Pipe()
		go func() {
			cli.Write(script)
		}()
		done := make(chan struct{})
		go func() { io.Copy(io.Discard, cli); close(done) }()
		srv.ServeConn(sc)
		<-done
		cli.Close()
	}
}

// BenchmarkIdleSessionMemory reports bytes per idle session (server and
// client ends of 1,000 TCP connections after EHLO).
func BenchmarkIdleSessionMemory(b *testing.B) {
	srv, err := New(Config{Backend: discardBackend{}})
	if err != nil {
		b.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go srv.Serve(l)
	defer srv.Close()
	var per float64
	for b.Loop() {
		per = idleSessionMemory(b, l.Addr().String(), 1000)
	}
	b.ReportMetric(per, "B/session")
}
