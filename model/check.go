package model

import (
	"errors"
	"fmt"
	"math"
)

// Size caps. A file that exceeds one is rejected before anything is
// allocated for it.
const (
	MaxFileSize  = 1 << 30 // bytes
	MaxLayers    = 4096
	MaxDim       = 1 << 16 // any single C, H, W, feature count
	MaxTensor    = 1 << 28 // elements of one activation tensor
	MaxWeights   = 1 << 30 // weight elements of one layer
	MaxTimesteps = 1024
	MaxKernel    = 64
	MaxLabels    = 1 << 16
	MaxString    = 1 << 16 // bytes of any one string
	MaxExtra     = 1024    // provenance key/value entries
)

// ErrInvalid is wrapped by every structural error, so callers can test
// errors.Is(err, model.ErrInvalid).
var ErrInvalid = errors.New("invalid model")

// LayerError is a structural problem with one field of one layer. Layer is -1
// for model-level fields (input spec, labels).
type LayerError struct {
	Layer int
	Op    Op
	Field string
	Msg   string
}

func (e *LayerError) Error() string {
	if e.Layer < 0 {
		return fmt.Sprintf("model %s: %s", e.Field, e.Msg)
	}
	return fmt.Sprintf("layer %d (%s): %s: %s", e.Layer, e.Op, e.Field, e.Msg)
}

// Unwrap lets errors.Is(err, ErrInvalid) match.
func (e *LayerError) Unwrap() error { return ErrInvalid }

func lerr(i int, op Op, field, format string, args ...any) error {
	return &LayerError{Layer: i, Op: op, Field: field, Msg: fmt.Sprintf(format, args...)}
}

// Shapes checks the whole model (parameters, wiring, sizes, caps) and returns
// every layer's output shape. It never panics, whatever the Model holds.
func (m *Model) Shapes() ([]Shape, error) {
	in := m.Input
	if err := checkShape(-1, OpInvalid, "input.shape", in.Shape); err != nil {
		return nil, err
	}
	if in.Timesteps < 1 || in.Timesteps > MaxTimesteps {
		return nil, lerr(-1, OpInvalid, "input.timesteps", "T = %d, want 1..%d", in.Timesteps, MaxTimesteps)
	}
	if in.Encoding >= encodingCount {
		return nil, lerr(-1, OpInvalid, "input.encoding", "unknown encoding %d", in.Encoding)
	}
	if len(in.Mean) != 0 && len(in.Mean) != in.Shape.C {
		return nil, lerr(-1, OpInvalid, "input.mean", "holds %d values, input has %d channels", len(in.Mean), in.Shape.C)
	}
	if len(in.Std) != 0 && len(in.Std) != in.Shape.C {
		return nil, lerr(-1, OpInvalid, "input.std", "holds %d values, input has %d channels", len(in.Std), in.Shape.C)
	}
	if err := checkFinite(-1, OpInvalid, "input.mean", in.Mean); err != nil {
		return nil, err
	}
	for c, s := range in.Std {
		if !(s > 0) || math.IsInf(float64(s), 0) {
			return nil, lerr(-1, OpInvalid, "input.std", "channel %d std = %v, want a positive finite value", c, s)
		}
	}
	if len(m.Labels) > MaxLabels {
		return nil, lerr(-1, OpInvalid, "labels", "%d labels, at most %d", len(m.Labels), MaxLabels)
	}
	if err := m.checkStrings(); err != nil {
		return nil, err
	}
	if len(m.Layers) == 0 {
		return nil, lerr(-1, OpInvalid, "layers", "model has no layers")
	}
	if len(m.Layers) > MaxLayers {
		return nil, lerr(-1, OpInvalid, "layers", "%d layers, at most %d", len(m.Layers), MaxLayers)
	}
	T := in.Timesteps
	shapes := make([]Shape, len(m.Layers))
	shapeOf := func(i, src int) (Shape, error) {
		if src == InputIndex {
			return in.Shape, nil
		}
		if src < 0 || src >= i {
			return Shape{}, lerr(i, m.Layers[i].Op, "inputs", "refers to layer %d; a layer may only read the model input (-1) or an earlier layer", src)
		}
		return shapes[src], nil
	}
	for i := range m.Layers {
		l := &m.Layers[i]
		if !l.Op.Valid() {
			return nil, lerr(i, l.Op, "op", "unknown layer kind %d", uint8(l.Op))
		}
		want := 1
		if l.Op == OpAdd {
			want = 2
		}
		if len(l.Inputs) != want {
			return nil, lerr(i, l.Op, "inputs", "has %d inputs, want %d", len(l.Inputs), want)
		}
		x, err := shapeOf(i, l.Inputs[0])
		if err != nil {
			return nil, err
		}
		if l.Op == OpReadout && i != len(m.Layers)-1 {
			return nil, lerr(i, l.Op, "op", "readout must be the last layer")
		}
		var out Shape
		switch l.Op {
		case OpConv2D:
			out, err = checkConv(i, l, x)
		case OpLinear:
			out, err = checkLinear(i, l, x)
		case OpAffine:
			out = x
			err = checkAffine(i, l, x.C)
		case OpAGMM:
			out = x
			if len(l.Alpha) != T {
				err = lerr(i, l.Op, "alpha", "holds %d values, T = %d", len(l.Alpha), T)
			} else if l.Stat >= statCount {
				err = lerr(i, l.Op, "stat", "unknown statistic %d", l.Stat)
			} else {
				err = checkFinite(i, l.Op, "alpha", l.Alpha)
			}
		case OpLIF:
			out = x
			switch {
			case l.Reset >= resetCount:
				err = lerr(i, l.Op, "reset", "unknown reset %d", l.Reset)
			case !finite(l.Lambda) || l.Lambda < 0 || l.Lambda > 1:
				err = lerr(i, l.Op, "lambda", "λ = %v, want 0..1", l.Lambda)
			case !finite(l.Vth) || !(l.Vth > 0):
				err = lerr(i, l.Op, "vth", "V_th = %v, want a positive finite value", l.Vth)
			}
		case OpAvgPool, OpMaxPool:
			out, err = checkPool(i, l, x)
		case OpGlobalAvgPool:
			out = Shape{x.C, 1, 1}
		case OpAdd:
			var y Shape
			if y, err = shapeOf(i, l.Inputs[1]); err == nil && y != x {
				err = lerr(i, l.Op, "inputs", "adds %v to %v: shapes differ", x, y)
			}
			out = x
		case OpFlatten:
			out = Shape{x.Size(), 1, 1}
		case OpReadout:
			out = Shape{x.Size(), 1, 1}
			if x.H != 1 || x.W != 1 {
				err = lerr(i, l.Op, "inputs", "reads a %v map, want a vector (flatten or linear first)", x)
			}
		}
		if err != nil {
			return nil, err
		}
		if err := checkShape(i, l.Op, "output", out); err != nil {
			return nil, err
		}
		shapes[i] = out
	}
	last := &m.Layers[len(m.Layers)-1]
	if last.Op != OpReadout {
		return nil, lerr(len(m.Layers)-1, last.Op, "op", "the last layer must be a readout")
	}
	if n := shapes[len(shapes)-1].C; len(m.Labels) != 0 && len(m.Labels) != n {
		return nil, lerr(-1, OpInvalid, "labels", "%d labels for %d logits", len(m.Labels), n)
	}
	return shapes, nil
}

// Check is Shapes without the result.
func (m *Model) Check() error {
	_, err := m.Shapes()
	return err
}

// checkStrings applies the MaxString and MaxExtra caps, which the file
// reader enforces too.
func (m *Model) checkStrings() error {
	str := func(i int, op Op, field, s string) error {
		if len(s) > MaxString {
			return lerr(i, op, field, "%d bytes, at most %d", len(s), MaxString)
		}
		return nil
	}
	for i, s := range m.Labels {
		if err := str(-1, OpInvalid, fmt.Sprintf("labels[%d]", i), s); err != nil {
			return err
		}
	}
	p := &m.Provenance
	for _, f := range [...]struct{ name, s string }{
		{"provenance.source", p.Source}, {"provenance.dataset", p.Dataset},
		{"provenance.agmm", p.AGMM}, {"provenance.tool_version", p.ToolVersion},
	} {
		if err := str(-1, OpInvalid, f.name, f.s); err != nil {
			return err
		}
	}
	if len(p.Extra) > MaxExtra {
		return lerr(-1, OpInvalid, "provenance.extra", "%d entries, at most %d", len(p.Extra), MaxExtra)
	}
	for i, kv := range p.Extra {
		if err := str(-1, OpInvalid, fmt.Sprintf("provenance.extra[%d].key", i), kv.Key); err != nil {
			return err
		}
		if err := str(-1, OpInvalid, fmt.Sprintf("provenance.extra[%d].value", i), kv.Value); err != nil {
			return err
		}
	}
	for i := range m.Layers {
		if err := str(i, m.Layers[i].Op, "name", m.Layers[i].Name); err != nil {
			return err
		}
	}
	return nil
}

func checkShape(i int, op Op, field string, s Shape) error {
	if s.C < 1 || s.H < 1 || s.W < 1 || s.C > MaxDim || s.H > MaxDim || s.W > MaxDim {
		return lerr(i, op, field, "shape %v: every dimension must be 1..%d", s, MaxDim)
	}
	if int64(s.C)*int64(s.H)*int64(s.W) > MaxTensor {
		return lerr(i, op, field, "shape %v has more than %d elements", s, MaxTensor)
	}
	return nil
}

func finite(x float32) bool { return !math.IsNaN(float64(x)) && !math.IsInf(float64(x), 0) }

func checkFinite(i int, op Op, field string, xs []float32) error {
	for j, x := range xs {
		if !finite(x) {
			return lerr(i, op, field, "value %d is %v", j, x)
		}
	}
	return nil
}

func checkAffine(i int, l *Layer, c int) error {
	if len(l.Scale) != c {
		return lerr(i, l.Op, "scale", "holds %d values, %d channels", len(l.Scale), c)
	}
	if len(l.Bias) != c {
		return lerr(i, l.Op, "bias", "holds %d values, %d channels", len(l.Bias), c)
	}
	if err := checkFinite(i, l.Op, "scale", l.Scale); err != nil {
		return err
	}
	return checkFinite(i, l.Op, "bias", l.Bias)
}

// checkWeights checks the weight vector of the layer's precision; n is the
// weight count (OutC·InC·KH·KW).
func checkWeights(i int, l *Layer, n int64) error {
	if n > MaxWeights {
		return lerr(i, l.Op, "weights", "%d weights, at most %d", n, MaxWeights)
	}
	switch l.Precision {
	case PrecisionBinary:
		need := int64(l.OutC) * int64(l.RowWords())
		if int64(len(l.Bits)) != need {
			return lerr(i, l.Op, "bits", "weight vector holds %d bytes, shape needs %d", 8*len(l.Bits), 8*need)
		}
		if err := checkPadBits(i, l); err != nil {
			return err
		}
		if len(l.Weights) != 0 || len(l.WeightsI8) != 0 {
			return lerr(i, l.Op, "weights", "binary layer also carries float or int8 weights")
		}
	case PrecisionFloat32:
		if int64(len(l.Weights)) != n {
			return lerr(i, l.Op, "weights", "holds %d float32 weights, shape needs %d", len(l.Weights), n)
		}
		if len(l.Bits) != 0 || len(l.WeightsI8) != 0 {
			return lerr(i, l.Op, "weights", "fp32 layer also carries binary or int8 weights")
		}
		if err := checkFinite(i, l.Op, "weights", l.Weights); err != nil {
			return err
		}
	case PrecisionInt8:
		if int64(len(l.WeightsI8)) != n {
			return lerr(i, l.Op, "weights_i8", "holds %d int8 weights, shape needs %d", len(l.WeightsI8), n)
		}
		if len(l.Bits) != 0 || len(l.Weights) != 0 {
			return lerr(i, l.Op, "weights", "int8 layer also carries binary or float weights")
		}
	default:
		return lerr(i, l.Op, "precision", "unknown precision %d", l.Precision)
	}
	return checkAffine(i, l, l.OutC)
}

// checkPadBits checks that the bits past InC in the last word of every tap
// of every binary row are zero, as the packing contract says: XNOR kernels
// would count them. len(l.Bits) is already OutC·RowWords().
func checkPadBits(i int, l *Layer) error {
	rem := l.InC % 64
	if rem == 0 {
		return nil
	}
	mask := ^uint64(0) << uint(rem)
	pw := (l.InC + 63) / 64
	taps := l.RowWords() / pw
	for j := pw - 1; j < len(l.Bits); j += pw {
		if l.Bits[j]&mask != 0 {
			row := j / (taps * pw)
			return lerr(i, l.Op, "bits", "row %d, tap %d: pad bits past input channel %d are set", row, (j%(taps*pw))/pw, l.InC)
		}
	}
	return nil
}

func checkConv(i int, l *Layer, x Shape) (Shape, error) {
	if l.InC != x.C {
		return Shape{}, lerr(i, l.Op, "in_channels", "layer expects %d channels, its input has %d (shape %v)", l.InC, x.C, x)
	}
	if l.OutC < 1 || l.OutC > MaxDim {
		return Shape{}, lerr(i, l.Op, "out_channels", "%d, want 1..%d", l.OutC, MaxDim)
	}
	if l.KH < 1 || l.KW < 1 || l.KH > MaxKernel || l.KW > MaxKernel {
		return Shape{}, lerr(i, l.Op, "kernel", "%d×%d, want 1..%d", l.KH, l.KW, MaxKernel)
	}
	if l.Stride < 1 || l.Stride > MaxKernel {
		return Shape{}, lerr(i, l.Op, "stride", "%d, want 1..%d", l.Stride, MaxKernel)
	}
	if l.Pad < 0 || l.Pad >= l.KH || l.Pad >= l.KW {
		return Shape{}, lerr(i, l.Op, "padding", "%d with a %d×%d kernel, want 0..kernel-1", l.Pad, l.KH, l.KW)
	}
	oh := (x.H+2*l.Pad-l.KH)/l.Stride + 1
	ow := (x.W+2*l.Pad-l.KW)/l.Stride + 1
	if x.H+2*l.Pad < l.KH || x.W+2*l.Pad < l.KW {
		return Shape{}, lerr(i, l.Op, "kernel", "%d×%d kernel does not fit the padded %v input", l.KH, l.KW, x)
	}
	n := int64(l.OutC) * int64(l.InC) * int64(l.KH) * int64(l.KW)
	if err := checkWeights(i, l, n); err != nil {
		return Shape{}, err
	}
	return Shape{l.OutC, oh, ow}, nil
}

func checkLinear(i int, l *Layer, x Shape) (Shape, error) {
	if x.H != 1 || x.W != 1 {
		return Shape{}, lerr(i, l.Op, "inputs", "reads a %v map, want a vector (flatten first)", x)
	}
	if l.InC != x.C {
		return Shape{}, lerr(i, l.Op, "in_features", "layer expects %d features, its input has %d", l.InC, x.C)
	}
	if l.OutC < 1 || l.OutC > MaxDim {
		return Shape{}, lerr(i, l.Op, "out_features", "%d, want 1..%d", l.OutC, MaxDim)
	}
	if l.KH != 1 || l.KW != 1 || l.Stride != 1 || l.Pad != 0 {
		return Shape{}, lerr(i, l.Op, "kernel", "linear layers have KH=KW=stride=1, pad=0; got %d×%d/%d/%d", l.KH, l.KW, l.Stride, l.Pad)
	}
	if err := checkWeights(i, l, int64(l.OutC)*int64(l.InC)); err != nil {
		return Shape{}, err
	}
	return Shape{l.OutC, 1, 1}, nil
}

func checkPool(i int, l *Layer, x Shape) (Shape, error) {
	if l.Kernel < 1 || l.Kernel > MaxKernel {
		return Shape{}, lerr(i, l.Op, "kernel", "%d, want 1..%d", l.Kernel, MaxKernel)
	}
	if l.Stride < 1 || l.Stride > MaxKernel {
		return Shape{}, lerr(i, l.Op, "stride", "%d, want 1..%d", l.Stride, MaxKernel)
	}
	if l.Pad < 0 || 2*l.Pad > l.Kernel {
		return Shape{}, lerr(i, l.Op, "padding", "%d with window %d, want 0..kernel/2", l.Pad, l.Kernel)
	}
	if x.H+2*l.Pad < l.Kernel || x.W+2*l.Pad < l.Kernel {
		return Shape{}, lerr(i, l.Op, "kernel", "window %d does not fit the padded %v input", l.Kernel, x)
	}
	return Shape{x.C, (x.H+2*l.Pad-l.Kernel)/l.Stride + 1, (x.W+2*l.Pad-l.Kernel)/l.Stride + 1}, nil
}
