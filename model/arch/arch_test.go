package arch

import (
	"reflect"
	"strings"
	"testing"

	"github.com/bsnn/bsnn/model"
)

// count tallies a model's layers by op, and binary convs separately.
func count(m *model.Model) (ops map[model.Op]int, binary int) {
	ops = map[model.Op]int{}
	for _, l := range m.Layers {
		ops[l.Op]++
		if l.Op == model.OpConv2D && l.Precision == model.PrecisionBinary {
			binary++
		}
	}
	return ops, binary
}

func TestResNet19Default(t *testing.T) {
	m, err := ResNet19(ResNet19Config{})
	if err != nil {
		t.Fatal(err)
	}
	shapes, err := m.Shapes()
	if err != nil {
		t.Fatal(err)
	}
	ops, binary := count(m)
	// 8 basic blocks × 2 Bi-Real units; stages 2 and 3 open with a
	// downsampling shortcut (avg pool + fp32 1×1 conv).
	if binary != 16 || ops[model.OpConv2D] != 16+1+2 || ops[model.OpAvgPool] != 2 || ops[model.OpLIF] != 17 || ops[model.OpAGMM] != 16 || ops[model.OpAdd] != 16 {
		t.Errorf("op counts %v, %d binary convs", ops, binary)
	}
	if m.Timesteps() != 2 || m.Input.Shape != (model.Shape{C: 3, H: 32, W: 32}) {
		t.Errorf("input %+v", m.Input)
	}
	if got := shapes[len(shapes)-1]; got != (model.Shape{C: 10, H: 1, W: 1}) {
		t.Errorf("logits shape %v", got)
	}
	// The last stage runs 512 channels at 8×8.
	l := Find(m, "layer3.1.conv2")
	if l == nil || l.InC != 512 || l.OutC != 512 || l.Stride != 1 {
		t.Fatalf("layer3.1.conv2 = %+v", l)
	}
	for i := range m.Layers {
		if m.Layers[i].Name == "layer3.1.conv2" && shapes[i] != (model.Shape{C: 512, H: 8, W: 8}) {
			t.Errorf("layer3.1.conv2 output %v, want 512×8×8", shapes[i])
		}
	}
	if d := Find(m, "layer2.0.downsample.conv"); d == nil || d.KH != 1 || d.InC != 128 || d.OutC != 256 || d.Precision != model.PrecisionFloat32 {
		t.Errorf("layer2.0.downsample.conv = %+v", d)
	}
	// Identity shortcuts: the first unit of stage 1 adds its input spikes.
	for i, l := range m.Layers {
		if l.Name == "layer1.0.add1" {
			if src := m.Layers[l.Inputs[1]]; src.Op != model.OpLIF || src.Name != "lif1" {
				t.Errorf("layer %d: identity shortcut reads %q", i, src.Name)
			}
		}
	}
}

func TestMNISTAndVGG(t *testing.T) {
	m, err := MNIST(MNISTConfig{})
	if err != nil {
		t.Fatal(err)
	}
	ops, binary := count(m)
	if binary != 2 || ops[model.OpConv2D] != 3 || ops[model.OpAGMM] != 2 || ops[model.OpLIF] != 3 || ops[model.OpMaxPool] != 2 {
		t.Errorf("MNIST op counts %v", ops)
	}
	if fc := Find(m, "fc"); fc == nil || fc.InC != 64*7*7 || fc.OutC != 10 {
		t.Errorf("MNIST fc = %+v", fc)
	}
	v, err := VGGSmall(VGGSmallConfig{Neuron: Neuron{NoAGMM: true, Reset: model.ResetSoft, Vth: 0.5}})
	if err != nil {
		t.Fatal(err)
	}
	ops, binary = count(v)
	if binary != 5 || ops[model.OpAGMM] != 0 || ops[model.OpLIF] != 6 {
		t.Errorf("VGG op counts %v", ops)
	}
	if fc := Find(v, "fc"); fc == nil || fc.InC != 512*4*4 {
		t.Errorf("VGG fc = %+v", fc)
	}
	if l := Find(v, "lif3"); l.Reset != model.ResetSoft || l.Vth != 0.5 || l.Lambda != 0.5 {
		t.Errorf("VGG lif3 = %+v", l)
	}
}

func TestNeutralAndRandom(t *testing.T) {
	m, err := ResNet19(ResNet19Config{Widths: [3]int{8, 16, 70}, Blocks: [3]int{1, 1, 1}})
	if err != nil {
		t.Fatal(err)
	}
	// Neutral: all +1 weights with zero pad bits.
	l := Find(m, "layer3.0.conv1") // 16 → 70 channels
	if l.Bits[0] != 1<<16-1 {
		t.Errorf("neutral bits %x, want 16 ones", l.Bits[0])
	}
	l = Find(m, "layer3.0.conv2") // 70 → 70: two words per tap
	if l.Bits[0] != ^uint64(0) || l.Bits[1] != 1<<6-1 {
		t.Errorf("neutral bits %x %x", l.Bits[0], l.Bits[1])
	}
	a, _ := ResNet19(ResNet19Config{Widths: [3]int{8, 16, 70}, Blocks: [3]int{1, 1, 1}})
	b, _ := ResNet19(ResNet19Config{Widths: [3]int{8, 16, 70}, Blocks: [3]int{1, 1, 1}})
	Randomize(a, 1)
	Randomize(b, 1)
	if !reflect.DeepEqual(a, b) {
		t.Error("Randomize is not deterministic")
	}
	Randomize(b, 2)
	if reflect.DeepEqual(a, b) {
		t.Error("Randomize ignores the seed")
	}
	if err := a.Check(); err != nil {
		t.Fatal(err)
	}
	for _, l := range a.Layers {
		if l.Op != model.OpConv2D || l.Precision != model.PrecisionBinary {
			continue
		}
		pw := (l.InC + 63) / 64
		for i, w := range l.Bits {
			if i%pw == pw-1 && l.InC%64 != 0 && w>>uint(l.InC%64) != 0 {
				t.Fatalf("%s: pad bits set in word %d: %x", l.Name, i, w)
			}
		}
	}
}

func TestConfigErrors(t *testing.T) {
	cases := []struct {
		build func() (*model.Model, error)
		want  string
	}{
		{func() (*model.Model, error) { return MNIST(MNISTConfig{C2: -1}) }, "width -1"},
		{func() (*model.Model, error) { return MNIST(MNISTConfig{In: model.Shape{C: 1, H: 3, W: 3}}) }, "4×4"},
		{func() (*model.Model, error) { return ResNet19(ResNet19Config{T: 5000}) }, "T = 5000"},
		{func() (*model.Model, error) { return ResNet19(ResNet19Config{Blocks: [3]int{1, 0, 1}}) }, "block count 0"},
		{func() (*model.Model, error) { return VGGSmall(VGGSmallConfig{In: model.Shape{C: 3, H: 4, W: 4}}) }, "8×8"},
	}
	for _, c := range cases {
		_, err := c.build()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("error %v, want one mentioning %q", err, c.want)
		}
	}
}

func TestResNet19Int8Shortcut(t *testing.T) {
	m, err := ResNet19(ResNet19Config{Widths: [3]int{8, 16, 32}, Blocks: [3]int{1, 1, 1}, Shortcut: model.PrecisionInt8})
	if err != nil {
		t.Fatal(err)
	}
	Randomize(m, 3)
	if err := m.Check(); err != nil {
		t.Fatal(err)
	}
	n := 0
	for i := range m.Layers {
		l := &m.Layers[i]
		if l.Precision == model.PrecisionInt8 {
			n++
			if l.KH != 1 || len(l.WeightsI8) != l.OutC*l.InC || len(l.Weights) != 0 {
				t.Errorf("layer %s: int8 shortcut has %d int8 and %d fp32 weights", l.Name, len(l.WeightsI8), len(l.Weights))
			}
		}
	}
	if n != 2 {
		t.Errorf("%d int8 layers, want the 2 downsampling shortcuts", n)
	}
	if _, err := ResNet19(ResNet19Config{Shortcut: model.PrecisionBinary}); err == nil {
		t.Error("binary shortcut precision accepted")
	}
}
