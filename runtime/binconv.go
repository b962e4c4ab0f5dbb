package runtime

import (
	"fmt"
	"math/bits"

	"github.com/bsnn/bsnn/bitops"
	"github.com/bsnn/bsnn/model"
)

// binConv runs a binary conv (or a binary linear layer, a 1×1 conv on a
// 1×1 map) on spikes, over every step and sample of a pass at once: each
// output pixel of each frame is one row of an AND-popcount GEMM against the
// packed weight rows.
//
// Dense execution is a direct convolution: the input map carries a zero
// halo as wide as the padding, so each row (the K×K taps of one output
// pixel) is K runs of K·words-per-pixel contiguous words read in place by
// bitops.AndConvRowsT or AndGemmRows; nothing is gathered. A row's popcount,
// which the AND form needs, is the sum of its taps' spike counts: a count
// job makes each frame's per-pixel counts once per pass and box-sums them
// into every output pixel's patch count, so a row costs a table lookup. The
// sparse kernel, which skips zero words inside a row, works on gathered
// rows (im2col; padding is zero spikes). Either way rows of
// a silent frame, and rows whose whole patch is silent, are not computed:
// their output is the layer's bias.
type binConv struct {
	e       *Engine
	li      int
	in, out *tensor
	bits    []uint64
	wt      []uint64 // bits in word-major order, for sets with AndGemmRowsT
	n, rw   int      // output channels, words per row
	kh, kw  int
	stride  int
	pad     int
	ih, iw  int
	oh, ow  int
	scale   []float32
	bias    []float32
	silent  []float32 // output of an all-zero patch: float32(0·Scale)+Bias
	pops    []int32   // per frame, the patch spike count of every output pixel
	p0      []int32   // per output pixel, the word offset of its top-left tap in a haloed frame
	pixcnt  []int32   // per worker, the spike count of every pixel of a haloed frame (halo 0)
	cframe  int       // a worker's pixcnt: pixels of a haloed frame, then its row sums

	// pair: the input has at most 32 channels, so a pixel fills half a
	// word. The count job then also writes pmap, where word p holds pixel p
	// in its low half and pixel p+1 in its high half, and a row's kw taps
	// of an image row are kw−1 contiguous pmap words against weight words
	// [w₀|w₁], [0|w₂], …, [0|w_{kw−1}]: the zero halves drop the pixel a
	// word repeats (a 0 weight bit adds nothing to popcount(s AND w⁺), and
	// the row's spike count still counts each tap once). A 3×3 conv over
	// 32 channels reads 6 words a row instead of 9.
	pair       bool
	pmap       []uint64 // frames of the paired map, laid out like the input
	pbits, pwt []uint64 // weights for pmap rows (kh·(kw−1) words), pwt word-major or nil

	rows   int  // this pass
	grain  int  // this pass: rows per unit, at most rowGrain
	sparse bool // this pass
	direct bool // rows are read in place (the input has a halo ≥ pad)
	cnt    countJob
}

// rowGrain is how many rows a unit multiplies at once: enough to amortize
// the kernel call and reuse each weight block across rows, small enough
// that the accumulators stay in L1/L2.
const rowGrain = 32

func newBinConv(e *Engine, li int, l *model.Layer, in, out *tensor) *binConv {
	c := &binConv{
		e: e, li: li, in: in, out: out, bits: l.Bits, n: l.OutC, rw: l.RowWords(),
		kh: l.KH, kw: l.KW, stride: l.Stride, pad: l.Pad,
		ih: in.shape.H, iw: in.shape.W, oh: out.shape.H, ow: out.shape.W,
		scale: l.Scale, bias: l.Bias,
	}
	if l.Op == model.OpLinear {
		// A linear layer reads a vector: one pixel whose words are the
		// packed features (bitops.PackSpikes order), like its weight rows.
		c.kh, c.kw, c.stride, c.pad = 1, 1, 1, 0
	}
	c.silent = make([]float32, c.n)
	for o := range c.silent {
		c.silent[o] = float32(float32(0)*c.scale[o]) + c.bias[o]
	}
	c.cnt.c = c
	if e.k.WideRows(c.rw) {
		c.wt = bitops.TransposeWords(c.bits, c.n, c.rw)
	}
	return c
}

func (c *binConv) need() need {
	return need{u64: rowGrain * c.rw, i32: rowGrain * c.n, idx: 3 * rowGrain}
}

// prepare sizes what depends on the input's final layout (its halo is
// planned after every op exists).
func (c *binConv) prepare() {
	c.direct = c.in.halo >= c.pad
	if c.direct {
		h := c.in.halo
		rowPix := c.iw + 2*h
		c.cframe = (c.ih + 2*h) * rowPix
		// A worker's counts, then its row sums (one row of ow per haloed row).
		c.cframe += (c.ih + 2*h) * c.ow
		c.pixcnt = make([]int32, c.e.cfg.threads*c.cframe)
		ohw := c.oh * c.ow
		c.pops = make([]int32, c.e.cfg.batch*c.in.steps*ohw)
		c.p0 = make([]int32, ohw)
		for q := range c.p0 {
			oy, ox := q/c.ow, q%c.ow
			c.p0[q] = int32(((oy*c.stride-c.pad+h)*rowPix + ox*c.stride - c.pad + h) * c.in.pw)
		}
		if c.in.shape.C <= 32 && c.kw >= 2 {
			c.preparePairs()
		}
	}
}

// preparePairs sets up the paired rows (see binConv.pair).
func (c *binConv) preparePairs() {
	c.pair = true
	c.pmap = make([]uint64, c.e.cfg.batch*c.in.steps*c.in.frame)
	prw := c.kh * (c.kw - 1)
	c.pbits = make([]uint64, c.n*prw)
	for o := 0; o < c.n; o++ {
		src := c.bits[o*c.rw : (o+1)*c.rw] // one word a tap
		dst := c.pbits[o*prw : (o+1)*prw]
		for ky := 0; ky < c.kh; ky++ {
			tap := src[ky*c.kw : (ky+1)*c.kw]
			seg := dst[ky*(c.kw-1) : (ky+1)*(c.kw-1)]
			seg[0] = tap[0]&0xffffffff | tap[1]<<32
			for i := 1; i < c.kw-1; i++ {
				seg[i] = tap[i+1] << 32
			}
		}
	}
	if c.e.k.WideRows(prw) {
		c.pwt = bitops.TransposeWords(c.pbits, c.n, prw)
	}
}

func (c *binConv) run(e *Engine) {
	in := c.in
	frames := e.nb * in.steps
	c.rows = frames * c.oh * c.ow
	var nzw int64
	for f := 0; f < frames; f++ {
		nzw += in.nzw[f]
	}
	switch e.cfg.exec {
	case Dense:
		c.sparse = false
	case Sparse:
		c.sparse = true
	default:
		c.sparse = float64(nzw) < e.cfg.threshold*float64(frames*in.words)
	}
	for _, s := range e.scratch {
		s.c = [4]int64{}
	}
	if c.direct && !c.sparse {
		e.pool.run(&c.cnt, frames)
	}
	// Small layers (deep stages at batch 1) are split finer so that every
	// thread gets about two units, down to 8 rows a unit.
	c.grain = max(8, min(rowGrain, (c.rows+2*e.cfg.threads-1)/(2*e.cfg.threads)))
	e.pool.run(c, (c.rows+c.grain-1)/c.grain)
	var skipped, done, kskip int64
	for _, s := range e.scratch {
		skipped += s.c[0]
		done += s.c[2]
		kskip += s.c[3]
	}
	st := &e.stats[c.li]
	st.Sparse = c.sparse
	st.Rows += int64(c.rows)
	st.RowsSkipped += skipped
	words := int64(c.rows) * int64(c.rw)
	st.Words += words
	st.DenseOps += words * 64 * int64(c.n)
	// Words of rows skipped here, plus the words the sparse kernel skipped
	// inside the rows it was given.
	skippedWords := (int64(c.rows)-done)*int64(c.rw) + kskip
	st.WordsSkipped += skippedWords
	st.BinaryOps += (words - skippedWords) * 64 * int64(c.n)
}

// countJob makes, one frame a unit, a direct conv's patch spike counts
// (pops) from the frame's per-pixel counts, and its paired map when the
// conv reads pairs. The halo's counts stay zero.
type countJob struct{ c *binConv }

func (j *countJob) unit(w, f int) {
	c := j.c
	in := c.in
	if in.nnz[f] == 0 {
		return // rows of a silent frame are skipped before counts are read
	}
	src := in.s[f*in.frame : (f+1)*in.frame]
	pw, h := in.pw, in.halo
	rowPix := c.iw + 2*h
	cnt := c.pixcnt[w*c.cframe : (w+1)*c.cframe]
	if c.pair {
		// Interior image rows, halo columns included; halo rows stay 0.
		pm := c.pmap[f*in.frame : (f+1)*in.frame]
		for y := h; y < h+c.ih; y++ {
			s := src[y*rowPix : (y+1)*rowPix]
			d := pm[y*rowPix : (y+1)*rowPix]
			for x := 0; x < len(s)-1; x++ {
				d[x] = s[x] | s[x+1]<<32
			}
			d[len(s)-1] = s[len(s)-1]
		}
	}
	for y := 0; y < c.ih; y++ {
		base := (y+h)*rowPix + h
		row := cnt[base : base+c.iw]
		ws := src[base*pw : (base+c.iw)*pw]
		if pw == 1 {
			for x := range row {
				row[x] = int32(bits.OnesCount64(ws[x]))
			}
			continue
		}
		for x := range row {
			n := 0
			for _, v := range ws[x*pw : (x+1)*pw] {
				n += bits.OnesCount64(v)
			}
			row[x] = int32(n)
		}
	}
	// Box sums, separable: each haloed row's kw-wide sums at the output
	// columns, then kh of those down; the halo's counts are zero. Integer
	// sums, so the order does not matter.
	hs := cnt[(c.ih+2*h)*rowPix:]
	for y := 0; y < c.ih+2*h; y++ {
		row := cnt[y*rowPix : (y+1)*rowPix]
		out := hs[y*c.ow : (y+1)*c.ow]
		if c.kw == 3 && c.stride == 1 {
			x0 := h - c.pad
			row = row[x0 : x0+c.ow+2]
			for ox := range out {
				out[ox] = row[ox] + row[ox+1] + row[ox+2]
			}
			continue
		}
		for ox := range out {
			p := ox*c.stride - c.pad + h
			s := int32(0)
			for _, v := range row[p : p+c.kw] {
				s += v
			}
			out[ox] = s
		}
	}
	pops := c.pops[f*c.oh*c.ow : (f+1)*c.oh*c.ow]
	for oy := 0; oy < c.oh; oy++ {
		out := pops[oy*c.ow : (oy+1)*c.ow]
		y0 := oy*c.stride - c.pad + h
		copy(out, hs[y0*c.ow:(y0+1)*c.ow])
		for ky := 1; ky < c.kh; ky++ {
			add := hs[(y0+ky)*c.ow : (y0+ky+1)*c.ow]
			add = add[:len(out)]
			for ox, v := range add {
				out[ox] += v
			}
		}
	}
}

func (c *binConv) unit(w, u int) {
	sc := c.e.scratch[w]
	lo := u * c.grain
	hi := min(lo+c.grain, c.rows)
	ohw := c.oh * c.ow
	rw, n := c.rw, c.n
	k := 0
	var skipped int64
	var off, pop []int32
	if c.direct && !c.sparse {
		off, pop = sc.idx[rowGrain:2*rowGrain], sc.idx[2*rowGrain:3*rowGrain]
	}
	f, q := lo/ohw, lo%ohw
	for r := lo; r < hi; r, q = r+1, q+1 {
		if q == ohw {
			f, q = f+1, 0
		}
		orow := c.out.f[r*n : (r+1)*n]
		if c.in.nnz[f] == 0 {
			copy(orow, c.silent)
			skipped++
			continue
		}
		var z int
		if off != nil {
			s := c.pops[r]
			off[k], pop[k], z = int32(f*c.in.frame)+c.p0[q], s, int(s)
		} else {
			z = c.gather(sc.u64[k*rw:(k+1)*rw], f, q)
		}
		if z == 0 {
			copy(orow, c.silent)
			skipped++
			continue
		}
		sc.idx[k] = int32(r)
		k++
	}
	sc.c[0] += skipped
	sc.c[2] += int64(k)
	if k == 0 {
		return
	}
	var err error
	// The in-place rows: the map itself, or its paired copy.
	src, segWords, wbits, wt := c.in.s, c.kw*c.in.pw, c.bits, c.wt
	if c.pair {
		src, segWords, wbits, wt = c.pmap, c.kw-1, c.pbits, c.pwt
	}
	if off != nil && wt != nil {
		// The kernel applies the affine and writes the output rows itself.
		err = c.e.k.AndConvRowsT(c.out.f, sc.idx[:k], src, off[:k], pop[:k], c.kh, c.in.rowStride(), segWords, wt, n, c.scale, c.bias)
		if err != nil {
			panic(fmt.Sprintf("runtime: layer %d: %v", c.li, err)) // shapes are fixed at compile time
		}
		return
	}
	acc := sc.i32[:k*n]
	switch {
	case c.sparse:
		var ks bitops.SparseStats
		ks, err = c.e.k.AndGemmSparse(acc, sc.u64[:k*rw], k, c.bits, n, rw)
		sc.c[3] += ks.SkippedWords
	case off != nil:
		err = c.e.k.AndGemmRows(acc, src, off[:k], pop[:k], c.kh, c.in.rowStride(), segWords, wbits, n)
	default:
		err = c.e.k.AndGemm(acc, sc.u64[:k*rw], k, c.bits, n, rw)
	}
	if err != nil {
		panic(fmt.Sprintf("runtime: layer %d: %v", c.li, err)) // shapes are fixed at compile time
	}
	scale, bias := c.scale[:n], c.bias[:n]
	for j := 0; j < k; j++ {
		r := int(sc.idx[j])
		orow := c.out.f[r*n : (r+1)*n]
		a := acc[j*n : (j+1)*n]
		for o := range orow {
			orow[o] = float32(float32(a[o])*scale[o]) + bias[o]
		}
	}
}

// gather writes the patch of output pixel q of frame f into dst and returns
// how many of its words are non-zero.
func (c *binConv) gather(dst []uint64, f, q int) int {
	pw := c.in.pw
	src := c.in.s[f*c.in.frame : (f+1)*c.in.frame]
	oy, ox := q/c.ow, q%c.ow
	nz := 0
	d := 0
	for ky := 0; ky < c.kh; ky++ {
		iy := oy*c.stride - c.pad + ky
		for kx := 0; kx < c.kw; kx++ {
			ix := ox*c.stride - c.pad + kx
			seg := dst[d : d+pw]
			d += pw
			if iy < 0 || iy >= c.ih || ix < 0 || ix >= c.iw {
				clear(seg)
				continue
			}
			o := c.in.px(iy*c.iw + ix)
			for j, v := range src[o : o+pw] {
				seg[j] = v
				nz += int((v | -v) >> 63) // 1 when v != 0
			}
		}
	}
	return nz
}
