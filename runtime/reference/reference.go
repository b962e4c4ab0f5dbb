// Package reference is a plain float executor of model.Model that follows the
// semantics in model/model.go's package doc literally: one time step at a
// time, one layer at a time, every tensor a float32 slice in C,H,W order,
// every loop in the order the formula is written.
//
// It is the oracle the fast runtime is tested against (spikes must match bit
// for bit) and the baseline bsnn-bench measures the runtime against. It is
// straightforward on purpose, but not artificially slow: the loops run in
// the natural order with no redundant work.
package reference

import (
	"fmt"
	"math"

	"github.com/bsnn/bsnn/model"
)

// Result is the outcome of one sample.
type Result struct {
	// Logits are the readout: the mean over T of the last layer's input.
	Logits []float32
	// Class is the index of the largest logit (the first on ties).
	Class int
	// Outputs[i][t] is layer i's output at step t in C,H,W order. Kept only
	// when the Executor's KeepOutputs is set.
	Outputs [][][]float32
}

// Executor runs one model. It is not safe for concurrent use.
type Executor struct {
	m      *model.Model
	shapes []model.Shape
	// w holds every conv and linear layer's weights as float32 in PyTorch
	// order (binary and int8 weights expanded once, at New).
	w [][]float32

	// Seed seeds the rate encoder (see Rate).
	Seed uint64
	// KeepOutputs keeps every layer's output at every step in
	// Result.Outputs (the runtime tests need them; the benchmark does not).
	KeepOutputs bool
}

// New checks m and prepares it for execution. m must not change while the
// Executor is in use.
func New(m *model.Model) (*Executor, error) {
	shapes, err := m.Shapes()
	if err != nil {
		return nil, err
	}
	x := &Executor{m: m, shapes: shapes, w: make([][]float32, len(m.Layers))}
	for i := range m.Layers {
		l := &m.Layers[i]
		if l.Op != model.OpConv2D && l.Op != model.OpLinear {
			continue
		}
		x.w[i] = l.DenseWeights()
	}
	return x, nil
}

// InputLen returns the number of floats Run expects: C·H·W, or T·C·H·W for
// EncodingEvents.
func (x *Executor) InputLen() int {
	n := x.m.Input.Shape.Size()
	if x.m.Input.Encoding == model.EncodingEvents {
		n *= x.m.Input.Timesteps
	}
	return n
}

// Run executes one sample from a fresh state: membrane potentials at zero
// and the rate encoder seeded with Seed.
func (x *Executor) Run(input []float32) (*Result, error) {
	st := x.newState()
	return x.run(input, st)
}

// Stream runs a sequence of frames, like runtime.Session.
type Stream struct {
	x          *Executor
	st         *state
	continuous bool
}

// NewStream starts a stream. With continuous set, LIF membrane state carries
// over from one frame's last step to the next frame's first step; otherwise
// it restarts at zero every frame. The rate encoder is seeded once, here, and
// its sequence continues across frames either way.
func (x *Executor) NewStream(continuous bool) *Stream {
	return &Stream{x: x, st: x.newState(), continuous: continuous}
}

// Step runs one frame of the stream.
func (s *Stream) Step(input []float32) (*Result, error) {
	if !s.continuous {
		s.st.resetLIF()
	}
	return s.x.run(input, s.st)
}

// state is what survives from one step (and, in a continuous stream, one
// frame) to the next: LIF membranes and last spikes, and the encoder's
// generator.
type state struct {
	u, s [][]float32 // per layer; nil for non-LIF layers
	rng  uint64
}

func (x *Executor) newState() *state {
	st := &state{u: make([][]float32, len(x.m.Layers)), s: make([][]float32, len(x.m.Layers)), rng: x.Seed}
	for i := range x.m.Layers {
		if x.m.Layers[i].Op == model.OpLIF {
			st.u[i] = make([]float32, x.shapes[i].Size())
			st.s[i] = make([]float32, x.shapes[i].Size())
		}
	}
	return st
}

func (st *state) resetLIF() {
	for i := range st.u {
		clear(st.u[i])
		clear(st.s[i])
	}
}

func (x *Executor) run(input []float32, st *state) (*Result, error) {
	m := x.m
	in := m.Input
	if len(input) != x.InputLen() {
		if in.Encoding == model.EncodingEvents {
			return nil, fmt.Errorf("reference: input holds %d values, want T×C×H×W = %d×%v = %d", len(input), in.Timesteps, in.Shape, x.InputLen())
		}
		return nil, fmt.Errorf("reference: input holds %d values, want C×H×W = %v = %d", len(input), in.Shape, x.InputLen())
	}
	T := in.Timesteps
	res := &Result{}
	if x.KeepOutputs {
		res.Outputs = make([][][]float32, len(m.Layers))
		for i := range res.Outputs {
			res.Outputs[i] = make([][]float32, T)
		}
	}
	outs := make([][]float32, len(m.Layers))
	var logitSum []float64
	for t := 0; t < T; t++ {
		xin := x.encode(input, t, st)
		get := func(src int) []float32 {
			if src == model.InputIndex {
				return xin
			}
			return outs[src]
		}
		shapeOf := func(src int) model.Shape {
			if src == model.InputIndex {
				return in.Shape
			}
			return x.shapes[src]
		}
		for i := range m.Layers {
			l := &m.Layers[i]
			a, as := get(l.Inputs[0]), shapeOf(l.Inputs[0])
			os := x.shapes[i]
			var out []float32
			switch l.Op {
			case model.OpConv2D:
				out = conv(a, as, l, x.w[i], os)
			case model.OpLinear:
				out = linear(a, l, x.w[i])
			case model.OpAffine:
				out = affine(a, as, l)
			case model.OpAGMM:
				out = agmm(a, as, l, t)
			case model.OpLIF:
				out = lif(a, l, st.u[i], st.s[i])
			case model.OpAvgPool:
				out = avgPool(a, as, l, os)
			case model.OpMaxPool:
				out = maxPool(a, as, l, os)
			case model.OpGlobalAvgPool:
				out = globalAvgPool(a, as)
			case model.OpAdd:
				b := get(l.Inputs[1])
				out = make([]float32, len(a))
				for j := range out {
					out[j] = a[j] + b[j]
				}
			case model.OpFlatten:
				out = append([]float32(nil), a...)
			case model.OpReadout:
				// The readout's per-step output is its input; the logits
				// are the mean over T, formed below.
				out = append([]float32(nil), a...)
				if logitSum == nil {
					logitSum = make([]float64, len(out))
				}
				for j, v := range out {
					logitSum[j] += float64(v)
				}
			default:
				return nil, fmt.Errorf("reference: layer %d: unsupported op %v", i, l.Op)
			}
			outs[i] = out
			if x.KeepOutputs {
				res.Outputs[i][t] = out
			}
		}
	}
	res.Logits = make([]float32, len(logitSum))
	for j, s := range logitSum {
		res.Logits[j] = float32(s / float64(T))
	}
	for j, v := range res.Logits {
		if v > res.Logits[res.Class] {
			res.Class = j
		}
	}
	return res, nil
}

// encode returns the model input at step t in C,H,W order.
func (x *Executor) encode(input []float32, t int, st *state) []float32 {
	in := x.m.Input
	n := in.Shape.Size()
	out := make([]float32, n)
	switch in.Encoding {
	case model.EncodingDirect:
		hw := in.Shape.H * in.Shape.W
		for c := 0; c < in.Shape.C; c++ {
			mean, std := float32(0), float32(1)
			if len(in.Mean) > 0 {
				mean = in.Mean[c]
			}
			if len(in.Std) > 0 {
				std = in.Std[c]
			}
			for p := 0; p < hw; p++ {
				out[c*hw+p] = (input[c*hw+p] - mean) / std
			}
		}
	case model.EncodingRate:
		for i, v := range input {
			if Rate(&st.rng, v) {
				out[i] = 1
			}
		}
	case model.EncodingEvents:
		copy(out, input[t*n:(t+1)*n])
	}
	return out
}

// Rate draws one rate-coded spike with probability p from the generator
// state *g: the next splitmix64 value's top 24 bits u give a spike when
// u·2⁻²⁴ < p. Draws run over steps t = 0..T-1 and, within a step, over the
// input in C,H,W order. runtime implements the same rule.
func Rate(g *uint64, p float32) bool {
	*g += 0x9e3779b97f4a7c15
	z := *g
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	z ^= z >> 31
	return float32(z>>40)*0x1p-24 < p
}

func conv(in []float32, is model.Shape, l *model.Layer, w []float32, os model.Shape) []float32 {
	out := make([]float32, os.Size())
	C, H, W := is.C, is.H, is.W
	KH, KW, S, P := l.KH, l.KW, l.Stride, l.Pad
	fan := C * KH * KW
	for o := 0; o < os.C; o++ {
		wo := w[o*fan : (o+1)*fan]
		for y := 0; y < os.H; y++ {
			for x := 0; x < os.W; x++ {
				// Taps kx0 ≤ kx < kx1 fall inside the input row.
				x0 := x*S - P
				kx0, kx1 := max(0, -x0), min(KW, W-x0)
				var acc float64
				for c := 0; c < C; c++ {
					plane := in[c*H*W : (c+1)*H*W]
					wc := wo[c*KH*KW : (c+1)*KH*KW]
					for ky := 0; ky < KH; ky++ {
						iy := y*S - P + ky
						if iy < 0 || iy >= H {
							continue
						}
						row := plane[iy*W : (iy+1)*W]
						wr := wc[ky*KW : (ky+1)*KW]
						for kx := kx0; kx < kx1; kx++ {
							acc += float64(row[x0+kx]) * float64(wr[kx])
						}
					}
				}
				out[(o*os.H+y)*os.W+x] = float32(float32(acc)*l.Scale[o]) + l.Bias[o]
			}
		}
	}
	return out
}

func linear(in []float32, l *model.Layer, w []float32) []float32 {
	out := make([]float32, l.OutC)
	for o := range out {
		var acc float64
		row := w[o*l.InC : (o+1)*l.InC]
		for i, v := range in {
			acc += float64(v) * float64(row[i])
		}
		out[o] = float32(float32(acc)*l.Scale[o]) + l.Bias[o]
	}
	return out
}

func affine(in []float32, s model.Shape, l *model.Layer) []float32 {
	out := make([]float32, len(in))
	hw := s.H * s.W
	for c := 0; c < s.C; c++ {
		for p := 0; p < hw; p++ {
			out[c*hw+p] = float32(in[c*hw+p]*l.Scale[c]) + l.Bias[c]
		}
	}
	return out
}

// Sigmoid is σ(x) = float32(1/(1+exp(−float64(x)))), the AGMM gate's
// squashing function.
func Sigmoid(x float32) float32 { return float32(1 / (1 + math.Exp(-float64(x)))) }

func agmm(in []float32, s model.Shape, l *model.Layer, t int) []float32 {
	out := make([]float32, len(in))
	hw := s.H * s.W
	alpha := l.Alpha[t]
	var all float32
	if l.Stat == model.StatChannelSpatial {
		var sum float64
		for _, v := range in {
			sum += float64(v)
		}
		all = float32(sum / float64(len(in)))
	}
	for c := 0; c < s.C; c++ {
		plane := in[c*hw : (c+1)*hw]
		var g float32
		switch l.Stat {
		case model.StatSpatial:
			var sum float64
			for _, v := range plane {
				sum += float64(v)
			}
			g = alpha * Sigmoid(float32(sum/float64(hw)))
		case model.StatChannelSpatial:
			g = alpha * Sigmoid(all)
		case model.StatNone:
			g = alpha
		}
		for p, v := range plane {
			out[c*hw+p] = g * v
		}
	}
	return out
}

func lif(in []float32, l *model.Layer, u, s []float32) []float32 {
	out := make([]float32, len(in))
	for j, x := range in {
		h := u[j]
		if s[j] != 0 {
			if l.Reset == model.ResetHard {
				h = 0
			} else {
				h = u[j] - l.Vth
			}
		}
		u[j] = float32(l.Lambda*h) + x
		if u[j] >= l.Vth {
			s[j] = 1
		} else {
			s[j] = 0
		}
		out[j] = s[j]
	}
	return out
}

func avgPool(in []float32, is model.Shape, l *model.Layer, os model.Shape) []float32 {
	out := make([]float32, os.Size())
	for c := 0; c < os.C; c++ {
		for y := 0; y < os.H; y++ {
			for x := 0; x < os.W; x++ {
				var sum float64
				n := 0
				for ky := 0; ky < l.Kernel; ky++ {
					iy := y*l.Stride - l.Pad + ky
					if iy < 0 || iy >= is.H {
						continue
					}
					for kx := 0; kx < l.Kernel; kx++ {
						ix := x*l.Stride - l.Pad + kx
						if ix < 0 || ix >= is.W {
							continue
						}
						sum += float64(in[(c*is.H+iy)*is.W+ix])
						n++
					}
				}
				out[(c*os.H+y)*os.W+x] = float32(sum / float64(n))
			}
		}
	}
	return out
}

func maxPool(in []float32, is model.Shape, l *model.Layer, os model.Shape) []float32 {
	out := make([]float32, os.Size())
	for c := 0; c < os.C; c++ {
		for y := 0; y < os.H; y++ {
			for x := 0; x < os.W; x++ {
				first := true
				var m float32
				for ky := 0; ky < l.Kernel; ky++ {
					iy := y*l.Stride - l.Pad + ky
					if iy < 0 || iy >= is.H {
						continue
					}
					for kx := 0; kx < l.Kernel; kx++ {
						ix := x*l.Stride - l.Pad + kx
						if ix < 0 || ix >= is.W {
							continue
						}
						if v := in[(c*is.H+iy)*is.W+ix]; first || v > m {
							m, first = v, false
						}
					}
				}
				out[(c*os.H+y)*os.W+x] = m
			}
		}
	}
	return out
}

func globalAvgPool(in []float32, s model.Shape) []float32 {
	out := make([]float32, s.C)
	hw := s.H * s.W
	for c := range out {
		var sum float64
		for _, v := range in[c*hw : (c+1)*hw] {
			sum += float64(v)
		}
		out[c] = float32(sum / float64(hw))
	}
	return out
}
