// Package modeltest builds valid bsnn models with random weights for tests
// and benchmarks: a graph Builder, Random models of random structure,
// AllKinds (every op, precision, statistic and reset in one model) and
// model/arch's MNIST and ResNet19 nets with random weights.
//
// Binary conv and linear layers are only ever placed on spike tensors (LIF
// outputs, max-pools and flattens of spikes, or a rate-encoded input), as
// the runtime requires. Everything is deterministic for a given rand source.
// Misuse of the Builder (a shape that does not fit) panics: these are test
// helpers.
package modeltest

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/bsnn/bsnn/model"
	"github.com/bsnn/bsnn/model/arch"
)

// Builder appends layers to a model, tracking every layer's output shape
// and whether it carries spikes. Layer indices returned by its methods are
// the values to pass as sources; model.InputIndex names the input.
type Builder struct {
	M      *model.Model
	rng    *rand.Rand
	shapes []model.Shape
	spikes []bool
}

// NewBuilder starts a model with the given input spec. Mean and Std are
// left empty; set them on b.M.Input when wanted.
func NewBuilder(rng *rand.Rand, in model.Shape, T int, enc model.Encoding) *Builder {
	return &Builder{
		M:   &model.Model{Input: model.InputSpec{Shape: in, Encoding: enc, Timesteps: T}},
		rng: rng,
	}
}

// Shape returns the output shape of layer i (model.InputIndex: the input).
func (b *Builder) Shape(i int) model.Shape {
	if i == model.InputIndex {
		return b.M.Input.Shape
	}
	return b.shapes[i]
}

// Spikes reports whether layer i's output is a 0/1 spike tensor.
func (b *Builder) Spikes(i int) bool {
	if i == model.InputIndex {
		return b.M.Input.Encoding == model.EncodingRate
	}
	return b.spikes[i]
}

// Last returns the index of the last layer added.
func (b *Builder) Last() int { return len(b.M.Layers) - 1 }

func (b *Builder) add(l model.Layer, out model.Shape, spikes bool) int {
	if l.Name == "" {
		l.Name = fmt.Sprintf("%s%d", l.Op, len(b.M.Layers))
	}
	b.M.Layers = append(b.M.Layers, l)
	b.shapes = append(b.shapes, out)
	b.spikes = append(b.spikes, spikes)
	return len(b.M.Layers) - 1
}

// Conv adds a k×k conv of src with outC channels. A binary conv panics
// unless src carries spikes.
func (b *Builder) Conv(src int, p model.Precision, outC, k, stride, pad int) int {
	x := b.Shape(src)
	l := model.Layer{Op: model.OpConv2D, Inputs: []int{src}, Precision: p, InC: x.C, OutC: outC, KH: k, KW: k, Stride: stride, Pad: pad}
	b.weights(&l, src, x.C*k*k)
	out := model.Shape{C: outC, H: (x.H+2*pad-k)/stride + 1, W: (x.W+2*pad-k)/stride + 1}
	return b.add(l, out, false)
}

// Linear adds a fully connected layer reading the vector src (flatten a map
// first).
func (b *Builder) Linear(src int, p model.Precision, outF int) int {
	x := b.Shape(src)
	if x.H != 1 || x.W != 1 {
		panic(fmt.Sprintf("modeltest: Linear on a %v map", x))
	}
	l := model.Layer{Op: model.OpLinear, Inputs: []int{src}, Precision: p, InC: x.C, OutC: outF, KH: 1, KW: 1, Stride: 1}
	b.weights(&l, src, x.C)
	return b.add(l, model.Shape{C: outF, H: 1, W: 1}, false)
}

// weights fills l's weights of precision l.Precision and its per-channel
// Scale/Bias, sized so outputs land near the LIF threshold.
func (b *Builder) weights(l *model.Layer, src, fanIn int) {
	n := l.OutC * fanIn
	g := float32(1 / math.Sqrt(float64(fanIn)))
	switch l.Precision {
	case model.PrecisionBinary:
		if !b.Spikes(src) {
			panic(fmt.Sprintf("modeltest: binary %s on non-spike layer %d", l.Op, src))
		}
		l.Bits = RandomBits(b.rng, l.OutC, l.KH*l.KW, l.InC)
		// Spikes fire at a fraction of the fan-in; 2.5/√fanIn puts the
		// typical accumulator near ±1.
		g *= 2.5
	case model.PrecisionFloat32:
		l.Weights = make([]float32, n)
		for i := range l.Weights {
			l.Weights[i] = float32(b.rng.NormFloat64()) * g
		}
		g = 1.5
	case model.PrecisionInt8:
		l.WeightsI8 = make([]int8, n)
		for i := range l.WeightsI8 {
			l.WeightsI8[i] = int8(b.rng.IntN(255) - 127)
		}
		g *= 1.5 / 64
	}
	l.Scale = make([]float32, l.OutC)
	l.Bias = make([]float32, l.OutC)
	for o := range l.Scale {
		l.Scale[o] = g * float32(0.5+b.rng.Float64())
		l.Bias[o] = float32(b.rng.Float64()*0.8 - 0.2)
	}
}

// RandomBits returns out rows of packed random ±1 weights for a conv with
// taps kernel taps over inC input channels (taps = 1 for linear), with every
// pad bit zero as the format requires.
func RandomBits(rng *rand.Rand, out, taps, inC int) []uint64 {
	pw := (inC + 63) / 64
	bits := make([]uint64, out*taps*pw)
	last := ^uint64(0)
	if r := inC % 64; r != 0 {
		last = 1<<uint(r) - 1
	}
	for i := range bits {
		bits[i] = rng.Uint64()
		if i%pw == pw-1 {
			bits[i] &= last
		}
	}
	return bits
}

// Affine adds a per-channel affine (an unfolded BatchNorm).
func (b *Builder) Affine(src int) int {
	x := b.Shape(src)
	l := model.Layer{Op: model.OpAffine, Inputs: []int{src}, Scale: make([]float32, x.C), Bias: make([]float32, x.C)}
	for c := range l.Scale {
		l.Scale[c] = float32(0.6 + 0.8*b.rng.Float64())
		l.Bias[c] = float32(0.4*b.rng.Float64() - 0.1)
	}
	return b.add(l, x, false)
}

// AGMM adds a gate with statistic s and random α[t] in [0.6, 1.4).
func (b *Builder) AGMM(src int, s model.Stat) int {
	l := model.Layer{Op: model.OpAGMM, Inputs: []int{src}, Stat: s, Alpha: make([]float32, b.M.Input.Timesteps)}
	for t := range l.Alpha {
		l.Alpha[t] = float32(0.6 + 0.8*b.rng.Float64())
	}
	return b.add(l, b.Shape(src), false)
}

// LIF adds a LIF layer; lambda and vth <= 0 pick the defaults 0.5 and 1.
func (b *Builder) LIF(src int, r model.Reset, lambda, vth float32) int {
	if lambda <= 0 {
		lambda = 0.5
	}
	if vth <= 0 {
		vth = 1
	}
	return b.add(model.Layer{Op: model.OpLIF, Inputs: []int{src}, Lambda: lambda, Vth: vth, Reset: r}, b.Shape(src), true)
}

// Pool adds an AvgPool or MaxPool. A max-pool of spikes is spikes.
func (b *Builder) Pool(src int, op model.Op, k, stride, pad int) int {
	x := b.Shape(src)
	out := model.Shape{C: x.C, H: (x.H+2*pad-k)/stride + 1, W: (x.W+2*pad-k)/stride + 1}
	l := model.Layer{Op: op, Inputs: []int{src}, Kernel: k, Stride: stride, Pad: pad}
	return b.add(l, out, op == model.OpMaxPool && b.Spikes(src))
}

// GlobalAvgPool adds a per-channel spatial mean.
func (b *Builder) GlobalAvgPool(src int) int {
	return b.add(model.Layer{Op: model.OpGlobalAvgPool, Inputs: []int{src}}, model.Shape{C: b.Shape(src).C, H: 1, W: 1}, false)
}

// Add adds x + y.
func (b *Builder) Add(x, y int) int {
	if b.Shape(x) != b.Shape(y) {
		panic(fmt.Sprintf("modeltest: Add of %v and %v", b.Shape(x), b.Shape(y)))
	}
	return b.add(model.Layer{Op: model.OpAdd, Inputs: []int{x, y}}, b.Shape(x), false)
}

// Flatten adds a C×H×W → (C·H·W)×1×1 flatten.
func (b *Builder) Flatten(src int) int {
	return b.add(model.Layer{Op: model.OpFlatten, Inputs: []int{src}}, model.Shape{C: b.Shape(src).Size(), H: 1, W: 1}, b.Spikes(src))
}

// Readout adds the final mean-over-T readout.
func (b *Builder) Readout(src int) int {
	return b.add(model.Layer{Op: model.OpReadout, Inputs: []int{src}}, model.Shape{C: b.Shape(src).Size(), H: 1, W: 1}, false)
}

// BiReal adds one Bi-Real unit on the spike tensor src: a binary 3×3 conv
// with outC channels and the given stride, an optional AGMM gate (stat < 0:
// none), the shortcut added before the LIF (the input itself, or AvgPool +
// fp32 1×1 conv + Affine when the shape changes; no pool at stride 1), then
// a LIF. With stride 2 the map's sides must be both even or both odd. It returns the
// LIF's index.
func (b *Builder) BiReal(src, outC, stride int, stat model.Stat, gate bool, r model.Reset) int {
	x := b.Shape(src)
	y := b.Conv(src, model.PrecisionBinary, outC, 3, stride, 1)
	if gate {
		y = b.AGMM(y, stat)
	}
	short := src
	if b.Shape(y) != x {
		if stride > 1 {
			// Padding 1 on odd sizes keeps the pooled map the size of
			// the strided conv's output.
			short = b.Pool(src, model.OpAvgPool, stride, stride, x.H%2*(stride/2))
			if s, t := b.Shape(short), b.Shape(y); s.H != t.H || s.W != t.W {
				panic(fmt.Sprintf("modeltest: BiReal shortcut %v does not match %v (odd and even sides?)", b.Shape(short), b.Shape(y)))
			}
		}
		short = b.Conv(short, model.PrecisionFloat32, outC, 1, 1, 0)
		short = b.Affine(short)
	}
	return b.LIF(b.Add(y, short), r, 0, 0)
}

// Model finishes the model: it panics if it is not valid.
func (b *Builder) Model() *model.Model {
	if err := b.M.Check(); err != nil {
		panic("modeltest: built an invalid model: " + err.Error())
	}
	return b.M
}

// Options shape a Random model. Zero fields are chosen at random.
type Options struct {
	Input       model.Shape
	Timesteps   int
	Encoding    model.Encoding // used when SetEncoding
	SetEncoding bool
	Blocks      int // hidden blocks after the stem
	MaxChannels int // channel cap; random widths cross a 64-bit word when >= 65
}

// Random returns a valid model of random structure: a fp32 or int8 stem
// conv, Blocks random blocks (Bi-Real units with and without gates and
// downsampling, plain binary convs, max-pools, average-pools with a LIF)
// and a random head (global pooling or flatten, fp32/int8/binary linears).
func Random(rng *rand.Rand, o Options) *model.Model {
	if o.Input == (model.Shape{}) {
		h := 4 + rng.IntN(9)
		o.Input = model.Shape{C: 1 + rng.IntN(3), H: h, W: h + rng.IntN(3) - 1}
	}
	if o.Timesteps == 0 {
		o.Timesteps = 1 + rng.IntN(4)
	}
	if !o.SetEncoding {
		o.Encoding = model.Encoding(rng.IntN(3))
	}
	if o.Blocks == 0 {
		o.Blocks = 1 + rng.IntN(4)
	}
	if o.MaxChannels == 0 {
		o.MaxChannels = 80
	}
	width := func() int { return 1 + rng.IntN(o.MaxChannels) }
	b := NewBuilder(rng, o.Input, o.Timesteps, o.Encoding)
	if rng.IntN(2) == 0 {
		c := o.Input.C
		b.M.Input.Mean, b.M.Input.Std = make([]float32, c), make([]float32, c)
		for i := range c {
			b.M.Input.Mean[i] = float32(rng.Float64() * 0.5)
			b.M.Input.Std[i] = float32(0.2 + rng.Float64())
		}
	}
	stem := model.PrecisionFloat32
	if rng.IntN(3) == 0 {
		stem = model.PrecisionInt8
	}
	x := b.Conv(model.InputIndex, stem, width(), 3, 1, 1)
	if rng.IntN(2) == 0 {
		x = b.Affine(x)
	}
	x = b.LIF(x, randomReset(rng), 0, 0)
	for range o.Blocks {
		s := b.Shape(x)
		switch rng.IntN(5) {
		case 0: // Bi-Real unit, same shape
			x = b.BiReal(x, s.C, 1, model.Stat(rng.IntN(3)), rng.IntN(3) != 0, randomReset(rng))
		case 1: // Bi-Real unit, downsampling when the map is big enough
			stride := 1
			if s.H >= 4 && s.W >= 4 && s.H%2 == s.W%2 {
				stride = 2
			}
			x = b.BiReal(x, width(), stride, model.Stat(rng.IntN(3)), rng.IntN(2) == 0, randomReset(rng))
		case 2: // plain binary conv, no shortcut
			k := 1 + 2*rng.IntN(2)
			x = b.Conv(x, model.PrecisionBinary, width(), k, 1, k/2)
			x = b.LIF(x, randomReset(rng), float32(0.2+0.7*rng.Float64()), float32(0.5+rng.Float64()))
		case 3: // max-pool keeps spikes
			if s.H >= 2 && s.W >= 2 {
				x = b.Pool(x, model.OpMaxPool, 2, 2, 0)
			}
		case 4: // average-pool then a LIF
			x = b.Pool(x, model.OpAvgPool, 3, 1, 1)
			x = b.LIF(x, randomReset(rng), 0, float32(0.3+0.5*rng.Float64()))
		}
	}
	classes := 2 + rng.IntN(9)
	switch rng.IntN(3) {
	case 0:
		x = b.Linear(b.GlobalAvgPool(x), randomFloatPrecision(rng), classes)
	case 1:
		x = b.Linear(b.Flatten(x), model.PrecisionBinary, width())
		x = b.LIF(x, randomReset(rng), 0, 0)
		x = b.Linear(x, randomFloatPrecision(rng), classes)
	case 2:
		x = b.Linear(b.Flatten(x), randomFloatPrecision(rng), classes)
	}
	b.Readout(x)
	if rng.IntN(2) == 0 {
		b.M.Labels = make([]string, classes)
		for i := range b.M.Labels {
			b.M.Labels[i] = fmt.Sprintf("class-%d", i)
		}
	}
	b.M.Provenance = Provenance(rng)
	return b.Model()
}

func randomReset(rng *rand.Rand) model.Reset { return model.Reset(rng.IntN(2)) }

func randomFloatPrecision(rng *rand.Rand) model.Precision {
	if rng.IntN(2) == 0 {
		return model.PrecisionInt8
	}
	return model.PrecisionFloat32
}

// Provenance returns a provenance record with random values.
func Provenance(rng *rand.Rand) model.Provenance {
	return model.Provenance{
		Source:      "modeltest",
		Dataset:     "random",
		Accuracy:    float32(rng.Float64()),
		AGMM:        "stat=spatial alpha=learnable",
		ToolVersion: "test",
		Extra:       []model.KV{{Key: "seed-draw", Value: fmt.Sprint(rng.Uint32())}},
	}
}

// AllKinds returns a small model (2×10×10 input, T = 3) holding every op,
// every precision for both conv and linear, every AGMM statistic and both
// resets, with random weights.
func AllKinds(rng *rand.Rand) *model.Model {
	b := NewBuilder(rng, model.Shape{C: 2, H: 10, W: 10}, 3, model.EncodingDirect)
	b.M.Input.Mean = []float32{0.5, 0.25}
	b.M.Input.Std = []float32{0.5, 2}
	x := b.Conv(model.InputIndex, model.PrecisionInt8, 12, 3, 1, 1)
	x = b.LIF(b.Affine(x), model.ResetHard, 0, 0)
	x = b.BiReal(x, 12, 1, model.StatSpatial, true, model.ResetSoft)
	x = b.Pool(x, model.OpMaxPool, 2, 2, 0)                                 // 12×5×5
	x = b.BiReal(x, 70, 2, model.StatChannelSpatial, true, model.ResetHard) // 70×3×3
	x = b.Pool(x, model.OpAvgPool, 3, 1, 1)
	x = b.LIF(b.AGMM(x, model.StatNone), model.ResetSoft, 0.25, 0.5)
	y := b.Linear(b.Flatten(x), model.PrecisionBinary, 40)
	y = b.Linear(b.LIF(y, model.ResetHard, 0, 0), model.PrecisionInt8, 10)
	z := b.Linear(b.GlobalAvgPool(x), model.PrecisionFloat32, 10)
	b.Readout(b.Add(y, z))
	b.M.Labels = []string{"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"}
	b.M.Provenance = Provenance(rng)
	return b.Model()
}

// MNIST returns the MNIST net of model/arch (its default widths, T = 4,
// MNIST mean/std) with random weights drawn from rng (arch.Randomize) and
// the digit labels.
func MNIST(rng *rand.Rand) *model.Model {
	m, err := arch.MNIST(arch.MNISTConfig{})
	if err != nil {
		panic(err)
	}
	m.Input.Mean, m.Input.Std = []float32{0.1307}, []float32{0.3081}
	arch.Randomize(m, rng.Uint64())
	m.Labels = []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}
	m.Provenance = model.Provenance{Source: "modeltest.MNIST", Dataset: "mnist", Accuracy: -1}
	return m
}

// ResNet19 returns the ResNet-19 of model/arch with stage widths width,
// 2·width and 4·width, T time steps, CIFAR-10 mean/std and labels, and random
// weights drawn from rng (arch.Randomize). width = 128 is the ResNet-19 of
// the SNN literature.
func ResNet19(rng *rand.Rand, width, T int) *model.Model {
	m, err := arch.ResNet19(arch.ResNet19Config{Widths: [3]int{width, 2 * width, 4 * width}, T: T})
	if err != nil {
		panic(err)
	}
	m.Input.Mean = []float32{0.4914, 0.4822, 0.4465}
	m.Input.Std = []float32{0.2470, 0.2435, 0.2616}
	arch.Randomize(m, rng.Uint64())
	m.Labels = []string{"airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"}
	m.Provenance = model.Provenance{Source: "modeltest.ResNet19", Dataset: "cifar10", Accuracy: -1}
	return m
}
