package fuzz

import (
	"math/rand/v2"
	"testing"
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
