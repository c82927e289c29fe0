//go:build race

package fuzz

// raceEnabled: under the race detector every session is many times
// slower, so the seed corpora are sampled (see addSeeds) and the
// fuzz-for-seconds proof is left to .ci/run's fuzz section.
const raceEnabled = true
