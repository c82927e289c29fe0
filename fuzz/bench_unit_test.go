package fuzz

import (
	"crypto/tls"
	"math/rand/v2"
	"net"
	"testing"
	"time"

	"github.com/smtpspec/smtpspec/reference"
)

// BenchmarkSession runs mutated FuzzSession seeds: the cost of one
// execution without the fuzzing engine's own (build with
// -gcflags=all=-d=libfuzzer to include the coverage instrumentation).
func BenchmarkSession(b *testing.B) {
	seeds := sessionSeeds(b)
	rng := rand.New(rand.NewPCG(1, 1))
	inputs := make([][]byte, 4096)
	for i := range inputs {
		in := mutate(rng, seeds[rng.IntN(len(seeds))], seeds[rng.IntN(len(seeds))])
		in[0] = seeds[rng.IntN(len(seeds))][0]
		inputs[i] = in
	}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if res := runSession(inputs[i%len(inputs)]); res.err != nil {
			b.Fatal(res.err)
		}
	}
}

// BenchmarkRemote runs FuzzRemote's dialogues (the catalogue seeds, mutated)
// against the reference served on loopback TCP, as `smtpspec serve` would:
// dialogues per second is 1e9 / ns/op.
func BenchmarkRemote(b *testing.B) {
	st, _ := tlsConfigs()
	srv, err := reference.New(reference.Config{TLSConfig: st, Users: map[string]string{authUser: authPass}})
	if err != nil {
		b.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go srv.Serve(l)
	defer srv.Close()
	cfg := referenceRemoteConfig()
	cfg.addr, cfg.name, cfg.timeout = l.Addr().String(), "bench", 2*time.Second
	cfg.tls = &tls.Config{InsecureSkipVerify: true, MaxVersion: tls.VersionTLS12, ClientSessionCache: tls.NewLRUClientSessionCache(8)}
	rf := newRemoteFuzzer(cfg)
	seeds := remoteSeeds(b)
	rng := rand.New(rand.NewPCG(2, 2))
	inputs := make([][]byte, 2048)
	for i := range inputs {
		inputs[i] = mutate(rng, seeds[rng.IntN(len(seeds))], seeds[rng.IntN(len(seeds))])
	}
	findings := 0
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if fd := rf.exec(inputs[i%len(inputs)]); fd != nil {
			findings++
			b.Logf("%s: %v (input %q)", fd.class, fd.err, fd.input)
			rf.down = false
		}
	}
	b.ReportMetric(float64(len(rf.seqs)), "sequences")
	if findings > 0 {
		b.Errorf("%d findings against the reference", findings)
	}
}
