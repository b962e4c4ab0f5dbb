package f32

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

func randSlice(r *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(r.NormFloat64())
	}
	return s
}

// TestGemmMatchesGeneric checks the selected kernel against the generic
// loops bit for bit, over shapes that exercise every block and tail, with
// strided operands and guard values around C.
func TestGemmMatchesGeneric(t *testing.T) {
	t.Logf("accelerated: %q", Accelerated)
	r := rand.New(rand.NewPCG(1, 2))
	for _, m := range []int{1, 3, 4, 5, 9} {
		for _, n := range []int{1, 15, 16, 17, 33, 48} {
			for _, k := range []int{1, 2, 7, 64} {
				lda, ldb, ldc := k+3, n+5, n+2
				a, b := randSlice(r, m*lda), randSlice(r, k*ldb)
				c0 := randSlice(r, m*ldc+8)
				want, got := slices.Clone(c0), slices.Clone(c0)
				gemmGeneric(m, n, k, a, lda, b, ldb, want, ldc)
				Gemm(m, n, k, a, lda, b, ldb, got, ldc)
				if !slices.Equal(got, want) {
					t.Fatalf("m=%d n=%d k=%d: Gemm differs from gemmGeneric", m, n, k)
				}
			}
		}
	}
}

func TestGemmF64(t *testing.T) {
	a := []float32{1, 2, 3, 4, 5, 6}    // 2×3
	b := []float32{1, 0, 0, 1, 1e8, -1} // 3×2
	c := make([]float32, 4)
	GemmF64(2, 2, 3, a, 3, b, 2, c, 2)
	// float64 accumulation keeps 1 + 3e8 − 3e8 exact where float32 would not.
	want := []float32{float32(1 + 3e8), 2 - 3, float32(4 + 6e8), 5 - 6}
	if !slices.Equal(c, want) {
		t.Fatalf("GemmF64 = %v, want %v", c, want)
	}
	if got := DotF64([]float32{1e8, 1, -1e8}, []float32{1, 1, 1}); got != 1 {
		t.Fatalf("DotF64 = %v, want 1 (float64 accumulation)", got)
	}
}

func TestAddRowsMatchesGeneric(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{1, 7, 8, 9, 64, 70} {
		for _, words := range []int{1, 3} {
			ldd := n + 3
			bits := make([]uint64, words)
			for i := range bits {
				bits[i] = r.Uint64() & r.Uint64()
			}
			bits[0] |= 1 | 1<<63
			src := randSlice(r, n)
			d0 := randSlice(r, 64*words*ldd)
			want, got := slices.Clone(d0), slices.Clone(d0)
			addRowsGeneric(want, ldd, src, bits)
			AddRows(got, ldd, src, bits)
			if !slices.Equal(got, want) {
				t.Fatalf("n=%d words=%d: AddRows differs from addRowsGeneric", n, words)
			}
			// Rows without a bit are untouched.
			for i := 0; i < 64*words; i++ {
				set := bits[i/64]>>uint(i%64)&1 == 1
				if !set && !slices.Equal(got[i*ldd:i*ldd+n], d0[i*ldd:i*ldd+n]) {
					t.Fatalf("row %d changed without a bit", i)
				}
			}
		}
	}
}

func BenchmarkGemm(b *testing.B) {
	for _, sh := range [][3]int{{64, 288, 784}, {288, 784, 64}} {
		m, n, k := sh[0], sh[1], sh[2]
		r := rand.New(rand.NewPCG(1, 2))
		a, bb, c := randSlice(r, m*k), randSlice(r, k*n), make([]float32, m*n)
		b.Run(fmt.Sprintf("%dx%dx%d", m, n, k), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				Gemm(m, n, k, a, k, bb, n, c, n)
			}
			b.ReportMetric(float64(m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GMAC/s")
		})
	}
}

func BenchmarkGemmStrided(b *testing.B) {
	for _, sh := range [][4]int{{32, 840, 64, 900}, {64, 224, 64, 256}, {64, 224, 64, 272}} {
		m, n, k, ldb := sh[0], sh[1], sh[2], sh[3]
		r := rand.New(rand.NewPCG(1, 2))
		a, bb, c := randSlice(r, m*k), randSlice(r, k*ldb+16), make([]float32, m*n)
		b.Run(fmt.Sprintf("%dx%dx%d/ldb%d", m, n, k, ldb), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				Gemm(m, n, k, a, k, bb, ldb, c, n)
			}
			b.ReportMetric(float64(m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GMAC/s")
		})
	}
}

func TestLIFBackwardMatchesGeneric(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, n := range []int{1, 7, 8, 9, 64, 100} {
		for _, hard := range []bool{true, false} {
			for _, detach := range []bool{true, false} {
				u := randSlice(r, n)
				s := make([]float32, n)
				for i := range s {
					if r.IntN(3) == 0 {
						s[i] = 1
					}
				}
				g, dx0, dh0 := randSlice(r, n), randSlice(r, n), randSlice(r, n)
				dxw, dhw := slices.Clone(dx0), slices.Clone(dh0)
				lifBackwardGeneric(u, s, g, dxw, dhw, 1, 1.2, 1/(1.2*1.2), 0.5, hard, detach)
				dxg, dhg := slices.Clone(dx0), slices.Clone(dh0)
				LIFBackward(u, s, g, dxg, dhg, 1, 1.2, 1/(1.2*1.2), 0.5, hard, detach)
				if !slices.Equal(dxg, dxw) || !slices.Equal(dhg, dhw) {
					t.Fatalf("n=%d hard=%v detach=%v: LIFBackward differs from the generic loop", n, hard, detach)
				}
			}
		}
	}
}

func TestWinogradKernelsMatchGeneric(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, n := range []int{3, 8, 16, 40} {
		lds, ldd := 5*n+3, 2*n+1
		src := randSlice(r, 4*lds)
		want, got := make([]float32, 16*ldd), make([]float32, 16*ldd)
		winogradInGeneric(want, ldd, src, lds, n)
		WinogradIn(got, ldd, src, lds, n)
		if !slices.Equal(got, want) {
			t.Fatalf("n=%d: WinogradIn differs from the generic loop", n)
		}
		q := randSlice(r, 16*ldd)
		want, got = make([]float32, 2*lds), make([]float32, 2*lds)
		winogradOutGeneric(want, lds, q, ldd, n)
		WinogradOut(got, lds, q, ldd, n)
		if !slices.Equal(got, want) {
			t.Fatalf("n=%d: WinogradOut differs from the generic loop", n)
		}
	}
}

func TestLIFStepMatchesGeneric(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for _, n := range []int{1, 7, 8, 9, 64, 100} {
		for _, hard := range []bool{true, false} {
			x, u := randSlice(r, n), randSlice(r, n)
			s := make([]float32, n)
			for i := range s {
				s[i] = float32(r.IntN(2))
			}
			rb0 := make([]uint64, n)
			for i := range rb0 {
				rb0[i] = r.Uint64() &^ (1 << 5)
			}
			uw, sw, rbw := make([]float32, n), make([]float32, n), slices.Clone(rb0)
			cw := lifStepGeneric(x, u, s, uw, sw, rbw, 1<<5, 0.5, 0.3, hard)
			ug, sg, rbg := make([]float32, n), make([]float32, n), slices.Clone(rb0)
			cg := LIFStep(x, u, s, ug, sg, rbg, 1<<5, 0.5, 0.3, hard)
			if cg != cw || !slices.Equal(ug, uw) || !slices.Equal(sg, sw) || !slices.Equal(rbg, rbw) {
				t.Fatalf("n=%d hard=%v: LIFStep differs from the generic loop", n, hard)
			}
			if n > 8 && (cw == 0 || cw == n) {
				t.Fatalf("n=%d: %d spikes, the test data should give some", n, cw)
			}
			// In place: uo = u, so = s.
			ui, si, rbi := slices.Clone(u), slices.Clone(s), slices.Clone(rb0)
			if c := LIFStep(x, ui, si, ui, si, rbi, 1<<5, 0.5, 0.3, hard); c != cw || !slices.Equal(ui, uw) || !slices.Equal(si, sw) {
				t.Fatalf("n=%d hard=%v: in-place LIFStep differs", n, hard)
			}
		}
	}
}
