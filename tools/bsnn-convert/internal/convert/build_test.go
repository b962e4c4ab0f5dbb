package convert

import (
	"errors"
	"math"
	"math/big"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/bsnn/bsnn/model"
	"github.com/bsnn/bsnn/tools/internal/torchload"
)

func TestExactMeanAbs(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	cases := [][]float32{
		{1, -2, 3},
		{0, 0},
		{math.SmallestNonzeroFloat32, -math.SmallestNonzeroFloat32, math.MaxFloat32},
		{1e-30, 1, 1e30, -1},
	}
	for i := 0; i < 20; i++ {
		v := make([]float32, 1+r.IntN(5000))
		for j := range v {
			v[j] = float32(r.NormFloat64() * math.Pow(2, float64(r.IntN(60)-40)))
		}
		cases = append(cases, v)
	}
	for i, v := range cases {
		// The exact sum with a huge big.Float precision, rounded once.
		acc := new(big.Float).SetPrec(2000)
		for _, x := range v {
			acc.Add(acc, big.NewFloat(math.Abs(float64(x))))
		}
		s, _ := acc.Float64()
		want := s / float64(len(v))
		if got := exactMeanAbs(v); got != want {
			t.Errorf("case %d: exactMeanAbs = %v, want %v", i, got, want)
		}
	}
}

func TestQuantizeRow(t *testing.T) {
	w := []float32{50.4, -127, 0.5, 1.5, 127, 2.5, -0.5, 0}
	q := make([]int8, len(w))
	if step := quantizeRow(q, w); step != 1 {
		t.Fatalf("step %v, want 1", step)
	}
	// Halves round to even.
	if want := []int8{50, -127, 0, 2, 127, 2, 0, 0}; !reflect.DeepEqual(q, want) {
		t.Fatalf("q = %v, want %v", q, want)
	}
	if step := quantizeRow(q[:3], []float32{-2.54, 0.01, 0.03}); step != float64(float32(2.54))/127 || q[0] != -127 || q[1] != 0 || q[2] != 1 {
		t.Fatalf("step %v q %v", step, q[:3])
	}
	if s := quantizeRow(q[:2], []float32{0, 0}); s != 1 || q[0] != 0 {
		t.Fatalf("all-zero row: step %v q %v", s, q[:2])
	}
}

func openFixtureSD(t *testing.T, name string) *torchload.StateDict {
	t.Helper()
	ck, err := torchload.Open(filepath.Join(fixtureDir, name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ck.Close() })
	sd, err := ck.StateDict()
	if err != nil {
		t.Fatal(err)
	}
	return sd
}

func presetSpec(t *testing.T, name string, o PresetOptions) *Spec {
	t.Helper()
	s, err := Presets[name].Spec(o)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestKeyErrors: every missing, mis-shaped and unused key is listed at once,
// with names and shapes.
func TestKeyErrors(t *testing.T) {
	sd := openFixtureSD(t, "mnist.pth")

	// Half width: every conv and BN tensor is mis-shaped, nothing missing.
	_, _, err := Build(presetSpec(t, "mnist", PresetOptions{Width: 0.5}), sd, Options{})
	var ke *KeyError
	if !errors.As(err, &ke) {
		t.Fatalf("err = %v, want a KeyError", err)
	}
	if len(ke.Missing) != 0 || len(ke.Unused) != 0 || len(ke.Misshaped) != 16 {
		t.Fatalf("missing %d, mis-shaped %d, unused %d; want 0, 16, 0:\n%v", len(ke.Missing), len(ke.Misshaped), len(ke.Unused), err)
	}
	for _, want := range []string{"conv2.weight is [64, 32, 3, 3], want [32, 16, 3, 3]", "fc.weight is [10, 3136], want [10, 1568]", "bn1.running_var is [32], want [16]"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}

	// The wrong preset: its keys are missing, the checkpoint's unused.
	_, _, err = Build(presetSpec(t, "resnet19", PresetOptions{Width: 0.125}), sd, Options{})
	if !errors.As(err, &ke) || len(ke.Missing) == 0 || len(ke.Unused) == 0 {
		t.Fatalf("err = %v, want missing and unused keys", err)
	}
	for _, want := range []string{"missing   layer3.1.conv2.weight (want [64, 64, 3, 3])", "unused    agmm3.alpha [4]", "shape     fc.weight is [10, 3136], want [10, 64]"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}

	// An extra tensor is an error unless AllowUnused.
	sd.Tensors["extra.weight"] = sd.Tensors["fc.bias"]
	sd.Keys = append(sd.Keys, "extra.weight")
	_, _, err = Build(presetSpec(t, "mnist", PresetOptions{Width: 1}), sd, Options{})
	if !errors.As(err, &ke) || len(ke.Unused) != 1 || ke.Unused[0] != "extra.weight [10]" || !strings.Contains(err.Error(), "-allow-unused") {
		t.Fatalf("err = %v, want one unused key", err)
	}
	m, rep, err := Build(presetSpec(t, "mnist", PresetOptions{Width: 1}), sd, Options{AllowUnused: true})
	if err != nil || len(rep.Unused) != 1 || m.Check() != nil {
		t.Fatalf("AllowUnused: %v, unused %v", err, rep)
	}

	// T must match AGMM α's length.
	s := presetSpec(t, "mnist", PresetOptions{Width: 1})
	s.Timesteps = 8
	_, _, err = Build(s, sd, Options{AllowUnused: true})
	if err == nil || !strings.Contains(err.Error(), "agmm2.alpha is [4], want [8]") {
		t.Fatalf("err = %v, want an alpha shape error", err)
	}
}

// TestKeyErrorsSpec: a lone batchnorm layer whose tensors are missing.
func TestKeyErrorsSpec(t *testing.T) {
	sd := openFixtureSD(t, "custom.pth")
	delete(sd.Tensors, "bnx.weight")
	delete(sd.Tensors, "fc2.bias")
	s, err := ReadSpec(filepath.Join(fixtureDir, "custom.spec.json"))
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = Build(s, sd, Options{AllowUnused: true})
	var ke *KeyError
	if !errors.As(err, &ke) || !reflect.DeepEqual(ke.Missing, []string{"bnx.weight (want [C])", "fc2.bias (want [10])"}) {
		t.Fatalf("err = %v", err)
	}
}

// TestFolding checks one binary and one FP layer's folded terms against the
// formulas, in float64 from the checkpoint's tensors.
func TestFolding(t *testing.T) {
	sd := openFixtureSD(t, "mnist.pth")
	m, _, err := Build(presetSpec(t, "mnist", PresetOptions{Width: 1}), sd, Options{})
	if err != nil {
		t.Fatal(err)
	}
	cache := map[string][]float64{}
	get := func(k string) []float64 {
		if v, ok := cache[k]; ok {
			return v
		}
		v, err := sd.Tensors[k].Float64()
		if err != nil {
			t.Fatal(err)
		}
		cache[k] = v
		return v
	}
	bnScale := func(p string, o int) (float64, float64) {
		g, b, mu, v := get(p + ".weight")[o], get(p + ".bias")[o], get(p + ".running_mean")[o], get(p + ".running_var")[o]
		s := g / math.Sqrt(v+1e-5)
		return s, b - float64(mu*s)
	}
	conv2 := m.Layers[2]
	w := get("conv2.weight")
	n := 32 * 9
	for o := 0; o < conv2.OutC; o++ {
		a := 0.0
		for _, x := range w[o*n : (o+1)*n] {
			a += math.Abs(x)
		}
		a /= float64(n)
		s, sh := bnScale("bn2", o)
		if d := math.Abs(float64(conv2.Scale[o]) - a*s); d > 1e-6*math.Abs(a*s) {
			t.Errorf("conv2 scale[%d] = %v, want %v", o, conv2.Scale[o], a*s)
		}
		if conv2.Bias[o] != float32(sh) {
			t.Errorf("conv2 bias[%d] = %v, want %v", o, conv2.Bias[o], float32(sh))
		}
		// sign(0) = +1 and the packing: bit (tap, channel) of row o.
		for c := 0; c < 32; c++ {
			for k := 0; k < 9; k++ {
				bit := conv2.Bits[o*conv2.RowWords()+k]>>uint(c)&1 == 1
				if bit != (w[(o*32+c)*9+k] >= 0) {
					t.Fatalf("conv2 sign bit o=%d c=%d tap=%d wrong", o, c, k)
				}
			}
		}
	}
	conv1 := m.Layers[0]
	for o := 0; o < conv1.OutC; o++ {
		s, sh := bnScale("bn1", o)
		if conv1.Scale[o] != float32(s) || conv1.Bias[o] != float32(sh) {
			t.Errorf("conv1 affine[%d] = %v, %v; want %v, %v", o, conv1.Scale[o], conv1.Bias[o], float32(s), float32(sh))
		}
	}
	fc := m.Layers[11]
	if fc.Op != model.OpLinear || fc.Scale[3] != 1 || fc.Bias[3] != float32(get("fc.bias")[3]) {
		t.Errorf("fc affine %v %v", fc.Scale[3], fc.Bias[3])
	}
}

// TestSpecFile: the example spec in testdata converts to the same model as
// the preset.
func TestSpecFile(t *testing.T) {
	sd := openFixtureSD(t, "mnist.pth")
	want, _, err := Build(presetSpec(t, "mnist", PresetOptions{Width: 1}), sd, Options{})
	if err != nil {
		t.Fatal(err)
	}
	s, err := ReadSpec(filepath.Join(fixtureDir, "mnist.spec.json"))
	if err != nil {
		t.Fatal(err)
	}
	got, _, err := Build(s, sd, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatal("the spec file and the preset give different models")
	}
}

func TestSpecErrors(t *testing.T) {
	for _, tc := range []struct{ json, want string }{
		{`{"input": {"shape": [1, 2, 2]}, "layers": [{"name": "a", "op": "conv", "precison": "fp"}]}`, `unknown field "precison"`},
		{`{"input": {"shape": [1, 2]}, "layers": [{"name": "r", "op": "readout"}]}`, "input.shape has 2 entries"},
		{`{"input": {"shape": [1, 2, 2]}, "layers": [{"name": "a", "op": "relu"}, {"name": "r", "op": "readout"}]}`, `unknown op "relu"`},
		{`{"input": {"shape": [1, 2, 2]}, "layers": [{"name": "a", "op": "lif"}]}`, "last layer must be a readout"},
		{`{"input": {"shape": [1, 2, 2]}, "layers": [{"name": "a", "op": "add", "inputs": ["input", "b"]}, {"name": "r", "op": "readout"}]}`, `input "b" is not an earlier layer`},
		{`{"input": {"shape": [1, 2, 2]}, "layers": [{"name": "a", "op": "agmm"}, {"name": "r", "op": "readout"}]}`, "exactly one of alpha"},
		{`{"input": {"shape": [1, 2, 2]}, "layers": [{"name": "a", "op": "conv", "precision": "bin", "in": 1, "out": 1, "kernel": 1, "weight": "w"}, {"name": "a", "op": "readout"}]}`, `precision "bin"`},
	} {
		s, err := ParseSpec([]byte(tc.json))
		if err == nil {
			s.Normalize()
			err = s.Validate()
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s:\n err = %v, want %q", tc.json, err, tc.want)
		}
	}
}

// TestPresetShapes: every preset at full width builds a valid graph whose
// output is classes logits (no checkpoint needed: shapes only).
func TestPresetShapes(t *testing.T) {
	for _, name := range PresetNames() {
		p := Presets[name]
		s := presetSpec(t, name, PresetOptions{Width: 1})
		s.Normalize()
		if err := s.Validate(); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		h, w := p.Input[1], p.Input[2]
		c := p.Input[0]
		shape := map[string][3]int{"input": {c, h, w}}
		for _, l := range s.Layers {
			x := shape[l.Inputs[0]]
			switch l.Op {
			case "conv":
				if x[0] != l.In {
					t.Fatalf("%s %s: in %d, input has %d channels", name, l.Name, l.In, x[0])
				}
				x = [3]int{l.Out, (x[1]+2*l.Pad-l.Kernel)/l.Stride + 1, (x[2]+2*l.Pad-l.Kernel)/l.Stride + 1}
			case "avgpool", "maxpool":
				x = [3]int{x[0], (x[1]+2*l.Pad-l.Kernel)/l.Stride + 1, (x[2]+2*l.Pad-l.Kernel)/l.Stride + 1}
			case "gap":
				x = [3]int{x[0], 1, 1}
			case "flatten":
				x = [3]int{x[0] * x[1] * x[2], 1, 1}
			case "linear":
				if x[0] != l.In {
					t.Fatalf("%s %s: in %d, input has %d features", name, l.Name, l.In, x[0])
				}
				x = [3]int{l.Out, 1, 1}
			case "add":
				if y := shape[l.Inputs[1]]; y != x {
					t.Fatalf("%s %s: adds %v and %v", name, l.Name, x, y)
				}
			}
			shape[l.Name] = x
		}
		if got := shape["readout"]; got != [3]int{p.Classes, 1, 1} {
			t.Errorf("%s: readout %v", name, got)
		}
	}
}

// TestInferT: without -T or a spec value, T is the AGMM α length.
func TestInferT(t *testing.T) {
	sd := openFixtureSD(t, "custom.pth")
	s, err := ReadSpec(filepath.Join(fixtureDir, "custom.spec.json"))
	if err != nil {
		t.Fatal(err)
	}
	s.Timesteps = 0
	m, _, err := Build(s, sd, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if m.Input.Timesteps != 3 {
		t.Fatalf("T = %d, want 3 from agmm2.alpha", m.Input.Timesteps)
	}
}
