package runtime

import (
	"fmt"
	"math/bits"
	"sync/atomic"

	"github.com/bsnn/bsnn/model"
)

// poolOp is AvgPool or MaxPool. A unit is one output row of one frame. Max
// over spikes is the OR of their words and stays packed; an average over
// spikes counts them.
type poolOp struct {
	e       *Engine
	in, out *tensor
	l       *model.Layer
	max     bool
	// quot[n·(K²+1)+k] = float32(float64(k)/float64(n)): the average of n
	// window pixels of which k spiked, looked up instead of divided.
	quot []float32
}

// prepare builds the quotient table of an average over spikes.
func (o *poolOp) prepare() {
	if !o.max && o.in.spikes {
		kk := o.l.Kernel * o.l.Kernel
		o.quot = make([]float32, (kk+1)*(kk+1))
		for n := 1; n <= kk; n++ {
			for k := 0; k <= n; k++ {
				o.quot[n*(kk+1)+k] = float32(float64(k) / float64(n))
			}
		}
	}
}

func (o *poolOp) run(e *Engine) {
	frames := e.nb * o.in.steps
	if o.out.spikes {
		for f := 0; f < frames; f++ {
			o.out.nnz[f], o.out.nzw[f] = 0, 0
		}
	}
	e.pool.run(o, frames*o.out.shape.H)
}

func (o *poolOp) unit(w, u int) {
	if o.in.spikes {
		o.spikeUnit(w, u)
		return
	}
	oh := o.out.shape.H
	f, oy := u/oh, u%oh
	in, out := o.in, o.out
	C, ih, iw, ow := in.shape.C, in.shape.H, in.shape.W, out.shape.W
	K, S, P := o.l.Kernel, o.l.Stride, o.l.Pad
	acc := o.e.scratch[w].f64[:C]
	for ox := 0; ox < ow; ox++ {
		q := oy*ow + ox
		df := out.f[f*out.frame+q*C : f*out.frame+(q+1)*C]
		first := true
		n := 0
		clear(acc)
		for ky := 0; ky < K; ky++ {
			iy := oy*S - P + ky
			if iy < 0 || iy >= ih {
				continue
			}
			for kx := 0; kx < K; kx++ {
				ix := ox*S - P + kx
				if ix < 0 || ix >= iw {
					continue
				}
				p := iy*iw + ix
				n++
				src := in.f[f*in.frame+p*C : f*in.frame+(p+1)*C]
				switch {
				case o.max && first:
					copy(df, src)
				case o.max:
					for c, v := range src {
						if v > df[c] {
							df[c] = v
						}
					}
				default:
					for c, v := range src {
						acc[c] += float64(v)
					}
				}
				first = false
			}
		}
		if !o.max {
			for c, a := range acc {
				df[c] = float32(a / float64(n))
			}
		}
	}
}

// spikeUnit is unit for spike inputs: a window is clipped to the map once
// per output pixel, and taps are addressed from row bases (pixels of a row
// are pw words apart whatever the halo). Max ORs the words (spikes stay
// packed); average is bitops' AvgSpikes over the window's pixels.
func (o *poolOp) spikeUnit(w, u int) {
	in, out := o.in, o.out
	oh, ow := out.shape.H, out.shape.W
	f, oy := u/oh, u%oh
	C, ih, iw, pw := in.shape.C, in.shape.H, in.shape.W, in.pw
	K, S, P := o.l.Kernel, o.l.Stride, o.l.Pad
	y0, y1 := max(0, oy*S-P), min(ih, oy*S-P+K)
	src := in.s[f*in.frame : (f+1)*in.frame]
	rs := in.rowStride()
	top := in.px(y0 * iw) // word of pixel (y0, 0)
	var nnz, nzw int64
	off := o.e.scratch[w].idx[:K*K]
	for ox := 0; ox < ow; ox++ {
		x0, x1 := max(0, ox*S-P), min(iw, ox*S-P+K)
		q := oy*ow + ox
		if out.spikes {
			dw := out.s[f*out.frame+out.px(q) : f*out.frame+out.px(q)+out.pw]
			dw = dw[:pw]
			for j := range dw {
				var v uint64
				for y := y0; y < y1; y++ {
					row := top + (y-y0)*rs + j
					for x := x0; x < x1; x++ {
						v |= src[row+x*pw]
					}
				}
				dw[j] = v
				nnz += int64(bits.OnesCount64(v))
				nzw += int64((v | -v) >> 63)
			}
			continue
		}
		// Average (a max pool over spikes keeps spikes as output): the
		// window's pixels counted per channel, quotients from the table.
		n := 0
		for y := y0; y < y1; y++ {
			for x := x0; x < x1; x++ {
				off[n] = int32(top + (y-y0)*rs + x*pw)
				n++
			}
		}
		df := out.f[f*out.frame+q*C : f*out.frame+(q+1)*C]
		if err := o.e.k.AvgSpikes(df, src, off[:n], o.quot[n*(K*K+1):(n+1)*(K*K+1)]); err != nil {
			panic(fmt.Sprintf("runtime: layer %s: %v", o.l.Name, err)) // shapes are fixed at compile time
		}
	}
	if out.spikes {
		atomic.AddInt64(&out.nnz[f], nnz)
		atomic.AddInt64(&out.nzw[f], nzw)
	}
}

// gapOp is GlobalAvgPool. A unit is one frame and a block of 64 channels.
type gapOp struct {
	e       *Engine
	in, out *tensor
	blocks  int
}

func (o *gapOp) run(e *Engine) {
	o.blocks = (o.in.shape.C + 63) / 64
	e.pool.run(o, e.nb*o.in.steps*o.blocks)
}

func (o *gapOp) unit(_, u int) {
	f, blk := u/o.blocks, u%o.blocks
	in := o.in
	C, hw := in.shape.C, in.hw
	c0 := blk * 64
	c1 := min(c0+64, C)
	dst := o.out.f[f*o.out.frame+c0 : f*o.out.frame+c1]
	if in.spikes {
		var cnt [64]int64
		for p := 0; p < hw; p++ {
			v := in.s[f*in.frame+in.px(p)+blk]
			for v != 0 {
				cnt[bits.TrailingZeros64(v)]++
				v &= v - 1
			}
		}
		for j := range dst {
			dst[j] = float32(float64(cnt[j]) / float64(hw))
		}
		return
	}
	var sum [64]float64
	s := sum[:c1-c0]
	for p := 0; p < hw; p++ {
		for j, v := range in.f[f*in.frame+p*C+c0 : f*in.frame+p*C+c1] {
			s[j] += float64(v)
		}
	}
	for j := range dst {
		dst[j] = float32(s[j] / float64(hw))
	}
}

// flattenOp reorders a map into a C,H,W-ordered vector; spikes stay packed
// (bit c·H·W+p of the row, as bitops.PackSpikes would pack the flattened
// map). A unit is one frame.
type flattenOp struct {
	e       *Engine
	in, out *tensor
}

func (o *flattenOp) run(e *Engine) { e.pool.run(o, e.nb*o.in.steps) }

func (o *flattenOp) unit(_, f int) {
	in, out := o.in, o.out
	C, hw := in.shape.C, in.hw
	if !in.spikes {
		src := in.f[f*in.frame : (f+1)*in.frame]
		dst := out.f[f*out.frame : (f+1)*out.frame]
		for p := 0; p < hw; p++ {
			for c, v := range src[p*C : (p+1)*C] {
				dst[c*hw+p] = v
			}
		}
		return
	}
	dst := out.s[f*out.frame : (f+1)*out.frame]
	if hw == 1 {
		copy(dst, in.s[f*in.frame+in.px(0):f*in.frame+in.px(0)+in.pw])
	} else {
		clear(dst)
		for p := 0; p < hw; p++ {
			for j, v := range in.s[f*in.frame+in.px(p) : f*in.frame+in.px(p)+in.pw] {
				for v != 0 {
					i := (j*64+bits.TrailingZeros64(v))*hw + p
					dst[i>>6] |= 1 << uint(i&63)
					v &= v - 1
				}
			}
		}
	}
	var nzw int64
	for _, v := range dst {
		nzw += int64((v | -v) >> 63)
	}
	out.nnz[f], out.nzw[f] = in.nnz[f], nzw
}

// readoutOp writes the logits: float32(float64 Σ_t in[t] / T).
type readoutOp struct {
	in *tensor
}

func (o *readoutOp) run(e *Engine) {
	n := o.in.shape.C
	for b := 0; b < e.nb; b++ {
		lg := e.logits[b*n : (b+1)*n]
		for j := range lg {
			var s float64
			for t := 0; t < e.T; t++ {
				s += float64(o.in.f[o.in.fr(b, t)*o.in.frame+j])
			}
			lg[j] = float32(s / float64(e.T))
		}
	}
}

// encodeOp turns the caller's samples into the input tensor (see the
// package doc for the encodings). A unit is one sample.
type encodeOp struct {
	e         *Engine
	out       *tensor
	enc       model.Encoding
	mean, std []float32
}

func (o *encodeOp) init(m *model.Model) {
	in := m.Input
	o.enc = in.Encoding
	o.mean = make([]float32, in.Shape.C)
	o.std = make([]float32, in.Shape.C)
	for c := range o.std {
		o.std[c] = 1
		if len(in.Mean) > 0 {
			o.mean[c] = in.Mean[c]
		}
		if len(in.Std) > 0 {
			o.std[c] = in.Std[c]
		}
	}
}

func (o *encodeOp) run(e *Engine) {
	o.e = e
	if o.enc == model.EncodingRate && e.rng != nil {
		// A session's generator runs on from frame to frame.
		o.unit(0, 0)
		return
	}
	e.pool.run(o, e.nb)
}

func (o *encodeOp) unit(_, b int) {
	e, out := o.e, o.out
	x := e.inputs[b]
	C, hw := out.shape.C, out.hw
	switch o.enc {
	case model.EncodingDirect:
		dst := out.f[b*out.frame : (b+1)*out.frame]
		for c := 0; c < C; c++ {
			mean, std := o.mean[c], o.std[c]
			for p, v := range x[c*hw : (c+1)*hw] {
				dst[p*C+c] = (v - mean) / std
			}
		}
	case model.EncodingEvents:
		n := C * hw
		for t := 0; t < e.T; t++ {
			f := b*e.T + t
			dst := out.f[f*out.frame : (f+1)*out.frame]
			for c := 0; c < C; c++ {
				for p, v := range x[t*n+c*hw : t*n+(c+1)*hw] {
					dst[p*C+c] = v
				}
			}
		}
	case model.EncodingRate:
		g := e.cfg.seed
		rng := &g
		if e.rng != nil {
			rng = e.rng
		}
		for t := 0; t < e.T; t++ {
			f := b*e.T + t
			dst := out.s[f*out.frame : (f+1)*out.frame]
			clear(dst)
			for c := 0; c < C; c++ {
				word, bit := c>>6, uint64(1)<<uint(c&63)
				for p, v := range x[c*hw : (c+1)*hw] {
					if rate(rng, v) {
						dst[out.px(p)+word] |= bit
					}
				}
			}
			var nnz, nzw int64
			for _, v := range dst {
				nnz += int64(bits.OnesCount64(v))
				nzw += int64((v | -v) >> 63)
			}
			out.nnz[f], out.nzw[f] = nnz, nzw
		}
	}
}

// rate draws one rate-coded spike with probability p: the next splitmix64
// value's top 24 bits u give a spike when u·2⁻²⁴ < p.
func rate(g *uint64, p float32) bool {
	*g += 0x9e3779b97f4a7c15
	z := *g
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	z ^= z >> 31
	return float32(z>>40)*0x1p-24 < p
}
