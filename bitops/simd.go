//go:build (amd64 || arm64) && gc && !purego && !noasm

package bitops

import (
	"math"
	"sync"
)

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
	elem       *elemSet // element-wise float kernels
	// f64Gemm is the set's float64 GEMM block (f64gemm_*.go) and
	// f64SkipPct its zero-skipping threshold (Kernels.f64SkipPct).
	f64Gemm    func(b f64Block, wT []float64, kk, n int, idx []int32, scale, bias []float32)
	f64SkipPct int
	// gemm4x4And is the 4-row AND block (out rows n apart, add[r] per
	// row); nil for sets whose registers cannot hold 4×4 accumulators,
	// which run 2×4 blocks instead.
	gemm4x4And func(s0, s1, s2, s3, w *uint64, words, nq int, out *int32, n int, add *int32)
	// gemm8x16 is the row-vectorised AND block: 8 rows transposed into at
	// (at[8k+l] = word k of row l) × 16·nb weight rows, the first rows of
	// the 8 stored; nil where the set has none.
	gemm8x16 func(at, w *uint64, words, nb int, out *int32, n int, add *int32, rows int)
	// gather8 transposes 8 rows read in place (row l at off[l] of src, in
	// segments) into gemm8x16's layout.
	gather8 func(at, src *uint64, off *int32, segs, segStride, segWords int)
	// peakLoop runs iters passes of the set's register-blocked peak block
	// (peakRows × peakCols vectors, the first of a and of b) and returns
	// the sum of its accumulators.
	peakLoop           func(a, b *uint64, iters int) int
	peakRows, peakCols int
}

// kernels returns the complete kernel set built on these blocks.
func (a *asmBlocks) kernels(name string, prio, skipDiv int, events func(planes, cols []uint64, cw int, idx []int32)) *Kernels {
	return &Kernels{
		Name:       name,
		prio:       prio,
		blockWords: a.vw,
		skipDiv:    skipDiv,
		andGemm: func(dst []int32, s []uint64, m int, w []uint64, n, words int) {
			a.andRows(dst, rowSource{src: s, segs: 1, segWords: words, contig: true}, m, nil, w, n)
		},
		xnorGemm: func(dst []int32, x []uint64, m int, w []uint64, n, words, nbits int) {
			a.gemm(true, dst, x, m, w, n, words, nbits)
		},
		andGemmRowsT: andGemmRowsTGeneric,
		andConvRowsT: andConvRowsTGeneric,
		andGemmRows: func(dst []int32, src []uint64, off, pop []int32, segs, segStride, segWords int, w []uint64, n int) {
			rs := rowSource{src: src, off: off, segs: segs, segStride: segStride, segWords: segWords,
				contig: segs == 1 || segStride == segWords}
			a.andRows(dst, rs, len(off), pop, w, n)
		},
		andRowBlocks: a.andRowBlocks,
		events:       events,
		popcount:     a.popcount,
		peak:         a.peak,
		scaleBias:    a.elem.scaleBias,
		lif:          a.elem.lif,
		statSpatial:  a.elem.statSpatial,
		avgSpikes:    a.elem.avgSpikes,
		f64Gemm:      a.f64Gemm,
		f64SkipPct:   a.f64SkipPct,
		peakRows:     a.peakRows,
		peakCols:     a.peakCols,
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
// last row, and the generic kernel for the n%4 last weight rows. AndGemm goes
// through andRows instead; the AND case stays for comparing the blockings.
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

// peak runs the set's register-blocked peak loop for as many passes as make
// reps·PeakWords words' worth of AND-popcounts.
func (a *asmBlocks) peak(x, y []uint64, reps int) int {
	raceRead(x[:a.peakRows*a.vw])
	raceRead(y[:a.peakCols*a.vw])
	return a.peakLoop(&x[0], &y[0], reps*PeakWords/(a.peakRows*a.peakCols*a.vw))
}

// rowScratch is andRows' per-call memory: the gathered rows, the
// transposed rows of an 8×16 block and the add vector of a block. It is pooled rather than on the stack because the
// kernels are called through function values, which makes everything passed
// to them escape.
type rowScratch struct {
	add [8]int32
	off [8]int32 // AndGemm's row offsets for gather8
	buf []uint64 // gathered rows
	at  []uint64 // transposed rows of an 8-row block
}

var rowScratchPool = sync.Pool{New: func() any { return new(rowScratch) }}

// rowSource describes where andRows finds activation row i: segs segments of
// segWords words, segment s at off[i] + s·segStride of src (off nil: row i
// starts at i·segs·segWords). contig says the segments are adjacent, so a
// row is read in place; otherwise its segments are copied into a scratch
// buffer first (at most eight rows of a few hundred words, amortised over
// all n weight rows), so the kernel sees one contiguous row and only the row's last
// vector is partial (not every segment's: with 12-word segments, as a
// 3×3 conv over 256 channels has, that is 5 AVX-512 steps per row instead
// of 6).
type rowSource struct {
	src                       []uint64
	off                       []int32
	segs, segStride, segWords int
	contig                    bool
}

// raceRow announces the reads of row i's segments by assembly.
func (r *rowSource) raceRow(i int) {
	words := r.segs * r.segWords
	o := i * words
	if r.off != nil {
		o = int(r.off[i])
	}
	for s := range r.segs {
		raceRead(r.src[o+s*r.segStride : o+s*r.segStride+r.segWords])
	}
}

// row returns row i, read in place or gathered into buf.
func (r *rowSource) row(i int, buf []uint64) []uint64 {
	words := r.segs * r.segWords
	o := i * words
	if r.off != nil {
		o = int(r.off[i])
	}
	if r.contig {
		return r.src[o : o+words]
	}
	buf = buf[:words]
	sw := r.segWords
	for s := range r.segs {
		seg := r.src[o+s*r.segStride : o+s*r.segStride+sw]
		d := buf[s*sw : (s+1)*sw]
		if sw > 16 {
			copy(d, seg)
			continue
		}
		for k := range d {
			d[k] = seg[k]
		}
	}
	return buf
}

// andRows is every SIMD set's AndGemm and AndGemmRows: dst[i*n+j] =
// 2·popcount(row_i AND w_j) − pop[i] (pop nil: popcount(row_i)) for m
// rows. Where the set has them, 8×16 row-vectorised blocks take the first
// m/8·8 rows (andRows8); then 4×4 blocks (2×4 where the set has no 4×4
// kernel) the rest, 2×4 and 1×4 blocks the rows left over, and the generic
// loop the n%4 last weight rows.
func (a *asmBlocks) andRows(dst []int32, rs rowSource, m int, pop []int32, w []uint64, n int) {
	words := rs.segs * rs.segWords
	dst = dst[:m*n]
	if words == 0 {
		for i := range m {
			p := int32(0)
			if pop != nil {
				p = pop[i]
			}
			for j := range n {
				dst[i*n+j] = -p
			}
		}
		return
	}
	w = w[:n*words]
	sc := rowScratchPool.Get().(*rowScratch)
	defer rowScratchPool.Put(sc)
	if !rs.contig && len(sc.buf) < 8*words {
		sc.buf = make([]uint64, 8*words)
	}
	buf, add := sc.buf, &sc.add
	nq := n / 4
	n4 := nq * 4
	if nq > 0 {
		raceRead(w[:n4*words])
	}
	i := 0
	if a.gemm8x16 != nil && n >= 16 && m >= 8 {
		i = a.andRows8(dst, rs, m, pop, w, n, sc)
	}
	step := 2
	if a.gemm4x4And != nil {
		step = 4
	}
	var rows [4][]uint64
	for i < m {
		b := min(step, m-i)
		for r := range b {
			var rb []uint64
			if !rs.contig {
				rb = buf[r*words : (r+1)*words]
			}
			rows[r] = rs.row(i+r, rb)
			if pop != nil {
				add[r] = -pop[i+r]
			} else {
				add[r] = -int32(a.popcount(rows[r]))
			}
		}
		d := dst[i*n : (i+b)*n]
		if nq > 0 {
			for r := range b {
				raceRead(rows[r])
			}
			raceWrite(d)
			switch {
			case b == 4:
				a.gemm4x4And(&rows[0][0], &rows[1][0], &rows[2][0], &rows[3][0], &w[0], words, nq, &d[0], n, &add[0])
			case b >= 2:
				a.gemm2x4And(&rows[0][0], &rows[1][0], &w[0], words, nq, &d[0], &d[n], int(add[0]), int(add[1]))
				if b == 3 {
					a.gemm1x4And(&rows[2][0], &w[0], words, nq, &d[2*n], int(add[2]))
				}
			default:
				a.gemm1x4And(&rows[0][0], &w[0], words, nq, &d[0], int(add[0]))
			}
		}
		for r := range b {
			out := d[r*n : (r+1)*n]
			for j := n4; j < n; j++ {
				out[j] = int32(2*andPopcountGeneric(rows[r], w[j*words:(j+1)*words])) + add[r]
			}
		}
		i += b
	}
}

// andRows8 runs the 8×16 blocks over the first m/8·8 rows and returns how
// many rows it did: each block of 8 rows is transposed into sc.at, the
// 16·⌊n/16⌋ first weight rows go through gemm8x16, the rest through the
// 4×4 blocks and the generic loop.
func (a *asmBlocks) andRows8(dst []int32, rs rowSource, m int, pop []int32, w []uint64, n int, sc *rowScratch) int {
	words := rs.segs * rs.segWords
	if len(sc.at) < 8*words {
		sc.at = make([]uint64, 8*words)
	}
	at := sc.at[:8*words]
	add := &sc.add
	nb := n / 16
	n16 := nb * 16
	nq := (n - n16) / 4
	n4 := n16 + nq*4
	// The rows themselves are needed (read in place or gathered) only for
	// the weight rows past n16 and for popcounts; at is filled by gather8
	// straight from src.
	needRows := n4 > n16 || n4 < n || pop == nil
	// AndGemm's implicit offsets must fit gather8's int32 indices.
	offsOK := rs.off != nil || m*words <= math.MaxInt32
	var rows [8][]uint64
	i := 0
	for ; i+8 <= m; i += 8 {
		for l := range 8 {
			if pop != nil {
				add[l] = -pop[i+l]
			}
			if rs.off == nil {
				sc.off[l] = int32((i + l) * words)
			}
			if !needRows && offsOK {
				if raceEnabled {
					rs.raceRow(i + l)
				}
				continue
			}
			var rb []uint64
			if !rs.contig {
				rb = sc.buf[l*words : (l+1)*words]
			}
			row := rs.row(i+l, rb)
			rows[l] = row
			if pop == nil {
				add[l] = -int32(a.popcount(row))
			}
			if !offsOK {
				t := at[l:]
				for k, v := range row {
					t[k*8] = v
				}
			}
		}
		if offsOK {
			offs := &sc.off[0]
			if rs.off != nil {
				offs = &rs.off[i]
			}
			a.gather8(&at[0], &rs.src[0], offs, rs.segs, rs.segStride, rs.segWords)
		}
		d := dst[i*n : (i+8)*n]
		raceWrite(d)
		a.gemm8x16(&at[0], &w[0], words, nb, &d[0], n, &add[0], 8)
		if nq > 0 {
			for h := 0; h < 8; h += 4 {
				r := rows[h : h+4]
				for _, x := range r {
					raceRead(x)
				}
				a.gemm4x4And(&r[0][0], &r[1][0], &r[2][0], &r[3][0], &w[n16*words], words, nq, &d[h*n+n16], n, &add[h])
			}
		}
		for l := range 8 {
			out := d[l*n : (l+1)*n]
			for j := n4; j < n; j++ {
				out[j] = int32(2*andPopcountGeneric(rows[l], w[j*words:(j+1)*words])) + add[l]
			}
		}
	}
	return i
}
