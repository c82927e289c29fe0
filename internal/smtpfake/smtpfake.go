// Package smtpfake starts small SMTP servers for tests: a listener on
// 127.0.0.1 that runs a handler per connection, and a scripted handler
// that answers each command verb with a fixed reply. Tests use them to
// give the harness a server whose exact behaviour they choose.
package smtpfake

import (
	"bufio"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// Serve runs handle for every connection to a listener on 127.0.0.1 and
// returns its address. When the test ends it closes the listener and every
// connection and waits for the handlers.
func Serve(t testing.TB, handle func(net.Conn)) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		conns []net.Conn
	)
	wg.Go(func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Go(func() {
				defer c.Close()
				handle(c)
			})
		}
	})
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return l.Addr().String()
}

// Scripted greets with 220 and answers each CRLF-terminated command line
// with replies[VERB], VERB being the upper-cased first word, or with 500 for
// verbs it does not list. A reply ending in "CLOSE" closes the connection
// after writing what precedes it; an empty reply sends nothing.
func Scripted(replies map[string]string) func(net.Conn) {
	return func(c net.Conn) {
		c.Write([]byte("220 fake.example ESMTP\r\n"))
		br := bufio.NewReader(c)
		for {
			c.SetReadDeadline(time.Now().Add(10 * time.Second))
			line, err := br.ReadString('\n')
			if err != nil {
				return
			}
			verb, _, _ := strings.Cut(strings.TrimRight(line, "\r\n"), " ")
			reply, ok := replies[strings.ToUpper(verb)]
			if !ok {
				reply = "500 5.5.2 unknown\r\n"
			}
			out, closeAfter := strings.CutSuffix(reply, "CLOSE")
			c.Write([]byte(out))
			if closeAfter {
				return
			}
		}
	}
}
