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
	ohw := c.oh * c.ow
	f, q := lo/ohw, lo%ohw
	oy, ox := q/c.ow, q%c.ow
	for r := lo; r < hi; r++ {
		c.gather(patch[(r-lo)*k:(r-lo+1)*k], f, oy, ox)
		if ox++; ox == c.ow {
			if ox, oy = 0, oy+1; oy == c.oh {
				oy, f = 0, f+1
			}
		}
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

// gather writes the patch of output pixel (oy, ox) of frame f in c, ky, kx
// order.
func (c *fpConv) gather(dst []float64, f, oy, ox int) {
	src := c.in.f[f*c.in.frame : (f+1)*c.in.frame]
	if c.direct {
		q := oy*c.ow + ox
		for i, v := range src[q*c.inC : (q+1)*c.inC] {
			dst[i] = float64(v)
		}
		return
	}
	y0, x0 := oy*c.stride-c.pad, ox*c.stride-c.pad
	if y0 >= 0 && x0 >= 0 && y0+c.kh <= c.ih && x0+c.kw <= c.iw {
		// Inside the map: no tap needs the padding test.
		i := 0
		inC, kw := c.inC, c.kw
		d := dst[:c.k]
		for ch := 0; ch < inC; ch++ {
			for ky := 0; ky < c.kh; ky++ {
				b := ((y0+ky)*c.iw+x0)*inC + ch
				if inC == 1 {
					for _, v := range src[b : b+kw] {
						d[i] = float64(v)
						i++
					}
					continue
				}
				seg := src[b : b+(kw-1)*inC+1]
				for kx := 0; kx < kw; kx++ {
					d[i] = float64(seg[kx*inC])
					i++
				}
			}
		}
		return
	}
	i := 0
	for ch := 0; ch < c.inC; ch++ {
		for ky := 0; ky < c.kh; ky++ {
			iy := y0 + ky
			for kx := 0; kx < c.kw; kx++ {
				ix := x0 + kx
				if iy < 0 || iy >= c.ih || ix < 0 || ix >= c.iw {
					dst[i] = 0
				} else {
					dst[i] = float64(src[(iy*c.iw+ix)*c.inC+ch])
				}
				i++
			}
		}
	}
}
