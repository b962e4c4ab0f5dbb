package model_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/bsnn/bsnn/model"
)

var update = flag.Bool("update", false, "write missing golden files under testdata/v1 (existing ones are never rewritten)")

// Golden files are format-v1 files as written when v1 was current. They are
// never regenerated: newer readers must keep loading them. Their models are
// spelled out here (not taken from modeltest) so that they cannot drift.
var goldens = []struct {
	file  string
	build func() *model.Model
}{
	{"minimal.bsnn", goldenMinimal},
	{"every-op.bsnn", goldenEveryOp},
}

func TestGolden(t *testing.T) {
	for _, g := range goldens {
		t.Run(g.file, func(t *testing.T) {
			want := g.build()
			if err := want.Check(); err != nil {
				t.Fatalf("golden model is invalid: %v", err)
			}
			path := filepath.Join("testdata", "v1", g.file)
			if _, err := os.Stat(path); os.IsNotExist(err) && *update {
				if err := model.Save(path, want); err != nil {
					t.Fatal(err)
				}
				t.Logf("wrote %s", path)
			}
			got, err := model.Load(path)
			if err != nil {
				t.Fatal(err)
			}
			checkSame(t, got, want)
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(data, mustEncode(t, want)) {
				// Not an error: the writer may lay a file out differently
				// and stay v1. The old file must still load, checked above.
				t.Logf("%s: the current writer lays this model out differently", g.file)
			}
		})
	}
}

// goldenRand is splitmix64: a generator fixed here forever.
type goldenRand uint64

func (r *goldenRand) next() uint64 {
	*r += 0x9e3779b97f4a7c15
	z := uint64(*r)
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

// f returns a float32 in [lo, hi) with 24 random bits.
func (r *goldenRand) f(lo, hi float32) float32 {
	return lo + (hi-lo)*float32(r.next()>>40)/(1<<24)
}

func (r *goldenRand) floats(n int, lo, hi float32) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = r.f(lo, hi)
	}
	return out
}

func (r *goldenRand) int8s(n int) []int8 {
	out := make([]int8, n)
	for i := range out {
		out[i] = int8(r.next()%255) - 127
	}
	return out
}

// bits returns out rows of taps×⌈inC/64⌉ words with zero pad bits.
func (r *goldenRand) bits(out, taps, inC int) []uint64 {
	pw := (inC + 63) / 64
	w := make([]uint64, out*taps*pw)
	for i := range w {
		w[i] = r.next()
		if rem := inC % 64; rem != 0 && i%pw == pw-1 {
			w[i] &= 1<<uint(rem) - 1
		}
	}
	return w
}

func goldenMinimal() *model.Model {
	r := goldenRand(1)
	return &model.Model{
		Input: model.InputSpec{Shape: model.Shape{C: 1, H: 4, W: 4}, Timesteps: 1},
		Layers: []model.Layer{
			{Op: model.OpConv2D, Inputs: []int{-1}, Precision: model.PrecisionFloat32, InC: 1, OutC: 2, KH: 3, KW: 3, Stride: 1,
				Weights: r.floats(18, -1, 1), Scale: r.floats(2, 0.5, 1.5), Bias: r.floats(2, -0.5, 0.5)},
			{Op: model.OpFlatten, Inputs: []int{0}},
			{Op: model.OpLinear, Inputs: []int{1}, Precision: model.PrecisionFloat32, InC: 8, OutC: 2, KH: 1, KW: 1, Stride: 1,
				Weights: r.floats(16, -1, 1), Scale: []float32{1, 1}, Bias: []float32{0, 0.25}},
			{Op: model.OpReadout, Inputs: []int{2}},
		},
	}
}

func goldenEveryOp() *model.Model {
	r := goldenRand(2)
	const T = 2
	conv := func(p model.Precision, inC, outC, k, stride, pad int, src int) model.Layer {
		l := model.Layer{Op: model.OpConv2D, Inputs: []int{src}, Precision: p, InC: inC, OutC: outC, KH: k, KW: k, Stride: stride, Pad: pad,
			Scale: r.floats(outC, 0.1, 1), Bias: r.floats(outC, -0.2, 0.6)}
		switch p {
		case model.PrecisionBinary:
			l.Bits = r.bits(outC, k*k, inC)
		case model.PrecisionInt8:
			l.WeightsI8 = r.int8s(outC * inC * k * k)
		default:
			l.Weights = r.floats(outC*inC*k*k, -1, 1)
		}
		return l
	}
	linear := func(p model.Precision, in, out, src int) model.Layer {
		l := conv(p, in, out, 1, 1, 0, src)
		l.Op = model.OpLinear
		return l
	}
	lif := func(src int, reset model.Reset, lambda, vth float32) model.Layer {
		return model.Layer{Op: model.OpLIF, Inputs: []int{src}, Reset: reset, Lambda: lambda, Vth: vth}
	}
	agmm := func(src int, s model.Stat) model.Layer {
		return model.Layer{Op: model.OpAGMM, Inputs: []int{src}, Stat: s, Alpha: r.floats(T, 0.5, 1.5)}
	}
	layers := []model.Layer{
		0:  conv(model.PrecisionInt8, 2, 4, 3, 1, 1, -1),
		1:  {Op: model.OpAffine, Inputs: []int{0}, Scale: r.floats(4, 0.5, 1.5), Bias: r.floats(4, -0.1, 0.3)},
		2:  lif(1, model.ResetHard, 0.5, 1),
		3:  conv(model.PrecisionBinary, 4, 4, 3, 1, 1, 2),
		4:  agmm(3, model.StatSpatial),
		5:  {Op: model.OpAdd, Inputs: []int{4, 2}},
		6:  lif(5, model.ResetSoft, 0.25, 0.75),
		7:  {Op: model.OpMaxPool, Inputs: []int{6}, Kernel: 2, Stride: 2}, // 4×3×3
		8:  conv(model.PrecisionBinary, 4, 65, 3, 2, 1, 7),                // 65×2×2
		9:  agmm(8, model.StatChannelSpatial),
		10: {Op: model.OpAvgPool, Inputs: []int{7}, Kernel: 2, Stride: 2, Pad: 1}, // 4×2×2
		11: conv(model.PrecisionFloat32, 4, 65, 1, 1, 0, 10),                      // 65×2×2
		12: {Op: model.OpAdd, Inputs: []int{9, 11}},
		13: lif(12, model.ResetHard, 0.5, 1),
		14: {Op: model.OpAvgPool, Inputs: []int{13}, Kernel: 3, Stride: 1, Pad: 1},
		15: agmm(14, model.StatNone),
		16: lif(15, model.ResetSoft, 0.9, 0.5),
		17: {Op: model.OpFlatten, Inputs: []int{16}}, // 260
		18: linear(model.PrecisionBinary, 260, 8, 17),
		19: lif(18, model.ResetHard, 0.5, 1),
		20: linear(model.PrecisionInt8, 8, 3, 19),
		21: {Op: model.OpGlobalAvgPool, Inputs: []int{16}}, // 65
		22: linear(model.PrecisionFloat32, 65, 3, 21),
		23: {Op: model.OpAdd, Inputs: []int{20, 22}},
		24: {Op: model.OpReadout, Inputs: []int{23}, Name: "logits"},
	}
	for i := range layers {
		if layers[i].Name == "" {
			layers[i].Name = layers[i].Op.String()
		}
	}
	return &model.Model{
		Input: model.InputSpec{Shape: model.Shape{C: 2, H: 6, W: 6}, Mean: []float32{0.5, 0.25}, Std: []float32{0.5, 2},
			Encoding: model.EncodingRate, Timesteps: T},
		Layers: layers,
		Labels: []string{"cat", "dog", "ünïcödé"},
		Provenance: model.Provenance{Source: "golden_test.go", Dataset: "none", Accuracy: -1, AGMM: "stat=mixed",
			ToolVersion: "bsnn v1 golden", Extra: []model.KV{{Key: "seed", Value: "2"}, {Key: "", Value: "empty key"}}},
	}
}
