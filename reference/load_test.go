package reference

import (
	"bufio"
	"io"
	"net"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// openIdle opens n sessions that have read the greeting and sent EHLO, and
// returns them; they stay open until the test ends.
func openIdle(t testing.TB, addr string, n int) []net.Conn {
	t.Helper()
	conns := make([]net.Conn, n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	sem := make(chan struct{}, 64) // dial in bounded parallelism
	for i := range conns {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			nc, err := net.DialTimeout("tcp", addr, testTimeout)
			if err != nil {
				errs <- err
				return
			}
			nc.SetDeadline(time.Now().Add(testTimeout))
			io.WriteString(nc, "EHLO idle.example\r\n")
			br := bufio.NewReader(nc)
			for {
				line, err := br.ReadString('\n')
				if err != nil {
					errs <- err
					return
				}
				if strings.HasPrefix(line, "250 ") {
					break
				}
			}
			conns[i] = nc
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("idle session: %v", err)
	}
	t.Cleanup(func() {
		for _, c := range conns {
			c.Close()
		}
	})
	return conns
}

// sendOne runs one full message with the test client.
func sendOne(t testing.TB, ts *testServer) {
	t.Helper()
	c := ts.dial(t)
	c.ehlo()
	c.send(txData)
	for _, w := range []string{"250", "250", "354"} {
		c.check("DATA", c.read(), w)
	}
	c.send("Subject: load\r\n\r\nbody\r\n.\r\n")
	c.check("end of data", c.read(), "250")
	c.expect("QUIT", "221")
}

// TestThousandSessions holds 1,000 sessions open while another client is
// served.
func TestThousandSessions(t *testing.T) {
	if testing.Short() {
		t.Skip("load test")
	}
	ts := startServer(t, baseConfig())
	openIdle(t, ts.addr, 1000)
	if n := ts.srv.active.Load(); n != 1000 {
		t.Fatalf("%d active sessions, want 1000", n)
	}
	start := time.Now()
	sendOne(t, ts)
	t.Logf("transaction with 1000 idle sessions open: %v", time.Since(start))
}

// TestSlowloris checks that 500 connections dripping a command one byte at
// a time do not starve a normal client.
func TestSlowloris(t *testing.T) {
	if testing.Short() {
		t.Skip("load test")
	}
	ts := startServer(t, baseConfig())
	conns := openIdle(t, ts.addr, 500)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			for _, c := range conns {
				c.SetWriteDeadline(time.Now().Add(time.Second))
				c.Write([]byte("X"))
			}
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	defer func() { close(stop); wg.Wait() }()
	time.Sleep(100 * time.Millisecond)
	for range 5 {
		start := time.Now()
		sendOne(t, ts)
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("transaction took %v under slowloris", d)
		}
	}
}

// TestIdleSessionMemory measures the server-side memory of an idle session
// (goroutine stack, buffers, connection state; the client ends of the
// connections are included, so this is an upper bound).
func TestIdleSessionMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("load test")
	}
	ts := startServer(t, baseConfig())
	const n = 1000
	per := idleSessionMemory(t, ts.addr, n)
	t.Logf("memory per idle session (server and client ends): %.0f bytes", per)
	if per > 64<<10 {
		t.Errorf("idle session costs %.0f bytes, want under 64 KiB", per)
	}
}

// idleSessionMemory opens n idle sessions, returns the growth of heap and
// stack memory per session, and closes them.
func idleSessionMemory(t testing.TB, addr string, n int) float64 {
	var before, after runtime.MemStats
	// Two collections empty the session pool (and its victim cache), so
	// reused sessions do not hide their cost.
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&before)
	conns := openIdle(t, addr, n)
	time.Sleep(100 * time.Millisecond)
	runtime.GC()
	runtime.ReadMemStats(&after)
	for _, c := range conns {
		c.Close()
	}
	used := func(m *runtime.MemStats) float64 { return float64(m.HeapAlloc + m.StackInuse) }
	return (used(&after) - used(&before)) / float64(n)
}
