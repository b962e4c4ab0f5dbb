package bitops

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestAndGemmRowsTMatchesRows checks every set's AndGemmRowsT (word-major
// weights) against the generic AndGemmRows over random shapes, with the
// channel counts around the 32-channel blocks and guard words after dst.
func TestAndGemmRowsTMatchesRows(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 8))
	ns := []int{0, 1, 31, 32, 33, 63, 64, 65, 96, 128}
	for _, k := range Available() {
		for trial := 0; trial < 300; trial++ {
			segs := 1 + rng.IntN(4)
			segWords := rng.IntN(12)
			segStride := segWords + rng.IntN(20)
			m := rng.IntN(11)
			n := ns[rng.IntN(len(ns))]
			if trial%3 == 0 {
				n = rng.IntN(100)
			}
			src := make([]uint64, (segs-1)*segStride+segWords+rng.IntN(50)+1)
			for i := range src {
				src[i] = rng.Uint64() & rng.Uint64()
			}
			span := (segs-1)*segStride + segWords
			off := make([]int32, m)
			pop := make([]int32, m)
			for i := range off {
				off[i] = int32(rng.IntN(len(src) - span + 1))
				pop[i] = int32(k.RowPopcount(src, int(off[i]), segs, segStride, segWords))
			}
			words := segs * segWords
			w := make([]uint64, n*words)
			for i := range w {
				w[i] = rng.Uint64()
			}
			want := make([]int32, m*n)
			if err := Generic.AndGemmRows(want, src, off, pop, segs, segStride, segWords, w, n); err != nil {
				t.Fatal(err)
			}
			const guard = 4
			got := make([]int32, m*n+guard)
			for i := m * n; i < len(got); i++ {
				got[i] = 0x5a5a
			}
			if err := k.AndGemmRowsT(got, src, off, pop, segs, segStride, segWords, TransposeWords(w, n, words), n); err != nil {
				t.Fatal(err)
			}
			for i := m * n; i < len(got); i++ {
				if got[i] != 0x5a5a {
					t.Fatalf("%s: wrote past dst", k.Name)
				}
			}
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("%s: segs=%d segWords=%d stride=%d m=%d n=%d: dst[%d] = %d, want %d", k.Name, segs, segWords, segStride, m, n, i, got[i], want[i])
				}
			}
		}
	}
}

// TestAndConvRowsTMatchesGeneric checks every set's fused conv rows (GEMM
// plus affine, written through a row map) against the generic kernel bit
// for bit, with rows of out not in the map left untouched.
func TestAndConvRowsTMatchesGeneric(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	ns := []int{1, 31, 32, 33, 64, 65, 96, 128}
	for _, k := range Available() {
		for trial := 0; trial < 300; trial++ {
			segs := 1 + rng.IntN(3)
			segWords := rng.IntN(10)
			segStride := segWords + rng.IntN(20)
			m := rng.IntN(11)
			n := ns[rng.IntN(len(ns))]
			src := make([]uint64, (segs-1)*segStride+segWords+rng.IntN(50)+1)
			for i := range src {
				src[i] = rng.Uint64() & rng.Uint64()
			}
			span := (segs-1)*segStride + segWords
			off := make([]int32, m)
			pop := make([]int32, m)
			orow := make([]int32, m)
			perm := rng.Perm(m + 3)
			for i := range off {
				off[i] = int32(rng.IntN(len(src) - span + 1))
				pop[i] = int32(k.RowPopcount(src, int(off[i]), segs, segStride, segWords))
				orow[i] = int32(perm[i])
			}
			words := segs * segWords
			wt := make([]uint64, n*words)
			for i := range wt {
				wt[i] = rng.Uint64()
			}
			scale, bias := make([]float32, n), make([]float32, n)
			for j := range scale {
				scale[j] = float32(rng.NormFloat64())
				bias[j] = float32(rng.NormFloat64())
			}
			want := make([]float32, (m+3)*n)
			got := make([]float32, (m+3)*n)
			for i := range want {
				want[i], got[i] = 7, 7
			}
			if err := Generic.AndConvRowsT(want, orow, src, off, pop, segs, segStride, segWords, wt, n, scale, bias); err != nil {
				t.Fatal(err)
			}
			if err := k.AndConvRowsT(got, orow, src, off, pop, segs, segStride, segWords, wt, n, scale, bias); err != nil {
				t.Fatal(err)
			}
			for i := range want {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					t.Fatalf("%s: segs=%d segWords=%d m=%d n=%d: out[%d] = %v, want %v", k.Name, segs, segWords, m, n, i, got[i], want[i])
				}
			}
			// The generic kernel against the integer GEMM and the affine in Go.
			acc := make([]int32, m*n)
			if err := Generic.AndGemmRowsT(acc, src, off, pop, segs, segStride, segWords, wt, n); err != nil {
				t.Fatal(err)
			}
			for i := range off {
				for j := 0; j < n; j++ {
					v := float32(float32(acc[i*n+j])*scale[j]) + bias[j]
					if math.Float32bits(want[int(orow[i])*n+j]) != math.Float32bits(v) {
						t.Fatalf("generic affine row %d channel %d: %v, want %v", i, j, want[int(orow[i])*n+j], v)
					}
				}
			}
		}
	}
}
