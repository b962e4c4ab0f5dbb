package finetune

import (
	"fmt"
	"math"
	"slices"

	"github.com/bsnn/bsnn/bitops"
	"github.com/bsnn/bsnn/model"
)

// Export returns the network as a model.Model: one model layer per node,
// binary weights as packed signs, BatchNorm folded into each conv's
// Scale/Bias (binary: Scale = α_o·γ/√(var+ε), Bias = β − mean·γ/√(var+ε)),
// AGMM gates with their current α[t]. Running the model with the runtime
// gives exactly what Evaluate gives: the same spikes and logits bit for bit.
//
// prov is stored as given, except that an empty Source becomes
// "bsnn-train", an empty AGMM field the network's AGMM settings, and
// ToolVersion is left to the caller.
func (n *Net) Export(prov model.Provenance) (*model.Model, error) {
	n.setProgress()
	cfg := &n.cfg
	in := cfg.Input
	m := &model.Model{
		Input: model.InputSpec{
			Shape: in.Shape, Mean: slices.Clone(in.Mean), Std: slices.Clone(in.Std),
			Encoding: in.Encoding, Timesteps: in.Timesteps,
		},
		Labels:     slices.Clone(cfg.Labels),
		Provenance: prov,
		Layers:     make([]model.Layer, len(n.specs)),
	}
	if m.Provenance.Source == "" {
		m.Provenance.Source = "bsnn-train"
	}
	if m.Provenance.AGMM == "" {
		m.Provenance.AGMM = cfg.AGMMString()
	}
	for i := range n.specs {
		s := &n.specs[i]
		l := model.Layer{Op: s.Op, Name: s.Name, Inputs: slices.Clone(s.Inputs)}
		switch x := n.layers[i].(type) {
		case *convNode:
			x.prepare()
			l.InC, l.OutC, l.KH, l.KW, l.Stride, l.Pad = s.InC, s.OutC, s.KH, s.KW, s.Stride, s.Pad
			if x.binary {
				l.Precision = model.PrecisionBinary
				l.Bits = make([]uint64, l.OutC*l.RowWords())
				var err error
				if x.linear {
					for o := 0; o < l.OutC && err == nil; o++ {
						rw := l.RowWords()
						err = bitops.PackSigns(l.Bits[o*rw:(o+1)*rw], x.w.Data[o*x.j:(o+1)*x.j])
					}
				} else {
					err = bitops.PackOIHW(l.Bits, x.w.Data, l.OutC, l.InC, l.KH, l.KW)
				}
				if err != nil {
					return nil, fmt.Errorf("finetune: export: layer %d (%s): %w", i, s.Name, err)
				}
			} else {
				l.Precision = model.PrecisionFloat32
				l.Weights = slices.Clone(x.w.Data)
			}
			l.Scale = slices.Clone(x.scale)
			l.Bias = slices.Clone(x.shift)
		case *affineNode:
			l.Scale = make([]float32, x.bn.c)
			l.Bias = make([]float32, x.bn.c)
			for c := range l.Scale {
				l.Scale[c], l.Bias[c] = x.bn.fold(c)
			}
		case *agmmNode:
			l.Alpha = slices.Clone(x.alpha.Data)
			l.Stat = x.stat
		case *lifNode:
			l.Lambda, l.Vth, l.Reset = x.lambda, x.vth, x.reset
		case *poolNode:
			l.Kernel, l.Stride, l.Pad = s.Kernel, s.Stride, s.Pad
		}
		m.Layers[i] = l
	}
	if err := m.Check(); err != nil {
		return nil, fmt.Errorf("finetune: export: %w", err)
	}
	return m, nil
}

// unitVar returns the float32 running variance v with v + eps == 1 exactly,
// so a BatchNorm initialized with it divides by exactly 1.
func unitVar(eps float32) float32 {
	v := 1 - eps
	for v+eps > 1 {
		v = math.Nextafter32(v, 0)
	}
	for v+eps < 1 {
		v = math.Nextafter32(v, 2)
	}
	return v
}

// latentScale returns the magnitude FromModel gives the latent weights of a
// binary layer with fan-in j: cfg.LatentScale, or the power of two nearest
// to the mean |w| of PyTorch's default initialization, 1/(2√j). A power of
// two keeps α·γ = Scale exact.
func latentScale(cfg *Config, j int) float32 {
	if cfg.LatentScale > 0 {
		return cfg.LatentScale
	}
	return float32(math.Exp2(math.Round(math.Log2(0.5 / math.Sqrt(float64(j))))))
}

// FromModel builds a trainable network from a model, for fine-tuning. The
// graph is the model's, layer for layer; cfg supplies the training settings
// (LIF surrogate and detach, AGMM α mode and detach, BN mode, optimizer,
// seed, threads); the input spec, classes and labels come from the model.
//
// The mapping, chosen so that the untrained network computes exactly what
// the model computes (Evaluate, and with cfg.BN.Frozen training forwards too):
//
//   - binary conv/linear: latent weights w = ±a (the stored signs) with a a
//     power of two (cfg.LatentScale, or the one nearest PyTorch's initial
//     mean |w|, 1/(2√fan-in)), so α_o = a; a BatchNorm with running mean 0,
//     running variance 1 − ε (so √(var+ε) = 1), γ = Scale/a and β = Bias;
//   - float32 conv/linear: the weights as they are, the same BatchNorm with
//     γ = Scale; int8 weights become float32 weights (exported as float32);
//   - Affine: a standalone BatchNorm initialized the same way;
//   - AGMM: α[t] from the model (cfg.AGMM.Alpha says whether it trains);
//   - LIF: λ, V_th and reset from the model.
//
// FromModel fails if a Scale/Bias cannot be reproduced exactly (a scale so
// small that Scale/a is not representable).
func FromModel(m *model.Model, cfg Config) (*Net, error) {
	shapes, err := m.Shapes()
	if err != nil {
		return nil, fmt.Errorf("finetune: FromModel: %w", err)
	}
	cfg.Preset = PresetModel
	cfg.Input = model.InputSpec{
		Shape: m.Input.Shape, Mean: slices.Clone(m.Input.Mean), Std: slices.Clone(m.Input.Std),
		Encoding: m.Input.Encoding, Timesteps: m.Input.Timesteps,
	}
	cfg.Classes = shapes[len(shapes)-1].C
	cfg.Labels = slices.Clone(m.Labels)
	specs := graphSpecs(m, false)
	n, err := buildNet(cfg, specs)
	if err != nil {
		return nil, fmt.Errorf("finetune: FromModel: %w", err)
	}
	rv := unitVar(n.cfg.BN.Eps)
	for i := range m.Layers {
		l := &m.Layers[i]
		switch x := n.layers[i].(type) {
		case *convNode:
			a := float32(1)
			switch l.Precision {
			case model.PrecisionBinary:
				a = latentScale(&n.cfg, x.j)
				if x.linear {
					rw := l.RowWords()
					for o := 0; o < l.OutC; o++ {
						err = bitops.UnpackSigns(x.w.Data[o*x.j:(o+1)*x.j], l.Bits[o*rw:(o+1)*rw])
					}
				} else {
					err = bitops.UnpackOIHW(x.w.Data, l.Bits, l.OutC, l.InC, l.KH, l.KW)
				}
				if err != nil {
					return nil, fmt.Errorf("finetune: FromModel: layer %d (%s): %w", i, l.Name, err)
				}
				for j, v := range x.w.Data {
					x.w.Data[j] = v * a
				}
			case model.PrecisionFloat32:
				copy(x.w.Data, l.Weights)
			case model.PrecisionInt8:
				for j, q := range l.WeightsI8 {
					x.w.Data[j] = float32(q)
				}
			}
			for o := 0; o < l.OutC; o++ {
				x.bn.gamma.Data[o] = l.Scale[o] / a
				x.bn.beta.Data[o] = l.Bias[o]
				x.bn.runMean[o] = 0
				x.bn.runVar[o] = rv
			}
			x.prepare()
			for o := 0; o < l.OutC; o++ {
				if x.scale[o] != l.Scale[o] || x.shift[o] != l.Bias[o] {
					return nil, fmt.Errorf("finetune: FromModel: layer %d (%s) channel %d: Scale %v, Bias %v cannot be reproduced exactly (got %v, %v); set Config.LatentScale", i, l.Name, o, l.Scale[o], l.Bias[o], x.scale[o], x.shift[o])
				}
			}
		case *affineNode:
			for c := range l.Scale {
				x.bn.gamma.Data[c] = l.Scale[c]
				x.bn.beta.Data[c] = l.Bias[c]
				x.bn.runMean[c] = 0
				x.bn.runVar[c] = rv
			}
		case *agmmNode:
			copy(x.alpha.Data, l.Alpha)
		}
	}
	return n, nil
}
