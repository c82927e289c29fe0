// Package feedback makes the protocol states that a dialogue with an
// external server reached visible to Go's coverage-guided fuzzer.
//
// When FuzzRemote talks to a server in another process, Go's fuzzer sees
// coverage of the client code only, which is the same for nearly every
// input. A Trace turns what the server answered into coverage: each
// feature of the reply sequence (the pair of the command's verb and the
// reply code, and the last two or three codes in a row) is hashed into one
// of Buckets, and each bucket is its own branch of a generated switch in
// this package, which `go test -fuzz` instruments like any other package
// under test. An input whose dialogue reaches a new (verb, code) pair or a
// new code sequence therefore covers a new branch, and the fuzzer keeps it
// in its corpus, as AFLNet keeps inputs that reach new server states.
package feedback

//go:generate go run gen.go

// Buckets is the number of distinct features (and generated branches).
const Buckets = 2048

// Enabled turns the marking on (the default) or off, to measure what the
// feedback is worth.
var Enabled = true

// A Trace accumulates the replies of one dialogue. The zero value is ready.
type Trace struct {
	prev1, prev2 int
	n            int
	seq          uint64
	seen         [Buckets / 64]uint64 // features marked in this dialogue
}

// Reply records a reply code to a command whose verb is verb (upper case;
// "" for message data or a greeting) and marks its features.
func (t *Trace) Reply(verb string, code int) {
	h := uint32(2166136261)
	for i := 0; i < len(verb); i++ {
		h = (h ^ uint32(verb[i])) * 16777619
	}
	if Enabled {
		t.mark(mix(1, h, uint32(code)))
		t.mark(mix(2, uint32(t.prev1), uint32(code)))
		t.mark(mix(3, uint32(t.prev2)<<10|uint32(t.prev1), uint32(code)))
	}
	t.prev2, t.prev1 = t.prev1, code
	t.n++
	t.seq = t.seq*1000003 + uint64(code)
}

// mark takes a feature's branch once per dialogue: which states a dialogue
// reached counts, not how often, or every repetition would look new.
func (t *Trace) mark(i uint32) {
	if t.seen[i/64]&(1<<(i%64)) != 0 {
		return
	}
	t.seen[i/64] |= 1 << (i % 64)
	mark(i)
}

// Len returns the number of replies recorded.
func (t *Trace) Len() int { return t.n }

// Sum returns a hash of the whole code sequence, for counting distinct
// sequences.
func (t *Trace) Sum() uint64 { return t.seq }

func mix(kind, a, b uint32) uint32 {
	x := kind*0x9e3779b1 ^ a*0x85ebca6b ^ b*0xc2b2ae35
	x ^= x >> 16
	x *= 0x7feb352d
	x ^= x >> 15
	return x % Buckets
}
