package arch

import (
	"fmt"

	"github.com/bsnn/bsnn/model"
)

// MNISTConfig sizes the MNIST net. Zero fields take the defaults in brackets.
type MNISTConfig struct {
	In         model.Shape // input [1×28×28]
	C1, C2, C3 int         // conv widths [32, 64, 64]
	Classes    int         // [10]
	T          int         // time steps [4]
	Encoding   model.Encoding
	Neuron     Neuron
}

// MNIST builds conv 3×3 C1 (fp32) → binary conv 3×3 C2 → max pool 2 →
// binary conv 3×3 C3 → max pool 2 → flatten → linear (fp32) → readout, with
// an AGMM gate and a LIF after every conv. Convs keep the map size (pad 1).
func MNIST(cfg MNISTConfig) (*model.Model, error) {
	if cfg.In == (model.Shape{}) {
		cfg.In = model.Shape{C: 1, H: 28, W: 28}
	}
	def(&cfg.C1, 32)
	def(&cfg.C2, 64)
	def(&cfg.C3, 64)
	def(&cfg.Classes, 10)
	def(&cfg.T, 4)
	if err := checkPos("width", cfg.C1, cfg.C2, cfg.C3, cfg.Classes); err != nil {
		return nil, err
	}
	T, err := timesteps(cfg.T)
	if err != nil {
		return nil, err
	}
	if cfg.In.H < 4 || cfg.In.W < 4 {
		return nil, fmt.Errorf("arch: MNIST net input %v: two 2×2 pools need at least 4×4", cfg.In)
	}
	b := newBuilder(cfg.In, T, cfg.Encoding, cfg.Neuron, "arch.MNIST")
	b.conv("conv1", model.PrecisionFloat32, cfg.In.C, cfg.C1, 3, 1, 1)
	b.agmm("agmm1")
	b.lif("lif1")
	b.conv("conv2", model.PrecisionBinary, cfg.C1, cfg.C2, 3, 1, 1)
	b.agmm("agmm2")
	b.lif("lif2")
	b.pool(model.OpMaxPool, "pool2", 2, 2)
	b.conv("conv3", model.PrecisionBinary, cfg.C2, cfg.C3, 3, 1, 1)
	b.agmm("agmm3")
	b.lif("lif3")
	b.pool(model.OpMaxPool, "pool3", 2, 2)
	b.add(model.Layer{Op: model.OpFlatten, Name: "flatten", Inputs: []int{b.cur}})
	h, w := cfg.In.H/2/2, cfg.In.W/2/2
	b.linear("fc", model.PrecisionFloat32, cfg.C3*h*w, cfg.Classes)
	return b.finish(cfg.Classes)
}

// ResNet19Config sizes the ResNet-19-like Bi-Real net. Zero fields take the
// defaults in brackets.
type ResNet19Config struct {
	In       model.Shape // input [3×32×32]
	Widths   [3]int      // stage widths [128, 256, 512]; the stem has Widths[0]
	Blocks   [3]int      // basic blocks per stage [3, 3, 2]
	Classes  int         // [10]
	T        int         // time steps [2]
	Encoding model.Encoding
	Neuron   Neuron
	// Shortcut is the precision of the downsampling shortcuts' 1×1 convs
	// [fp32]. They are most of the non-binary weights, so PrecisionInt8
	// shrinks the file by about a quarter.
	Shortcut model.Precision
}

// ResNet19 builds a ResNet-19-like Bi-Real net:
//
//	stem: conv 3×3 (fp32, BN folded) → LIF
//	3 stages of basic blocks, each block two Bi-Real units:
//	  binary conv 3×3 (BN folded) → AGMM → Add(shortcut) → LIF
//	  the shortcut is the unit's input spikes, or, where the shape changes
//	  (first unit of stages 2 and 3: stride 2, width doubles),
//	  AvgPool 2 → conv 1×1 (fp32, BN folded)
//	global average pool → linear (fp32) → readout
//
// With the default 3/3/2 blocks that is 1 + 16 + 1 weight layers (plus the
// two shortcut convs): the ResNet-19 of the SNN literature, with Bi-Real
// shortcuts around every binary conv.
func ResNet19(cfg ResNet19Config) (*model.Model, error) {
	if cfg.In == (model.Shape{}) {
		cfg.In = model.Shape{C: 3, H: 32, W: 32}
	}
	if cfg.Widths == ([3]int{}) {
		cfg.Widths = [3]int{128, 256, 512}
	}
	if cfg.Blocks == ([3]int{}) {
		cfg.Blocks = [3]int{3, 3, 2}
	}
	def(&cfg.Classes, 10)
	def(&cfg.T, 2)
	if err := checkPos("width", cfg.Widths[0], cfg.Widths[1], cfg.Widths[2], cfg.Classes); err != nil {
		return nil, err
	}
	if err := checkPos("block count", cfg.Blocks[0], cfg.Blocks[1], cfg.Blocks[2]); err != nil {
		return nil, err
	}
	if cfg.Shortcut != model.PrecisionFloat32 && cfg.Shortcut != model.PrecisionInt8 {
		return nil, fmt.Errorf("arch: ResNet19 shortcut precision %v: want fp32 or int8", cfg.Shortcut)
	}
	T, err := timesteps(cfg.T)
	if err != nil {
		return nil, err
	}
	if cfg.In.H < 4 || cfg.In.W < 4 {
		return nil, fmt.Errorf("arch: ResNet19 input %v: two stride-2 stages need at least 4×4", cfg.In)
	}
	b := newBuilder(cfg.In, T, cfg.Encoding, cfg.Neuron, "arch.ResNet19")
	b.conv("conv1", model.PrecisionFloat32, cfg.In.C, cfg.Widths[0], 3, 1, 1)
	b.lif("lif1")
	c := cfg.Widths[0]
	for s := 0; s < 3; s++ {
		for blk := 0; blk < cfg.Blocks[s]; blk++ {
			for u := 1; u <= 2; u++ {
				name := fmt.Sprintf("layer%d.%d.", s+1, blk)
				stride, outC := 1, cfg.Widths[s]
				if s > 0 && blk == 0 && u == 1 {
					stride = 2
				}
				c = b.biReal(name, u, c, outC, stride, cfg.Shortcut)
			}
		}
	}
	b.add(model.Layer{Op: model.OpGlobalAvgPool, Name: "gap", Inputs: []int{b.cur}})
	b.linear("fc", model.PrecisionFloat32, c, cfg.Classes)
	return b.finish(cfg.Classes)
}

// biReal appends one Bi-Real unit reading the current spikes (inC channels)
// and returns its width.
func (b *builder) biReal(prefix string, u, inC, outC, stride int, shortcut model.Precision) int {
	in := b.cur
	short := in
	if stride != 1 || inC != outC {
		if stride != 1 {
			b.pool(model.OpAvgPool, fmt.Sprintf("%sdownsample%d.pool", prefix, u), stride, stride)
		}
		short = b.conv(fmt.Sprintf("%sdownsample%d.conv", prefix, u), shortcut, inC, outC, 1, 1, 0)
		b.cur = in
	}
	b.conv(fmt.Sprintf("%sconv%d", prefix, u), model.PrecisionBinary, inC, outC, 3, stride, 1)
	b.agmm(fmt.Sprintf("%sagmm%d", prefix, u))
	b.add(model.Layer{Op: model.OpAdd, Name: fmt.Sprintf("%sadd%d", prefix, u), Inputs: []int{b.cur, short}})
	b.lif(fmt.Sprintf("%slif%d", prefix, u))
	return outC
}

// VGGSmallConfig sizes the VGG-small net. Zero fields take the defaults in
// brackets.
type VGGSmallConfig struct {
	In       model.Shape // input [3×32×32]
	Widths   [3]int      // widths of the three conv pairs [128, 256, 512]
	Classes  int         // [10]
	T        int         // time steps [2]
	Encoding model.Encoding
	Neuron   Neuron
}

// VGGSmall builds the VGG-small of the binary-network literature: three
// pairs of 3×3 convs (the first fp32, the rest binary), each pair followed by
// a 2×2 max pool, then flatten → linear (fp32) → readout; an AGMM gate and a
// LIF after every conv.
func VGGSmall(cfg VGGSmallConfig) (*model.Model, error) {
	if cfg.In == (model.Shape{}) {
		cfg.In = model.Shape{C: 3, H: 32, W: 32}
	}
	if cfg.Widths == ([3]int{}) {
		cfg.Widths = [3]int{128, 256, 512}
	}
	def(&cfg.Classes, 10)
	def(&cfg.T, 2)
	if err := checkPos("width", cfg.Widths[0], cfg.Widths[1], cfg.Widths[2], cfg.Classes); err != nil {
		return nil, err
	}
	T, err := timesteps(cfg.T)
	if err != nil {
		return nil, err
	}
	if cfg.In.H < 8 || cfg.In.W < 8 {
		return nil, fmt.Errorf("arch: VGGSmall input %v: three 2×2 pools need at least 8×8", cfg.In)
	}
	b := newBuilder(cfg.In, T, cfg.Encoding, cfg.Neuron, "arch.VGGSmall")
	c, h, w := cfg.In.C, cfg.In.H, cfg.In.W
	n := 0
	for s := 0; s < 3; s++ {
		for j := 0; j < 2; j++ {
			n++
			prec := model.PrecisionBinary
			if n == 1 {
				prec = model.PrecisionFloat32
			}
			b.conv(fmt.Sprintf("conv%d", n), prec, c, cfg.Widths[s], 3, 1, 1)
			b.agmm(fmt.Sprintf("agmm%d", n))
			b.lif(fmt.Sprintf("lif%d", n))
			c = cfg.Widths[s]
		}
		b.pool(model.OpMaxPool, fmt.Sprintf("pool%d", s+1), 2, 2)
		h, w = h/2, w/2
	}
	b.add(model.Layer{Op: model.OpFlatten, Name: "flatten", Inputs: []int{b.cur}})
	b.linear("fc", model.PrecisionFloat32, c*h*w, cfg.Classes)
	return b.finish(cfg.Classes)
}

func def(v *int, d int) {
	if *v == 0 {
		*v = d
	}
}
