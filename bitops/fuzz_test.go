package bitops

import (
	"encoding/binary"
	"hash/fnv"
	"math/rand/v2"
	"slices"
	"testing"
)

// The fuzz targets compare every available set with generic on shapes and
// contents chosen by the fuzzer (FuzzAndGemm covers AndGemm, AndGemmSparse
// and AndGemmEvents): the first bytes of data become activation
// and weight words directly (so the fuzzer controls the bit patterns, e.g.
// all-zero words and rows), and a PRNG seeded from data fills the rest.

type fuzzShape struct {
	m, n, words, nbits int
	s, w               []uint64
}

func fuzzInputs(data []byte, m, n, words, padBits uint8) fuzzShape {
	sh := fuzzShape{m: int(m % 7), n: int(n % 13), words: int(words % 70)}
	sh.nbits = sh.words * 64
	if sh.words > 0 {
		sh.nbits -= int(padBits % 64)
	}
	h := fnv.New64a()
	h.Write(data)
	rng := rand.New(rand.NewPCG(h.Sum64(), uint64(len(data))))
	mk := func(n int) []uint64 {
		x := make([]uint64, n)
		for i := range x {
			if len(data) >= 8 {
				x[i] = binary.LittleEndian.Uint64(data)
				data = data[8:]
			} else if len(data) > 0 {
				// A short remainder selects sparse random words.
				x[i] = rng.Uint64() & rng.Uint64() & rng.Uint64()
				if data[0]&1 == 0 {
					x[i] = 0
				}
				data = data[1:]
			} else {
				x[i] = rng.Uint64()
			}
		}
		return x
	}
	sh.s = mk(sh.m * sh.words)
	sh.w = mk(sh.n * sh.words)
	return sh
}

func FuzzAndGemm(f *testing.F) {
	f.Add([]byte{}, uint8(2), uint8(4), uint8(36), uint8(0))
	f.Add(make([]byte, 64), uint8(3), uint8(5), uint8(9), uint8(0))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 1, 0}, uint8(1), uint8(12), uint8(130), uint8(0))
	f.Fuzz(func(t *testing.T, data []byte, m, n, words, _ uint8) {
		sh := fuzzInputs(data, m, n, words, 0)
		want := make([]int32, sh.m*sh.n)
		andGemmGeneric(want, sh.s, sh.m, sh.w, sh.n, sh.words)
		s0, w0 := slices.Clone(sh.s), slices.Clone(sh.w)
		rng := rand.New(rand.NewPCG(uint64(m), uint64(n)))
		for _, k := range Available() {
			dst, check := guarded(rng, sh.m*sh.n)
			if err := k.AndGemm(dst, sh.s, sh.m, sh.w, sh.n, sh.words); err != nil {
				t.Fatal(err)
			}
			check(t, k.Name+" AndGemm")
			if !slices.Equal(dst, want) {
				t.Fatalf("%s AndGemm m=%d n=%d words=%d:\n got %v\nwant %v", k.Name, sh.m, sh.n, sh.words, dst, want)
			}
			dst, check = guarded(rng, sh.m*sh.n)
			st, err := k.AndGemmSparse(dst, sh.s, sh.m, sh.w, sh.n, sh.words)
			if err != nil {
				t.Fatal(err)
			}
			check(t, k.Name+" AndGemmSparse")
			if !slices.Equal(dst, want) {
				t.Fatalf("%s AndGemmSparse m=%d n=%d words=%d:\n got %v\nwant %v", k.Name, sh.m, sh.n, sh.words, dst, want)
			}
			checkStats(t, k.Name, st, sh.s, sh.m, sh.words)
			ew, err := NewEventWeights(sh.w, sh.n, sh.words)
			if err != nil {
				t.Fatal(err)
			}
			dst, check = guarded(rng, sh.m*sh.n)
			st, err = k.AndGemmEvents(dst, sh.s, sh.m, ew)
			if err != nil {
				t.Fatal(err)
			}
			check(t, k.Name+" AndGemmEvents")
			if !slices.Equal(dst, want) {
				t.Fatalf("%s AndGemmEvents m=%d n=%d words=%d:\n got %v\nwant %v", k.Name, sh.m, sh.n, sh.words, dst, want)
			}
			checkEventStats(t, k.Name, st, sh.s, sh.m, sh.words)
			if !slices.Equal(sh.s, s0) || !slices.Equal(sh.w, w0) {
				t.Fatalf("%s modified its inputs", k.Name)
			}
		}
	})
}

func FuzzXnorGemm(f *testing.F) {
	f.Add([]byte{}, uint8(2), uint8(4), uint8(36), uint8(0))
	f.Add([]byte{1, 2, 3}, uint8(5), uint8(9), uint8(5), uint8(17))
	f.Add(make([]byte, 80), uint8(1), uint8(1), uint8(1), uint8(63))
	f.Fuzz(func(t *testing.T, data []byte, m, n, words, pad uint8) {
		sh := fuzzInputs(data, m, n, words, pad)
		clearPad(sh.s, sh.m, sh.words, sh.nbits)
		clearPad(sh.w, sh.n, sh.words, sh.nbits)
		want := make([]int32, sh.m*sh.n)
		xnorGemmGeneric(want, sh.s, sh.m, sh.w, sh.n, sh.words, sh.nbits)
		s0, w0 := slices.Clone(sh.s), slices.Clone(sh.w)
		rng := rand.New(rand.NewPCG(uint64(m), uint64(pad)))
		for _, k := range Available() {
			dst, check := guarded(rng, sh.m*sh.n)
			if err := k.XnorGemm(dst, sh.s, sh.m, sh.w, sh.n, sh.words, sh.nbits); err != nil {
				t.Fatal(err)
			}
			check(t, k.Name+" XnorGemm")
			if !slices.Equal(dst, want) {
				t.Fatalf("%s XnorGemm m=%d n=%d words=%d nbits=%d:\n got %v\nwant %v", k.Name, sh.m, sh.n, sh.words, sh.nbits, dst, want)
			}
			if !slices.Equal(sh.s, s0) || !slices.Equal(sh.w, w0) {
				t.Fatalf("%s modified its inputs", k.Name)
			}
		}
	})
}
