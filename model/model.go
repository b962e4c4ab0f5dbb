// Package model holds the .bsnn model format: the owned Go types every other
// package uses, their exact semantics, and (in load.go/write.go) the
// FlatBuffers encoding with a verifier that runs before any generated
// accessor.
//
// # Graph
//
// A Model is a list of layers in topological order. Layer i reads the outputs
// of the layers named in Inputs (indices < i; InputIndex (-1) is the model
// input) and its own output is a tensor of shape Shape (C, H, W; a vector is
// C×1×1) at every time step t = 0..T-1. The last layer is a Readout and its
// output is the model's logits.
//
// # Semantics (per sample, per time step t)
//
// Tensors are float32. Two rules make the fast runtime, the float reference,
// the trainer and a float64 PyTorch mirror agree bit for bit on spikes:
//
//   - Every reduction (a conv or linear accumulator, a mean, a pooling sum,
//     the readout) accumulates in float64 and is rounded to float32 once, at
//     the end (after the division, for means). Products of two float32 values
//     are exact in float64, so the result hardly depends on summation order.
//   - Every element-wise expression is evaluated in float32 exactly as
//     written, rounding after every operation (no fused multiply-add: Go code
//     writes float32(a*b)+c).
//
// Layers:
//
//   - Conv2D: acc[o,y,x] = Σ_{c,ky,kx} in[c, y·S−P+ky, x·S−P+kx]·w[o,c,ky,kx]
//     (out-of-range input is 0), then out = float32(acc·Scale[o]) + Bias[o].
//     Binary: w ∈ {−1,+1} from Bits, in ∈ {0,1} spikes, acc is an exact
//     integer. Float32/Int8: acc = float32(float64 sum); Int8 weights are used
//     as float64(q).
//   - Linear: acc[o] = Σ_i in[i]·w[o,i] with in flattened in C,H,W order; out
//     as for Conv2D.
//   - Affine: out[c,·] = float32(in[c,·]·Scale[c]) + Bias[c] (a BatchNorm
//     that could not be folded into a conv).
//   - AGMM: out = float32(G[c]·in) with G[c] = float32(Alpha[t]·σ(E[c])) (the
//     product Alpha·σ in float32); E[c] = float32(float64 mean of in[c,·,·]
//     over H·W) (StatSpatial), or the mean over C·H·W, the same for every c
//     (StatChannelSpatial), or G = Alpha[t] (StatNone).
//     σ(x) = float32(1/(1+exp(−float64(x)))).
//   - LIF: h = u[t−1]·(1−s[t−1]) (ResetHard: u or 0, exactly) or
//     u[t−1] − Vth·s[t−1] (ResetSoft: u − Vth or u), with u[−1] = s[−1] = 0;
//     u[t] = float32(Lambda·h) + in[t]; s[t] = 1 if u[t] >= Vth else 0. The
//     output is s[t].
//   - AvgPool / MaxPool: K×K window, stride S, padding P (padding excluded
//     from the average's count, i.e. count_include_pad=False; padding never
//     wins a max). Average = float32(float64 sum / count).
//   - GlobalAvgPool: per-channel float32(float64 sum over H·W / (H·W)).
//   - Add: out = in0 + in1, element-wise float32, same shape.
//   - Flatten: C×H×W → (C·H·W)×1×1 in C,H,W order.
//   - Readout: logits = float32(float64 Σ_t in[t] / T).
//
// # Input
//
// EncodingDirect repeats the normalized image x' = float32(x − Mean[c]) /
// Std[c] (x in [0,1], float32 ops) at every step; the runtime normalizes. EncodingRate draws spikes with probability x
// from a seeded generator each step. EncodingEvents takes T binned event
// frames from the caller (channels = polarities).
package model

import "fmt"

// FormatVersion is the .bsnn format version this package writes. Files with a
// different major version are rejected on load.
const FormatVersion = 1

// InputIndex in Layer.Inputs names the model input.
const InputIndex = -1

// Op is a layer kind.
type Op uint8

// Layer kinds. The numeric values are stored in files: never renumber.
const (
	OpInvalid Op = iota
	OpConv2D
	OpLinear
	OpAffine
	OpAGMM
	OpLIF
	OpAvgPool
	OpMaxPool
	OpGlobalAvgPool
	OpAdd
	OpFlatten
	OpReadout
	opCount
)

var opNames = [...]string{"invalid", "conv2d", "linear", "affine", "agmm", "lif", "avgpool", "maxpool", "globalavgpool", "add", "flatten", "readout"}

// String returns the Op's name as bsnn-inspect and error messages print it.
func (o Op) String() string {
	if o < opCount {
		return opNames[o]
	}
	return fmt.Sprintf("op(%d)", uint8(o))
}

// Valid reports whether o is a known layer kind.
func (o Op) Valid() bool { return o > OpInvalid && o < opCount }

// Precision is the number format of a conv or linear layer's weights.
type Precision uint8

// Weight precisions. Stored in files: never renumber.
const (
	PrecisionFloat32 Precision = iota // Weights holds float32 weights
	PrecisionBinary                   // Bits holds packed signs (bit 1 = +1)
	PrecisionInt8                     // WeightsI8 holds int8 weights
	precisionCount
)

// String returns the Precision's name as bsnn-inspect and error messages print it.
func (p Precision) String() string {
	switch p {
	case PrecisionFloat32:
		return "fp32"
	case PrecisionBinary:
		return "binary"
	case PrecisionInt8:
		return "int8"
	}
	return fmt.Sprintf("precision(%d)", uint8(p))
}

// Reset is the LIF reset rule.
type Reset uint8

// LIF reset rules. Stored in files: never renumber.
const (
	ResetHard Reset = iota // u·(1−s)
	ResetSoft              // u − Vth·s
	resetCount
)

// String returns the Reset's name as bsnn-inspect and error messages print it.
func (r Reset) String() string {
	switch r {
	case ResetHard:
		return "hard"
	case ResetSoft:
		return "soft"
	}
	return fmt.Sprintf("reset(%d)", uint8(r))
}

// Stat is the AGMM gate statistic E.
type Stat uint8

// AGMM statistics. Stored in files: never renumber.
const (
	StatSpatial        Stat = iota // per-channel mean over H·W
	StatChannelSpatial             // mean over C·H·W
	StatNone                       // no statistic: G = α[t]
	statCount
)

// String returns the Stat's name as bsnn-inspect and error messages print it.
func (s Stat) String() string {
	switch s {
	case StatSpatial:
		return "spatial"
	case StatChannelSpatial:
		return "channel-spatial"
	case StatNone:
		return "none"
	}
	return fmt.Sprintf("stat(%d)", uint8(s))
}

// Encoding is how an input sample becomes T steps of input.
type Encoding uint8

// Input encodings. Stored in files: never renumber.
const (
	EncodingDirect Encoding = iota // normalized image repeated every step
	EncodingRate                   // Bernoulli spikes with p = pixel value
	EncodingEvents                 // T event frames given by the caller
	encodingCount
)

// String returns the Encoding's name as bsnn-inspect and error messages print it.
func (e Encoding) String() string {
	switch e {
	case EncodingDirect:
		return "direct"
	case EncodingRate:
		return "rate"
	case EncodingEvents:
		return "events"
	}
	return fmt.Sprintf("encoding(%d)", uint8(e))
}

// Shape is a C×H×W tensor shape; vectors are C×1×1.
type Shape struct{ C, H, W int }

// Size returns C·H·W.
func (s Shape) Size() int { return s.C * s.H * s.W }

// String returns the Shape's name as bsnn-inspect and error messages print it.
func (s Shape) String() string { return fmt.Sprintf("%d×%d×%d", s.C, s.H, s.W) }

// InputSpec describes the model input.
type InputSpec struct {
	Shape     Shape
	Mean, Std []float32 // per channel, len C; empty means mean 0, std 1
	Encoding  Encoding
	Timesteps int // T
}

// Provenance records where a model came from.
type Provenance struct {
	Source      string  // e.g. "bsnn-train", "bsnn-convert resnet19 model.pth"
	Dataset     string  // e.g. "mnist"
	Accuracy    float32 // measured test accuracy in [0,1]; negative if unknown
	AGMM        string  // AGMM settings used in training, human-readable
	ToolVersion string
	Extra       []KV
}

// KV is a free-form provenance entry.
type KV struct{ Key, Value string }

// Layer is one node of the graph. Only the fields of its Op are meaningful;
// the others stay zero.
type Layer struct {
	Op     Op
	Name   string
	Inputs []int // producing layers (InputIndex = model input); 2 for Add, else 1

	// Conv2D and Linear. For Linear, InC/OutC are the in/out features and
	// KH = KW = Stride = 1, Pad = 0.
	Precision Precision
	InC, OutC int
	KH, KW    int
	Stride    int
	Pad       int
	// Bits: PrecisionBinary weights, OutC rows of RowWords() words; a conv
	// row is laid out as bitops.PackOIHW does, a linear row as
	// bitops.PackSigns. Pad bits are zero.
	Bits      []uint64
	Weights   []float32 // PrecisionFloat32, PyTorch order [OutC][InC][KH][KW]
	WeightsI8 []int8    // PrecisionInt8, same order
	// Scale and Bias (len OutC for Conv2D/Linear, len C for Affine): the
	// per-channel affine applied to the accumulator; binarization scale and
	// folded BatchNorm both live here.
	Scale []float32
	Bias  []float32

	// AGMM.
	Alpha []float32 // α[t], len T
	Stat  Stat

	// LIF.
	Lambda float32
	Vth    float32
	Reset  Reset

	// AvgPool / MaxPool: window Kernel×Kernel, Stride, Pad.
	Kernel int
}

// RowWords returns the words in one packed binary weight row of a Conv2D or
// Linear layer.
func (l *Layer) RowWords() int {
	if l.Op == OpLinear {
		return (l.InC + 63) / 64
	}
	return l.KH * l.KW * ((l.InC + 63) / 64)
}

// DenseWeights returns a Conv2D or Linear layer's weights as float32 in
// PyTorch order [OutC][InC][KH][KW], before Scale: the fp32 weights
// themselves (the returned slice is l.Weights), the int8 values, or the
// binary signs ±1 unpacked from Bits. A binary row holds tap (ky, kx) at
// word (ky·KW+kx)·⌈InC/64⌉ and channel c at bit c%64 of the word after it
// c/64; a linear row is the packed features.
func (l *Layer) DenseWeights() []float32 {
	n := l.OutC * l.InC * l.KH * l.KW
	switch l.Precision {
	case PrecisionFloat32:
		return l.Weights
	case PrecisionInt8:
		w := make([]float32, n)
		for j, q := range l.WeightsI8 {
			w[j] = float32(q)
		}
		return w
	}
	w := make([]float32, n)
	rw, pw := l.RowWords(), (l.InC+63)/64
	for o := 0; o < l.OutC; o++ {
		for c := 0; c < l.InC; c++ {
			for ky := 0; ky < l.KH; ky++ {
				for kx := 0; kx < l.KW; kx++ {
					word := o*rw + (ky*l.KW+kx)*pw + c/64
					w[((o*l.InC+c)*l.KH+ky)*l.KW+kx] = float32(int(l.Bits[word]>>uint(c%64)&1)*2 - 1)
				}
			}
		}
	}
	return w
}

// Model is a whole network plus its metadata.
type Model struct {
	Input      InputSpec
	Layers     []Layer
	Labels     []string // class names, len = logits; may be empty
	Provenance Provenance
}

// Timesteps returns T.
func (m *Model) Timesteps() int { return m.Input.Timesteps }
