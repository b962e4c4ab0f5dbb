package convert

import (
	"fmt"
	"testing"

	"github.com/bsnn/bsnn/finetune"
	"github.com/bsnn/bsnn/model"
	"github.com/bsnn/bsnn/model/arch"
)

// TestMNISTIsTrainerPreset requires the mnist preset to be bsnn-train's
// network (finetune.PresetMNIST) at its default widths and settings, layer
// for layer: names, ops, wiring, shapes, pools, BatchNorm and bias
// placement, and the defaults the converter applies (input normalization, T,
// LIF constants, AGMM statistic, BN ε). The round trip (TestRoundTrip in
// tools/bsnn-convert) checks the same at a reduced width with weights.
func TestMNISTIsTrainerPreset(t *testing.T) {
	cfg := finetune.DefaultConfig(finetune.PresetMNIST)
	net, err := finetune.NewNet(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cfg = net.Config()
	p := Presets["mnist"]
	spec, err := p.Spec(PresetOptions{Width: 1})
	if err != nil {
		t.Fatal(err)
	}
	spec.Normalize()

	in := cfg.Input
	if got := []int{in.Shape.C, in.Shape.H, in.Shape.W}; fmt.Sprint(got) != fmt.Sprint(spec.Input.Shape) {
		t.Errorf("input shape: trainer %v, preset %v", got, spec.Input.Shape)
	}
	if fmt.Sprint(in.Mean, in.Std) != fmt.Sprint(f32s(spec.Input.Mean), f32s(spec.Input.Std)) {
		t.Errorf("normalization: trainer %v/%v, preset %v/%v", in.Mean, in.Std, spec.Input.Mean, spec.Input.Std)
	}
	if in.Encoding != model.EncodingDirect || spec.Input.Encoding != "direct" {
		t.Errorf("encoding: trainer %v, preset %q", in.Encoding, spec.Input.Encoding)
	}
	if in.Timesteps != DefaultTimesteps {
		t.Errorf("T: trainer %d, converter default %d", in.Timesteps, DefaultTimesteps)
	}
	if cfg.Classes != p.Classes {
		t.Errorf("classes: trainer %d, preset %d", cfg.Classes, p.Classes)
	}
	if cfg.LIF.Lambda != float32(DefaultLambda) || cfg.LIF.Vth != float32(DefaultVth) || cfg.LIF.Reset != model.ResetHard {
		t.Errorf("LIF: trainer %+v, converter defaults λ %v V_th %v hard reset", cfg.LIF, DefaultLambda, DefaultVth)
	}
	if !cfg.AGMM.Enabled || cfg.AGMM.Stat != model.StatSpatial {
		t.Errorf("AGMM: trainer %+v, the preset gates with the spatial statistic", cfg.AGMM)
	}
	if cfg.BN.Eps != float32(DefaultBNEps) {
		t.Errorf("BN eps: trainer %v, converter %v", cfg.BN.Eps, DefaultBNEps)
	}

	exp, err := net.Export(model.Provenance{})
	if err != nil {
		t.Fatal(err)
	}
	specs := exp.Layers
	if len(specs) != len(spec.Layers) {
		t.Fatalf("trainer %d layers, preset %d", len(specs), len(spec.Layers))
	}
	ops := map[string]model.Op{
		"conv": model.OpConv2D, "linear": model.OpLinear, "agmm": model.OpAGMM, "lif": model.OpLIF,
		"avgpool": model.OpAvgPool, "maxpool": model.OpMaxPool, "gap": model.OpGlobalAvgPool,
		"add": model.OpAdd, "flatten": model.OpFlatten, "readout": model.OpReadout, "batchnorm": model.OpAffine,
	}
	index := map[string]int{"input": model.InputIndex}
	for i, s := range specs {
		keys := arch.StateDictKeys(&s)
		l := spec.Layers[i]
		index[l.Name] = i
		var inputs []int
		for _, src := range l.Inputs {
			inputs = append(inputs, index[src])
		}
		type shape struct {
			name                      string
			op                        string
			inputs                    string
			binary, bn, bias          bool
			in, out, k, stride, pad   int
			poolK, poolStride, poolPd int
		}
		got := shape{name: s.Name, op: s.Op.String(), inputs: fmt.Sprint(s.Inputs), binary: s.Precision == model.PrecisionBinary, bn: keys.BN != "", bias: keys.Bias != "",
			in: s.InC, out: s.OutC, k: s.KH, stride: s.Stride, pad: s.Pad}
		want := shape{name: l.Name, op: ops[l.Op].String(), inputs: fmt.Sprint(inputs), binary: l.Precision == "binary", bn: l.BN != "", bias: l.Bias != "",
			in: l.In, out: l.Out, k: l.Kernel, stride: l.Stride, pad: l.Pad}
		switch s.Op {
		case model.OpLinear:
			want.k, want.stride = 1, 1
		case model.OpAvgPool, model.OpMaxPool:
			got = shape{name: s.Name, op: s.Op.String(), inputs: got.inputs, poolK: s.Kernel, poolStride: s.Stride, poolPd: s.Pad}
			want = shape{name: l.Name, op: want.op, inputs: want.inputs, poolK: l.Kernel, poolStride: l.Stride, poolPd: l.Pad}
		case model.OpConv2D:
		default:
			got = shape{name: s.Name, op: s.Op.String(), inputs: got.inputs}
			want = shape{name: l.Name, op: want.op, inputs: want.inputs}
		}
		if got != want {
			t.Errorf("layer %d:\n trainer %+v\n preset  %+v", i, got, want)
		}
	}
}
