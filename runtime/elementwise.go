package runtime

import (
	"fmt"
	"math"
	"sync/atomic"

	"github.com/bsnn/bsnn/bitops"
	"github.com/bsnn/bsnn/model"
)

// pixelGrain is how many channel values an element-wise unit handles, in
// pixels of the map: about 16 KB of floats.
func pixelGrain(c int) int { return max(1, 4096/c) }

// pixelJob splits frames × pixels into units of whole pixels, for ops that
// map each output pixel from the same pixel of their inputs.
type pixelJob struct {
	frames, hw, grain, perFrame int
}

func (p *pixelJob) init(frames, hw, c int) int {
	p.frames, p.hw, p.grain = frames, hw, pixelGrain(c)
	p.perFrame = (hw + p.grain - 1) / p.grain
	return frames * p.perFrame
}

// span returns unit u's frame and pixel range.
func (p *pixelJob) span(u int) (f, lo, hi int) {
	f = u / p.perFrame
	lo = (u - f*p.perFrame) * p.grain
	return f, lo, min(lo+p.grain, p.hw)
}

// convertOp expands spikes to floats 0 and 1 for a float consumer.
type convertOp struct {
	e       *Engine
	in, out *tensor
	pj      pixelJob
}

func (o *convertOp) run(e *Engine) {
	o.e = e
	e.pool.run(o, o.pj.init(e.nb*o.in.steps, o.in.hw, o.in.shape.C))
}

func (o *convertOp) unit(_, u int) {
	f, lo, hi := o.pj.span(u)
	C, pw := o.in.shape.C, o.in.pw
	for p := lo; p < hi; p++ {
		src := o.in.s[f*o.in.frame+o.in.px(p) : f*o.in.frame+o.in.px(p)+pw]
		dst := o.out.f[f*o.out.frame+p*C : f*o.out.frame+(p+1)*C]
		for c := range dst {
			dst[c] = float32(src[c>>6] >> uint(c&63) & 1)
		}
	}
}

// affineOp: out = float32(in·Scale[c]) + Bias[c].
type affineOp struct {
	e           *Engine
	in, out     *tensor
	scale, bias []float32
	pj          pixelJob
}

func (o *affineOp) run(e *Engine) {
	e.pool.run(o, o.pj.init(e.nb*o.in.steps, o.in.hw, o.in.shape.C))
}

func (o *affineOp) unit(_, u int) {
	f, lo, hi := o.pj.span(u)
	C := o.in.shape.C
	src := o.in.f[f*o.in.frame+lo*C : f*o.in.frame+hi*C]
	dst := o.out.f[f*o.out.frame+lo*C : f*o.out.frame+hi*C]
	scale, bias := o.scale[:C], o.bias[:C]
	for p := 0; p < hi-lo; p++ {
		s, d := src[p*C:(p+1)*C], dst[p*C:(p+1)*C]
		for c, v := range s {
			d[c] = float32(v*scale[c]) + bias[c]
		}
	}
}

// sigmoid is σ(x) = float32(1/(1+exp(−float64(x)))) as model.go defines it.
func sigmoid(x float32) float32 { return float32(1 / (1 + math.Exp(-float64(x)))) }

// gates computes an AGMM layer's gates G[frame][c] = float32(α[t]·σ(E[c]))
// for every output frame (b, t) of a pass. A unit is one frame and a block of
// up to 64 channels (StatSpatial, StatNone: channels are independent) or a
// whole frame (StatChannelSpatial). Means are float64 sums over pixels in
// index order, divided by the count, as the reference does.
type gates struct {
	e      *Engine
	in     *tensor
	l      *model.Layer
	g      []float32 // [batch·T][C]
	sum    []float64 // [threads][64]: a worker's channel sums
	blocks int
}

func newGates(e *Engine, l *model.Layer, in *tensor) *gates {
	return &gates{e: e, in: in, l: l, g: make([]float32, e.cfg.batch*e.T*in.shape.C), sum: make([]float64, 64*e.cfg.threads)}
}

func (o *gates) run(e *Engine) {
	o.blocks = 1
	if o.l.Stat != model.StatChannelSpatial {
		o.blocks = (o.in.shape.C + 63) / 64
	}
	e.pool.run(o, e.nb*e.T*o.blocks)
}

func (o *gates) unit(w, u int) {
	T := o.e.T
	fo := u / o.blocks
	b, t := fo/T, fo%T
	fi := o.in.fr(b, t)
	C, hw := o.in.shape.C, o.in.hw
	src := o.in.f[fi*o.in.frame : (fi+1)*o.in.frame]
	alpha := o.l.Alpha[t]
	c0 := (u % o.blocks) * 64
	c1 := min(c0+64, C)
	g := o.g[fo*C : (fo+1)*C]
	switch o.l.Stat {
	case model.StatSpatial:
		s := o.sum[w*64 : w*64+c1-c0]
		if err := o.e.k.StatSpatial(s, src[c0:], hw, C); err != nil {
			panic(fmt.Sprintf("runtime: AGMM %s: %v", o.l.Name, err)) // shapes are fixed at compile time
		}
		for j := range s {
			g[c0+j] = alpha * sigmoid(float32(s[j]/float64(hw)))
		}
	case model.StatChannelSpatial:
		var sum float64
		for c := 0; c < C; c++ {
			for p := 0; p < hw; p++ {
				sum += float64(src[p*C+c])
			}
		}
		ga := alpha * sigmoid(float32(sum/float64(C*hw)))
		for c := range g {
			g[c] = ga
		}
	case model.StatNone:
		for c := c0; c < c1; c++ {
			g[c] = alpha
		}
	}
}

// agmmOp is an AGMM layer on its own: gates, then out = float32(G[c]·in).
type agmmOp struct {
	e       *Engine
	in, out *tensor
	gt      *gates
	pj      pixelJob
}

func (o *agmmOp) run(e *Engine) {
	o.gt.run(e)
	e.pool.run(o, o.pj.init(e.nb*e.T, o.in.hw, o.in.shape.C))
}

func (o *agmmOp) unit(_, u int) {
	fo, lo, hi := o.pj.span(u)
	T := o.e.T
	fi := o.in.fr(fo/T, fo%T)
	C := o.in.shape.C
	g := o.gt.g[fo*C : (fo+1)*C]
	src := o.in.f[fi*o.in.frame+lo*C : fi*o.in.frame+hi*C]
	dst := o.out.f[fo*o.out.frame+lo*C : fo*o.out.frame+hi*C]
	for p := 0; p < hi-lo; p++ {
		s, d := src[p*C:(p+1)*C], dst[p*C:(p+1)*C]
		for c, v := range s {
			d[c] = g[c] * v
		}
	}
}

// lifOp integrates over the T steps and writes packed spikes directly. A
// unit is a block of pixels of one sample, run by the kernel set's LIF
// (bitops.Kernels.LIF) one image row at a time, membranes carried through
// the steps in registers.
//
// The LIF's input is in, optionally gated (an AGMM layer read only by this
// chain: float32(G·in)) and optionally plus a shortcut (an Add read only by
// this LIF): the chain conv → AGMM → Add → LIF of a Bi-Real unit then costs
// one pass over the conv output instead of four, with the same float32
// operations in the same order as the separate layers.
type lifOp struct {
	e     *Engine
	li    int
	in    *tensor // float
	gate  *gates  // nil: no fused AGMM
	short *tensor // nil: no fused Add; float or spikes
	out   *tensor
	l     *model.Layer
	pj    pixelJob
}

func (o *lifOp) run(e *Engine) {
	if o.gate != nil {
		o.gate.run(e)
	}
	frames := e.nb * e.T
	for f := 0; f < frames; f++ {
		o.out.nnz[f], o.out.nzw[f] = 0, 0
	}
	units := o.pj.init(e.nb, o.in.hw, o.in.shape.C)
	e.pool.run(o, units)
	var n int64
	for f := 0; f < frames; f++ {
		n += o.out.nnz[f]
	}
	e.stats[o.li].Spikes += n
}

func (o *lifOp) unit(w, u int) {
	e := o.e
	T := e.T
	b, lo, hi := o.pj.span(u)
	cnt := e.scratch[w].i64[:2*T]
	clear(cnt)
	// A kernel run is the pixels of one image row: they are contiguous in
	// every tensor, rows need not be.
	W := o.in.shape.W
	for p := lo; p < hi; {
		end := min(hi, (p/W+1)*W)
		o.runPixels(b, p, end, cnt)
		p = end
	}
	for t := 0; t < T; t++ {
		atomic.AddInt64(&o.out.nnz[b*T+t], cnt[2*t])
		atomic.AddInt64(&o.out.nzw[b*T+t], cnt[2*t+1])
	}
}

// runPixels runs the LIF kernel on pixels lo ≤ p < hi of one image row of
// sample b, adding the per-step spike and non-zero word counts to cnt.
func (o *lifOp) runPixels(b, lo, hi int, cnt []int64) {
	e := o.e
	C := o.in.shape.C
	n := hi - lo
	r := bitops.LIFRun{
		C: C, Pixels: n, Steps: e.T,
		Lambda: o.l.Lambda, Vth: o.l.Vth, Hard: o.l.Reset == model.ResetHard,
		X: o.in.f[o.in.fr(b, 0)*o.in.frame+lo*C:], XPixel: C, XStep: o.in.stepStride(),
		Out: o.out.s[o.out.fr(b, 0)*o.out.frame+o.out.px(lo):], OutPixel: o.out.pxStride(lo, n), OutStep: o.out.stepStride(),
	}
	if o.gate != nil {
		r.Gate, r.GateStep = o.gate.g[b*e.T*C:], C
	}
	if sh := o.short; sh != nil {
		if sh.spikes {
			r.Spk = sh.s[sh.fr(b, 0)*sh.frame+sh.px(lo):]
			r.SpkPixel, r.SpkStep = sh.pxStride(lo, n), sh.stepStride()
		} else {
			r.Res = sh.f[sh.fr(b, 0)*sh.frame+lo*C:]
			r.ResPixel, r.ResStep = C, sh.stepStride()
		}
	}
	if e.state != nil {
		r.State = e.state.lif[o.li].h[lo*C : hi*C]
	}
	if err := e.k.LIF(&r, cnt); err != nil {
		panic(fmt.Sprintf("runtime: layer %d: %v", o.li, err)) // shapes are fixed at compile time
	}
}

// stepStride is the distance between the frames of consecutive steps of
// one sample: 0 when the value is the same at every step.
func (t *tensor) stepStride() int {
	if t.steps == 1 {
		return 0
	}
	return t.frame
}

// pxStride is the word distance between consecutive spike pixels of the
// run of n pixels of one image row starting at pixel p (any value when the
// run has one pixel).
func (t *tensor) pxStride(p, n int) int {
	if n < 2 {
		return t.pw
	}
	return t.px(p+1) - t.px(p)
}

// addOp: out = a + b element-wise; either side may be spikes (0 or 1).
type addOp struct {
	e    *Engine
	a, b *tensor
	out  *tensor
	pj   pixelJob
}

func (o *addOp) run(e *Engine) {
	e.pool.run(o, o.pj.init(e.nb*o.out.steps, o.out.hw, o.out.shape.C))
}

func (o *addOp) unit(_, u int) {
	fo, lo, hi := o.pj.span(u)
	b, t := fo/o.out.steps, fo%o.out.steps
	C := o.out.shape.C
	fa, fb := o.a.fr(b, t), o.b.fr(b, t)
	for p := lo; p < hi; p++ {
		d := o.out.f[fo*o.out.frame+p*C : fo*o.out.frame+(p+1)*C]
		switch {
		case !o.a.spikes && !o.b.spikes:
			x := o.a.f[fa*o.a.frame+p*C : fa*o.a.frame+(p+1)*C]
			y := o.b.f[fb*o.b.frame+p*C : fb*o.b.frame+(p+1)*C]
			x, y = x[:len(d)], y[:len(d)]
			for c := range d {
				d[c] = x[c] + y[c]
			}
		case !o.a.spikes:
			x := o.a.f[fa*o.a.frame+p*C : fa*o.a.frame+(p+1)*C]
			addSpikes(d, x, o.b.s[fb*o.b.frame+o.b.px(p):])
		case !o.b.spikes:
			y := o.b.f[fb*o.b.frame+p*C : fb*o.b.frame+(p+1)*C]
			spikesAdd(d, o.a.s[fa*o.a.frame+o.a.px(p):], y)
		default:
			sa := o.a.s[fa*o.a.frame+o.a.px(p):]
			sb := o.b.s[fb*o.b.frame+o.b.px(p):]
			for c := range d {
				d[c] = float32(sa[c>>6]>>uint(c&63)&1) + float32(sb[c>>6]>>uint(c&63)&1)
			}
		}
	}
}

// addSpikes: d = x + s (float plus spike bits), in that operand order.
func addSpikes(d, x []float32, s []uint64) {
	x = x[:len(d)]
	for c := range d {
		d[c] = x[c] + float32(s[c>>6]>>uint(c&63)&1)
	}
}

// spikesAdd: d = s + y.
func spikesAdd(d []float32, s []uint64, y []float32) {
	y = y[:len(d)]
	for c := range d {
		d[c] = float32(s[c>>6]>>uint(c&63)&1) + y[c]
	}
}
