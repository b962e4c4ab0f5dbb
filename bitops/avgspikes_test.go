package bitops

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// naiveAvgSpikes is AvgSpikes channel by channel, the definition.
func naiveAvgSpikes(dst []float32, src []uint64, off []int32, table []float32) {
	for c := range dst {
		n := 0
		for _, o := range off {
			n += int(src[int(o)+c/64] >> (c % 64) & 1)
		}
		dst[c] = table[n]
	}
}

// avgSpikesCase draws vectors (possibly repeated, pad bits past C set in
// the source so that reading them would show), a table of distinct
// values, and checks every set against the definition, with guards around
// dst.
func avgSpikesCase(t *testing.T, rng *rand.Rand, k *Kernels, C, ntap int) {
	t.Helper()
	pw := (C + 63) / 64
	src := workspace(rng, (ntap+3)*pw+rng.IntN(5))
	fillWords(rng, src, rng.IntN(numModes))
	off := make([]int32, ntap)
	for i := range off {
		off[i] = int32(rng.IntN(len(src) - pw + 1))
	}
	table := make([]float32, ntap+1+rng.IntN(3))
	for i := range table {
		table[i] = float32(i)*0.25 + float32(rng.IntN(4))*1e-3
	}
	want := make([]float32, C)
	naiveAvgSpikes(want, src, off, table)
	dst, guard := guardedFloats(rng, C)
	what := fmt.Sprintf("%s C=%d taps=%d", k.Name, C, ntap)
	if err := k.AvgSpikes(dst, src, off, table); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	guard(t, what)
	if !slices.Equal(dst, want) {
		t.Fatalf("%s: got %v, want %v", what, dst, want)
	}
}

func TestAvgSpikes(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	for _, k := range allSets() {
		for _, C := range elemSizes[1:] {
			for _, ntap := range []int{0, 1, 2, 4, 9, 16, 25, 31, 32, 49} {
				avgSpikesCase(t, rng, k, C, ntap)
			}
		}
		for range 100 {
			avgSpikesCase(t, rng, k, 1+rng.IntN(600), rng.IntN(40))
		}
	}
}

func TestAvgSpikesErrors(t *testing.T) {
	src := make([]uint64, 4)
	k := Best()
	for _, c := range []struct {
		dst   int
		off   []int32
		table int
	}{
		{64, []int32{0, 1}, 2}, // table too short
		{64, []int32{-1}, 2},   // negative offset
		{128, []int32{3}, 2},   // vector past the end
		{65, []int32{0, 3}, 3}, // second vector's second word missing
	} {
		if err := k.AvgSpikes(make([]float32, c.dst), src, c.off, make([]float32, c.table)); err == nil {
			t.Errorf("AvgSpikes(dst %d, off %v, table %d): no error", c.dst, c.off, c.table)
		}
	}
}

func FuzzAvgSpikes(f *testing.F) {
	f.Add(uint64(1), uint16(128), uint8(4))
	f.Add(uint64(2), uint16(33), uint8(31))
	f.Fuzz(func(t *testing.T, seed uint64, C uint16, ntap uint8) {
		rng := rand.New(rand.NewPCG(seed, 3))
		for _, k := range allSets() {
			avgSpikesCase(t, rng, k, 1+int(C%700), int(ntap%64))
		}
	})
}
