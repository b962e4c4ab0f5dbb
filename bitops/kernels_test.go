package bitops

import (
	"fmt"
	"math/bits"
	"math/rand/v2"
	"slices"
	"testing"
)

// Every registered set is checked against the generic set (and the generic
// set against a bit-by-bit reference) over row lengths that cover 0 to
// several SIMD blocks, the AVX2 byte-accumulator chunk (30 vectors = 120
// words), odd word offsets, guard words around dst and read-only inputs.

const canary = int32(-0x5a5a5a5b)

// testLengths are the row lengths in words every kernel is checked at:
// 0..(3 blocks of the widest set + 1), around the AVX2 chunk limit, and a
// few long rows.
var testLengths = func() []int {
	var l []int
	for w := 0; w <= 3*8+1; w++ {
		l = append(l, w)
	}
	return append(l, 31, 32, 33, 63, 64, 65, 119, 120, 121, 123, 124, 125, 127, 241, 250)
}()

// fill modes for inputs.
const (
	modeRandom = iota
	modeZero
	modeOnes
	modeSparse10 // each bit set with probability 0.1
	modeSparse1  // each bit set with probability 0.01
	modeBlocks   // random words, with random whole words and 8-word runs zeroed
	modeOnesRuns // all ones with a quarter of the 8-word runs zeroed: maximal counts through the sparse path
	numModes
)

func fillWords(rng *rand.Rand, x []uint64, mode int) {
	switch mode {
	case modeRandom:
		for i := range x {
			x[i] = rng.Uint64()
		}
	case modeZero:
		clear(x)
	case modeOnes:
		for i := range x {
			x[i] = ^uint64(0)
		}
	case modeSparse10, modeSparse1:
		p := 0.1
		if mode == modeSparse1 {
			p = 0.01
		}
		for i := range x {
			var v uint64
			for b := 0; b < 64; b++ {
				if rng.Float64() < p {
					v |= 1 << b
				}
			}
			x[i] = v
		}
	case modeOnesRuns:
		for i := range x {
			x[i] = ^uint64(0)
		}
		for i := 0; i < len(x); i += 8 {
			if rng.IntN(4) == 0 {
				clear(x[i:min(i+8, len(x))])
			}
		}
	case modeBlocks:
		for i := range x {
			x[i] = rng.Uint64()
		}
		for i := 0; i < len(x); i += 8 {
			switch rng.IntN(3) {
			case 0:
				clear(x[i:min(i+8, len(x))])
			case 1:
				x[i] = 0
			}
		}
	}
}

// workspace returns a slice of length n starting at a random odd or even
// offset inside a larger buffer, so kernels see unaligned starts.
func workspace(rng *rand.Rand, n int) []uint64 {
	off := rng.IntN(8)
	buf := make([]uint64, off+n+3)
	return buf[off : off+n : off+n]
}

// guarded returns a dst of n int32 inside a buffer of canaries, and a check
// that the canaries are intact.
func guarded(rng *rand.Rand, n int) ([]int32, func(t *testing.T, what string)) {
	pre := 1 + rng.IntN(9)
	buf := make([]int32, pre+n+9)
	for i := range buf {
		buf[i] = canary
	}
	dst := buf[pre : pre+n : pre+n]
	return dst, func(t *testing.T, what string) {
		t.Helper()
		for i := 0; i < pre; i++ {
			if buf[i] != canary {
				t.Fatalf("%s: guard word %d before dst overwritten: %d", what, pre-i, buf[i])
			}
		}
		for i := pre + n; i < len(buf); i++ {
			if buf[i] != canary {
				t.Fatalf("%s: guard word %d after dst overwritten: %d", what, i-pre-n, buf[i])
			}
		}
	}
}

// naiveAnd is the bit-by-bit definition of AndGemm.
func naiveAnd(s []uint64, m int, w []uint64, n, words int) []int32 {
	out := make([]int32, m*n)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			sum := 0
			for b := 0; b < words*64; b++ {
				sb := s[i*words+b/64] >> (b % 64) & 1
				wb := w[j*words+b/64] >> (b % 64) & 1
				if sb == 1 {
					if wb == 1 {
						sum++
					} else {
						sum--
					}
				}
			}
			out[i*n+j] = int32(sum)
		}
	}
	return out
}

// naiveXnor is the bit-by-bit definition of XnorGemm.
func naiveXnor(a []uint64, m int, w []uint64, n, words, nbits int) []int32 {
	out := make([]int32, m*n)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			sum := 0
			for b := 0; b < nbits; b++ {
				ab := a[i*words+b/64] >> (b % 64) & 1
				wb := w[j*words+b/64] >> (b % 64) & 1
				if ab == wb {
					sum++
				} else {
					sum--
				}
			}
			out[i*n+j] = int32(sum)
		}
	}
	return out
}

// clearPad zeroes the bits past nbits in every row, as bsnn's packing does.
func clearPad(x []uint64, rows, words, nbits int) {
	if nbits == words*64 {
		return
	}
	last := nbits / 64
	for r := 0; r < rows; r++ {
		row := x[r*words : (r+1)*words]
		if last < words {
			row[last] &= 1<<(nbits%64) - 1
			clear(row[last+1:])
		}
	}
}

// allSets returns every available set, generic included, so a build without
// assembly still runs the API, stats and guard checks.
func allSets() []*Kernels { return Available() }

func TestGenericMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, words := range []int{0, 1, 2, 3, 4, 5, 7, 9} {
		for _, m := range []int{0, 1, 2, 3} {
			for _, n := range []int{0, 1, 4, 5, 6} {
				for mode := 0; mode < numModes; mode++ {
					s := workspace(rng, m*words)
					w := workspace(rng, n*words)
					fillWords(rng, s, mode)
					fillWords(rng, w, rng.IntN(numModes))
					dst := make([]int32, m*n)
					andGemmGeneric(dst, s, m, w, n, words)
					if want := naiveAnd(s, m, w, n, words); !slices.Equal(dst, want) {
						t.Fatalf("andGemmGeneric m=%d n=%d words=%d mode=%d: got %v want %v", m, n, words, mode, dst, want)
					}
					nbits := words * 64
					if words > 0 {
						nbits -= rng.IntN(64)
					}
					clearPad(s, m, words, nbits)
					clearPad(w, n, words, nbits)
					xnorGemmGeneric(dst, s, m, w, n, words, nbits)
					if want := naiveXnor(s, m, w, n, words, nbits); !slices.Equal(dst, want) {
						t.Fatalf("xnorGemmGeneric m=%d n=%d words=%d nbits=%d: got %v want %v", m, n, words, nbits, dst, want)
					}
				}
			}
		}
	}
}

// gemmCase runs one AndGemm/XnorGemm/AndGemmSparse comparison of k against
// generic with fresh random inputs.
func gemmCase(t *testing.T, rng *rand.Rand, k *Kernels, m, n, words, smode, wmode int) {
	t.Helper()
	s := workspace(rng, m*words)
	w := workspace(rng, n*words)
	fillWords(rng, s, smode)
	fillWords(rng, w, wmode)
	s0, w0 := slices.Clone(s), slices.Clone(w)
	name := fmt.Sprintf("%s m=%d n=%d words=%d modes=%d/%d", k.Name, m, n, words, smode, wmode)

	want := make([]int32, m*n)
	andGemmGeneric(want, s, m, w, n, words)
	dst, check := guarded(rng, m*n)
	if err := k.AndGemm(dst, s, m, w, n, words); err != nil {
		t.Fatalf("%s: AndGemm: %v", name, err)
	}
	check(t, name+" AndGemm")
	if !slices.Equal(dst, want) {
		t.Fatalf("%s: AndGemm differs from generic:\n got %v\nwant %v", name, dst, want)
	}

	dst, check = guarded(rng, m*n)
	st, err := k.AndGemmSparse(dst, s, m, w, n, words)
	if err != nil {
		t.Fatalf("%s: AndGemmSparse: %v", name, err)
	}
	check(t, name+" AndGemmSparse")
	if !slices.Equal(dst, want) {
		t.Fatalf("%s: AndGemmSparse differs from generic AndGemm:\n got %v\nwant %v", name, dst, want)
	}
	checkStats(t, name, st, s, m, words)

	ew, err := NewEventWeights(w, n, words)
	if err != nil {
		t.Fatalf("%s: NewEventWeights: %v", name, err)
	}
	dst, check = guarded(rng, m*n)
	st, err = k.AndGemmEvents(dst, s, m, ew)
	if err != nil {
		t.Fatalf("%s: AndGemmEvents: %v", name, err)
	}
	check(t, name+" AndGemmEvents")
	if !slices.Equal(dst, want) {
		t.Fatalf("%s: AndGemmEvents differs from generic AndGemm:\n got %v\nwant %v", name, dst, want)
	}
	checkEventStats(t, name, st, s, m, words)
	if !slices.Equal(s, s0) || !slices.Equal(w, w0) {
		t.Fatalf("%s: AndGemm, AndGemmSparse or AndGemmEvents modified its inputs", name)
	}

	nbits := words * 64
	if words > 0 {
		nbits -= rng.IntN(64)
	}
	clearPad(s, m, words, nbits)
	clearPad(w, n, words, nbits)
	s0, w0 = slices.Clone(s), slices.Clone(w)
	xnorGemmGeneric(want, s, m, w, n, words, nbits)
	dst, check = guarded(rng, m*n)
	if err := k.XnorGemm(dst, s, m, w, n, words, nbits); err != nil {
		t.Fatalf("%s: XnorGemm: %v", name, err)
	}
	check(t, name+" XnorGemm")
	if !slices.Equal(dst, want) {
		t.Fatalf("%s nbits=%d: XnorGemm differs from generic:\n got %v\nwant %v", name, nbits, dst, want)
	}
	if !slices.Equal(s, s0) || !slices.Equal(w, w0) {
		t.Fatalf("%s: a kernel modified its inputs", name)
	}
}

// checkStats verifies the counters of AndGemmSparse against the input.
func checkStats(t *testing.T, name string, st SparseStats, s []uint64, m, words int) {
	t.Helper()
	if st.Rows != int64(m) || st.Words != int64(m*words) {
		t.Fatalf("%s: stats Rows=%d Words=%d, want %d and %d", name, st.Rows, st.Words, m, m*words)
	}
	zeroRows, zeroWords := 0, 0
	for i := 0; i < m; i++ {
		row := s[i*words : (i+1)*words]
		if AllZero(row) {
			zeroRows++
		}
		zeroWords += words - NonZeroWords(row)
	}
	if st.SkippedRows != int64(zeroRows) {
		t.Fatalf("%s: SkippedRows=%d, input has %d all-zero rows", name, st.SkippedRows, zeroRows)
	}
	if st.SkippedWords < int64(zeroRows*words) || st.SkippedWords > int64(zeroWords) {
		t.Fatalf("%s: SkippedWords=%d outside [%d, %d]", name, st.SkippedWords, zeroRows*words, zeroWords)
	}
	if st.DenseRows+st.SkippedRows > st.Rows {
		t.Fatalf("%s: DenseRows=%d + SkippedRows=%d > Rows=%d", name, st.DenseRows, st.SkippedRows, st.Rows)
	}
}

// checkEventStats verifies the counters of AndGemmEvents against the input.
func checkEventStats(t *testing.T, name string, st SparseStats, s []uint64, m, words int) {
	t.Helper()
	var want SparseStats
	want.Rows, want.Words = int64(m), int64(m*words)
	for i := 0; i < m; i++ {
		row := s[i*words : (i+1)*words]
		if AllZero(row) {
			want.SkippedRows++
		}
		want.SkippedWords += int64(words - NonZeroWords(row))
		want.Spikes += int64(popcountGeneric(row))
	}
	if st != want {
		t.Fatalf("%s: AndGemmEvents stats %+v, want %+v", name, st, want)
	}
}

func TestGemmAllLengths(t *testing.T) {
	for _, k := range allSets() {
		t.Run(k.Name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(3, uint64(len(k.Name))))
			for _, words := range testLengths {
				for _, mn := range [][2]int{{1, 1}, {1, 4}, {2, 4}, {3, 5}, {2, 11}, {5, 8}} {
					gemmCase(t, rng, k, mn[0], mn[1], words, modeRandom, modeRandom)
				}
				gemmCase(t, rng, k, 4, 8, words, rng.IntN(numModes), rng.IntN(numModes))
			}
		})
	}
}

func TestGemmModes(t *testing.T) {
	for _, k := range allSets() {
		t.Run(k.Name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(4, uint64(len(k.Name))))
			for smode := 0; smode < numModes; smode++ {
				for wmode := 0; wmode < numModes; wmode++ {
					for _, words := range []int{1, 4, 9, 36, 37, 64, 125, 250} {
						gemmCase(t, rng, k, 3, 9, words, smode, wmode)
					}
				}
			}
		})
	}
}

func TestGemmRandomShapes(t *testing.T) {
	iters := 300
	if testing.Short() {
		iters = 60
	}
	for _, k := range allSets() {
		t.Run(k.Name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(5, uint64(len(k.Name))))
			for it := 0; it < iters; it++ {
				m, n, words := rng.IntN(9), rng.IntN(19), rng.IntN(80)
				gemmCase(t, rng, k, m, n, words, rng.IntN(numModes), rng.IntN(numModes))
			}
		})
	}
}

// TestSparseSkips checks that AndGemmSparse really skips: rows of silent
// pixels and silent whole rows are reported, with the exact outputs.
func TestSparseSkips(t *testing.T) {
	for _, k := range allSets() {
		t.Run(k.Name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(6, 7))
			const m, n, words = 12, 10, 72
			s := make([]uint64, m*words)
			w := make([]uint64, n*words)
			fillWords(rng, w, modeRandom)
			fillWords(rng, s, modeRandom)
			clear(s[0:words])           // row 0 silent
			clear(s[5*words : 6*words]) // row 5 silent
			// Rows 2 and 3: only the first 8 words live.
			clear(s[2*words+8 : 3*words])
			clear(s[3*words+8 : 4*words])
			want := make([]int32, m*n)
			andGemmGeneric(want, s, m, w, n, words)
			dst := make([]int32, m*n)
			for i := range dst {
				dst[i] = canary // silent rows must be written, not left alone
			}
			st, err := k.AndGemmSparse(dst, s, m, w, n, words)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(dst, want) {
				t.Fatalf("got %v\nwant %v", dst, want)
			}
			if st.SkippedRows != 2 {
				t.Errorf("SkippedRows = %d, want 2", st.SkippedRows)
			}
			if want := int64(2*words + 2*(words-8)); st.SkippedWords != want {
				t.Errorf("SkippedWords = %d, want %d", st.SkippedWords, want)
			}
			if st.DenseRows != m-4 {
				t.Errorf("DenseRows = %d, want %d", st.DenseRows, m-4)
			}
			var total SparseStats
			total.Add(st)
			total.Add(st)
			if total.SkippedWords != 2*st.SkippedWords || total.Rows != 2*m {
				t.Errorf("SparseStats.Add: got %+v from twice %+v", total, st)
			}
		})
	}
}

func TestDotsAndPopcount(t *testing.T) {
	for _, k := range allSets() {
		t.Run(k.Name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(8, 9))
			for _, words := range testLengths {
				for mode := 0; mode < numModes; mode++ {
					a := workspace(rng, words)
					b := workspace(rng, words)
					fillWords(rng, a, mode)
					fillWords(rng, b, rng.IntN(numModes))
					a0, b0 := slices.Clone(a), slices.Clone(b)

					want := 0
					for i := range a {
						want += bits.OnesCount64(a[i])
					}
					if got := k.Popcount(a); got != want {
						t.Fatalf("Popcount words=%d mode=%d: got %d want %d", words, mode, got, want)
					}
					got, err := k.AndDot(a, b)
					if err != nil {
						t.Fatal(err)
					}
					if ref := naiveAnd(a, 1, b, 1, words)[0]; got != int(ref) {
						t.Fatalf("AndDot words=%d: got %d want %d", words, got, ref)
					}
					if !slices.Equal(a, a0) || !slices.Equal(b, b0) {
						t.Fatal("Popcount or AndDot modified its inputs")
					}
					nbits := words * 64
					if words > 0 {
						nbits -= rng.IntN(64)
					}
					clearPad(a, 1, words, nbits)
					clearPad(b, 1, words, nbits)
					a0, b0 = slices.Clone(a), slices.Clone(b)
					got, err = k.XnorDot(a, b, nbits)
					if err != nil {
						t.Fatal(err)
					}
					if ref := naiveXnor(a, 1, b, 1, words, nbits)[0]; got != int(ref) {
						t.Fatalf("XnorDot words=%d nbits=%d: got %d want %d", words, nbits, got, ref)
					}
					if !slices.Equal(a, a0) || !slices.Equal(b, b0) {
						t.Fatal("dot modified its inputs")
					}
				}
			}
		})
	}
}

func TestGemv(t *testing.T) {
	for _, k := range allSets() {
		t.Run(k.Name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(10, 11))
			for _, words := range []int{0, 1, 3, 4, 5, 8, 9, 16, 64, 65} {
				for _, rows := range []int{0, 1, 3, 4, 7, 33} {
					x := workspace(rng, words)
					w := workspace(rng, rows*words)
					fillWords(rng, x, modeRandom)
					fillWords(rng, w, modeRandom)
					want := make([]int32, rows)
					andGemmGeneric(want, x, 1, w, rows, words)
					dst, check := guarded(rng, rows)
					if err := k.AndGemv(dst, w, rows, x); err != nil {
						t.Fatal(err)
					}
					check(t, "AndGemv")
					if !slices.Equal(dst, want) {
						t.Fatalf("AndGemv words=%d rows=%d: got %v want %v", words, rows, dst, want)
					}
					nbits := words * 64
					xnorGemmGeneric(want, x, 1, w, rows, words, nbits)
					dst, check = guarded(rng, rows)
					if err := k.XnorGemv(dst, w, rows, x, nbits); err != nil {
						t.Fatal(err)
					}
					check(t, "XnorGemv")
					if !slices.Equal(dst, want) {
						t.Fatalf("XnorGemv words=%d rows=%d: got %v want %v", words, rows, dst, want)
					}
				}
			}
		})
	}
}

func TestPopcountPeak(t *testing.T) {
	rng := rand.New(rand.NewPCG(12, 13))
	a, b := make([]uint64, PeakWords), make([]uint64, PeakWords)
	fillWords(rng, a, modeRandom)
	fillWords(rng, b, modeRandom)
	for _, k := range allSets() {
		for _, reps := range []int{0, 1, 3} {
			got, err := k.PopcountPeak(a, b, reps)
			if err != nil {
				t.Fatal(err)
			}
			if want := peakCount(a, b, reps, k.blockWords, k.peakRows, k.peakCols); got != want || reps > 0 && want == 0 {
				t.Errorf("%s: PopcountPeak(reps=%d) = %d, want %d", k.Name, reps, got, want)
			}
		}
		if _, err := k.PopcountPeak(a[:PeakWords-1], b, 1); err == nil {
			t.Errorf("%s: PopcountPeak accepted a short buffer", k.Name)
		}
		if _, err := k.PopcountPeak(a, b, -1); err == nil {
			t.Errorf("%s: PopcountPeak accepted negative reps", k.Name)
		}
	}
}

func TestAllZeroNonZeroWords(t *testing.T) {
	for n := 0; n < 12; n++ {
		x := make([]uint64, n)
		if !AllZero(x) || NonZeroWords(x) != 0 {
			t.Fatalf("n=%d: zero slice reported non-zero", n)
		}
		for i := 0; i < n; i++ {
			x[i] = 1 << (i * 7 % 64)
			if AllZero(x) {
				t.Fatalf("n=%d: word %d set but AllZero", n, i)
			}
			if NonZeroWords(x) != 1 {
				t.Fatalf("n=%d: NonZeroWords = %d, want 1", n, NonZeroWords(x))
			}
			x[i] = 0
		}
	}
}
