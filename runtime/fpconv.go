package runtime

import (
	"github.com/bsnn/bsnn/model"
)

// fpConv runs a conv or linear layer on float input: fp32 and int8 layers,
// and binary layers whose input is not spikes. Each output is one float64
// dot product of its patch (gathered in c, ky, kx order, zero padding) with
// the weight row, summed in that order exactly as the reference does, so
// results match it bit for bit. Speed comes from computing a 2×4 block of
// outputs per pass over the patch, not from reordering any sum.
type fpConv struct {
	e       *Engine
	in, out *tensor
	w       []float64 // [OutC][InC·KH·KW], PyTorch order
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
}

func newFPConv(e *Engine, li int, l *model.Layer, in, out *tensor) *fpConv {
	c := &fpConv{
		e: e, in: in, out: out, n: l.OutC, inC: l.InC, kh: l.KH, kw: l.KW, stride: l.Stride, pad: l.Pad,
		ih: in.shape.H, iw: in.shape.W, oh: out.shape.H, ow: out.shape.W, scale: l.Scale, bias: l.Bias,
	}
	if l.Op == model.OpLinear {
		c.kh, c.kw, c.stride, c.pad = 1, 1, 1, 0
	}
	c.k = c.inC * c.kh * c.kw
	c.direct = c.kh == 1 && c.kw == 1 && c.stride == 1 && c.pad == 0
	switch l.Precision {
	case model.PrecisionFloat32:
		c.w = make([]float64, len(l.Weights))
		for i, v := range l.Weights {
			c.w[i] = float64(v)
		}
	case model.PrecisionInt8:
		c.w = make([]float64, len(l.WeightsI8))
		for i, v := range l.WeightsI8 {
			c.w[i] = float64(v)
		}
	case model.PrecisionBinary:
		c.w = bitsToFloat64(l)
	}
	// Patch rows per unit: a few KB of patches per unit amortize the
	// weight streaming without leaving L2.
	c.grain = max(2, min(64, 16384/c.k))
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
	out := c.out.f[lo*n : hi*n]
	r := 0
	for ; r+2 <= nr; r += 2 {
		a0, a1 := patch[r*k:(r+1)*k], patch[(r+1)*k:(r+2)*k]
		// Terms where both rows are zero add ±0 to each sum, which never
		// changes it (a sum that starts at +0 cannot become −0), so they
		// can be skipped exactly. Inputs that are pooled spikes are
		// often half zeros; dense images are not, and take the plain path.
		nz := sc.idx[:0]
		for i, x := range a0 {
			if x != 0 || a1[i] != 0 {
				nz = append(nz, int32(i))
			}
		}
		sparse := 4*len(nz) < 3*k
		o := 0
		for ; o+4 <= n; o += 4 {
			w0, w1, w2, w3 := c.w[o*k:(o+1)*k], c.w[(o+1)*k:(o+2)*k], c.w[(o+2)*k:(o+3)*k], c.w[(o+3)*k:(o+4)*k]
			var s [8]float64
			if sparse {
				s = dot2x4Idx(a0, a1, w0, w1, w2, w3, nz)
			} else {
				s = dot2x4(a0, a1, w0, w1, w2, w3)
			}
			c.put(out[r*n+o:r*n+o+4], s[0:4], o)
			c.put(out[(r+1)*n+o:(r+1)*n+o+4], s[4:8], o)
		}
		for ; o < n; o++ {
			wo := c.w[o*k : (o+1)*k]
			s := [2]float64{dot(a0, wo), dot(a1, wo)}
			c.put(out[r*n+o:r*n+o+1], s[0:1], o)
			c.put(out[(r+1)*n+o:(r+1)*n+o+1], s[1:2], o)
		}
	}
	if r < nr {
		a := patch[r*k : (r+1)*k]
		o := 0
		for ; o+4 <= n; o += 4 {
			s := dot1x4(a, c.w[o*k:(o+1)*k], c.w[(o+1)*k:(o+2)*k], c.w[(o+2)*k:(o+3)*k], c.w[(o+3)*k:(o+4)*k])
			c.put(out[r*n+o:r*n+o+4], s[:], o)
		}
		for ; o < n; o++ {
			s := [1]float64{dot(a, c.w[o*k:(o+1)*k])}
			c.put(out[r*n+o:r*n+o+1], s[:], o)
		}
	}
}

// put writes outputs o, o+1, … of one row from their accumulators.
func (c *fpConv) put(dst []float32, acc []float64, o int) {
	for j, a := range acc {
		dst[j] = float32(float32(a)*c.scale[o+j]) + c.bias[o+j]
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
	i := 0
	for ch := 0; ch < c.inC; ch++ {
		for ky := 0; ky < c.kh; ky++ {
			iy := oy*c.stride - c.pad + ky
			for kx := 0; kx < c.kw; kx++ {
				ix := ox*c.stride - c.pad + kx
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

// dot2x4 returns the eight dot products of rows a0, a1 with w0..w3, each
// summed in index order. Products of float32 values are exact in float64,
// so a fused multiply-add computes the same sum.
func dot2x4(a0, a1, w0, w1, w2, w3 []float64) [8]float64 {
	n := len(a0)
	a1, w0, w1, w2, w3 = a1[:n], w0[:n], w1[:n], w2[:n], w3[:n]
	var s0, s1, s2, s3, s4, s5, s6, s7 float64
	for i, x := range a0 {
		y := a1[i]
		v0, v1, v2, v3 := w0[i], w1[i], w2[i], w3[i]
		s0 += x * v0
		s1 += x * v1
		s2 += x * v2
		s3 += x * v3
		s4 += y * v0
		s5 += y * v1
		s6 += y * v2
		s7 += y * v3
	}
	return [8]float64{s0, s1, s2, s3, s4, s5, s6, s7}
}

// dot2x4Idx is dot2x4 over the indices in idx only (increasing).
func dot2x4Idx(a0, a1, w0, w1, w2, w3 []float64, idx []int32) [8]float64 {
	n := len(a0)
	a1, w0, w1, w2, w3 = a1[:n], w0[:n], w1[:n], w2[:n], w3[:n]
	var s0, s1, s2, s3, s4, s5, s6, s7 float64
	for _, i := range idx {
		x, y := a0[i], a1[i]
		v0, v1, v2, v3 := w0[i], w1[i], w2[i], w3[i]
		s0 += x * v0
		s1 += x * v1
		s2 += x * v2
		s3 += x * v3
		s4 += y * v0
		s5 += y * v1
		s6 += y * v2
		s7 += y * v3
	}
	return [8]float64{s0, s1, s2, s3, s4, s5, s6, s7}
}

func dot1x4(a, w0, w1, w2, w3 []float64) [4]float64 {
	n := len(a)
	w0, w1, w2, w3 = w0[:n], w1[:n], w2[:n], w3[:n]
	var s0, s1, s2, s3 float64
	for i, x := range a {
		s0 += x * w0[i]
		s1 += x * w1[i]
		s2 += x * w2[i]
		s3 += x * w3[i]
	}
	return [4]float64{s0, s1, s2, s3}
}

func dot(a, w []float64) float64 {
	w = w[:len(a)]
	var s float64
	for i, x := range a {
		s += x * w[i]
	}
	return s
}
