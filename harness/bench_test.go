package harness_test

import (
	"bufio"
	"context"
	"net"
	"sync"
	"testing"

	"github.com/smtpspec/smtpspec/harness"
	"github.com/smtpspec/smtpspec/inprocess"
	"github.com/smtpspec/smtpspec/reference"
)

// BenchmarkSuite runs the whole built-in catalogue against the reference:
// in-process (a fresh server per case over a socket pair, as `smtpspec run`
// does by default) and over TCP on 127.0.0.1 (one server, as an external
// target would be run; the cases that inspect the store are skipped).
// BenchmarkPingPong is the floor for each: the same connections and the
// same number of request/reply exchanges over the same transport, against
// a server that does nothing but answer.
//
//	go test -run '^$' -bench 'Suite|PingPong' -count 8 ./harness/ | benchstat -
func BenchmarkSuite(b *testing.B) {
	for _, tr := range transports(b) {
		b.Run("transport="+tr.name, func(b *testing.B) {
			var shape []int
			for b.Loop() {
				shape = suiteShape(b, tr)
			}
			total := 0
			for _, n := range shape {
				total += n
			}
			b.ReportMetric(float64(len(shape)), "cases/op")
			b.ReportMetric(float64(total), "exchanges/op")
		})
	}
}

func BenchmarkPingPong(b *testing.B) {
	for _, tr := range transports(b) {
		b.Run("transport="+tr.name, func(b *testing.B) {
			shape := suiteShape(b, tr)
			const parallel = 8 // harness.Options' default
			for b.Loop() {
				work := make(chan int)
				var wg sync.WaitGroup
				for range parallel {
					wg.Go(func() {
						for n := range work {
							if err := pingPong(tr.echo, n); err != nil {
								b.Error(err)
							}
						}
					})
				}
				for _, n := range shape {
					work <- n
				}
				close(work)
				wg.Wait()
			}
			b.ReportMetric(float64(len(shape)), "cases/op")
		})
	}
}

// transport is one way of reaching the reference, with its floor server.
type transport struct {
	name    string
	target  harness.Target
	profile harness.Profile
	echo    func() (net.Conn, error) // a connection to the floor's echo server
}

func transports(b *testing.B) []transport {
	ref, err := inprocess.New(reference.Config{})
	if err != nil {
		b.Fatal(err)
	}
	addr, stop, err := ref.ListenTCP()
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(stop)
	tcpTarget := ref.Target
	tcpTarget.Start, tcpTarget.Addr = nil, addr
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go echo(c)
		}
	}()
	return []transport{
		{"socketpair", ref.Target, ref.Profile, func() (net.Conn, error) {
			client, server, err := inprocess.SocketPair()
			if err == nil {
				go echo(server)
			}
			return client, err
		}},
		{"tcp", tcpTarget, ref.Profile, func() (net.Conn, error) { return net.Dial("tcp", l.Addr().String()) }},
	}
}

// suiteShape runs the catalogue once and returns, for each case that ran,
// the number of client writes (each one waits for at least one reply).
func suiteShape(b *testing.B, tr transport) []int {
	run, err := harness.Check(context.Background(), tr.target, harness.Options{Profile: tr.profile})
	if run == nil {
		b.Fatal(err)
	}
	var shape []int
	for _, r := range run.Results {
		if len(r.Transcript) == 0 {
			continue
		}
		n := 0
		for _, e := range r.Transcript {
			if e.Direction == harness.Client {
				n++
			}
		}
		shape = append(shape, n)
	}
	return shape
}

// echo greets and answers every line with 250, like the cheapest server.
func echo(c net.Conn) {
	defer c.Close()
	c.Write([]byte("220 floor ESMTP\r\n"))
	br := bufio.NewReader(c)
	for {
		if _, err := br.ReadSlice('\n'); err != nil {
			return
		}
		if _, err := c.Write([]byte("250 ok\r\n")); err != nil {
			return
		}
	}
}

func pingPong(dial func() (net.Conn, error), n int) error {
	c, err := dial()
	if err != nil {
		return err
	}
	defer c.Close()
	br := bufio.NewReader(c)
	if _, err := br.ReadSlice('\n'); err != nil {
		return err
	}
	for range n {
		if _, err := c.Write([]byte("NOOP\r\n")); err != nil {
			return err
		}
		if _, err := br.ReadSlice('\n'); err != nil {
			return err
		}
	}
	return nil
}
