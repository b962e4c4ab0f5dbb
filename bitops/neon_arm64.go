//go:build gc && !purego && !noasm

package bitops

// Go side of the NEON kernels in neon_arm64.s, the same structure as
// avx2_amd64.go. Advanced SIMD is part of the arm64 baseline, so the set is
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
func peakNEON(a, b *uint64, nv, reps int) int

var neonKernels = &Kernels{
	Name:         "neon",
	prio:         20,
	blockWords:   2,
	skipDiv:      4,
	andGemm:      andGemmNEON,
	xnorGemm:     xnorGemmNEON,
	andRowBlocks: andRowBlocksNEON,
	events:       eventsGeneric,
	popcount:     popcountNEON,
	peak:         peakNEONGo,
}

func popcountNEON(x []uint64) int {
	nv := len(x) / 2
	c := 0
	if nv > 0 {
		raceRead(x[:nv*2])
		c = popcntNEON(&x[0], nv)
	}
	return c + popcountGeneric(x[nv*2:])
}

func andGemmNEON(dst []int32, s []uint64, m int, w []uint64, n, words int) {
	gemmNEON(false, dst, s, m, w, n, words, 0)
}

func xnorGemmNEON(dst []int32, a []uint64, m int, w []uint64, n, words, nbits int) {
	gemmNEON(true, dst, a, m, w, n, words, nbits)
}

// gemmNEON runs 2×4 blocks over pairs of activation rows, a 1×4 block for
// an odd last row, and the generic kernel for the n%4 last weight rows.
func gemmNEON(xor bool, dst []int32, s []uint64, m int, w []uint64, n, words, nbits int) {
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
				gemm2x4XorNEON(&r0[0], &r1[0], &w[0], words, nq, &d0[0], &d1[0], nbits, nbits)
			}
			if n4 < n {
				xnorRowGeneric(d0[n4:], r0, w, n4, n, words, nbits)
				xnorRowGeneric(d1[n4:], r1, w, n4, n, words, nbits)
			}
			continue
		}
		if nq > 0 {
			p0, p1 := popcountNEON(r0), popcountNEON(r1)
			gemm2x4AndNEON(&r0[0], &r1[0], &w[0], words, nq, &d0[0], &d1[0], -p0, -p1)
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
				gemm1x4XorNEON(&r0[0], &w[0], words, nq, &d0[0], nbits)
			}
			if n4 < n {
				xnorRowGeneric(d0[n4:], r0, w, n4, n, words, nbits)
			}
			return
		}
		if nq > 0 {
			gemm1x4AndNEON(&r0[0], &w[0], words, nq, &d0[0], -popcountNEON(r0))
		}
		if n4 < n {
			andRowGeneric(d0[n4:], r0, w, n4, n, words)
		}
	}
}

func andRowBlocksNEON(dst []int32, s []uint64, blocks []int32, tail bool, w []uint64, n, words, ps int) {
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
			tw = words % 2
		}
		rowBlocksAndNEON(&s[0], &w[0], words, nq, bp, len(blocks), tw, &dst[0], -ps)
	}
	andRowBlocksTail(dst, s, blocks, 2, tail, w, nq*4, n, words, ps)
}

func peakNEONGo(a, b []uint64, reps int) int {
	raceRead(a)
	raceRead(b)
	return peakNEON(&a[0], &b[0], len(a)/2, reps)
}
