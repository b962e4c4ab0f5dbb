package runtime

import (
	"fmt"
	"math/bits"

	"github.com/bsnn/bsnn/bitops"
	"github.com/bsnn/bsnn/model"
)

// fpConv runs a conv or linear layer on float input: fp32 and int8 layers,
// and binary layers whose input is not spikes. Each output is one float64
// dot product of its patch (gathered in c, ky, kx order, zero padding) with
// the weight row, summed in that order exactly as the reference does, so
// results match it bit for bit. The sums are bitops.F64GemmScaled: SIMD
// lanes are output channels and each block of patch rows shares one pass
// over the weights; no sum is split or reordered.
type fpConv struct {
	e       *Engine
	li      int
	in, out *tensor
	wT      []float64 // [InC·KH·KW][OutC]: the weights transposed
	n, k    int
	inC     int
	kh, kw  int
	stride  int
	pad     int
	ih, iw  int
	oh, ow  int
	scale   []float32
	bias    []float32
	grain   int
	rows    int
	direct  bool // 1×1, stride 1, no padding: a patch is one input pixel
	// skip lets the GEMM visit only the patch indices some row of a block
	// has non-zero. Inputs derived from spikes (pooled spikes, event
	// frames) have many zeros; the direct-encoded image has none worth
	// looking for.
	skip bool
	// spikes: the input is a spike map read in place (direct layers
	// only): a sum adds the weight rows of the set bits, in index order,
	// which is the float sum with its zero terms left out.
	spikes bool
}

func newFPConv(e *Engine, li int, l *model.Layer, in, out *tensor) *fpConv {
	c := &fpConv{
		e: e, li: li, in: in, out: out, n: l.OutC, inC: l.InC, kh: l.KH, kw: l.KW, stride: l.Stride, pad: l.Pad,
		ih: in.shape.H, iw: in.shape.W, oh: out.shape.H, ow: out.shape.W, scale: l.Scale, bias: l.Bias,
	}
	if l.Op == model.OpLinear {
		c.kh, c.kw, c.stride, c.pad = 1, 1, 1, 0
	}
	c.k = c.inC * c.kh * c.kw
	c.direct = c.kh == 1 && c.kw == 1 && c.stride == 1 && c.pad == 0
	c.skip = !(in == e.input && e.m.Input.Encoding == model.EncodingDirect)
	c.spikes = in.spikes
	w := l.DenseWeights() // [OutC][k], PyTorch order
	c.wT = make([]float64, c.k*c.n)
	for o := 0; o < c.n; o++ {
		for i := 0; i < c.k; i++ {
			c.wT[i*c.n+o] = float64(w[o*c.k+i])
		}
	}
	// Patch rows per unit: a few KB of patches per unit, whole blocks of
	// the GEMM, and enough units to share among threads.
	b := bitops.F64BlockRows
	c.grain = max(b, min(64, 16384/max(c.k, 1))/b*b)
	return c
}

func (c *fpConv) need() need {
	if c.spikes {
		return need{f64: c.n}
	}
	return need{f64: c.grain * c.k, idx: c.k}
}

func (c *fpConv) run(e *Engine) {
	c.rows = e.nb * c.in.steps * c.oh * c.ow
	e.pool.run(c, (c.rows+c.grain-1)/c.grain)
}

func (c *fpConv) unit(w, u int) {
	sc := c.e.scratch[w]
	lo := u * c.grain
	hi := min(lo+c.grain, c.rows)
	if c.spikes {
		c.spikeRows(sc.f64[:c.n], lo, hi)
		return
	}
	nr := hi - lo
	k, n := c.k, c.n
	patch := sc.f64[:nr*k]
	if c.direct {
		ohw := c.oh * c.ow
		for r := lo; r < hi; r++ {
			f, q := r/ohw, r%ohw
			src := c.in.f[f*c.in.frame+q*c.inC : f*c.in.frame+(q+1)*c.inC]
			for i, v := range src {
				patch[(r-lo)*k+i] = float64(v)
			}
		}
	} else {
		c.gatherRows(patch, lo, hi)
	}
	var skip []int32
	if c.skip {
		skip = sc.idx[:k]
	}
	if err := c.e.k.F64GemmScaled(c.out.f[lo*n:hi*n], patch, nr, k, c.wT, n, c.scale, c.bias, skip); err != nil {
		panic(fmt.Sprintf("runtime: layer %d: %v", c.li, err)) // shapes are fixed at compile time
	}
}

// spikeRows computes rows lo ≤ r < hi from a spike input: each output's
// float64 sum adds wT's rows at the set bits in index order (a term of a
// 0 input is ±0 and leaves a sum unchanged, one of a 1 input is the
// weight itself), then the float32 epilogue of F64GemmScaled.
func (c *fpConv) spikeRows(acc []float64, lo, hi int) {
	in, n := c.in, c.n
	ohw := c.oh * c.ow
	scale, bias := c.scale[:n], c.bias[:n]
	for r := lo; r < hi; r++ {
		f, q := r/ohw, r%ohw
		clear(acc)
		o := f*in.frame + in.px(q)
		for j, v := range in.s[o : o+in.pw] {
			for v != 0 {
				i := j*64 + bits.TrailingZeros64(v)
				v &= v - 1
				ws := c.wT[i*n : (i+1)*n]
				a := acc[:len(ws)]
				for x, wv := range ws {
					a[x] += wv
				}
			}
		}
		dst := c.out.f[r*n : (r+1)*n]
		for x := range dst {
			dst[x] = float32(float32(acc[x])*scale[x]) + bias[x]
		}
	}
}

// gatherRows writes the patches of rows lo ≤ r < hi to dst (row r−lo at
// (r−lo)·k), in c, ky, kx order, zero where a tap is in the padding. It
// works a run of one output row at a time and a tap at a time, so the
// padding test is a range computed once per tap and run.
func (c *fpConv) gatherRows(dst []float64, lo, hi int) {
	k, S, P := c.k, c.stride, c.pad
	ohw := c.oh * c.ow
	for r := lo; r < hi; {
		f, q := r/ohw, r%ohw
		oy, ox0 := q/c.ow, q%c.ow
		ox1 := min(c.ow, ox0+hi-r) // this run: ox0 ≤ ox < ox1 of row oy
		src := c.in.f[f*c.in.frame : (f+1)*c.in.frame]
		base := (r - lo) * k
		n := ox1 - ox0
		i := 0
		for ch := 0; ch < c.inC; ch++ {
			for ky := 0; ky < c.kh; ky++ {
				iy := oy*S - P + ky
				for kx := 0; kx < c.kw; kx++ {
					col := dst[base+i:]
					i++
					if iy < 0 || iy >= c.ih {
						for j := 0; j < n; j++ {
							col[j*k] = 0
						}
						continue
					}
					// Output columns whose tap ix = ox·S − P + kx lies in
					// the map: a ≤ ox < b.
					a := min(max(ox0, ceilDiv(P-kx, S)), ox1)
					b := max(min(ox1, ceilDiv(c.iw+P-kx, S)), a)
					for ox := ox0; ox < a; ox++ {
						col[(ox-ox0)*k] = 0
					}
					row := src[iy*c.iw*c.inC+ch:]
					for ox := a; ox < b; ox++ {
						col[(ox-ox0)*k] = float64(row[(ox*S-P+kx)*c.inC])
					}
					for ox := b; ox < ox1; ox++ {
						col[(ox-ox0)*k] = 0
					}
				}
			}
		}
		r += n
	}
}

// ceilDiv is ⌈a/b⌉ for b > 0 and any a.
func ceilDiv(a, b int) int {
	if a <= 0 {
		return -(-a / b)
	}
	return (a + b - 1) / b
}
