//go:build gc && !purego && !noasm

package bitops

import (
	"unsafe"

	"github.com/klauspost/cpuid/v2"
)

// Go side of the float64 GEMM kernels in f64gemm_amd64.s.

//go:noescape
func f64Gemm4AVX512(a0, a1, a2, a3, w *float64, ldw, kk, n int, idx *int32, nidx int, d0, d1, d2, d3 unsafe.Pointer, scale, bias *float32)

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
func f64GemmAVX512Go(b f64Block, wT []float64, kk, n int, idx []int32, scale, bias []float32) {
	p := f64AsmPrep(n, &b, wT, kk, n, idx, scale, bias)
	f64Gemm4AVX512(p.a[0], p.a[1], p.a[2], p.a[3], p.w, p.ldw, p.kk, p.n, p.idx, p.nidx, p.d[0], p.d[1], p.d[2], p.d[3], p.scale, p.bias)
}

// The AVX2 kernel takes 8-column panels; the generic kernel does the rest.
func f64GemmAVX2Go(b f64Block, wT []float64, kk, n int, idx []int32, scale, bias []float32) {
	nc := n / 8 * 8
	if nc > 0 {
		p := f64AsmPrep(nc, &b, wT, kk, n, idx, scale, bias)
		f64Gemm4AVX2(p.a[0], p.a[1], p.a[2], p.a[3], p.w, p.ldw, p.kk, p.n, p.idx, p.nidx, p.d[0], p.d[1], p.d[2], p.d[3], p.scale, p.bias)
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
