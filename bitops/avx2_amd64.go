//go:build gc && !purego && !noasm

package bitops

// Go side of the AVX2 kernels in avx2_amd64.s. The wrappers own everything
// the assembly must not: length checks (already done by the exported
// methods), race annotations, the row left over by the 2-row blocks and the
// weight rows left over by the 4-row blocks. Each assembly function is
// equivalent to the generic kernel over the block it is given.

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
func peakAVX2(a, b *uint64, nv, reps int) int

//go:noescape
func peakPOPCNT(a, b *uint64, nw, reps int) int

var avx2Kernels = &Kernels{
	Name:         "avx2",
	prio:         20,
	blockWords:   4,
	skipDiv:      4,
	andGemm:      andGemmAVX2,
	xnorGemm:     xnorGemmAVX2,
	andRowBlocks: andRowBlocksAVX2,
	events:       eventsAVX2Go,
	popcount:     popcountAVX2,
	peak:         peakAVX2Go,
}

func popcountAVX2(x []uint64) int {
	nv := len(x) / 4
	c := 0
	if nv > 0 {
		raceRead(x[:nv*4])
		c = popcntAVX2(&x[0], nv)
	}
	return c + popcountGeneric(x[nv*4:])
}

func andGemmAVX2(dst []int32, s []uint64, m int, w []uint64, n, words int) {
	gemmAVX2(false, dst, s, m, w, n, words, 0)
}

func xnorGemmAVX2(dst []int32, a []uint64, m int, w []uint64, n, words, nbits int) {
	gemmAVX2(true, dst, a, m, w, n, words, nbits)
}

// gemmAVX2 runs 2×4 blocks over pairs of activation rows, a 1×4 block for
// an odd last row, and the generic kernel for the n%4 last weight rows.
func gemmAVX2(xor bool, dst []int32, s []uint64, m int, w []uint64, n, words, nbits int) {
	if words == 0 {
		// Empty rows: every popcount is 0, so AND gives 0 and XNOR nbits (0).
		clear(dst[:m*n])
		return
	}
	s, w, dst = s[:m*words], w[:n*words], dst[:m*n]
	raceRead(s)
	raceRead(w)
	raceWrite(dst)
	nq := n / 4
	n4 := nq * 4
	i := 0
	for ; i+2 <= m; i += 2 {
		r0, r1 := s[i*words:(i+1)*words], s[(i+1)*words:(i+2)*words]
		d0, d1 := dst[i*n:(i+1)*n], dst[(i+1)*n:(i+2)*n]
		if xor {
			if nq > 0 {
				gemm2x4XorAVX2(&r0[0], &r1[0], &w[0], words, nq, &d0[0], &d1[0], nbits, nbits)
			}
			if n4 < n {
				xnorRowGeneric(d0[n4:], r0, w, n4, n, words, nbits)
				xnorRowGeneric(d1[n4:], r1, w, n4, n, words, nbits)
			}
			continue
		}
		if nq > 0 {
			p0, p1 := popcountAVX2(r0), popcountAVX2(r1)
			gemm2x4AndAVX2(&r0[0], &r1[0], &w[0], words, nq, &d0[0], &d1[0], -p0, -p1)
		}
		if n4 < n {
			andRowGeneric(d0[n4:], r0, w, n4, n, words)
			andRowGeneric(d1[n4:], r1, w, n4, n, words)
		}
	}
	if i < m {
		r0, d0 := s[i*words:(i+1)*words], dst[i*n:(i+1)*n]
		if xor {
			if nq > 0 {
				gemm1x4XorAVX2(&r0[0], &w[0], words, nq, &d0[0], nbits)
			}
			if n4 < n {
				xnorRowGeneric(d0[n4:], r0, w, n4, n, words, nbits)
			}
			return
		}
		if nq > 0 {
			gemm1x4AndAVX2(&r0[0], &w[0], words, nq, &d0[0], -popcountAVX2(r0))
		}
		if n4 < n {
			andRowGeneric(d0[n4:], r0, w, n4, n, words)
		}
	}
}

func andRowBlocksAVX2(dst []int32, s []uint64, blocks []int32, tail bool, w []uint64, n, words, ps int) {
	s, w, dst = s[:words], w[:n*words], dst[:n]
	nq := n / 4
	if nq > 0 {
		raceRead(s)
		raceRead(w[:nq*4*words])
		raceRead(blocks)
		raceWrite(dst[:nq*4])
		var bp *int32
		if len(blocks) > 0 {
			bp = &blocks[0]
		}
		tw := 0
		if tail {
			tw = words % 4
		}
		rowBlocksAndAVX2(&s[0], &w[0], words, nq, bp, len(blocks), tw, &dst[0], -ps)
	}
	andRowBlocksTail(dst, s, blocks, 4, tail, w, nq*4, n, words, ps)
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

func peakAVX2Go(a, b []uint64, reps int) int {
	raceRead(a)
	raceRead(b)
	return peakAVX2(&a[0], &b[0], len(a)/4, reps)
}

// peakPOPCNTGo is the scalar AND + POPCNTQ peak loop, for reporting how the
// vector sets compare with the CPU's scalar popcount units.
func peakPOPCNTGo(a, b []uint64, reps int) int {
	raceRead(a)
	raceRead(b)
	return peakPOPCNT(&a[0], &b[0], len(a), reps)
}
