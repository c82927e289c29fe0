package fuzz

import "testing"

// BenchmarkSession runs the FuzzSession seeds in a loop: the cost of one
// execution without the fuzzing engine's own.
func BenchmarkSession(b *testing.B) {
	seeds := sessionSeeds(b)
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		in := seeds[i%len(seeds)]
		if res := runSession(in); res.err != nil {
			b.Fatal(res.err)
		}
	}
}
