package finetune

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/bsnn/bsnn/model"
	"github.com/bsnn/bsnn/model/arch"
	"github.com/bsnn/bsnn/runtime"
	"github.com/bsnn/bsnn/runtime/reference"
)

// randomInput returns B samples for n's input: pixel values in [0,1], or
// 0/1 event frames.
func randomInput(n *Net, B int, seed uint64) []float32 {
	r := rand.New(rand.NewPCG(seed, 7))
	x := make([]float32, B*n.InputLen())
	for i := range x {
		if n.cfg.Input.Encoding == model.EncodingEvents {
			if r.IntN(4) == 0 {
				x[i] = 1
			}
		} else {
			x[i] = float32(r.Float64())
		}
	}
	return x
}

func randomLabels(n *Net, B int, seed uint64) []int {
	r := rand.New(rand.NewPCG(seed, 8))
	y := make([]int, B)
	for i := range y {
		y[i] = r.IntN(n.cfg.Classes)
	}
	return y
}

// smallConfigs are small versions of every preset (and input encoding), so
// the export tests run in a moment.
func smallConfigs() map[string]Config {
	out := map[string]Config{}
	c := DefaultConfig(PresetMNIST)
	c.Widths = []int{8, 16, 16}
	c.Input.Shape = model.Shape{C: 1, H: 12, W: 12}
	out["mnist"] = c
	c.LIF.Reset = model.ResetSoft
	c.AGMM.Stat = model.StatChannelSpatial
	c.Input.Encoding = model.EncodingEvents
	c.Input.Shape = model.Shape{C: 2, H: 12, W: 12}
	c.Input.Mean, c.Input.Std = nil, nil
	out["mnist-events-soft"] = c
	v := DefaultConfig(PresetVGGSmall)
	v.Widths = []int{8, 16, 16}
	v.Input.Shape = model.Shape{C: 3, H: 16, W: 16}
	out["vgg"] = v
	r := DefaultConfig(PresetResNet19)
	r.Widths = []int{8, 16, 16}
	r.Blocks = []int{1, 1, 1}
	r.Input.Shape = model.Shape{C: 3, H: 12, W: 12}
	r.AGMM.Stat = model.StatNone
	out["resnet"] = r
	return out
}

// trained returns a small network after a few training steps, so weights,
// α and the BN running statistics are not at their initial values.
func trained(t *testing.T, cfg Config, steps int) *Net {
	t.Helper()
	cfg.Threads = 2
	n, err := NewNet(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for s := 0; s < steps; s++ {
		if _, err := n.TrainStep(randomInput(n, 8, uint64(s)), randomLabels(n, 8, uint64(s))); err != nil {
			t.Fatal(err)
		}
	}
	return n
}

// checkAgainstRuntime runs the model through runtime/reference and the
// runtime Engine and requires the logits of every sample to equal want bit
// for bit.
func checkAgainstRuntime(t *testing.T, m *model.Model, x []float32, want []float32) {
	t.Helper()
	ref, err := reference.New(m)
	if err != nil {
		t.Fatal(err)
	}
	eng, err := runtime.New(m, runtime.WithThreads(2))
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	il := ref.InputLen()
	k := len(want) / (len(x) / il)
	for b := 0; b < len(x)/il; b++ {
		r, err := ref.Run(x[b*il : (b+1)*il])
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(r.Logits, want[b*k:(b+1)*k]) {
			t.Fatalf("sample %d: reference logits %v, Evaluate %v", b, r.Logits, want[b*k:(b+1)*k])
		}
		e, err := eng.Infer(x[b*il : (b+1)*il])
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(e.Logits, want[b*k:(b+1)*k]) {
			t.Fatalf("sample %d: runtime logits %v, Evaluate %v", b, e.Logits, want[b*k:(b+1)*k])
		}
	}
}

// TestExportMatchesRuntime: the exported model, run by the reference
// executor and by the runtime, gives Evaluate's logits bit for bit.
func TestExportMatchesRuntime(t *testing.T) {
	cfgs := smallConfigs()
	// Channel counts that are not a multiple of 64 pack patches across
	// word boundaries.
	wide := cfgs["mnist"]
	wide.Widths = []int{70, 72, 8}
	wide.Input.Shape = model.Shape{C: 1, H: 6, W: 6}
	cfgs["mnist-70-channels"] = wide
	for name, cfg := range cfgs {
		t.Run(name, func(t *testing.T) {
			n := trained(t, cfg, 2)
			m, err := n.Export(model.Provenance{Dataset: "random", Accuracy: -1})
			if err != nil {
				t.Fatal(err)
			}
			if len(m.Layers) != len(n.specs) {
				t.Fatalf("%d model layers for %d nodes", len(m.Layers), len(n.specs))
			}
			x := randomInput(n, 6, 99)
			ev, err := n.Evaluate(x, nil)
			if err != nil {
				t.Fatal(err)
			}
			checkAgainstRuntime(t, m, x, ev.Logits)
		})
	}
}

// TestFromModelReproducesModel: FromModel of an exported model evaluates
// to the same logits and exports to the same model.
func TestFromModelReproducesModel(t *testing.T) {
	for name, cfg := range smallConfigs() {
		t.Run(name, func(t *testing.T) {
			n := trained(t, cfg, 2)
			m, err := n.Export(model.Provenance{Accuracy: -1})
			if err != nil {
				t.Fatal(err)
			}
			fc := DefaultConfig(PresetModel)
			fc.LIF = cfg.LIF
			f, err := FromModel(m, fc)
			if err != nil {
				t.Fatal(err)
			}
			x := randomInput(n, 5, 3)
			a, _ := n.Evaluate(x, nil)
			b, err := f.Evaluate(x, nil)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(a.Logits, b.Logits) {
				t.Fatalf("FromModel logits %v, original %v", b.Logits, a.Logits)
			}
			// A smaller latent magnitude (bsnn-train -latent-scale) must
			// reproduce the model just as exactly.
			small := fc
			small.LatentScale = 1.0 / 128
			g, err := FromModel(m, small)
			if err != nil {
				t.Fatal(err)
			}
			if c, err := g.Evaluate(x, nil); err != nil || !slices.Equal(a.Logits, c.Logits) {
				t.Fatalf("FromModel with LatentScale 1/128: logits %v (%v), original %v", c.Logits, err, a.Logits)
			}
			m2, err := f.Export(m.Provenance)
			if err != nil {
				t.Fatal(err)
			}
			for i := range m.Layers {
				l, l2 := &m.Layers[i], &m2.Layers[i]
				if !slices.Equal(l.Bits, l2.Bits) || !slices.Equal(l.Weights, l2.Weights) ||
					!slices.Equal(l.Scale, l2.Scale) || !slices.Equal(l.Bias, l2.Bias) || !slices.Equal(l.Alpha, l2.Alpha) {
					t.Fatalf("layer %d (%s) changed through FromModel and Export", i, l.Name)
				}
			}
		})
	}
}

// TestFromModelArchNets fine-tunes graphs built by model/arch (an AGMM gate
// after the fp32 stem, random weights): the untuned network agrees with the
// runtime, also in a training forward with frozen BatchNorm, and one
// training step runs.
func TestFromModelArchNets(t *testing.T) {
	nets := map[string]func() (*model.Model, error){
		"mnist": func() (*model.Model, error) {
			return arch.MNIST(arch.MNISTConfig{In: model.Shape{C: 1, H: 8, W: 8}, C1: 4, C2: 8, C3: 8, T: 3})
		},
		"resnet": func() (*model.Model, error) {
			return arch.ResNet19(arch.ResNet19Config{In: model.Shape{C: 3, H: 8, W: 8}, Widths: [3]int{4, 8, 8}, Blocks: [3]int{1, 1, 1}, T: 2})
		},
	}
	for name, build := range nets {
		t.Run(name, func(t *testing.T) {
			m, err := build()
			if err != nil {
				t.Fatal(err)
			}
			arch.Randomize(m, 5)
			f, err := FromModel(m, DefaultConfig(PresetModel))
			if err != nil {
				t.Fatal(err)
			}
			x := randomInput(f, 4, 11)
			ev, err := f.Evaluate(x, nil)
			if err != nil {
				t.Fatal(err)
			}
			checkAgainstRuntime(t, m, x, ev.Logits)
			// With frozen BN a training forward computes the same logits.
			if err := f.forward(x, 4, true); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(f.logits()[:len(ev.Logits)], ev.Logits) {
				t.Fatalf("training forward with frozen BN differs from Evaluate")
			}
			if _, err := f.TrainStep(x, randomLabels(f, 4, 1)); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestEvaluateIsPerSample: evaluation mode treats samples independently,
// however a batch is split (Evaluate itself works in chunks of evalChunk).
func TestEvaluateIsPerSample(t *testing.T) {
	n := trained(t, smallConfigs()["mnist"], 1)
	const B = evalChunk + 6
	x := randomInput(n, B, 4)
	all, err := n.Evaluate(x, nil)
	if err != nil {
		t.Fatal(err)
	}
	il, k := n.InputLen(), n.Config().Classes
	for _, cut := range []int{1, 30, B - 1} {
		a, _ := n.Evaluate(x[:cut*il], nil)
		b, _ := n.Evaluate(x[cut*il:], nil)
		if !slices.Equal(append(a.Logits, b.Logits...), all.Logits) {
			t.Fatalf("logits depend on the batch split at %d", cut)
		}
	}
	if len(all.Logits) != B*k || len(all.Pred) != B {
		t.Fatalf("%d logits and %d predictions for %d samples", len(all.Logits), len(all.Pred), B)
	}
}
