package runtime

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/bsnn/bsnn/bitops"
	"github.com/bsnn/bsnn/model"
	"github.com/bsnn/bsnn/model/arch"
	"github.com/bsnn/bsnn/model/modeltest"
	"github.com/bsnn/bsnn/runtime/reference"
)

// randomInput returns n samples for m: pixel values in [0,1), or for event
// models T frames of 0/1/2 event counts.
func randomInput(m *model.Model, rng *rand.Rand, n int) [][]float32 {
	size := m.Input.Shape.Size()
	if m.Input.Encoding == model.EncodingEvents {
		size *= m.Input.Timesteps
	}
	out := make([][]float32, n)
	for i := range out {
		x := make([]float32, size)
		for j := range x {
			if m.Input.Encoding == model.EncodingEvents {
				x[j] = float32(rng.IntN(6) / 4) // mostly 0, some 1, rare 2
			} else {
				x[j] = rng.Float32()
			}
		}
		out[i] = x
	}
	return out
}

// refRun runs the oracle with every layer's output kept.
func refRun(t *testing.T, m *model.Model, seed uint64, x []float32) *reference.Result {
	t.Helper()
	ex, err := reference.New(m)
	if err != nil {
		t.Fatal(err)
	}
	ex.Seed, ex.KeepOutputs = seed, true
	r, err := ex.Run(x)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// flat joins a reference layer output over steps.
func flat(steps [][]float32) []float32 {
	var out []float32
	for _, s := range steps {
		out = append(out, s...)
	}
	return out
}

// checkLogits requires logits within 1e-5 relative error (they are in fact
// expected to match exactly).
func checkLogits(t *testing.T, what string, got, want []float32) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d logits, want %d", what, len(got), len(want))
	}
	for j := range want {
		d := math.Abs(float64(got[j]) - float64(want[j]))
		if d > 1e-5*math.Max(1e-3, math.Abs(float64(want[j]))) {
			t.Fatalf("%s: logit %d = %v, want %v", what, j, got[j], want[j])
		}
	}
}

// checkLayers requires every traced layer output to equal the reference's
// bit for bit (spikes and floats alike).
func checkLayers(t *testing.T, what string, e *Engine, sample int, ref *reference.Result) {
	t.Helper()
	var buf []float32
	m := e.Model()
	for i := range m.Layers {
		var err error
		buf, err = e.LayerOutput(i, sample, buf)
		if err != nil {
			t.Fatal(err)
		}
		want := flat(ref.Outputs[i])
		if len(buf) != len(want) {
			t.Fatalf("%s: layer %d (%v): %d values, want %d", what, i, m.Layers[i].Op, len(buf), len(want))
		}
		for j := range want {
			if math.Float32bits(buf[j]) != math.Float32bits(want[j]) && !(buf[j] == 0 && want[j] == 0) {
				t.Fatalf("%s: layer %d (%v %q) value %d of %d = %v, want %v", what, i, m.Layers[i].Op, m.Layers[i].Name, j, len(want), buf[j], want[j])
			}
		}
	}
}

type engineConfig struct {
	k       *bitops.Kernels
	threads int
	exec    Execution
}

func (c engineConfig) String() string { return fmt.Sprintf("%s/t%d/%v", c.k.Name, c.threads, c.exec) }

func configs() []engineConfig {
	var out []engineConfig
	for _, k := range bitops.Available() {
		for _, th := range []int{1, 2, 3} {
			for _, x := range []Execution{Dense, Sparse, Auto} {
				out = append(out, engineConfig{k, th, x})
			}
		}
	}
	return out
}

// checkModel runs m on fresh inputs under every configuration and compares
// with the reference: every layer exactly (traced engine), logits, and LIF
// spike counts from Stats (untraced engine, so buffer reuse is exercised).
func checkModel(t *testing.T, m *model.Model, rng *rand.Rand, cfgs []engineConfig) {
	t.Helper()
	const seed = 7
	inputs := randomInput(m, rng, 2)
	refs := make([]*reference.Result, len(inputs))
	for i, x := range inputs {
		refs[i] = refRun(t, m, seed, x)
	}
	for _, c := range cfgs {
		for _, trace := range []bool{true, false} {
			opts := []Option{WithKernels(c.k), WithThreads(c.threads), WithExecution(c.exec), WithSeed(seed)}
			if trace {
				opts = append(opts, WithTrace())
			}
			if c.exec == Auto {
				opts = append(opts, WithSparseThreshold(0.5))
			}
			e, err := New(m, opts...)
			if err != nil {
				t.Fatal(err)
			}
			for i, x := range inputs {
				what := fmt.Sprintf("%v trace=%v sample %d", c, trace, i)
				res, err := e.Infer(x)
				if err != nil {
					t.Fatal(err)
				}
				checkLogits(t, what, res.Logits, refs[i].Logits)
				if res.Class != refs[i].Class {
					t.Fatalf("%s: class %d, want %d", what, res.Class, refs[i].Class)
				}
				for li, l := range m.Layers {
					if l.Op != model.OpLIF {
						continue
					}
					var n int64
					for _, v := range flat(refs[i].Outputs[li]) {
						n += int64(v)
					}
					if got := res.Stats.Layers[li].Spikes; got != n {
						t.Fatalf("%s: layer %d spikes %d, want %d", what, li, got, n)
					}
				}
				if trace {
					checkLayers(t, what, e, 0, refs[i])
				}
			}
			e.Close()
		}
	}
}

func TestAllKinds(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	checkModel(t, modeltest.AllKinds(rng), rng, configs())
}

func TestRandomModels(t *testing.T) {
	n := 30
	if testing.Short() {
		n = 8
	}
	for i := 0; i < n; i++ {
		rng := rand.New(rand.NewPCG(uint64(i), 2))
		m := modeltest.Random(rng, modeltest.Options{})
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			cfgs := configs()
			if i%3 != 0 { // the full grid on every third model keeps the test quick
				cfgs = []engineConfig{cfgs[rng.IntN(len(cfgs))], cfgs[rng.IntN(len(cfgs))]}
			}
			checkModel(t, m, rng, cfgs)
		})
	}
}

func TestArchMNIST(t *testing.T) {
	m, err := arch.MNIST(arch.MNISTConfig{})
	if err != nil {
		t.Fatal(err)
	}
	arch.Randomize(m, 3)
	checkModel(t, m, rand.New(rand.NewPCG(3, 3)), configs())
}
