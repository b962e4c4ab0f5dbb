//go:build gc && !purego && !noasm

package bitops

import (
	"math/rand/v2"
	"testing"
)

// The scalar AND + POPCNTQ loop is not a kernel set of its own; it is here to
// compare the vector peaks with the CPU's scalar popcount units.

func TestPeakPOPCNT(t *testing.T) {
	rng := rand.New(rand.NewPCG(41, 42))
	a, b := make([]uint64, PeakWords), make([]uint64, PeakWords)
	fillWords(rng, a, modeRandom)
	fillWords(rng, b, modeRandom)
	if got, want := peakPOPCNTGo(a, b, 3), 3*andPopcountGeneric(a, b); got != want {
		t.Fatalf("peakPOPCNT = %d, want %d", got, want)
	}
}

func BenchmarkPopcountPeakScalarPOPCNT(b *testing.B) {
	rng := rand.New(rand.NewPCG(23, 24))
	x, y := make([]uint64, PeakWords), make([]uint64, PeakWords)
	fillWords(rng, x, modeRandom)
	fillWords(rng, y, modeRandom)
	const reps = 100
	for b.Loop() {
		peakPOPCNTGo(x, y, reps)
	}
	b.SetBytes(reps * PeakWords * 8)
	b.ReportMetric(float64(reps*PeakWords*64)*float64(b.N)/b.Elapsed().Seconds()/1e9, "Gbmac/s")
}
