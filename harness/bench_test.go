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

// BenchmarkSuite runs the whole built-in catalogue against the in-process
// reference, as `smtpspec run` does by default. Compare its time per op with
// BenchmarkPingPong, the floor for the same exchanges:
//
//	go test -run '^$' -bench 'Suite|PingPong' -count 10 ./harness/ | benchstat -
func BenchmarkSuite(b *testing.B) {
	ref, err := inprocess.New(reference.Config{})
	if err != nil {
		b.Fatal(err)
	}
	opts := harness.Options{Profile: ref.Profile}
	var shape []int
	for b.Loop() {
		run, err := harness.Check(context.Background(), ref.Target, opts)
		if run == nil {
			b.Fatal(err)
		}
		if shape == nil {
			shape = exchanges(run)
		}
	}
	total := 0
	for _, n := range shape {
		total += n
	}
	b.ReportMetric(float64(len(shape)), "cases/op")
	b.ReportMetric(float64(total), "exchanges/op")
}

// BenchmarkPingPong is the floor for BenchmarkSuite: over loopback, with the
// same parallelism, one fresh connection per case, a greeting, and as many
// one-line request/reply exchanges as the suite's cases make, against a
// server that does nothing but answer.
func BenchmarkPingPong(b *testing.B) {
	ref, err := inprocess.New(reference.Config{})
	if err != nil {
		b.Fatal(err)
	}
	run, err := harness.Check(context.Background(), ref.Target, harness.Options{Profile: ref.Profile})
	if run == nil {
		b.Fatal(err)
	}
	shape := exchanges(run)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	go echoServer(l)
	addr := l.Addr().String()
	const parallel = 8 // harness.Options' default
	for b.Loop() {
		work := make(chan int)
		var wg sync.WaitGroup
		for range parallel {
			wg.Go(func() {
				for n := range work {
					if err := pingPong(addr, n); err != nil {
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
}

// exchanges counts, for each case that ran, the client writes (each one
// waits for at least one reply).
func exchanges(run *harness.Run) []int {
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

func echoServer(l net.Listener) {
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		go func() {
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
		}()
	}
}

func pingPong(addr string, n int) error {
	c, err := net.Dial("tcp", addr)
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
