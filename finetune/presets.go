package finetune

import (
	"fmt"

	"github.com/bsnn/bsnn/model"
)

// specBuilder appends layer specs and tracks the current tensor.
type specBuilder struct {
	cfg   *Config
	specs []LayerSpec
	cur   int
	c     int // channels of the current tensor
	h, w  int
}

func newSpecBuilder(cfg *Config) *specBuilder {
	s := cfg.Input.Shape
	return &specBuilder{cfg: cfg, cur: model.InputIndex, c: s.C, h: s.H, w: s.W}
}

func (b *specBuilder) add(s LayerSpec) int {
	if s.Inputs == nil {
		s.Inputs = []int{b.cur}
	}
	b.specs = append(b.specs, s)
	b.cur = len(b.specs) - 1
	return b.cur
}

// conv appends a conv + BatchNorm reading the current tensor.
func (b *specBuilder) conv(name string, binary bool, outC, k, stride, pad int) int {
	i := b.add(LayerSpec{Op: model.OpConv2D, Name: name, Binary: binary, InC: b.c, OutC: outC, KH: k, KW: k, Stride: stride, Pad: pad, BatchNorm: true})
	b.c = outC
	b.h = (b.h+2*pad-k)/stride + 1
	b.w = (b.w+2*pad-k)/stride + 1
	return i
}

// gate appends an AGMM gate when the configuration enables them.
func (b *specBuilder) gate(name string) {
	if b.cfg.AGMM.Enabled {
		b.add(LayerSpec{Op: model.OpAGMM, Name: name, Stat: b.cfg.AGMM.Stat})
	}
}

func (b *specBuilder) lif(name string) int {
	l := b.cfg.LIF
	return b.add(LayerSpec{Op: model.OpLIF, Name: name, Lambda: l.Lambda, Vth: l.Vth, Reset: l.Reset})
}

func (b *specBuilder) pool(op model.Op, name string, k int) int {
	i := b.add(LayerSpec{Op: op, Name: name, Kernel: k, Stride: k})
	b.h, b.w = (b.h-k)/k+1, (b.w-k)/k+1
	return i
}

// head appends flatten (or global average pool) → fp32 linear (with bias)
// → readout.
func (b *specBuilder) head(gap bool) {
	if gap {
		b.add(LayerSpec{Op: model.OpGlobalAvgPool, Name: "gap"})
	} else {
		b.add(LayerSpec{Op: model.OpFlatten, Name: "flatten"})
		b.c *= b.h * b.w
	}
	b.h, b.w = 1, 1
	b.add(LayerSpec{Op: model.OpLinear, Name: "fc", InC: b.c, OutC: b.cfg.Classes, KH: 1, KW: 1, Stride: 1, Bias: true})
	b.add(LayerSpec{Op: model.OpReadout, Name: "readout"})
}

func widths(cfg *Config, def []int) ([]int, error) {
	w := cfg.Widths
	if w == nil {
		return def, nil
	}
	if len(w) != len(def) {
		return nil, fmt.Errorf("finetune: preset %s takes %d widths, got %d", cfg.Preset, len(def), len(w))
	}
	for _, v := range w {
		if v < 1 || v > model.MaxDim {
			return nil, fmt.Errorf("finetune: preset %s: width %d out of range", cfg.Preset, v)
		}
	}
	return w, nil
}

// presetSpecs builds the graph of cfg.Preset.
func presetSpecs(cfg *Config) ([]LayerSpec, error) {
	switch cfg.Preset {
	case PresetMNIST:
		return mnistSpecs(cfg)
	case PresetVGGSmall:
		return vggSpecs(cfg)
	case PresetResNet19:
		return resnetSpecs(cfg)
	case PresetModel:
		return nil, fmt.Errorf("finetune: preset %q is built by FromModel, not NewNet", cfg.Preset)
	}
	return nil, fmt.Errorf("finetune: unknown preset %q (want %s, %s or %s)", cfg.Preset, PresetMNIST, PresetVGGSmall, PresetResNet19)
}

// mnistSpecs is the MNIST / Fashion-MNIST net, widths {C1, C2, C3}
// (default {32, 64, 64}), the layer names of model/arch's MNIST:
//
//	conv1: fp32 conv 3×3 C1, BN → lif1
//	conv2: binary conv 3×3 C2, BN → agmm2 → lif2 → pool2 (max 2)
//	conv3: binary conv 3×3 C3, BN → agmm3 → lif3 → pool3 (max 2)
//	flatten → fc (fp32 linear with bias) → readout
//
// The pools are max pools after the LIF so the binary convs read spikes
// (an average pool of spikes is not binary); the stem has no AGMM gate
// (the gate modulates the gradient reaching binary weights).
func mnistSpecs(cfg *Config) ([]LayerSpec, error) {
	w, err := widths(cfg, []int{32, 64, 64})
	if err != nil {
		return nil, err
	}
	b := newSpecBuilder(cfg)
	if b.h < 4 || b.w < 4 {
		return nil, fmt.Errorf("finetune: preset %s: input %v is smaller than 4×4", cfg.Preset, cfg.Input.Shape)
	}
	b.conv("conv1", false, w[0], 3, 1, 1)
	b.lif("lif1")
	for i := 2; i <= 3; i++ {
		b.conv(fmt.Sprintf("conv%d", i), true, w[i-1], 3, 1, 1)
		b.gate(fmt.Sprintf("agmm%d", i))
		b.lif(fmt.Sprintf("lif%d", i))
		b.pool(model.OpMaxPool, fmt.Sprintf("pool%d", i), 2)
	}
	b.head(false)
	return b.specs, nil
}

// vggSpecs is VGG-small, widths {W1, W2, W3} (default {128, 256, 512}):
// three pairs of 3×3 convs of widths W1, W2, W3 (the first conv fp32, the
// other five binary), each pair followed by a 2×2 max pool; BN, an AGMM gate
// (binary convs) and a LIF after every conv; flatten → fc → readout.
func vggSpecs(cfg *Config) ([]LayerSpec, error) {
	w, err := widths(cfg, []int{128, 256, 512})
	if err != nil {
		return nil, err
	}
	b := newSpecBuilder(cfg)
	if b.h < 8 || b.w < 8 {
		return nil, fmt.Errorf("finetune: preset %s: input %v is smaller than 8×8", cfg.Preset, cfg.Input.Shape)
	}
	n := 0
	for s := 0; s < 3; s++ {
		for j := 0; j < 2; j++ {
			n++
			b.conv(fmt.Sprintf("conv%d", n), n > 1, w[s], 3, 1, 1)
			if n > 1 {
				b.gate(fmt.Sprintf("agmm%d", n))
			}
			b.lif(fmt.Sprintf("lif%d", n))
		}
		b.pool(model.OpMaxPool, fmt.Sprintf("pool%d", s+1), 2)
	}
	b.head(false)
	return b.specs, nil
}

// resnetSpecs is the ResNet-19-like Bi-Real net, widths {W1, W2, W3}
// (default {128, 256, 512}), cfg.Blocks basic blocks per stage (default
// {3, 3, 2}), the layout and names of model/arch's ResNet19:
//
//	conv1: fp32 conv 3×3 W1, BN → lif1
//	per stage s, per basic block, two Bi-Real units u:
//	  binary conv 3×3 (stride 2 in the first unit of stages 2 and 3), BN
//	  → AGMM → add(shortcut) → LIF
//	  shortcut: the unit's input spikes, or where the shape changes
//	  AvgPool 2 (stride 2 only) → fp32 conv 1×1 with BN
//	gap → fc → readout
func resnetSpecs(cfg *Config) ([]LayerSpec, error) {
	w, err := widths(cfg, []int{128, 256, 512})
	if err != nil {
		return nil, err
	}
	blocks := cfg.Blocks
	if blocks == nil {
		blocks = []int{3, 3, 2}
	}
	if len(blocks) != 3 {
		return nil, fmt.Errorf("finetune: preset %s takes 3 block counts, got %d", cfg.Preset, len(blocks))
	}
	b := newSpecBuilder(cfg)
	if b.h < 4 || b.w < 4 {
		return nil, fmt.Errorf("finetune: preset %s: input %v is smaller than 4×4", cfg.Preset, cfg.Input.Shape)
	}
	b.conv("conv1", false, w[0], 3, 1, 1)
	b.lif("lif1")
	for s := 0; s < 3; s++ {
		if blocks[s] < 1 {
			return nil, fmt.Errorf("finetune: preset %s: stage %d has %d blocks", cfg.Preset, s+1, blocks[s])
		}
		for blk := 0; blk < blocks[s]; blk++ {
			for u := 1; u <= 2; u++ {
				stride := 1
				if s > 0 && blk == 0 && u == 1 {
					stride = 2
				}
				b.biReal(fmt.Sprintf("layer%d.%d.", s+1, blk), u, w[s], stride)
			}
		}
	}
	b.head(true)
	return b.specs, nil
}

// biReal appends one Bi-Real unit reading the current spikes.
func (b *specBuilder) biReal(prefix string, u, outC, stride int) {
	in, inC, h, w := b.cur, b.c, b.h, b.w
	short := in
	if stride != 1 || inC != outC {
		if stride != 1 {
			b.pool(model.OpAvgPool, fmt.Sprintf("%sdownsample%d.pool", prefix, u), stride)
		}
		short = b.conv(fmt.Sprintf("%sdownsample%d.conv", prefix, u), false, outC, 1, 1, 0)
		b.cur, b.c, b.h, b.w = in, inC, h, w
	}
	b.conv(fmt.Sprintf("%sconv%d", prefix, u), true, outC, 3, stride, 1)
	b.gate(fmt.Sprintf("%sagmm%d", prefix, u))
	b.add(LayerSpec{Op: model.OpAdd, Name: fmt.Sprintf("%sadd%d", prefix, u), Inputs: []int{b.cur, short}})
	b.lif(fmt.Sprintf("%slif%d", prefix, u))
}
