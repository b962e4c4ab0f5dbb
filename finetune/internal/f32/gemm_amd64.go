//go:build gc && !purego && !noasm

package f32

import (
	mbits "math/bits"

	"github.com/klauspost/cpuid/v2"
)

// Equivalent to gemmGeneric on a 4×16 block of C.
//
//go:noescape
func gemm4x16AVX2(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int)

// Equivalent to gemmGeneric on a 1×16 block of C.
//
//go:noescape
func gemm1x16AVX2(k int, a *float32, b *float32, ldb int, c *float32)

// Equivalent to addRowsGeneric for n a positive multiple of 8.
//
//go:noescape
func addRowsAVX2(dst *float32, ldd int, src *float32, n int, bits *uint64, words int)

// Equivalent to lifBackwardGeneric for n a positive multiple of 8; flags
// bit 0: hard reset, bit 1: detached.
//
//go:noescape
func lifBackwardAVX2(n int, u, s, gs, dx, dh *float32, vth, gm, g2, lam float32, flags int)

// Equivalent to winogradInGeneric and winogradOutGeneric for n a positive
// multiple of 8.
//
//go:noescape
func winogradInAVX2(dst *float32, ldd int, src *float32, lds int, n int)

//go:noescape
func winogradOutAVX2(dst *float32, ldd int, src *float32, lds int, n int)

// Equivalent to lifStepGeneric for n a positive multiple of 8.
//
//go:noescape
func lifStepAVX2(n int, x, u, s, uo, so *float32, rb *uint64, bit uint64, lam, vth float32, hard int) int

func init() {
	if cpuid.CPU.Supports(cpuid.AVX, cpuid.AVX2, cpuid.POPCNT) {
		gemm = gemmAVX2
		addRows = addRowsAVX2Tail
		lifBackward = lifBackwardAVX2Tail
		winogradIn = winogradInAVX2Tail
		winogradOut = winogradOutAVX2Tail
		lifStep = lifStepAVX2Tail
		Accelerated = "avx2"
	}
}

// gemmAVX2 runs the 16-column blocks of C through the assembly kernels and
// the remaining columns through gemmGeneric; every element sees the same
// operations in the same order either way.
func gemmAVX2(m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	n16 := n &^ 15
	if n16 > 0 {
		if raceEnabled {
			// Row by row: a caller may own only some columns of C.
			for i := 0; i < m; i++ {
				raceRead(a[i*lda:], k)
				raceWrite(c[i*ldc:], n16)
			}
			for p := 0; p < k; p++ {
				raceRead(b[p*ldb:], n16)
			}
		}
		// Column panels outside, row blocks inside: a 16-column panel of
		// B (k rows, often far apart in memory) is read from L1 by every
		// row block once the first has brought it in.
		m4 := m &^ 3
		for j := 0; j < n16; j += 16 {
			for i := 0; i < m4; i += 4 {
				gemm4x16AVX2(k, &a[i*lda], lda, &b[j], ldb, &c[i*ldc+j], ldc)
			}
			for i := m4; i < m; i++ {
				gemm1x16AVX2(k, &a[i*lda], &b[j], ldb, &c[i*ldc+j])
			}
		}
	}
	if n16 < n {
		gemmGeneric(m, n-n16, k, a, lda, b[n16:], ldb, c[n16:], ldc)
	}
}

func addRowsAVX2Tail(dst []float32, ldd int, src []float32, bits []uint64) {
	n := len(src)
	n8 := n &^ 7
	if n8 > 0 {
		raceRead(src, n8)
		if raceEnabled {
			for w, word := range bits {
				for word != 0 {
					i := w*64 + mbits.TrailingZeros64(word)
					word &= word - 1
					raceWrite(dst[i*ldd:], n8)
				}
			}
		}
		addRowsAVX2(&dst[0], ldd, &src[0], n8, &bits[0], len(bits))
	}
	if n8 < n {
		addRowsGeneric(dst[n8:], ldd, src[n8:], bits)
	}
}

func lifBackwardAVX2Tail(u, s, g, dx, dh []float32, vth, gm, g2, lam float32, hard, detach bool) {
	n := len(u)
	n8 := n &^ 7
	if n8 > 0 {
		flags := 0
		if hard {
			flags |= 1
		}
		if detach {
			flags |= 2
		}
		raceRead(u, n8)
		raceRead(s, n8)
		raceRead(g, n8)
		raceWrite(dx, n8)
		raceWrite(dh, n8)
		lifBackwardAVX2(n8, &u[0], &s[0], &g[0], &dx[0], &dh[0], vth, gm, g2, lam, flags)
	}
	if n8 < n {
		lifBackwardGeneric(u[n8:], s[n8:], g[n8:], dx[n8:], dh[n8:], vth, gm, g2, lam, hard, detach)
	}
}

func winogradInAVX2Tail(dst []float32, ldd int, src []float32, lds, n int) {
	n8 := n &^ 7
	if n8 == n {
		if raceEnabled {
			for xi := 0; xi < 16; xi++ {
				raceWrite(dst[xi*ldd:], n)
			}
			for u := 0; u < 4; u++ {
				raceRead(src[u*lds:], 4*n)
			}
		}
		winogradInAVX2(&dst[0], ldd, &src[0], lds, n)
		return
	}
	winogradInGeneric(dst, ldd, src, lds, n)
}

func winogradOutAVX2Tail(dst []float32, ldd int, src []float32, lds, n int) {
	n8 := n &^ 7
	if n8 == n {
		if raceEnabled {
			for xi := 0; xi < 16; xi++ {
				raceRead(src[xi*lds:], n)
			}
			raceWrite(dst, 2*n)
			raceWrite(dst[ldd:], 2*n)
		}
		winogradOutAVX2(&dst[0], ldd, &src[0], lds, n)
		return
	}
	winogradOutGeneric(dst, ldd, src, lds, n)
}

func lifStepAVX2Tail(x, u, s, uo, so []float32, rb []uint64, bit uint64, lam, vth float32, hard bool) int {
	n := len(x)
	n8 := n &^ 7
	count := 0
	if n8 > 0 {
		h := 0
		if hard {
			h = 1
		}
		if raceEnabled {
			raceRead(x, n8)
			raceRead(u, n8)
			raceRead(s, n8)
			raceWrite(uo, n8)
			raceWrite(so, n8)
			raceWriteU64(rb, n8)
		}
		count = lifStepAVX2(n8, &x[0], &u[0], &s[0], &uo[0], &so[0], &rb[0], bit, lam, vth, h)
	}
	if n8 < n {
		count += lifStepGeneric(x[n8:], u[n8:], s[n8:], uo[n8:], so[n8:], rb[n8:], bit, lam, vth, hard)
	}
	return count
}
