package runtime

import (
	"fmt"

	"github.com/bsnn/bsnn/bitops"
	"github.com/bsnn/bsnn/model"
)

// scratch is one worker's private memory, sized at compile time for the
// most demanding op.
type scratch struct {
	u64 []uint64
	i32 []int32
	f64 []float64
	idx []int32
	i64 []int64
	// Per-op counters, reset by the op before it dispatches.
	c [4]int64
	_ [64]byte // keep workers' counters on separate cache lines
}

type need struct{ u64, i32, f64, idx, i64 int }

func (s *scratch) bytes() int64 {
	return int64(8*cap(s.u64) + 4*cap(s.i32) + 8*cap(s.f64) + 4*cap(s.idx) + 8*cap(s.i64))
}

func (e *Engine) newTensor(sh model.Shape, spikes bool, steps int) *tensor {
	t := &tensor{shape: sh, spikes: spikes, steps: steps, hw: sh.H * sh.W, pw: bitops.Words(sh.C), last: -1}
	if spikes {
		t.frame = t.hw * t.pw
		t.words = t.frame
		n := e.cfg.batch * steps
		t.nnz, t.nzw = make([]int64, n), make([]int64, n)
	} else {
		t.frame = t.hw * sh.C
	}
	return t
}

// add appends an op that reads ins and writes outs.
func (e *Engine) add(o op, outs []*tensor, ins ...*tensor) {
	for _, t := range ins {
		t.last = len(e.ops)
	}
	e.ops = append(e.ops, o)
	e.plan = append(e.plan, planned{ins: ins, outs: outs})
}

// floatOf returns t as floats, adding a conversion the first time a float
// consumer reads a spike tensor.
func (e *Engine) floatOf(t *tensor) *tensor {
	if !t.spikes {
		return t
	}
	if t.asFloat == nil {
		f := e.newTensor(t.shape, false, t.steps)
		e.add(&convertOp{in: t, out: f}, []*tensor{f}, t)
		t.asFloat = f
	}
	return t.asFloat
}

func (e *Engine) compile() error {
	m := e.m
	T := e.T
	in := m.Input
	switch in.Encoding {
	case model.EncodingDirect:
		e.input = e.newTensor(in.Shape, false, 1)
	case model.EncodingRate:
		e.input = e.newTensor(in.Shape, true, T)
	case model.EncodingEvents:
		e.input = e.newTensor(in.Shape, false, T)
	default:
		return fmt.Errorf("runtime: unsupported input encoding %v", in.Encoding)
	}
	enc := &encodeOp{out: e.input}
	enc.init(m)
	e.add(enc, []*tensor{e.input})

	e.stats = make([]LayerStats, len(m.Layers))
	e.outs = make([]*tensor, len(m.Layers))
	var needs []need
	src := func(i int) *tensor {
		if i == model.InputIndex {
			return e.input
		}
		return e.outs[i]
	}
	e.fused = e.planFusion()
	for i := range m.Layers {
		l := &m.Layers[i]
		sh := e.shapes[i]
		e.stats[i] = LayerStats{Op: l.Op, Name: l.Name, Neurons: sh.Size()}
		if e.fused[i] {
			continue // computed inside the LIF that reads it
		}
		a := src(l.Inputs[0])
		var out *tensor
		switch l.Op {
		case model.OpConv2D, model.OpLinear:
			out = e.newTensor(sh, false, a.steps)
			if l.Precision == model.PrecisionBinary && a.spikes {
				c := newBinConv(e, i, l, a, out)
				needs = append(needs, c.need())
				e.add(c, []*tensor{out}, a)
			} else {
				if !a.spikes || !spikeDirect(l) {
					a = e.floatOf(a)
				}
				c := newFPConv(e, i, l, a, out)
				needs = append(needs, c.need())
				e.add(c, []*tensor{out}, a)
			}
		case model.OpAffine:
			a = e.floatOf(a)
			out = e.newTensor(sh, false, a.steps)
			e.add(&affineOp{e: e, in: a, out: out, scale: l.Scale, bias: l.Bias}, []*tensor{out}, a)
		case model.OpAGMM:
			a = e.floatOf(a)
			out = e.newTensor(sh, false, T)
			e.add(&agmmOp{e: e, in: a, out: out, gt: newGates(e, l, a)}, []*tensor{out}, a)
		case model.OpLIF:
			out = e.newTensor(sh, true, T)
			o := &lifOp{e: e, li: i, out: out, l: l}
			ins := e.lifInputs(i, o)
			needs = append(needs, need{i64: 2 * T})
			e.add(o, []*tensor{out}, ins...)
		case model.OpAvgPool, model.OpMaxPool:
			out = e.newTensor(sh, a.spikes && l.Op == model.OpMaxPool, a.steps)
			o := &poolOp{e: e, in: a, out: out, l: l, max: l.Op == model.OpMaxPool}
			o.prepare()
			needs = append(needs, need{f64: sh.C, idx: l.Kernel * l.Kernel})
			e.add(o, []*tensor{out}, a)
		case model.OpGlobalAvgPool:
			out = e.newTensor(sh, false, a.steps)
			e.add(&gapOp{e: e, in: a, out: out}, []*tensor{out}, a)
		case model.OpAdd:
			b := src(l.Inputs[1])
			out = e.newTensor(sh, false, max(a.steps, b.steps))
			e.add(&addOp{e: e, a: a, b: b, out: out}, []*tensor{out}, a, b)
		case model.OpFlatten:
			out = e.newTensor(sh, a.spikes, a.steps)
			e.add(&flattenOp{e: e, in: a, out: out}, []*tensor{out}, a)
		case model.OpReadout:
			a = e.floatOf(a)
			out = a
			e.classes = sh.C
			e.add(&readoutOp{in: a}, nil, a)
		default:
			return fmt.Errorf("runtime: layer %d: unsupported op %v", i, l.Op)
		}
		e.outs[i] = out
	}
	e.logits = make([]float32, e.cfg.batch*e.classes)
	e.planHalos()
	e.allocate()
	var nd need
	for _, n := range needs {
		nd.u64 = max(nd.u64, n.u64)
		nd.i32 = max(nd.i32, n.i32)
		nd.f64 = max(nd.f64, n.f64)
		nd.idx = max(nd.idx, n.idx)
		nd.i64 = max(nd.i64, n.i64)
	}
	e.scratch = make([]*scratch, e.cfg.threads)
	for w := range e.scratch {
		e.scratch[w] = &scratch{
			u64: make([]uint64, nd.u64), i32: make([]int32, nd.i32), f64: make([]float64, nd.f64),
			idx: make([]int32, nd.idx), i64: make([]int64, nd.i64),
		}
	}
	return nil
}

// planFusion marks the AGMM and Add layers that run inside the LIF reading
// them: an Add read only by a LIF, and an AGMM read only by that Add (as
// either operand) or directly by the LIF. Tracing keeps every layer
// separate, so each has an output to read.
func (e *Engine) planFusion() []bool {
	m := e.m
	fused := make([]bool, len(m.Layers))
	if e.cfg.trace && !e.cfg.traceFused {
		return fused
	}
	readers := make([]int, len(m.Layers))
	for _, l := range m.Layers {
		for _, s := range l.Inputs {
			if s >= 0 {
				readers[s]++
			}
		}
	}
	single := func(i int, op model.Op) bool {
		return i >= 0 && m.Layers[i].Op == op && readers[i] == 1
	}
	for i := range m.Layers {
		l := &m.Layers[i]
		if l.Op != model.OpLIF {
			continue
		}
		a := l.Inputs[0]
		switch {
		case single(a, model.OpAdd):
			fused[a] = true
			for _, s := range m.Layers[a].Inputs {
				if single(s, model.OpAGMM) {
					fused[s] = true
					break
				}
			}
		case single(a, model.OpAGMM):
			fused[a] = true
		}
	}
	return fused
}

// lifInputs wires LIF layer i's op to its input chain (see planFusion) and
// returns the tensors it reads.
func (e *Engine) lifInputs(i int, o *lifOp) []*tensor {
	m := e.m
	src := func(j int) *tensor {
		if j == model.InputIndex {
			return e.input
		}
		return e.outs[j]
	}
	a := m.Layers[i].Inputs[0]
	var x int // the layer whose output is gated or passed on
	if a >= 0 && e.fused[a] && m.Layers[a].Op == model.OpAdd {
		p, q := m.Layers[a].Inputs[0], m.Layers[a].Inputs[1]
		// The gated operand (if any) goes first; Add is commutative.
		if !(p >= 0 && e.fused[p]) {
			p, q = q, p
		}
		x = p
		o.short = src(q) // spikes are added as 0/1 without a conversion
	} else {
		x = a
	}
	if x >= 0 && e.fused[x] && m.Layers[x].Op == model.OpAGMM {
		o.in = e.floatOf(src(m.Layers[x].Inputs[0]))
		o.gate = newGates(e, &m.Layers[x], o.in)
	} else {
		o.in = e.floatOf(src(x))
	}
	ins := []*tensor{o.in}
	if o.short != nil {
		ins = append(ins, o.short)
	}
	return ins
}

// planHalos gives every spike map that a direct binary conv reads a zero
// border as wide as the largest padding among its readers.
func (e *Engine) planHalos() {
	for _, o := range e.ops {
		c, ok := o.(*binConv)
		if !ok || c.pad == 0 || !c.in.spikes || c.in.hw == 1 && c.kh == 1 && c.kw == 1 {
			continue
		}
		t := c.in
		if c.pad > t.halo {
			t.halo = c.pad
			t.frame = (t.shape.H + 2*t.halo) * (t.shape.W + 2*t.halo) * t.pw
		}
	}
	for _, o := range e.ops {
		if c, ok := o.(*binConv); ok {
			c.prepare()
		}
	}
}

// allocate gives every tensor a buffer, reusing the buffers of tensors no
// longer read (unless tracing). A buffer is released only after the op that
// last reads it has allocated its own outputs, so no op reads and writes the
// same memory.
func (e *Engine) allocate() {
	var freeF [][]float32
	var freeW [][]uint64
	takeF := func(n int) []float32 {
		best := -1
		for i, b := range freeF {
			if cap(b) >= n && (best < 0 || cap(b) < cap(freeF[best])) {
				best = i
			}
		}
		if best < 0 {
			e.bufFloats += int64(n)
			return make([]float32, n)
		}
		b := freeF[best]
		freeF = append(freeF[:best], freeF[best+1:]...)
		return b[:n]
	}
	takeW := func(n int, halo bool) []uint64 {
		if halo {
			// Never shared: the border must stay zero.
			e.bufWords += int64(n)
			return make([]uint64, n)
		}
		best := -1
		for i, b := range freeW {
			if cap(b) >= n && (best < 0 || cap(b) < cap(freeW[best])) {
				best = i
			}
		}
		if best < 0 {
			e.bufWords += int64(n)
			return make([]uint64, n)
		}
		b := freeW[best]
		freeW = append(freeW[:best], freeW[best+1:]...)
		return b[:n]
	}
	release := func(t *tensor) {
		if t.freed || e.cfg.trace || t.halo > 0 {
			return
		}
		t.freed = true
		if t.spikes {
			freeW = append(freeW, t.s)
		} else {
			freeF = append(freeF, t.f)
		}
	}
	for i, p := range e.plan {
		for _, t := range p.outs {
			n := e.cfg.batch * t.steps * t.frame
			if t.spikes {
				t.s = takeW(n, t.halo > 0)
			} else {
				t.f = takeF(n)
			}
		}
		for _, t := range p.ins {
			if t.last <= i {
				release(t)
			}
		}
		for _, t := range p.outs {
			if t.last < 0 {
				release(t)
			}
		}
	}
}

// spikeDirect tells whether a float layer can read a spike input in place:
// a linear layer or a 1×1, stride-1, unpadded conv, whose row for an
// output pixel is the input pixel's spike words.
func spikeDirect(l *model.Layer) bool {
	return l.Op == model.OpLinear || l.KH == 1 && l.KW == 1 && l.Stride == 1 && l.Pad == 0
}
