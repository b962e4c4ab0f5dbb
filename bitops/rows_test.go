package bitops

import (
	"encoding/binary"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestAndGemmRowsMatchesGathered checks every set's AndGemmRows against
// AndGemm on rows gathered from the same segments, over random shapes,
// offsets and row counts.
func TestAndGemmRowsMatchesGathered(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	for _, k := range Available() {
		for trial := 0; trial < 200; trial++ {
			segs := 1 + rng.IntN(4)
			segWords := rng.IntN(30)
			segStride := segWords + rng.IntN(20)
			m, n := rng.IntN(13), rng.IntN(11)
			src := make([]uint64, (segs-1)*segStride+segWords+rng.IntN(50)+1)
			for i := range src {
				src[i] = rng.Uint64() & rng.Uint64()
			}
			span := (segs-1)*segStride + segWords
			off := make([]int32, m)
			pop := make([]int32, m)
			words := segs * segWords
			rows := make([]uint64, m*words)
			for i := range off {
				off[i] = int32(rng.IntN(len(src) - span + 1))
				for s := 0; s < segs; s++ {
					copy(rows[i*words+s*segWords:], src[int(off[i])+s*segStride:int(off[i])+s*segStride+segWords])
				}
				pop[i] = int32(k.RowPopcount(src, int(off[i]), segs, segStride, segWords))
			}
			w := make([]uint64, n*words)
			for i := range w {
				w[i] = rng.Uint64()
			}
			want := make([]int32, m*n)
			if err := Generic.AndGemm(want, rows, m, w, n, words); err != nil {
				t.Fatal(err)
			}
			got := make([]int32, m*n+1)
			got[m*n] = 0x5a5a
			if err := k.AndGemmRows(got, src, off, pop, segs, segStride, segWords, w, n); err != nil {
				t.Fatal(err)
			}
			if got[m*n] != 0x5a5a {
				t.Fatalf("%s: wrote past dst", k.Name)
			}
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("%s: segs=%d segWords=%d stride=%d m=%d n=%d: dst[%d] = %d, want %d", k.Name, segs, segWords, segStride, m, n, i, got[i], want[i])
				}
			}
		}
	}
}

func TestAndGemmRowsRejectsOutOfRange(t *testing.T) {
	src := make([]uint64, 10)
	dst := make([]int32, 4)
	w := make([]uint64, 8)
	pop := []int32{0, 0}
	if err := Generic.AndGemmRows(dst, src, []int32{0, 7}, pop, 2, 4, 2, w, 2); err == nil {
		t.Error("row ending past src accepted")
	}
	if err := Generic.AndGemmRows(dst, src, []int32{-1, 0}, pop, 2, 4, 2, w, 2); err == nil {
		t.Error("negative offset accepted")
	}
	if err := Generic.AndGemmRows(dst, src, []int32{0, 4}, pop, 2, 4, 2, w, 2); err != nil {
		t.Errorf("rows inside src rejected: %v", err)
	}
}

// rowsCase builds a random AndGemmRows problem: a src of guard-padded
// segments at random offsets, weights at an unaligned start, and pop.
type rowsCase struct {
	src                       []uint64
	off, pop                  []int32
	segs, segStride, segWords int
	w                         []uint64
	n                         int
}

func newRowsCase(rng *rand.Rand, m, n, segs, segWords, gap int) rowsCase {
	c := rowsCase{segs: segs, segWords: segWords, segStride: segWords + gap, n: n}
	span := max((segs-1)*c.segStride+segWords, 0)
	c.src = workspace(rng, span+rng.IntN(3*max(span, 1))+1)
	fillWords(rng, c.src, rng.IntN(numModes))
	c.w = workspace(rng, n*segs*segWords)
	fillWords(rng, c.w, rng.IntN(numModes))
	c.off = make([]int32, m)
	c.pop = make([]int32, m)
	for i := range c.off {
		c.off[i] = int32(rng.IntN(len(c.src) - span + 1))
		c.pop[i] = int32(Generic.RowPopcount(c.src, int(c.off[i]), segs, c.segStride, segWords))
	}
	return c
}

func (c *rowsCase) check(t *testing.T, rng *rand.Rand, what string) {
	t.Helper()
	m := len(c.off)
	want := make([]int32, m*c.n)
	andGemmRowsGeneric(want, c.src, c.off, c.pop, c.segs, c.segStride, c.segWords, c.w, c.n)
	src0, w0 := slices.Clone(c.src), slices.Clone(c.w)
	for _, k := range Available() {
		dst, guard := guarded(rng, m*c.n)
		if err := k.AndGemmRows(dst, c.src, c.off, c.pop, c.segs, c.segStride, c.segWords, c.w, c.n); err != nil {
			t.Fatal(err)
		}
		guard(t, k.Name+" AndGemmRows "+what)
		if !slices.Equal(dst, want) {
			t.Fatalf("%s AndGemmRows %s m=%d n=%d segs=%d segWords=%d stride=%d:\n got %v\nwant %v", k.Name, what, m, c.n, c.segs, c.segWords, c.segStride, dst, want)
		}
		if !slices.Equal(c.src, src0) || !slices.Equal(c.w, w0) {
			t.Fatalf("%s AndGemmRows modified its inputs", k.Name)
		}
	}
}

// TestAndGemmRowsShapes checks every set against the generic twin on the
// conv shapes (segs = 3, segWords = 3·pw), linear shapes (segs = 1), all
// row and weight-row remainders of the 4×4 blocks, and segment lengths
// 0..3 vectors + 1 of the widest set, in place and gathered.
func TestAndGemmRowsShapes(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 9))
	for _, pw := range []int{1, 2, 4, 8} {
		for _, m := range []int{1, 4, 7, 9} {
			for _, n := range []int{4, 5, 8, 11} {
				c := newRowsCase(rng, m, n, 3, 3*pw, 2*pw+rng.IntN(5)*pw)
				c.check(t, rng, "conv")
			}
		}
	}
	for segWords := 0; segWords <= 3*8+1; segWords++ {
		for _, segs := range []int{1, 2, 3} {
			for _, gap := range []int{0, 1, 5} {
				c := newRowsCase(rng, rng.IntN(10), rng.IntN(10), segs, segWords, gap)
				c.check(t, rng, "lengths")
			}
		}
	}
	// The 8×16 row-vectorised blocks (m ≥ 8, n ≥ 16) and their remainders.
	for _, m := range []int{8, 9, 15, 17, 24} {
		for _, n := range []int{16, 17, 20, 23, 32, 37} {
			c := newRowsCase(rng, m, n, 3, 3*(1+rng.IntN(8)), rng.IntN(9))
			c.check(t, rng, "8×16")
		}
	}
	for _, words := range []int{63, 64, 65, 127, 250} {
		c := newRowsCase(rng, 5, 6, 1, words, 0)
		c.check(t, rng, "linear")
	}
	// Long rows: the gather buffer grows.
	c := newRowsCase(rng, 6, 5, 3, 300, 7)
	c.check(t, rng, "long")
}

// TestAndGemmRowsBadPop: pop is taken as given (the caller's popcount), the
// same way by every set.
func TestAndGemmRowsBadPop(t *testing.T) {
	rng := rand.New(rand.NewPCG(10, 11))
	c := newRowsCase(rng, 9, 9, 3, 6, 4)
	for i := range c.pop {
		c.pop[i] = int32(rng.Uint32())
	}
	c.pop[0] = -1 << 31
	c.check(t, rng, "bad pop")
}

func TestAndGemmRowsAllocs(t *testing.T) {
	if raceOn {
		t.Skip("sync.Pool drops items at random under the race detector")
	}
	rng := rand.New(rand.NewPCG(12, 13))
	c := newRowsCase(rng, 64, 64, 3, 12, 60)
	dst := make([]int32, 64*64)
	for _, k := range Available() {
		allocs := testing.AllocsPerRun(20, func() {
			if err := k.AndGemmRows(dst, c.src, c.off, c.pop, c.segs, c.segStride, c.segWords, c.w, c.n); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("%s: AndGemmRows allocates %v times per call", k.Name, allocs)
		}
	}
}

func FuzzAndGemmRows(f *testing.F) {
	f.Add([]byte{}, uint8(5), uint8(8), uint8(3), uint8(12), uint8(20))
	f.Add(make([]byte, 64), uint8(4), uint8(4), uint8(1), uint8(9), uint8(0))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1}, uint8(9), uint8(13), uint8(3), uint8(3), uint8(2))
	f.Fuzz(func(t *testing.T, data []byte, m, n, segs, segWords, gap uint8) {
		h := uint64(len(data))
		for _, b := range data {
			h = h*131 + uint64(b)
		}
		rng := rand.New(rand.NewPCG(h, uint64(m)<<8|uint64(n)))
		c := newRowsCase(rng, int(m%19), int(n%37), int(segs%4), int(segWords%40), int(gap%9))
		// The fuzzer's bytes become the first words of src directly.
		for i := 0; i+8 <= len(data) && i/8 < len(c.src); i += 8 {
			c.src[i/8] = binary.LittleEndian.Uint64(data[i:])
		}
		for i, o := range c.off {
			c.pop[i] = int32(Generic.RowPopcount(c.src, int(o), c.segs, c.segStride, c.segWords))
		}
		c.check(t, rng, "fuzz")
	})
}
