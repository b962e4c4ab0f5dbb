package runtime

import (
	"fmt"

	"github.com/bsnn/bsnn/bitops"
	"github.com/bsnn/bsnn/model"
)

// binConv runs a binary conv (or a binary linear layer, a 1×1 conv on a
// 1×1 map) on spikes, over every step and sample of a pass at once: each
// output pixel of each frame is one row of an AND-popcount GEMM against the
// packed weight rows.
//
// A row's patch is gathered (im2col) from the channel-packed input; padding
// is zero spikes. Rows of a silent frame, and rows whose whole patch is
// silent, are not computed: their output is the layer's bias. The remaining
// rows are packed together and go through the dense or the sparse kernel.
type binConv struct {
	e       *Engine
	li      int
	in, out *tensor
	bits    []uint64
	n, rw   int // output channels, words per row
	kh, kw  int
	stride  int
	pad     int
	ih, iw  int
	oh, ow  int
	scale   []float32
	bias    []float32
	silent  []float32 // output of an all-zero patch: float32(0·Scale)+Bias

	rows   int  // this pass
	grain  int  // this pass: rows per unit, at most rowGrain
	sparse bool // this pass
}

// rowGrain is how many rows a unit gathers and multiplies at once: enough to
// amortize the kernel call and reuse each weight block across rows, small
// enough that the patch rows stay in L1/L2.
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
	return c
}

func (c *binConv) need() need {
	return need{u64: rowGrain * c.rw, i32: rowGrain * c.n, idx: rowGrain}
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
		c.sparse = float64(nzw) < e.cfg.threshold*float64(frames*in.frame)
	}
	for _, s := range e.scratch {
		s.c = [4]int64{}
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

func (c *binConv) unit(w, u int) {
	sc := c.e.scratch[w]
	lo := u * c.grain
	hi := min(lo+c.grain, c.rows)
	ohw := c.oh * c.ow
	rw, n := c.rw, c.n
	patch := sc.u64
	k := 0
	var skipped int64
	for r := lo; r < hi; r++ {
		f := r / ohw
		orow := c.out.f[r*n : (r+1)*n]
		if c.in.nnz[f] == 0 {
			copy(orow, c.silent)
			skipped++
			continue
		}
		z := c.gather(patch[k*rw:(k+1)*rw], f, r-f*ohw)
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
	acc := sc.i32[:k*n]
	var err error
	if c.sparse {
		var ks bitops.SparseStats
		ks, err = c.e.k.AndGemmSparse(acc, patch[:k*rw], k, c.bits, n, rw)
		sc.c[3] += ks.SkippedWords
	} else {
		err = c.e.k.AndGemm(acc, patch[:k*rw], k, c.bits, n, rw)
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
			o := (iy*c.iw + ix) * pw
			for j, v := range src[o : o+pw] {
				seg[j] = v
				nz += int((v | -v) >> 63) // 1 when v != 0
			}
		}
	}
	return nz
}

// bitsToFloat64 expands binary weight rows into ±1 in PyTorch order
// [o][c][ky][kx], for a binary layer whose input is not spikes.
func bitsToFloat64(l *model.Layer) []float64 {
	w := make([]float64, l.OutC*l.InC*l.KH*l.KW)
	rw, pw := l.RowWords(), bitops.Words(l.InC)
	for o := 0; o < l.OutC; o++ {
		for ch := 0; ch < l.InC; ch++ {
			for ky := 0; ky < l.KH; ky++ {
				for kx := 0; kx < l.KW; kx++ {
					b := l.Bits[o*rw+(ky*l.KW+kx)*pw+ch>>6] >> uint(ch&63) & 1
					w[((o*l.InC+ch)*l.KH+ky)*l.KW+kx] = float64(int(b)*2 - 1)
				}
			}
		}
	}
	return w
}
