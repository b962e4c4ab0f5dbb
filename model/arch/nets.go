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

// MNIST builds the MNIST / Fashion-MNIST net:
//
//	conv1: fp32 conv 3×3 C1 → lif1
//	conv2: binary conv 3×3 C2 → agmm2 → lif2 → pool2 (max 2)
//	conv3: binary conv 3×3 C3 → agmm3 → lif3 → pool3 (max 2)
//	flatten → fc (fp32 linear) → readout
//
// Convs keep the map size (pad 1). The pools are max pools after the LIF,
// so the binary convs read spikes (an average of spikes is not binary). The
// full-precision stem has no AGMM gate: the gate is there to modulate the
// gradient that reaches binary weights.
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
	b.lif("lif1")
	for i, c := range []int{cfg.C2, cfg.C3} {
		n := i + 2
		b.conv(fmt.Sprintf("conv%d", n), model.PrecisionBinary, b.c, c, 3, 1, 1)
		b.agmm(fmt.Sprintf("agmm%d", n))
		b.lif(fmt.Sprintf("lif%d", n))
		b.pool(model.OpMaxPool, fmt.Sprintf("pool%d", n), 2, 2, 0)
	}
	b.head(false, cfg.Classes)
	return b.finish()
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

// ResNet19 builds a ResNet-19-like Bi-Real net for 32×32 input:
//
//	stem: conv1, fp32 conv 3×3 Widths[0] → lif1
//	3 stages of basic blocks, each block two Bi-Real units u = 1, 2
//	(layer<stage>.<block>.conv<u> and so on):
//	  binary conv 3×3 → AGMM → add(shortcut) → LIF
//	  the shortcut is the unit's input spikes, or where the shape changes
//	  (first unit of stages 2 and 3: stride 2, width doubles)
//	  downsample.pool (avg 2) → downsample.conv (1×1)
//	gap (global average pool) → fc (fp32 linear) → readout
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
	return resNet(resNetConfig{
		name: "ResNet19", In: cfg.In, Widths: cfg.Widths[:], Blocks: cfg.Blocks[:], Strides: []int{1, 2, 2},
		stemK: 3, stemStride: 1, stemPad: 1,
		Classes: cfg.Classes, T: cfg.T, Encoding: cfg.Encoding, Neuron: cfg.Neuron, Shortcut: cfg.Shortcut,
	})
}

// ResNet18Config sizes the Bi-Real ResNet-18 for ImageNet-sized input.
// Zero fields take the defaults in brackets.
type ResNet18Config struct {
	In       model.Shape // input [3×224×224]
	Widths   [4]int      // stage widths [64, 128, 256, 512]; the stem has Widths[0]
	Blocks   [4]int      // basic blocks per stage [2, 2, 2, 2]
	Classes  int         // [1000]
	T        int         // time steps [2]
	Encoding model.Encoding
	Neuron   Neuron
	Shortcut model.Precision // as in ResNet19Config [fp32]
}

// ResNet18 builds the Bi-Real ResNet-18: the blocks of ResNet19 behind an
// ImageNet stem (conv1, fp32 conv 7×7 stride 2 pad 3 → lif1 → maxpool 3
// stride 2 pad 1), four stages (stride 2 at the start of stages 2-4), gap →
// fc → readout.
func ResNet18(cfg ResNet18Config) (*model.Model, error) {
	if cfg.In == (model.Shape{}) {
		cfg.In = model.Shape{C: 3, H: 224, W: 224}
	}
	if cfg.Widths == ([4]int{}) {
		cfg.Widths = [4]int{64, 128, 256, 512}
	}
	if cfg.Blocks == ([4]int{}) {
		cfg.Blocks = [4]int{2, 2, 2, 2}
	}
	def(&cfg.Classes, 1000)
	return resNet(resNetConfig{
		name: "ResNet18", In: cfg.In, Widths: cfg.Widths[:], Blocks: cfg.Blocks[:], Strides: []int{1, 2, 2, 2},
		stemK: 7, stemStride: 2, stemPad: 3, maxPool: true,
		Classes: cfg.Classes, T: cfg.T, Encoding: cfg.Encoding, Neuron: cfg.Neuron, Shortcut: cfg.Shortcut,
	})
}

// resNetConfig is the one description both ResNets are built from.
type resNetConfig struct {
	name                       string
	In                         model.Shape
	Widths, Blocks, Strides    []int
	stemK, stemStride, stemPad int
	maxPool                    bool // a 3×3/2 max pool after the stem's LIF
	Classes, T                 int
	Encoding                   model.Encoding
	Neuron                     Neuron
	Shortcut                   model.Precision
}

func resNet(cfg resNetConfig) (*model.Model, error) {
	def(&cfg.Classes, 10)
	def(&cfg.T, 2)
	if err := checkPos("width", append(cfg.Widths, cfg.Classes)...); err != nil {
		return nil, err
	}
	if err := checkPos("block count", cfg.Blocks...); err != nil {
		return nil, err
	}
	if cfg.Shortcut != model.PrecisionFloat32 && cfg.Shortcut != model.PrecisionInt8 {
		return nil, fmt.Errorf("arch: %s shortcut precision %v: want fp32 or int8", cfg.name, cfg.Shortcut)
	}
	T, err := timesteps(cfg.T)
	if err != nil {
		return nil, err
	}
	b := newBuilder(cfg.In, T, cfg.Encoding, cfg.Neuron, "arch."+cfg.name)
	b.conv("conv1", model.PrecisionFloat32, cfg.In.C, cfg.Widths[0], cfg.stemK, cfg.stemStride, cfg.stemPad)
	b.lif("lif1")
	if cfg.maxPool {
		b.pool(model.OpMaxPool, "maxpool", 3, 2, 1)
	}
	if b.h < 1<<(len(cfg.Widths)-1) || b.w < 1<<(len(cfg.Widths)-1) {
		return nil, fmt.Errorf("arch: %s input %v: %d stride-2 stages need at least %d×%d after the stem", cfg.name, cfg.In, len(cfg.Widths)-1, 1<<(len(cfg.Widths)-1), 1<<(len(cfg.Widths)-1))
	}
	for s, width := range cfg.Widths {
		for blk := 0; blk < cfg.Blocks[s]; blk++ {
			stride := 1
			if blk == 0 {
				stride = cfg.Strides[s]
			}
			b.biReal(fmt.Sprintf("layer%d.%d.", s+1, blk), width, stride, cfg.Shortcut)
		}
	}
	b.head(true, cfg.Classes)
	return b.finish()
}

// biReal appends one basic block of two Bi-Real units reading the current
// spikes. Each unit adds its own shortcut after its AGMM gate and before its
// LIF; the first unit's shortcut downsamples (avg pool when strided, then a
// 1×1 conv) when the shape changes. The layer order is the forward order of
// the PyTorch module the state_dict keys come from.
func (b *builder) biReal(prefix string, outC, stride int, shortcut model.Precision) {
	for u := 1; u <= 2; u++ {
		in, inC, h, w := b.cur, b.c, b.h, b.w
		s := 1
		if u == 1 {
			s = stride
		}
		b.conv(fmt.Sprintf("%sconv%d", prefix, u), model.PrecisionBinary, inC, outC, 3, s, 1)
		b.agmm(fmt.Sprintf("%sagmm%d", prefix, u))
		gate, oh, ow := b.cur, b.h, b.w
		short := in
		if s != 1 || inC != outC {
			b.cur, b.c, b.h, b.w = in, inC, h, w
			if s != 1 {
				b.pool(model.OpAvgPool, prefix+"downsample.pool", s, s, 0)
			}
			short = b.conv(prefix+"downsample.conv", shortcut, inC, outC, 1, 1, 0)
		}
		b.cur, b.c, b.h, b.w = gate, outC, oh, ow
		b.add(model.Layer{Op: model.OpAdd, Name: fmt.Sprintf("%sadd%d", prefix, u), Inputs: []int{gate, short}})
		b.lif(fmt.Sprintf("%slif%d", prefix, u))
	}
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
// pairs of 3×3 convs (conv1 fp32, conv2-conv6 binary), each pair followed
// by a 2×2 max pool, then flatten → fc (fp32 linear) → readout; a LIF after
// every conv, and an AGMM gate before the LIF of every binary conv.
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
	n := 0
	for s := 0; s < 3; s++ {
		for j := 0; j < 2; j++ {
			n++
			b.unit(n, cfg.Widths[s])
		}
		b.pool(model.OpMaxPool, fmt.Sprintf("pool%d", s+1), 2, 2, 0)
	}
	b.head(false, cfg.Classes)
	return b.finish()
}

// VGG11Config sizes the VGG-11 BSNN. Zero fields take the defaults in
// brackets.
type VGG11Config struct {
	In model.Shape // input [3×32×32]
	// Widths of the eight convs [64, 128, 256, 256, 512, 512, 512, 512].
	Widths   [8]int
	Classes  int // [10]
	T        int // time steps [2]
	Encoding model.Encoding
	Neuron   Neuron
}

// VGG11 builds the VGG-11 BSNN: eight 3×3 convs (conv1 fp32, conv2-conv8
// binary) with a LIF after each and an AGMM gate before the LIF of each
// binary conv, a 2×2 average pool after the LIFs of conv2, conv4 and conv6
// (pool2, pool4, pool6), then gap → fc (fp32 linear) → readout.
func VGG11(cfg VGG11Config) (*model.Model, error) {
	if cfg.In == (model.Shape{}) {
		cfg.In = model.Shape{C: 3, H: 32, W: 32}
	}
	if cfg.Widths == ([8]int{}) {
		cfg.Widths = [8]int{64, 128, 256, 256, 512, 512, 512, 512}
	}
	def(&cfg.Classes, 10)
	def(&cfg.T, 2)
	if err := checkPos("width", append(cfg.Widths[:], cfg.Classes)...); err != nil {
		return nil, err
	}
	T, err := timesteps(cfg.T)
	if err != nil {
		return nil, err
	}
	if cfg.In.H < 8 || cfg.In.W < 8 {
		return nil, fmt.Errorf("arch: VGG11 input %v: three 2×2 pools need at least 8×8", cfg.In)
	}
	b := newBuilder(cfg.In, T, cfg.Encoding, cfg.Neuron, "arch.VGG11")
	for i, c := range cfg.Widths {
		n := i + 1
		b.unit(n, c)
		if n == 2 || n == 4 || n == 6 {
			b.pool(model.OpAvgPool, fmt.Sprintf("pool%d", n), 2, 2, 0)
		}
	}
	b.head(true, cfg.Classes)
	return b.finish()
}

// unit appends conv<n> (3×3, pad 1; fp32 for n = 1, else binary), the AGMM
// gate agmm<n> of a binary conv, and lif<n>: the plain units the VGG nets
// are made of.
func (b *builder) unit(n, outC int) {
	prec := model.PrecisionBinary
	if n == 1 {
		prec = model.PrecisionFloat32
	}
	b.conv(fmt.Sprintf("conv%d", n), prec, b.c, outC, 3, 1, 1)
	if prec == model.PrecisionBinary {
		b.agmm(fmt.Sprintf("agmm%d", n))
	}
	b.lif(fmt.Sprintf("lif%d", n))
}

func def(v *int, d int) {
	if *v == 0 {
		*v = d
	}
}
