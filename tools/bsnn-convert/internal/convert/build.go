package convert

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"strings"

	"github.com/bsnn/bsnn/bitops"
	"github.com/bsnn/bsnn/model"
	"github.com/bsnn/bsnn/tools/internal/torchload"
)

// Defaults for values neither the spec nor a flag gives (DESIGN §5).
const (
	DefaultTimesteps = 4
	DefaultLambda    = 0.5
	DefaultVth       = 1.0
	DefaultBNEps     = 1e-5
)

// Options control Build.
type Options struct {
	// Int8 quantizes the full-precision conv and linear layers to int8,
	// symmetric per output channel.
	Int8 bool
	// AllowUnused turns state_dict entries the spec does not use into a
	// warning instead of an error.
	AllowUnused bool
}

// Row is one line of the summary table.
type Row struct {
	Name  string
	Kind  string // e.g. conv2d binary, lif
	Shape string // weight shape (conv/linear) or output shape
	Out   model.Shape
	Bits  int   // bits per weight; 0 for layers without weights
	Bytes int64 // bytes of this layer's parameters in the .bsnn file (approx.)
	// SrcBytes is the layer's checkpoint tensors as float32.
	SrcBytes int64
}

// Report says what Build used and produced.
type Report struct {
	Rows     []Row
	Unused   []string // keys not used (allowed by AllowUnused), with shapes
	Skipped  []string // state_dict entries that were not tensors
	SrcBytes int64    // all used tensors as float32
	Warnings []string
}

// KeyError lists every key problem found while mapping a state_dict onto a
// spec, all at once.
type KeyError struct {
	Spec      string
	Missing   []string // "key (want [shape])"
	Misshaped []string // "key is [shape], want [shape]"
	Unused    []string // "key [shape]"
}

func (e *KeyError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "checkpoint does not match %s: %d missing, %d mis-shaped, %d unused keys", e.Spec, len(e.Missing), len(e.Misshaped), len(e.Unused))
	for _, s := range e.Missing {
		b.WriteString("\n  missing   " + s)
	}
	for _, s := range e.Misshaped {
		b.WriteString("\n  shape     " + s)
	}
	for _, s := range e.Unused {
		b.WriteString("\n  unused    " + s)
	}
	if len(e.Unused) > 0 && len(e.Missing) == 0 && len(e.Misshaped) == 0 {
		b.WriteString("\n(-allow-unused converts anyway)")
	}
	return b.String()
}

type builder struct {
	sd   *torchload.StateDict
	used map[string]bool
	kerr KeyError
	rep  *Report
	errs []string
	// ioErr is the first failure to read tensor data (a corrupt or
	// truncated file): it ends the conversion with that one error.
	ioErr error
}

func shapeStr(s []int) string { return torchload.ShapeString(s) }

// tensor returns the float32 values of key if it exists with shape want.
func (b *builder) tensor(key string, want []int) []float32 {
	t := b.sd.Tensors[key]
	if t == nil {
		b.kerr.Missing = append(b.kerr.Missing, fmt.Sprintf("%s (want %s)", key, shapeStr(want)))
		return nil
	}
	b.used[key] = true
	if shapeStr(t.Shape) != shapeStr(want) {
		b.kerr.Misshaped = append(b.kerr.Misshaped, fmt.Sprintf("%s is %s, want %s", key, shapeStr(t.Shape), shapeStr(want)))
		return nil
	}
	if !t.DType.IsFloat() {
		b.errs = append(b.errs, fmt.Sprintf("%s has type %v, want a float tensor", key, t.DType))
		return nil
	}
	if b.ioErr != nil {
		return nil
	}
	v, err := t.Float32()
	if err != nil {
		b.ioErr = fmt.Errorf("reading %s: %w", key, err)
		return nil
	}
	for i, x := range v {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			b.errs = append(b.errs, fmt.Sprintf("%s[%d] is %v", key, i, x))
			return nil
		}
	}
	b.rep.SrcBytes += 4 * int64(len(v))
	return v
}

// foldTerms returns the per-channel (scale, shift) in float64 that the
// accumulator is multiplied by and shifted with, before any binarization or
// quantization scale: BatchNorm folded with the layer's own bias (identity
// when there is no BN). Same arithmetic as presets.fold_terms.
func (b *builder) foldTerms(bias, bn string, eps float64, n int) (scale, shift []float64) {
	scale, shift = make([]float64, n), make([]float64, n)
	var bv []float32
	if bias != "" {
		bv = b.tensor(bias, []int{n})
	}
	if bn == "" {
		for i := range scale {
			scale[i] = 1
			if bv != nil {
				shift[i] = float64(bv[i])
			}
		}
		return scale, shift
	}
	g := b.tensor(bn+".weight", []int{n})
	be := b.tensor(bn+".bias", []int{n})
	m := b.tensor(bn+".running_mean", []int{n})
	v := b.tensor(bn+".running_var", []int{n})
	if t := b.sd.Tensors[bn+".num_batches_tracked"]; t != nil {
		b.used[bn+".num_batches_tracked"] = true
	}
	if g == nil || be == nil || m == nil || v == nil {
		return scale, shift
	}
	for i := range scale {
		if !(float64(v[i])+eps > 0) {
			b.errs = append(b.errs, fmt.Sprintf("%s.running_var[%d] = %v: variance + eps must be positive", bn, i, v[i]))
			return scale, shift
		}
		s := float64(g[i]) / math.Sqrt(float64(v[i])+eps)
		scale[i] = s
		if bv != nil {
			shift[i] = float64(be[i]) + float64((float64(bv[i])-float64(m[i]))*s)
		} else {
			shift[i] = float64(be[i]) - float64(float64(m[i])*s)
		}
	}
	return scale, shift
}

// exactMeanAbs returns mean |x| as the correctly rounded float64 sum (what
// Python's math.fsum gives) divided by len(x), so the result does not depend
// on summation order and the PyTorch mirror reproduces it bit for bit.
func exactMeanAbs(xs []float32) float64 {
	// A float32 magnitude is mant·2^(e-150) with a 24-bit mant (e = 1 for
	// subnormals); summing mantissas per exponent is exact in int64 for
	// fewer than 2^39 values.
	var buckets [256]int64
	for _, x := range xs {
		bits := math.Float32bits(x) &^ (1 << 31)
		e, mant := bits>>23, int64(bits&(1<<23-1))
		if e == 0 {
			e = 1
		} else {
			mant |= 1 << 23
		}
		buckets[e] += mant
	}
	sum := new(big.Int)
	var t big.Int
	for e := 255; e >= 1; e-- {
		if buckets[e] != 0 {
			sum.Add(sum, t.Lsh(big.NewInt(buckets[e]), uint(e-1)))
		}
	}
	// sum·2^-149, rounded once to float64 (nearest even).
	f := new(big.Float).SetInt(sum)
	f.SetMantExp(f, -149)
	s, _ := f.Float64()
	return s / float64(len(xs))
}

// Build maps sd onto spec and returns the model. Key problems are returned
// together as a *KeyError.
func Build(spec *Spec, sd *torchload.StateDict, opt Options) (*model.Model, *Report, error) {
	spec.Normalize()
	if err := spec.Validate(); err != nil {
		return nil, nil, err
	}
	T := spec.Timesteps
	if T == 0 {
		// Not given: the AGMM α tensors hold one value per step, so they
		// know T; without them the default applies.
		T = DefaultTimesteps
		for _, ls := range spec.Layers {
			if t := sd.Tensors[ls.Alpha]; ls.Op == "agmm" && t != nil && len(t.Shape) == 1 && t.Shape[0] >= 1 && t.Shape[0] <= model.MaxTimesteps {
				T = t.Shape[0]
				break
			}
		}
	}
	eps := spec.BNEps
	if eps == 0 {
		eps = DefaultBNEps
	}
	in := spec.Input
	m := &model.Model{
		Input: model.InputSpec{
			Shape:     model.Shape{C: in.Shape[0], H: in.Shape[1], W: in.Shape[2]},
			Mean:      f32s(in.Mean),
			Std:       f32s(in.Std),
			Timesteps: T,
		},
		Labels: spec.Labels,
	}
	switch in.Encoding {
	case "rate":
		m.Input.Encoding = model.EncodingRate
	case "events":
		m.Input.Encoding = model.EncodingEvents
	}
	rep := &Report{Skipped: sd.Skipped}
	b := &builder{sd: sd, used: map[string]bool{}, rep: rep, kerr: KeyError{Spec: spec.Name}}
	index := map[string]int{"input": model.InputIndex}
	for i, ls := range spec.Layers {
		l := model.Layer{Name: ls.Name}
		for _, src := range ls.Inputs {
			l.Inputs = append(l.Inputs, index[src])
		}
		index[ls.Name] = i
		row := Row{Name: ls.Name}
		src0 := rep.SrcBytes
		switch ls.Op {
		case "conv", "linear":
			b.weights(&l, &row, ls, eps, T, opt)
		case "batchnorm":
			l.Op = model.OpAffine
			bnEps := eps
			if ls.BNEps != nil {
				bnEps = *ls.BNEps
			}
			// Its width is the BN's own (a mismatch with the input shows
			// when the graph is checked).
			t := sd.Tensors[ls.BN+".weight"]
			if t == nil || len(t.Shape) != 1 {
				for _, k := range []string{".weight", ".bias", ".running_mean", ".running_var"} {
					if sd.Tensors[ls.BN+k] == nil {
						b.kerr.Missing = append(b.kerr.Missing, ls.BN+k+" (want [C])")
					}
				}
				if t != nil {
					b.used[ls.BN+".weight"] = true
					b.kerr.Misshaped = append(b.kerr.Misshaped, fmt.Sprintf("%s.weight is %s, want [C]", ls.BN, shapeStr(t.Shape)))
				}
				break
			}
			n := t.Shape[0]
			s, sh := b.foldTerms("", ls.BN, bnEps, n)
			l.Scale, l.Bias = f32s(s), f32s(sh)
			row.Kind, row.Bytes = "affine", 8*int64(n)
		case "agmm":
			l.Op = model.OpAGMM
			if ls.AlphaValue != nil {
				l.Alpha = make([]float32, T)
				for t := range l.Alpha {
					l.Alpha[t] = float32(*ls.AlphaValue)
				}
			} else {
				l.Alpha = b.tensor(ls.Alpha, []int{T})
			}
			stat := ls.Stat
			if stat == "" {
				stat = spec.AGMM.Stat
			}
			switch stat {
			case "channel-spatial":
				l.Stat = model.StatChannelSpatial
			case "none":
				l.Stat = model.StatNone
			}
			row.Kind, row.Bytes = "agmm "+l.Stat.String(), 4*int64(T)
		case "lif":
			l.Op = model.OpLIF
			l.Lambda = float32(pick(ls.Lambda, spec.LIF.Lambda, DefaultLambda))
			l.Vth = float32(pick(ls.Vth, spec.LIF.Vth, DefaultVth))
			if r := firstNonEmpty(ls.Reset, spec.LIF.Reset); r == "soft" {
				l.Reset = model.ResetSoft
			}
			row.Kind = fmt.Sprintf("lif λ=%g vth=%g %v", l.Lambda, l.Vth, l.Reset)
		case "avgpool", "maxpool":
			l.Op = model.OpAvgPool
			if ls.Op == "maxpool" {
				l.Op = model.OpMaxPool
			}
			l.Kernel, l.Stride, l.Pad = ls.Kernel, ls.Stride, ls.Pad
			row.Kind = fmt.Sprintf("%s %d/%d", l.Op, l.Kernel, l.Stride)
		case "gap":
			l.Op, row.Kind = model.OpGlobalAvgPool, "globalavgpool"
		case "add":
			l.Op, row.Kind = model.OpAdd, "add"
		case "flatten":
			l.Op, row.Kind = model.OpFlatten, "flatten"
		case "readout":
			l.Op, row.Kind = model.OpReadout, "readout"
		}
		row.SrcBytes = rep.SrcBytes - src0
		m.Layers = append(m.Layers, l)
		rep.Rows = append(rep.Rows, row)
	}
	if b.ioErr != nil {
		return nil, nil, b.ioErr
	}
	for _, k := range sd.Keys {
		if t := sd.Tensors[k]; t != nil && !b.used[k] {
			b.kerr.Unused = append(b.kerr.Unused, fmt.Sprintf("%s %s", k, shapeStr(t.Shape)))
		}
	}
	if len(b.kerr.Missing)+len(b.kerr.Misshaped) > 0 || (len(b.kerr.Unused) > 0 && !opt.AllowUnused) {
		return nil, nil, &b.kerr
	}
	rep.Unused = b.kerr.Unused
	switch len(b.errs) {
	case 0:
	case 1:
		return nil, nil, errors.New("checkpoint value: " + b.errs[0])
	default:
		return nil, nil, errors.New("checkpoint values:\n  " + strings.Join(b.errs, "\n  "))
	}
	shapes, err := m.Shapes()
	if err != nil {
		var le *model.LayerError
		if errors.As(err, &le) && le.Layer >= 0 {
			return nil, nil, fmt.Errorf("spec %s layer %q: %v", spec.Name, spec.Layers[le.Layer].Name, err)
		}
		return nil, nil, fmt.Errorf("spec %s: %v", spec.Name, err)
	}
	for i := range rep.Rows {
		rep.Rows[i].Out = shapes[i]
		if rep.Rows[i].Shape == "" {
			rep.Rows[i].Shape = shapes[i].String()
		}
	}
	return m, rep, nil
}

// weights fills a conv or linear layer: folded scale/bias, and binary,
// float32 or int8 weights.
func (b *builder) weights(l *model.Layer, row *Row, ls LayerSpec, eps float64, T int, opt Options) {
	l.Op = model.OpConv2D
	l.InC, l.OutC = ls.In, ls.Out
	l.KH, l.KW, l.Stride, l.Pad = ls.Kernel, ls.Kernel, ls.Stride, ls.Pad
	want := []int{ls.Out, ls.In, ls.Kernel, ls.Kernel}
	if ls.Op == "linear" {
		l.Op = model.OpLinear
		l.KH, l.KW, l.Stride, l.Pad = 1, 1, 1, 0
		want = []int{ls.Out, ls.In}
	}
	bnEps := eps
	if ls.BNEps != nil {
		bnEps = *ls.BNEps
	}
	w := b.tensor(ls.Weight, want)
	scale, shift := b.foldTerms(ls.Bias, ls.BN, bnEps, ls.Out)
	l.Bias = f32s(shift)
	row.Shape = shapeStr(want)
	n := len(w) / max(ls.Out, 1)
	affineBytes := 8 * int64(ls.Out)
	switch {
	case ls.Precision == "binary":
		l.Precision = model.PrecisionBinary
		row.Kind, row.Bits = l.Op.String()+" binary", 1
		row.Bytes = 8*int64(ls.Out)*int64(l.RowWords()) + affineBytes
		if w == nil {
			return
		}
		l.Scale = make([]float32, ls.Out)
		for o := range l.Scale {
			l.Scale[o] = float32(exactMeanAbs(w[o*n:(o+1)*n]) * scale[o])
		}
		l.Bits = make([]uint64, ls.Out*l.RowWords())
		if ls.Op == "conv" {
			// Shapes were checked above, so packing cannot fail.
			_ = bitops.PackOIHW(l.Bits, w, ls.Out, ls.In, ls.Kernel, ls.Kernel)
		} else {
			rw := l.RowWords()
			for o := 0; o < ls.Out; o++ {
				_ = bitops.PackSigns(l.Bits[o*rw:(o+1)*rw], w[o*n:(o+1)*n])
			}
		}
	case opt.Int8:
		l.Precision = model.PrecisionInt8
		row.Kind, row.Bits = l.Op.String()+" int8", 8
		row.Bytes = int64(len(w)) + affineBytes
		if w == nil {
			return
		}
		l.WeightsI8 = make([]int8, len(w))
		l.Scale = make([]float32, ls.Out)
		for o := range l.Scale {
			sq := quantizeRow(l.WeightsI8[o*n:(o+1)*n], w[o*n:(o+1)*n])
			l.Scale[o] = float32(sq * scale[o])
		}
	default:
		l.Precision = model.PrecisionFloat32
		row.Kind, row.Bits = l.Op.String()+" fp32", 32
		row.Bytes = 4*int64(len(w)) + affineBytes
		l.Weights = w
		l.Scale = f32s(scale)
	}
}

// quantizeRow quantizes one output channel symmetrically to -127..127 and
// returns the step: q = round_half_even(w / step), step = max|w| / 127.
func quantizeRow(dst []int8, w []float32) float64 {
	mx := 0.0
	for _, x := range w {
		mx = math.Max(mx, math.Abs(float64(x)))
	}
	step := 1.0
	if mx > 0 {
		step = mx / 127
	}
	for i, x := range w {
		q := math.RoundToEven(float64(x) / step)
		dst[i] = int8(math.Max(-127, math.Min(127, q)))
	}
	return step
}

func f32s(v []float64) []float32 {
	if v == nil {
		return nil
	}
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(x)
	}
	return out
}

func pick(layer, global *float64, def float64) float64 {
	if layer != nil {
		return *layer
	}
	if global != nil {
		return *global
	}
	return def
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}
