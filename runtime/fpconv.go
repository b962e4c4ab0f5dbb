package runtime

import (
	"fmt"

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
	var w []float64 // [OutC][k], PyTorch order
	switch l.Precision {
	case model.PrecisionFloat32:
		w = make([]float64, len(l.Weights))
		for i, v := range l.Weights {
			w[i] = float64(v)
		}
	case model.PrecisionInt8:
		w = make([]float64, len(l.WeightsI8))
		for i, v := range l.WeightsI8 {
			w[i] = float64(v)
		}
	case model.PrecisionBinary:
		w = bitsToFloat64(l)
	}
	c.wT = make([]float64, c.k*c.n)
	for o := 0; o < c.n; o++ {
		for i := 0; i < c.k; i++ {
			c.wT[i*c.n+o] = w[o*c.k+i]
		}
	}
	// Patch rows per unit: a few KB of patches per unit, whole blocks of
	// the GEMM, and enough units to share among threads.
	b := bitops.F64BlockRows
	c.grain = max(b, min(64, 16384/max(c.k, 1))/b*b)
	return c
}

func (c *fpConv) need() need { return need{f64: c.grain * c.k, idx: c.k} }

func (c *fpConv) run(e *Engine) {
	c.rows = e.nb * c.in.steps * c.oh * c.ow
	e.pool.run(c, (c.rows+c.grain-1)/c.grain)
}

func (c *fpConv) unit(w, u int) {
	sc := c.e.scratch[w]
	lo := u * c.grain
	hi := min(lo+c.grain, c.rows)
	nr := hi - lo
	k, n := c.k, c.n
	patch := sc.f64[:nr*k]
	for r := lo; r < hi; r++ {
		c.gather(patch[(r-lo)*k:(r-lo+1)*k], r)
	}
	var skip []int32
	if c.skip {
		skip = sc.idx[:k]
	}
	if err := c.e.k.F64GemmScaled(c.out.f[lo*n:hi*n], patch, nr, k, c.wT, n, c.scale, c.bias, skip); err != nil {
		panic(fmt.Sprintf("runtime: layer %d: %v", c.li, err)) // shapes are fixed at compile time
	}
}

// gather writes the patch of global row r in c, ky, kx order.
func (c *fpConv) gather(dst []float64, r int) {
	ohw := c.oh * c.ow
	f := r / ohw
	q := r - f*ohw
	src := c.in.f[f*c.in.frame : (f+1)*c.in.frame]
	if c.direct {
		for i, v := range src[q*c.inC : (q+1)*c.inC] {
			dst[i] = float64(v)
		}
		return
	}
	oy, ox := q/c.ow, q%c.ow
	y0, x0 := oy*c.stride-c.pad, ox*c.stride-c.pad
	if y0 >= 0 && x0 >= 0 && y0+c.kh <= c.ih && x0+c.kw <= c.iw {
		// Inside the map: no tap needs the padding test.
		i := 0
		for ch := 0; ch < c.inC; ch++ {
			for ky := 0; ky < c.kh; ky++ {
				row := src[((y0+ky)*c.iw+x0)*c.inC+ch:]
				for kx := 0; kx < c.kw; kx++ {
					dst[i] = float64(row[kx*c.inC])
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
