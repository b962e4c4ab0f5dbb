//go:build gc && !purego && !noasm

package bitops

import (
	"unsafe"

	"github.com/klauspost/cpuid/v2"
)

// Go side of the float64 GEMM kernels in f64gemm_amd64.s.

//go:noescape
func f64Gemm8AVX512(a0, a1, a2, a3, a4, a5, a6, a7, w *float64, ldw, kk, n int, idx *int32, nidx int, d0, d1, d2, d3, d4, d5, d6, d7 unsafe.Pointer, scale, bias *float32)

//go:noescape
func f64Gemm4AVX2(a0, a1, a2, a3, w *float64, ldw, kk, n int, idx *int32, nidx int, d0, d1, d2, d3 unsafe.Pointer, scale, bias *float32)

// f64PeakAVX512 and f64PeakAVX2 run reps rounds of register-only FMAs (16
// zmm / 12 ymm chains): the CPU's float64 FMA peak, for benchmarks.
//
//go:noescape
func f64PeakAVX512(reps int) float64

//go:noescape
func f64PeakAVX2(reps int) float64

// The AVX-512 kernel masks its last panel, so it takes every column.
// The AVX2 kernel (4 rows) runs twice per block.
func f64GemmAVX512Go(b f64Block, wT []float64, kk, n int, idx []int32, scale, bias []float32) {
	p := f64AsmPrep(n, &b, wT, kk, n, idx, scale, bias)
	f64Gemm8AVX512(p.a[0], p.a[1], p.a[2], p.a[3], p.a[4], p.a[5], p.a[6], p.a[7], p.w, p.ldw, p.kk, p.n, p.idx, p.nidx,
		p.d[0], p.d[1], p.d[2], p.d[3], p.d[4], p.d[5], p.d[6], p.d[7], p.scale, p.bias)
}

// The AVX2 kernel takes 8-column panels; the generic kernel does the rest.
func f64GemmAVX2Go(b f64Block, wT []float64, kk, n int, idx []int32, scale, bias []float32) {
	nc := n / 8 * 8
	if nc > 0 {
		p := f64AsmPrep(nc, &b, wT, kk, n, idx, scale, bias)
		for h := 0; h < F64BlockRows; h += 4 {
			f64Gemm4AVX2(p.a[h], p.a[h+1], p.a[h+2], p.a[h+3], p.w, p.ldw, p.kk, p.n, p.idx, p.nidx, p.d[h], p.d[h+1], p.d[h+2], p.d[h+3], p.scale, p.bias)
		}
	}
	if nc < n {
		f64ColsGeneric(&b, wT, kk, n, nc, idx, scale, bias)
	}
}

func init() {
	// AVX2 does not imply FMA3 (every CPU with AVX2 so far has both, but
	// cpuid reports them separately); without it the set's float64 GEMM
	// is the generic one.
	if !cpuid.CPU.Supports(cpuid.FMA3) {
		avx2Kernels.f64Gemm = f64GemmGeneric
		avx2Kernels.f64SkipPct = Generic.f64SkipPct
	}
}
