// Package arch is the one description of bsnn's standard networks: each is
// a builder that returns its graph as a model.Model (MNIST, VGGSmall, VGG11,
// ResNet19, ResNet18), and a registry (Lookup, Names, Help) that every
// tool's -arch flag resolves through, with Arch.Build sizing a net from
// generic Options (widths or a width multiplier, blocks, classes, T).
//
// The trainer builds its nets from these graphs, the converter maps a
// PyTorch state_dict onto them (StateDictKeys names every tensor), and the
// tests and benchmarks fill them with random weights (Randomize).
//
// A builder returns the graph with every parameter allocated and neutral:
// binary weights all +1, float weights zero, Scale 1, Bias 0, AGMM α = 1.
// Callers fill in given weights by layer name (Find; the names follow the
// usual PyTorch module names, e.g. "layer2.0.conv1"), or call Randomize for
// random weights whose firing rates sit in the range real nets show.
//
// Adding an architecture is one builder and one registry entry; adding an
// op is a model.Op plus its two executors (runtime and runtime/reference)
// and, for training, its finetune node.
package arch

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/bsnn/bsnn/model"
)

// Neuron holds the settings every AGMM gate and LIF layer of a built net
// shares.
type Neuron struct {
	Lambda float32     // LIF leak λ; 0 means the default 0.5
	Vth    float32     // LIF threshold; 0 means the default 1.0
	Reset  model.Reset // LIF reset rule
	// NoAGMM leaves the AGMM gates out of the graph.
	NoAGMM bool
	Stat   model.Stat // AGMM statistic
}

func (n Neuron) lambda() float32 {
	if n.Lambda == 0 {
		return 0.5
	}
	return n.Lambda
}

func (n Neuron) vth() float32 {
	if n.Vth == 0 {
		return 1
	}
	return n.Vth
}

// builder appends layers and keeps track of the current tensor and its
// shape.
type builder struct {
	m       *model.Model
	cur     int // index of the layer whose output is the current tensor
	c, h, w int // its shape
	n       Neuron
	T       int
}

func newBuilder(in model.Shape, T int, enc model.Encoding, n Neuron, source string) *builder {
	return &builder{
		m: &model.Model{
			Input:      model.InputSpec{Shape: in, Encoding: enc, Timesteps: T},
			Provenance: model.Provenance{Source: source, Accuracy: -1},
		},
		cur: model.InputIndex,
		c:   in.C, h: in.H, w: in.W,
		n: n,
		T: T,
	}
}

func (b *builder) add(l model.Layer) int {
	b.m.Layers = append(b.m.Layers, l)
	b.cur = len(b.m.Layers) - 1
	return b.cur
}

func ones(n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = 1
	}
	return s
}

func words(n int) int { return (n + 63) / 64 }

// conv appends a conv of the current tensor; inC must match it.
func (b *builder) conv(name string, prec model.Precision, inC, outC, k, stride, pad int) int {
	l := model.Layer{
		Op: model.OpConv2D, Name: name, Inputs: []int{b.cur}, Precision: prec,
		InC: inC, OutC: outC, KH: k, KW: k, Stride: stride, Pad: pad,
		Scale: ones(outC), Bias: make([]float32, outC),
	}
	setWeights(&l)
	b.c = outC
	b.h = (b.h+2*pad-k)/stride + 1
	b.w = (b.w+2*pad-k)/stride + 1
	return b.add(l)
}

func (b *builder) linear(name string, prec model.Precision, in, out int) int {
	l := model.Layer{
		Op: model.OpLinear, Name: name, Inputs: []int{b.cur}, Precision: prec,
		InC: in, OutC: out, KH: 1, KW: 1, Stride: 1,
		Scale: ones(out), Bias: make([]float32, out),
	}
	setWeights(&l)
	return b.add(l)
}

// setWeights allocates neutral weights: +1 bits (pad bits zero) or zeros.
func setWeights(l *model.Layer) {
	switch l.Precision {
	case model.PrecisionBinary:
		l.Bits = make([]uint64, l.OutC*l.RowWords())
		fillOnes(l)
	case model.PrecisionFloat32:
		l.Weights = make([]float32, l.OutC*l.InC*l.KH*l.KW)
	case model.PrecisionInt8:
		l.WeightsI8 = make([]int8, l.OutC*l.InC*l.KH*l.KW)
	}
}

// fillBits sets every weight bit of a binary layer (+1), or with r non-nil
// draws each from r, and keeps the pad bits zero.
func fillBits(l *model.Layer, r *rand.Rand) {
	pw := words(l.InC) // linear rows are one channel run; conv rows KH·KW runs
	for i := range l.Bits {
		var v uint64 = math.MaxUint64
		if r != nil {
			v = r.Uint64()
		}
		// The last word of every channel run holds InC mod 64 channels.
		if j := i % pw; j == pw-1 && l.InC%64 != 0 {
			v &= 1<<uint(l.InC%64) - 1
		}
		l.Bits[i] = v
	}
}

func fillOnes(l *model.Layer) { fillBits(l, nil) }

// agmm appends the AGMM gate (unless disabled) after the current tensor.
func (b *builder) agmm(name string) {
	if b.n.NoAGMM {
		return
	}
	b.add(model.Layer{Op: model.OpAGMM, Name: name, Inputs: []int{b.cur}, Alpha: ones(b.T), Stat: b.n.Stat})
}

func (b *builder) lif(name string) int {
	return b.add(model.Layer{Op: model.OpLIF, Name: name, Inputs: []int{b.cur}, Lambda: b.n.lambda(), Vth: b.n.vth(), Reset: b.n.Reset})
}

func (b *builder) pool(op model.Op, name string, k, stride, pad int) int {
	b.h = (b.h+2*pad-k)/stride + 1
	b.w = (b.w+2*pad-k)/stride + 1
	return b.add(model.Layer{Op: op, Name: name, Inputs: []int{b.cur}, Kernel: k, Stride: stride, Pad: pad})
}

// head appends the classifier: gap (global average pool) or flatten, then
// fc (fp32 linear) with the given number of outputs.
func (b *builder) head(gap bool, classes int) {
	if gap {
		b.add(model.Layer{Op: model.OpGlobalAvgPool, Name: "gap", Inputs: []int{b.cur}})
	} else {
		b.add(model.Layer{Op: model.OpFlatten, Name: "flatten", Inputs: []int{b.cur}})
		b.c *= b.h * b.w
	}
	b.h, b.w = 1, 1
	b.linear("fc", model.PrecisionFloat32, b.c, classes)
}

// finish appends the readout and checks the graph.
func (b *builder) finish() (*model.Model, error) {
	b.add(model.Layer{Op: model.OpReadout, Name: "readout", Inputs: []int{b.cur}})
	b.m.Labels = nil
	if err := b.m.Check(); err != nil {
		return nil, fmt.Errorf("arch: built an invalid model: %w", err)
	}
	return b.m, nil
}

func checkPos(what string, vs ...int) error {
	for _, v := range vs {
		if v < 1 || v > model.MaxDim {
			return fmt.Errorf("arch: %s %d, want 1..%d", what, v, model.MaxDim)
		}
	}
	return nil
}

func timesteps(T int) (int, error) {
	if T == 0 {
		return 0, fmt.Errorf("arch: timesteps not set")
	}
	if T < 1 || T > model.MaxTimesteps {
		return 0, fmt.Errorf("arch: T = %d, want 1..%d", T, model.MaxTimesteps)
	}
	return T, nil
}

// Find returns the layer with the given name, or nil.
func Find(m *model.Model, name string) *model.Layer {
	for i := range m.Layers {
		if m.Layers[i].Name == name {
			return &m.Layers[i]
		}
	}
	return nil
}
