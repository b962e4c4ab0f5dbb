//go:build gc && !purego && !noasm

package bitops

// Go side of the AVX2 kernels in avx2_amd64.s: the assembly block kernels,
// wrapped by asmBlocks (simd.go) as every SIMD set is, plus the event
// scatter and the scalar POPCNT peak loop that only this file has.

//go:noescape
func gemm2x4AndAVX2(s0, s1, w *uint64, words, nq int, out0, out1 *int32, add0, add1 int)

//go:noescape
func gemm2x4XorAVX2(s0, s1, w *uint64, words, nq int, out0, out1 *int32, add0, add1 int)

//go:noescape
func gemm1x4AndAVX2(s, w *uint64, words, nq int, out *int32, add int)

//go:noescape
func gemm1x4XorAVX2(s, w *uint64, words, nq int, out *int32, add int)

//go:noescape
func rowBlocksAndAVX2(s, w *uint64, words, nq int, blocks *int32, nb, tail int, out *int32, add int)

//go:noescape
func popcntAVX2(p *uint64, nv int) int

//go:noescape
func eventsAVX2(cols *uint64, colBytes int, idx *int32, nspk int, planes *uint64, planeBytes int)

//go:noescape
func peakAVX2(a, b *uint64, iters int) int

//go:noescape
func peakPOPCNT(a, b *uint64, nw, reps int) int

var avx2Kernels = avx2Blocks.kernels("avx2", 20, 4, eventsAVX2Go)

var avx2Blocks = &asmBlocks{
	vw:         4,
	gemm2x4And: gemm2x4AndAVX2,
	gemm2x4Xor: gemm2x4XorAVX2,
	gemm1x4And: gemm1x4AndAVX2,
	gemm1x4Xor: gemm1x4XorAVX2,
	rowBlocks:  rowBlocksAndAVX2,
	popcnt:     popcntAVX2,
	peakLoop:   peakAVX2,
	elem:       &avx2Elem,
	f64Gemm:    f64GemmAVX2Go,
	f64SkipPct: 90,
	peakRows:   2,
	peakCols:   4,
}

// eventsAVX2Go runs the AVX2 scatter over each 256-output group; cw is a
// multiple of 4 (EventWeights pads columns to 256 bits) and every index in
// idx is a column of cols (the bit positions of an activation row).
func eventsAVX2Go(planes, cols []uint64, cw int, idx []int32) {
	planes = planes[:eventPlanes*cw]
	if len(idx) == 0 {
		clear(planes)
		return
	}
	raceRead(cols)
	raceRead(idx)
	raceWrite(planes)
	for g := 0; g < cw; g += 4 {
		eventsAVX2(&cols[g], cw*8, &idx[0], len(idx), &planes[g], cw*8)
	}
}

// peakPOPCNTGo is the scalar AND + POPCNTQ peak loop, for reporting how the
// vector sets compare with the CPU's scalar popcount units.
func peakPOPCNTGo(a, b []uint64, reps int) int {
	raceRead(a)
	raceRead(b)
	return peakPOPCNT(&a[0], &b[0], len(a), reps)
}
