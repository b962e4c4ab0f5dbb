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
		if e.fused[i] {
			continue
		}
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

// small reports a -short or -race run, where the reference (slow under the
// race detector) gets smaller nets and fewer configurations.
func small() bool { return testing.Short() || raceEnabled }

// configs returns every kernel set × threads {1,2,3} × {Dense, Sparse,
// Auto}; in -short and -race runs only a covering subset: every kernel set
// with each mode once and each thread count once.
func configs() []engineConfig {
	var out []engineConfig
	for _, k := range bitops.Available() {
		if small() {
			out = append(out, engineConfig{k, 1, Dense}, engineConfig{k, 2, Sparse}, engineConfig{k, 3, Auto})
			continue
		}
		for _, th := range []int{1, 2, 3} {
			for _, x := range []Execution{Dense, Sparse, Auto} {
				out = append(out, engineConfig{k, th, x})
			}
		}
	}
	return out
}

// checkModel runs m on fresh inputs under every configuration and compares
// with the reference: every layer exactly (traced engine), logits and LIF
// spike counts from Stats. Auto configurations also run traced with the
// AGMM/Add → LIF fusion on (every LIF checked), and untraced, so that buffer
// reuse is exercised.
func checkModel(t *testing.T, m *model.Model, rng *rand.Rand, cfgs []engineConfig) {
	t.Helper()
	const seed = 7
	n := 2
	if small() {
		n = 1
	}
	inputs := randomInput(m, rng, n)
	refs := make([]*reference.Result, len(inputs))
	for i, x := range inputs {
		refs[i] = refRun(t, m, seed, x)
	}
	for _, c := range cfgs {
		for _, mode := range []string{"trace", "fused", "untraced"} {
			if mode != "trace" && c.exec != Auto {
				continue
			}
			trace := mode != "untraced"
			opts := []Option{WithKernels(c.k), WithThreads(c.threads), WithExecution(c.exec), WithSeed(seed)}
			if trace {
				opts = append(opts, WithTrace())
			}
			if mode == "fused" {
				opts = append(opts, func(c *config) { c.traceFused = true })
			}
			if c.exec == Auto {
				opts = append(opts, WithSparseThreshold(0.5))
			}
			e, err := New(m, opts...)
			if err != nil {
				t.Fatal(err)
			}
			for i, x := range inputs {
				what := fmt.Sprintf("%v %s sample %d", c, mode, i)
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
	if small() {
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
	cfg := arch.MNISTConfig{}
	if small() {
		cfg = arch.MNISTConfig{In: model.Shape{C: 1, H: 16, W: 16}, C1: 8, C2: 70, C3: 16}
	}
	m, err := arch.MNIST(cfg)
	if err != nil {
		t.Fatal(err)
	}
	arch.Randomize(m, 3)
	checkModel(t, m, rand.New(rand.NewPCG(3, 3)), configs())
}

func TestResNet19Small(t *testing.T) {
	// Widths 24/48/80: the last stage packs 80 channels into two words.
	cfg := arch.ResNet19Config{Widths: [3]int{24, 48, 80}, Blocks: [3]int{1, 1, 1}}
	if small() {
		cfg.In = model.Shape{C: 3, H: 12, W: 12}
	}
	m, err := arch.ResNet19(cfg)
	if err != nil {
		t.Fatal(err)
	}
	arch.Randomize(m, 4)
	checkModel(t, m, rand.New(rand.NewPCG(4, 4)), configs())

	// Every unit's AGMM and Add run inside its LIF.
	e, err := New(m)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	n := 0
	for i, f := range e.fused {
		if f {
			n++
			if op := m.Layers[i].Op; op != model.OpAGMM && op != model.OpAdd {
				t.Errorf("layer %d (%v) fused", i, op)
			}
		}
	}
	if want := 2 * 6; n != want { // 6 Bi-Real units, each an AGMM and an Add
		t.Errorf("%d layers fused, want %d", n, want)
	}
}

func TestModeltestNets(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	best := []engineConfig{{bitops.Best(), 2, Auto}, {bitops.Generic, 3, Sparse}}
	checkModel(t, modeltest.ResNet19(rng, 8, 2), rng, best)
	if !small() {
		checkModel(t, modeltest.MNIST(rng), rng, best)
	}
}

func TestVGGSmall(t *testing.T) {
	cfg := arch.VGGSmallConfig{Widths: [3]int{16, 32, 70}, T: 3, Encoding: model.EncodingRate}
	if small() {
		cfg.In = model.Shape{C: 3, H: 16, W: 16}
	}
	m, err := arch.VGGSmall(cfg)
	if err != nil {
		t.Fatal(err)
	}
	arch.Randomize(m, 6)
	checkModel(t, m, rand.New(rand.NewPCG(6, 6)), []engineConfig{{bitops.Best(), 2, Auto}, {bitops.Generic, 1, Dense}})
}

// TestResNet19Full checks the full-width ResNet-19 (128/256/512, T = 2) once;
// the reference takes seconds, so it is skipped in -short and -race runs.
func TestResNet19Full(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("full-width ResNet-19 skipped in -short and -race runs")
	}
	m, err := arch.ResNet19(arch.ResNet19Config{})
	if err != nil {
		t.Fatal(err)
	}
	arch.Randomize(m, 7)
	rng := rand.New(rand.NewPCG(7, 7))
	x := randomInput(m, rng, 1)[0]
	ref := refRun(t, m, 0, x)
	for _, c := range []engineConfig{{bitops.Best(), 2, Auto}, {bitops.Generic, 1, Dense}} {
		e, err := New(m, WithKernels(c.k), WithThreads(c.threads), WithExecution(c.exec), WithTrace())
		if err != nil {
			t.Fatal(err)
		}
		res, err := e.Infer(x)
		if err != nil {
			t.Fatal(err)
		}
		checkLogits(t, c.String(), res.Logits, ref.Logits)
		checkLayers(t, c.String(), e, 0, ref)
		e.Close()
	}
}

// TestLIFThresholdEdge pins the LIF rule on values that land exactly on the
// threshold, where random tests never go: u >= Vth fires, hard reset zeroes
// the membrane, soft reset subtracts Vth.
func TestLIFThresholdEdge(t *testing.T) {
	for _, reset := range []model.Reset{model.ResetHard, model.ResetSoft} {
		m := &model.Model{
			Input: model.InputSpec{Shape: model.Shape{C: 3, H: 1, W: 1}, Timesteps: 4},
			Layers: []model.Layer{
				{Op: model.OpLIF, Inputs: []int{-1}, Lambda: 0.5, Vth: 0.5, Reset: reset},
				{Op: model.OpLinear, Inputs: []int{0}, Precision: model.PrecisionFloat32, InC: 3, OutC: 1, KH: 1, KW: 1, Stride: 1,
					Weights: []float32{1, 2, 4}, Scale: []float32{1}, Bias: []float32{0}},
				{Op: model.OpReadout, Inputs: []int{1}},
			},
		}
		x := []float32{0.5, 0.4, 0.45}
		// Channel 0: u = 0.5 = Vth fires every step (h is 0 after a spike
		// under either reset).
		// Channel 1: u = 0.4, 0.6 (fires), then hard 0.4 / soft 0.45, then
		// 0.6 / 0.625 (fires).
		// Channel 2: u = 0.45, 0.675 (fires), then hard 0.45 / soft
		// 0.5375 (fires), then hard 0.675 (fires) / soft 0.46875.
		// want is step-major: [t][c].
		want := map[model.Reset][]float32{
			model.ResetHard: {1, 0, 0, 1, 1, 1, 1, 0, 0, 1, 1, 1},
			model.ResetSoft: {1, 0, 0, 1, 1, 1, 1, 0, 1, 1, 1, 0},
		}[reset]
		ref := refRun(t, m, 0, x)
		for _, c := range []engineConfig{{bitops.Generic, 1, Dense}, {bitops.Best(), 2, Sparse}} {
			e, err := New(m, WithKernels(c.k), WithThreads(c.threads), WithExecution(c.exec), WithTrace())
			if err != nil {
				t.Fatal(err)
			}
			if _, err := e.Infer(x); err != nil {
				t.Fatal(err)
			}
			got, _ := e.LayerOutput(0, 0, nil)
			for j := range want {
				if got[j] != want[j] {
					t.Fatalf("%v %v: spikes %v, want %v", reset, c, got, want)
				}
			}
			checkLayers(t, c.String(), e, 0, ref)
			e.Close()
		}
	}
}

// oddPaths builds, by hand, a model whose layers take the engine's less
// common paths: a LIF on the raw input, a binary conv and a binary linear on
// float input (the float fallback), max and average pooling of floats, an
// AGMM over a whole map and over a vector, an affine and a readout on spikes
// (conversions), adds of spikes+spikes and float+float, a float flatten.
func oddPaths(rng *rand.Rand, enc model.Encoding) *model.Model {
	T := 3
	in := model.Shape{C: 3, H: 9, W: 9}
	w := func(n int, scale float64) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(rng.NormFloat64() * scale)
		}
		return v
	}
	affine := func(n int, scale float32) ([]float32, []float32) {
		s, b := make([]float32, n), make([]float32, n)
		for i := range s {
			s[i] = scale * float32(0.5+rng.Float64())
			b[i] = float32(rng.Float64()*0.8 - 0.2)
		}
		return s, b
	}
	alpha := func() []float32 { return w(T, 0.3) }
	L := []model.Layer{
		{Op: model.OpLIF, Inputs: []int{-1}, Lambda: 0.5, Vth: 0.4},                                                                  // 0: 3×9×9 spikes
		{Op: model.OpConv2D, Inputs: []int{-1}, Precision: model.PrecisionBinary, InC: 3, OutC: 70, KH: 3, KW: 3, Stride: 1, Pad: 1}, // 1: binary on floats
		{Op: model.OpMaxPool, Inputs: []int{1}, Kernel: 3, Stride: 2, Pad: 1},                                                        // 2: 70×5×5
		{Op: model.OpAGMM, Inputs: []int{2}, Alpha: alpha(), Stat: model.StatChannelSpatial},                                         // 3
		{Op: model.OpLIF, Inputs: []int{3}, Lambda: 0.7, Vth: 0.5, Reset: model.ResetSoft},                                           // 4: spikes
		{Op: model.OpAffine, Inputs: []int{4}},                                                                                       // 5: affine on spikes
		{Op: model.OpAdd, Inputs: []int{5, 5}},                                                                                       // 6: float + float
		{Op: model.OpAvgPool, Inputs: []int{6}, Kernel: 2, Stride: 1, Pad: 1},                                                        // 7: 70×6×6
		{Op: model.OpLIF, Inputs: []int{7}, Lambda: 0.5, Vth: 1},                                                                     // 8
		{Op: model.OpAdd, Inputs: []int{8, 8}},                                                                                       // 9: spikes + spikes
		{Op: model.OpGlobalAvgPool, Inputs: []int{9}},                                                                                // 10: float GAP
		{Op: model.OpLinear, Inputs: []int{10}, Precision: model.PrecisionBinary, InC: 70, OutC: 6, KH: 1, KW: 1, Stride: 1},         // 11: binary on floats
		{Op: model.OpAGMM, Inputs: []int{11}, Alpha: alpha(), Stat: model.StatNone},                                                  // 12
		{Op: model.OpFlatten, Inputs: []int{7}},                                                                                      // 13: float flatten
		{Op: model.OpLinear, Inputs: []int{13}, Precision: model.PrecisionFloat32, InC: 70 * 36, OutC: 6, KH: 1, KW: 1, Stride: 1},   // 14
		{Op: model.OpAdd, Inputs: []int{14, 12}},                                                                                     // 15
		{Op: model.OpLIF, Inputs: []int{15}, Lambda: 0.5, Vth: 0.2},                                                                  // 16
		{Op: model.OpAdd, Inputs: []int{0, 0}},                                                                                       // 17: spikes + spikes, read by no one
		{Op: model.OpReadout, Inputs: []int{16}},                                                                                     // 18: readout of spikes
	}
	L[1].Bits = modeltest.RandomBits(rng, 70, 9, 3)
	L[1].Scale, L[1].Bias = affine(70, 0.3)
	L[5].Scale, L[5].Bias = affine(70, 1)
	L[11].Bits = modeltest.RandomBits(rng, 6, 1, 70)
	L[11].Scale, L[11].Bias = affine(6, 0.2)
	L[14].Weights = w(6*70*36, 0.05)
	L[14].Scale, L[14].Bias = affine(6, 1)
	return &model.Model{Input: model.InputSpec{Shape: in, Encoding: enc, Timesteps: T}, Layers: L}
}

func TestOddPaths(t *testing.T) {
	for _, enc := range []model.Encoding{model.EncodingDirect, model.EncodingEvents} {
		rng := rand.New(rand.NewPCG(8, uint64(enc)))
		m := oddPaths(rng, enc)
		if err := m.Check(); err != nil {
			t.Fatal(err)
		}
		checkModel(t, m, rng, configs())
		// The paths are only tested if spikes flow through them.
		e, err := New(m)
		if err != nil {
			t.Fatal(err)
		}
		res, err := e.Infer(randomInput(m, rng, 1)[0])
		if err != nil {
			t.Fatal(err)
		}
		for _, i := range []int{0, 4, 8, 16} {
			if r := res.Stats.Layers[i].FiringRate; r <= 0 || r >= 1 {
				t.Errorf("%v: layer %d fires at rate %v", enc, i, r)
			}
		}
		e.Close()
	}
}

// TestBinaryConvPairs checks binary convs over at most 32 input channels,
// which read a paired copy of their input (two pixels a word), for every
// window width, stride and padding that reads in place, against the
// reference on every kernel set.
func TestBinaryConvPairs(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 23))
	for _, g := range []struct{ c, k, s, p int }{{20, 3, 1, 1}, {32, 2, 1, 1}, {7, 5, 2, 2}, {32, 3, 2, 0}, {17, 4, 1, 2}} {
		b := modeltest.NewBuilder(rng, model.Shape{C: g.c, H: 9, W: 11}, 2, model.EncodingRate)
		x := b.LIF(b.Conv(model.InputIndex, model.PrecisionBinary, 40, g.k, g.s, g.p), model.ResetHard, 0, 0)
		b.Readout(b.GlobalAvgPool(x))
		m := b.Model()
		e, err := New(m)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range e.ops {
			if c, ok := o.(*binConv); ok && !c.pair {
				t.Errorf("%+v: the conv does not read pairs", g)
			}
		}
		e.Close()
		checkModel(t, m, rng, configs())
	}
}
