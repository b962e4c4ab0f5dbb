//go:build (amd64 || arm64) && gc && !purego && !noasm

package bitops

// Helpers shared by the Go wrappers of the assembly sets.

// andRowBlocksTail is the Go part of a SIMD set's sparse row kernel: weight
// rows j0 ≤ j < n, visiting the full blocks of bw words listed in blocks and,
// when tail is true, the words past the last full block.
func andRowBlocksTail(dst []int32, s []uint64, blocks []int32, bw int, tail bool, w []uint64, j0, n, words, ps int) {
	full := words / bw * bw
	for j := j0; j < n; j++ {
		wj := w[j*words : (j+1)*words]
		c := 0
		for _, b := range blocks {
			o := int(b) * bw
			c += andPopcountGeneric(s[o:o+bw], wj[o:o+bw])
		}
		if tail {
			c += andPopcountGeneric(s[full:], wj[full:])
		}
		dst[j] = int32(2*c - ps)
	}
}

// asmBlocks is one SIMD set's assembly block kernels and its vector width in
// words. Its methods are the Go side every set shares: race annotations, the
// row left over by the 2-row blocks, the weight rows left over by the 4-row
// blocks and the words past the last full vector. Each assembly function is
// equivalent to the generic kernel over the block it is given.
type asmBlocks struct {
	vw         int // words per vector register
	gemm2x4And func(s0, s1, w *uint64, words, nq int, out0, out1 *int32, add0, add1 int)
	gemm2x4Xor func(s0, s1, w *uint64, words, nq int, out0, out1 *int32, add0, add1 int)
	gemm1x4And func(s, w *uint64, words, nq int, out *int32, add int)
	gemm1x4Xor func(s, w *uint64, words, nq int, out *int32, add int)
	rowBlocks  func(s, w *uint64, words, nq int, blocks *int32, nb, tail int, out *int32, add int)
	popcnt     func(p *uint64, nv int) int
	peakLoop   func(a, b *uint64, nv, reps int) int
	elem       *elemSet // element-wise float kernels
	// f64Gemm is the set's float64 GEMM block (f64gemm_*.go) and
	// f64SkipPct its zero-skipping threshold (Kernels.f64SkipPct).
	f64Gemm    func(b f64Block, wT []float64, kk, n int, idx []int32, scale, bias []float32)
	f64SkipPct int
}

// kernels returns the complete kernel set built on these blocks.
func (a *asmBlocks) kernels(name string, prio, skipDiv int, events func(planes, cols []uint64, cw int, idx []int32)) *Kernels {
	return &Kernels{
		Name:       name,
		prio:       prio,
		blockWords: a.vw,
		skipDiv:    skipDiv,
		andGemm: func(dst []int32, s []uint64, m int, w []uint64, n, words int) {
			a.gemm(false, dst, s, m, w, n, words, 0)
		},
		xnorGemm: func(dst []int32, x []uint64, m int, w []uint64, n, words, nbits int) {
			a.gemm(true, dst, x, m, w, n, words, nbits)
		},
		// Until the sets have a blocked direct-conv kernel of their own.
		andGemmRows:  andGemmRowsGeneric,
		andGemmRowsT: andGemmRowsTGeneric,
		andConvRowsT: andConvRowsTGeneric,
		andRowBlocks: a.andRowBlocks,
		events:       events,
		popcount:     a.popcount,
		peak:         a.peak,
		scaleBias:    a.elem.scaleBias,
		lif:          a.elem.lif,
		statSpatial:  a.elem.statSpatial,
		f64Gemm:      a.f64Gemm,
		f64SkipPct:   a.f64SkipPct,
	}
}

func (a *asmBlocks) popcount(x []uint64) int {
	nv := len(x) / a.vw
	c := 0
	if nv > 0 {
		raceRead(x[:nv*a.vw])
		c = a.popcnt(&x[0], nv)
	}
	return c + popcountGeneric(x[nv*a.vw:])
}

// gemm runs 2×4 blocks over pairs of activation rows, a 1×4 block for an odd
// last row, and the generic kernel for the n%4 last weight rows.
func (a *asmBlocks) gemm(xor bool, dst []int32, s []uint64, m int, w []uint64, n, words, nbits int) {
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
				a.gemm2x4Xor(&r0[0], &r1[0], &w[0], words, nq, &d0[0], &d1[0], nbits, nbits)
			}
			if n4 < n {
				xnorRowGeneric(d0[n4:], r0, w, n4, n, words, nbits)
				xnorRowGeneric(d1[n4:], r1, w, n4, n, words, nbits)
			}
			continue
		}
		if nq > 0 {
			p0, p1 := a.popcount(r0), a.popcount(r1)
			a.gemm2x4And(&r0[0], &r1[0], &w[0], words, nq, &d0[0], &d1[0], -p0, -p1)
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
				a.gemm1x4Xor(&r0[0], &w[0], words, nq, &d0[0], nbits)
			}
			if n4 < n {
				xnorRowGeneric(d0[n4:], r0, w, n4, n, words, nbits)
			}
			return
		}
		if nq > 0 {
			a.gemm1x4And(&r0[0], &w[0], words, nq, &d0[0], -a.popcount(r0))
		}
		if n4 < n {
			andRowGeneric(d0[n4:], r0, w, n4, n, words)
		}
	}
}

func (a *asmBlocks) andRowBlocks(dst []int32, s []uint64, blocks []int32, tail bool, w []uint64, n, words, ps int) {
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
			tw = words % a.vw
		}
		a.rowBlocks(&s[0], &w[0], words, nq, bp, len(blocks), tw, &dst[0], -ps)
	}
	andRowBlocksTail(dst, s, blocks, a.vw, tail, w, nq*4, n, words, ps)
}

// peak runs the set's in-cache peak loop over whole vectors of a and b.
func (a *asmBlocks) peak(x, y []uint64, reps int) int {
	raceRead(x)
	raceRead(y)
	return a.peakLoop(&x[0], &y[0], len(x)/a.vw, reps)
}
