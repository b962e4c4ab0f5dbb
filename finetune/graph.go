package finetune

import (
	"fmt"
	"slices"

	"github.com/bsnn/bsnn/model"
	"github.com/bsnn/bsnn/model/arch"
)

// archGraph builds the graph of the architecture cfg.Preset names (any
// name of model/arch's registry) at cfg's input, widths, blocks, classes,
// neuron and AGMM settings.
func archGraph(cfg *Config) (*model.Model, error) {
	a, err := arch.Lookup(cfg.Preset)
	if err != nil {
		if cfg.Preset == PresetModel {
			return nil, fmt.Errorf("finetune: preset %q is built by FromModel, not NewNet", cfg.Preset)
		}
		return nil, fmt.Errorf("finetune: %w", err)
	}
	m, err := a.Build(arch.Options{
		In: cfg.Input.Shape, Widths: cfg.Widths, Blocks: cfg.Blocks, Classes: cfg.Classes,
		T: cfg.Input.Timesteps, Encoding: cfg.Input.Encoding,
		Neuron: arch.Neuron{Lambda: cfg.LIF.Lambda, Vth: cfg.LIF.Vth, Reset: cfg.LIF.Reset, NoAGMM: !cfg.AGMM.Enabled, Stat: cfg.AGMM.Stat},
	})
	if err != nil {
		return nil, fmt.Errorf("finetune: preset %s: %w", cfg.Preset, err)
	}
	return m, nil
}

// graphSpecs lowers a model graph to the trainer's nodes. A conv or linear
// layer trains with a BatchNorm (folded into its Scale and Bias on export)
// or, where the architecture gives it a bias instead (arch.StateDictKeys:
// the classifiers of a fresh net), with a plain bias. A loaded model is
// fine-tuned with a BatchNorm on every such layer, since its Scale and
// Bias are a folded BatchNorm however they were made.
func graphSpecs(m *model.Model, fresh bool) []nodeSpec {
	specs := make([]nodeSpec, len(m.Layers))
	for i := range m.Layers {
		l := &m.Layers[i]
		s := nodeSpec{Op: l.Op, Name: l.Name, Inputs: slices.Clone(l.Inputs)}
		if s.Name == "" {
			s.Name = fmt.Sprintf("layer%d", i)
		}
		switch l.Op {
		case model.OpConv2D, model.OpLinear:
			s.Binary = l.Precision == model.PrecisionBinary
			s.InC, s.OutC, s.KH, s.KW, s.Stride, s.Pad = l.InC, l.OutC, l.KH, l.KW, l.Stride, l.Pad
			s.BatchNorm = !fresh || arch.StateDictKeys(l).BN != ""
			s.Bias = !s.BatchNorm
		case model.OpAGMM:
			s.Stat = l.Stat
		case model.OpLIF:
			s.Lambda, s.Vth, s.Reset = l.Lambda, l.Vth, l.Reset
		case model.OpAvgPool, model.OpMaxPool:
			s.Kernel, s.Stride, s.Pad = l.Kernel, l.Stride, l.Pad
		}
		specs[i] = s
	}
	return specs
}
