//go:build gc && !purego && !noasm

package bitops

// Go side of the NEON kernels in neon_arm64.s, wrapped by asmBlocks
// (simd.go). Advanced SIMD is part of the arm64 baseline, so the set is
// always registered (dispatch_arm64.go).

//go:noescape
func gemm2x4AndNEON(s0, s1, w *uint64, words, nq int, out0, out1 *int32, add0, add1 int)

//go:noescape
func gemm2x4XorNEON(s0, s1, w *uint64, words, nq int, out0, out1 *int32, add0, add1 int)

//go:noescape
func gemm1x4AndNEON(s, w *uint64, words, nq int, out *int32, add int)

//go:noescape
func gemm1x4XorNEON(s, w *uint64, words, nq int, out *int32, add int)

//go:noescape
func rowBlocksAndNEON(s, w *uint64, words, nq int, blocks *int32, nb, tail int, out *int32, add int)

//go:noescape
func popcntNEON(p *uint64, nv int) int

//go:noescape
func gemm4x4AndNEON(s0, s1, s2, s3, w *uint64, words, nq int, out *int32, n int, add *int32)

//go:noescape
func peakNEON(a, b *uint64, iters int) int

var neonKernels = neonBlocks.kernels("neon", 20, 4, eventsGeneric)

var neonBlocks = &asmBlocks{
	vw:         2,
	gemm2x4And: gemm2x4AndNEON,
	gemm2x4Xor: gemm2x4XorNEON,
	gemm1x4And: gemm1x4AndNEON,
	gemm1x4Xor: gemm1x4XorNEON,
	rowBlocks:  rowBlocksAndNEON,
	popcnt:     popcntNEON,
	gemm4x4And: gemm4x4AndNEON,
	peakLoop:   peakNEON,
	elem:       &neonElem,
	f64Gemm:    f64GemmNEONGo,
	f64SkipPct: 90,
	peakRows:   4,
	peakCols:   4,
}
