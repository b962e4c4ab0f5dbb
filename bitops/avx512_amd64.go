//go:build gc && !purego && !noasm

package bitops

// Go side of the AVX-512 kernels in avx512_amd64.s, wrapped by asmBlocks
// (simd.go). They are registered only when cpuid reports AVX512F,
// AVX512BW and AVX512_VPOPCNTDQ (dispatch_amd64.go).

//go:noescape
func gemm2x4AndAVX512(s0, s1, w *uint64, words, nq int, out0, out1 *int32, add0, add1 int)

//go:noescape
func gemm2x4XorAVX512(s0, s1, w *uint64, words, nq int, out0, out1 *int32, add0, add1 int)

//go:noescape
func gemm1x4AndAVX512(s, w *uint64, words, nq int, out *int32, add int)

//go:noescape
func gemm1x4XorAVX512(s, w *uint64, words, nq int, out *int32, add int)

//go:noescape
func rowBlocksAndAVX512(s, w *uint64, words, nq int, blocks *int32, nb, tail int, out *int32, add int)

//go:noescape
func popcntAVX512(p *uint64, nv int) int

//go:noescape
func gemm4x4AndAVX512(s0, s1, s2, s3, w *uint64, words, nq int, out *int32, n int, add *int32)

//go:noescape
func gemm8x16AndAVX512(at, w *uint64, words, nb int, out *int32, n int, add *int32, rows int)

//go:noescape
func gather8AVX512(at, src *uint64, off *int32, segs, segStride, segWords int)

//go:noescape
func peakAVX512(a, b *uint64, iters int) int

var avx512Kernels = avx512Blocks.kernels("avx512", 30, 4, eventsGeneric)

var avx512Blocks = &asmBlocks{
	vw:         8,
	gemm2x4And: gemm2x4AndAVX512,
	gemm2x4Xor: gemm2x4XorAVX512,
	gemm1x4And: gemm1x4AndAVX512,
	gemm1x4Xor: gemm1x4XorAVX512,
	rowBlocks:  rowBlocksAndAVX512,
	popcnt:     popcntAVX512,
	gemm4x4And: gemm4x4AndAVX512,
	gemm8x16:   gemm8x16AndAVX512,
	gather8:    gather8AVX512,
	peakLoop:   peakAVX512,
	elem:       &avx512Elem,
	f64Gemm:    f64GemmAVX512Go,
	f64SkipPct: 90,
	peakRows:   4,
	peakCols:   4,
}
