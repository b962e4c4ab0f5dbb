//go:build gc && !purego && !noasm

package bitops

// Go side of the AVX-512 kernels in avx512_amd64.s, the same structure as
// avx2_amd64.go. They are registered only when cpuid reports AVX512F,
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
func peakAVX512(a, b *uint64, nv, reps int) int

var avx512Kernels = &Kernels{
	Name:         "avx512",
	prio:         30,
	blockWords:   8,
	skipDiv:      4,
	andGemm:      andGemmAVX512,
	xnorGemm:     xnorGemmAVX512,
	andRowBlocks: andRowBlocksAVX512,
	events:       eventsGeneric,
	popcount:     popcountAVX512,
	peak:         peakAVX512Go,
}

func popcountAVX512(x []uint64) int {
	nv := len(x) / 8
	c := 0
	if nv > 0 {
		raceRead(x[:nv*8])
		c = popcntAVX512(&x[0], nv)
	}
	return c + popcountGeneric(x[nv*8:])
}

func andGemmAVX512(dst []int32, s []uint64, m int, w []uint64, n, words int) {
	gemmAVX512(false, dst, s, m, w, n, words, 0)
}

func xnorGemmAVX512(dst []int32, a []uint64, m int, w []uint64, n, words, nbits int) {
	gemmAVX512(true, dst, a, m, w, n, words, nbits)
}

// gemmAVX512 runs 2×4 blocks over pairs of activation rows, a 1×4 block for
// an odd last row, and the generic kernel for the n%4 last weight rows.
func gemmAVX512(xor bool, dst []int32, s []uint64, m int, w []uint64, n, words, nbits int) {
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
				gemm2x4XorAVX512(&r0[0], &r1[0], &w[0], words, nq, &d0[0], &d1[0], nbits, nbits)
			}
			if n4 < n {
				xnorRowGeneric(d0[n4:], r0, w, n4, n, words, nbits)
				xnorRowGeneric(d1[n4:], r1, w, n4, n, words, nbits)
			}
			continue
		}
		if nq > 0 {
			p0, p1 := popcountAVX512(r0), popcountAVX512(r1)
			gemm2x4AndAVX512(&r0[0], &r1[0], &w[0], words, nq, &d0[0], &d1[0], -p0, -p1)
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
				gemm1x4XorAVX512(&r0[0], &w[0], words, nq, &d0[0], nbits)
			}
			if n4 < n {
				xnorRowGeneric(d0[n4:], r0, w, n4, n, words, nbits)
			}
			return
		}
		if nq > 0 {
			gemm1x4AndAVX512(&r0[0], &w[0], words, nq, &d0[0], -popcountAVX512(r0))
		}
		if n4 < n {
			andRowGeneric(d0[n4:], r0, w, n4, n, words)
		}
	}
}

func andRowBlocksAVX512(dst []int32, s []uint64, blocks []int32, tail bool, w []uint64, n, words, ps int) {
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
			tw = words % 8
		}
		rowBlocksAndAVX512(&s[0], &w[0], words, nq, bp, len(blocks), tw, &dst[0], -ps)
	}
	andRowBlocksTail(dst, s, blocks, 8, tail, w, nq*4, n, words, ps)
}

func peakAVX512Go(a, b []uint64, reps int) int {
	raceRead(a)
	raceRead(b)
	return peakAVX512(&a[0], &b[0], len(a)/8, reps)
}
