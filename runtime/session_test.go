package runtime

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/bsnn/bsnn/bitops"
	"github.com/bsnn/bsnn/model"
	"github.com/bsnn/bsnn/model/arch"
	"github.com/bsnn/bsnn/model/modeltest"
	"github.com/bsnn/bsnn/runtime/reference"
)

// TestSession runs streams of frames under both reset policies against the
// reference's Stream, on a direct and a rate-encoded model (the encoder's
// sequence runs on across frames), and checks that continuous state really
// changes the outcome.
func TestSession(t *testing.T) {
	for _, enc := range []model.Encoding{model.EncodingDirect, model.EncodingRate} {
		m, err := arch.MNIST(arch.MNISTConfig{In: model.Shape{C: 1, H: 12, W: 12}, C1: 8, C2: 70, C3: 16, T: 2, Encoding: enc})
		if err != nil {
			t.Fatal(err)
		}
		arch.Randomize(m, 11)
		rng := rand.New(rand.NewPCG(11, uint64(enc)))
		frames := randomInput(m, rng, 4)
		spikes := map[ResetPolicy][]int64{}
		for _, policy := range []ResetPolicy{ResetPerFrame, ResetContinuous} {
			ex, err := reference.New(m)
			if err != nil {
				t.Fatal(err)
			}
			ex.Seed, ex.KeepOutputs = 9, true
			stream := ex.NewStream(policy == ResetContinuous)
			e, err := New(m, WithThreads(2), WithSeed(9), WithTrace())
			if err != nil {
				t.Fatal(err)
			}
			s := e.NewSession(policy)
			if s.Policy() != policy {
				t.Fatalf("Policy() = %v, want %v", s.Policy(), policy)
			}
			for i, f := range frames {
				what := fmt.Sprintf("%v %v frame %d", enc, policy, i)
				want, err := stream.Step(f)
				if err != nil {
					t.Fatal(err)
				}
				got, err := s.Step(f)
				if err != nil {
					t.Fatal(err)
				}
				checkLogits(t, what, got.Logits, want.Logits)
				checkLayers(t, what, e, 0, want)
				var n int64
				for _, l := range got.Stats.Layers {
					n += l.Spikes
				}
				spikes[policy] = append(spikes[policy], n)
			}
			// Reset restarts the stream: frame 0 again gives frame 0's result.
			s.Reset()
			got, err := s.Step(frames[0])
			if err != nil {
				t.Fatal(err)
			}
			var n int64
			for _, l := range got.Stats.Layers {
				n += l.Spikes
			}
			if n != spikes[policy][0] {
				t.Fatalf("%v %v: after Reset frame 0 gives %d spikes, first time %d", enc, policy, n, spikes[policy][0])
			}
			e.Close()
		}
		same := true
		for i := 1; i < len(frames); i++ {
			same = same && spikes[ResetPerFrame][i] == spikes[ResetContinuous][i]
		}
		if same {
			t.Errorf("%v: continuous and per-frame sessions gave the same spike counts %v: state is not carried", enc, spikes[ResetContinuous])
		}
	}
}

func TestInferBatch(t *testing.T) {
	rng := rand.New(rand.NewPCG(12, 12))
	m := modeltest.AllKinds(rng)
	inputs := randomInput(m, rng, 5)
	single, err := New(m, WithThreads(1))
	if err != nil {
		t.Fatal(err)
	}
	defer single.Close()
	for _, batch := range []int{1, 2, 5, 8} {
		e, err := New(m, WithBatch(batch), WithThreads(3), WithTrace())
		if err != nil {
			t.Fatal(err)
		}
		res, err := e.InferBatch(inputs)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Logits) != len(inputs) || len(res.Classes) != len(inputs) {
			t.Fatalf("batch %d: %d logits, %d classes for %d samples", batch, len(res.Logits), len(res.Classes), len(inputs))
		}
		spikes := make([]int64, len(m.Layers))
		for i, x := range inputs {
			want, err := single.Infer(x)
			if err != nil {
				t.Fatal(err)
			}
			for li, l := range want.Stats.Layers {
				spikes[li] += l.Spikes
			}
			checkLogits(t, fmt.Sprintf("batch %d sample %d", batch, i), res.Logits[i], want.Logits)
			if res.Classes[i] != want.Class {
				t.Fatalf("batch %d sample %d: class %d, want %d", batch, i, res.Classes[i], want.Class)
			}
		}
		// Stats add up over every pass of the call.
		for li, l := range res.Stats.Layers {
			if l.Spikes != spikes[li] {
				t.Errorf("batch %d: layer %d: %d spikes, samples one by one %d", batch, li, l.Spikes, spikes[li])
			}
			if l.Op == model.OpLIF {
				if want := float64(spikes[li]) / float64(l.Neurons*m.Timesteps()*len(inputs)); l.FiringRate != want {
					t.Errorf("batch %d: layer %d: firing rate %v, want %v", batch, li, l.FiringRate, want)
				}
			}
		}
		// The last pass's samples are traced: compare one with the reference.
		last := (len(inputs) - 1) / batch * batch
		checkLayers(t, fmt.Sprintf("batch %d", batch), e, len(inputs)-1-last, refRun(t, m, 0, inputs[len(inputs)-1]))
		e.Close()
	}
}

func TestNoAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	rng := rand.New(rand.NewPCG(13, 13))
	for _, enc := range []model.Encoding{model.EncodingDirect, model.EncodingRate, model.EncodingEvents} {
		m := modeltest.Random(rng, modeltest.Options{Encoding: enc, SetEncoding: true, Blocks: 4})
		inputs := randomInput(m, rng, 3)
		for _, th := range []int{1, 3} {
			for _, x := range []Execution{Dense, Sparse, Auto} {
				e, err := New(m, WithThreads(th), WithExecution(x), WithBatch(2))
				if err != nil {
					t.Fatal(err)
				}
				s := e.NewSession(ResetContinuous)
				calls := map[string]func() error{
					"Infer":      func() error { _, err := e.Infer(inputs[0]); return err },
					"InferBatch": func() error { _, err := e.InferBatch(inputs); return err },
					"Step":       func() error { _, err := s.Step(inputs[1]); return err },
				}
				for name, f := range calls {
					if err := f(); err != nil {
						t.Fatal(err)
					}
					if n := testing.AllocsPerRun(20, func() { f() }); n != 0 {
						t.Errorf("%v threads %d %v: %s allocates %v times per call", enc, th, x, name, n)
					}
				}
				e.Close()
			}
		}
	}
}

func TestInputErrors(t *testing.T) {
	m, err := arch.ResNet19(arch.ResNet19Config{Widths: [3]int{8, 8, 8}, Blocks: [3]int{1, 1, 1}})
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(m)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	for _, n := range []int{0, 3*32*32 - 1, 3*32*32 + 1, 2 * 3 * 32 * 32} {
		_, err := e.Infer(make([]float32, n))
		if err == nil || !strings.Contains(err.Error(), "want C×H×W = 3×32×32 = 3072") {
			t.Errorf("Infer(%d floats): error %v, want one naming the shape 3×32×32", n, err)
		}
		if _, err := e.NewSession(ResetPerFrame).Step(make([]float32, n)); err == nil {
			t.Errorf("Session.Step(%d floats): no error", n)
		}
	}
	if _, err := e.InferBatch([][]float32{make([]float32, 3072), make([]float32, 5)}); err == nil || !strings.Contains(err.Error(), "sample 1") {
		t.Errorf("InferBatch with a short sample 1: error %v", err)
	}

	m.Input.Encoding = model.EncodingEvents
	ev, err := New(m)
	if err != nil {
		t.Fatal(err)
	}
	defer ev.Close()
	if _, err := ev.Infer(make([]float32, 3072)); err == nil || !strings.Contains(err.Error(), "T×C×H×W = 2×3×32×32 = 6144") {
		t.Errorf("events model, one frame: error %v, want one naming T×C×H×W", err)
	}
	if _, err := ev.Infer(make([]float32, 6144)); err != nil {
		t.Errorf("events model, T frames: %v", err)
	}
}

func TestNewErrors(t *testing.T) {
	good := modeltest.AllKinds(rand.New(rand.NewPCG(14, 14)))
	bad := *good
	bad.Layers = append([]model.Layer(nil), good.Layers...)
	bad.Layers[0].InC++ // shapes no longer agree
	cases := []struct {
		m    *model.Model
		opts []Option
		want string
	}{
		{&bad, nil, "layer 0"},
		{good, []Option{WithKernelsName("nosuchset")}, "nosuchset"},
		{good, []Option{WithThreads(0)}, "WithThreads(0)"},
		{good, []Option{WithBatch(0)}, "WithBatch(0)"},
		{good, []Option{WithKernels(nil)}, "nil"},
		{good, []Option{WithSparseThreshold(2)}, "threshold"},
		{good, []Option{WithExecution(Execution(9))}, "execution"},
	}
	for _, c := range cases {
		e, err := New(c.m, c.opts...)
		if err == nil {
			e.Close()
			t.Errorf("New(%s): no error", c.want)
			continue
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("New: error %q does not mention %q", err, c.want)
		}
	}
	if _, err := New(&bad); !errors.Is(err, model.ErrInvalid) {
		t.Errorf("invalid model: error %v does not wrap model.ErrInvalid", err)
	}
	e, err := New(good, WithKernelsName(bitops.Generic.Name))
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if e.Kernels() != bitops.Generic {
		t.Errorf("WithKernelsName(generic) gave %v", e.Kernels())
	}
	if _, err := e.LayerOutput(0, 0, nil); !errors.Is(err, ErrNoTrace) {
		t.Errorf("LayerOutput without trace: %v", err)
	}
}

func TestStats(t *testing.T) {
	m, err := arch.ResNet19(arch.ResNet19Config{Widths: [3]int{16, 32, 64}, Blocks: [3]int{1, 1, 1}})
	if err != nil {
		t.Fatal(err)
	}
	arch.Randomize(m, 15)
	x := randomInput(m, rand.New(rand.NewPCG(15, 15)), 1)[0]
	ref := refRun(t, m, 0, x)
	for _, ex := range []Execution{Dense, Sparse} {
		e, err := New(m, WithExecution(ex), WithThreads(2))
		if err != nil {
			t.Fatal(err)
		}
		res, err := e.Infer(x)
		if err != nil {
			t.Fatal(err)
		}
		st := res.Stats
		if st.BinaryOps <= 0 || st.BinaryOps > st.DenseOps {
			t.Errorf("%v: BinaryOps %d, DenseOps %d", ex, st.BinaryOps, st.DenseOps)
		}
		for i, l := range st.Layers {
			if l.Op == model.OpLIF {
				var n float64
				out := flat(ref.Outputs[i])
				for _, v := range out {
					n += float64(v)
				}
				if want := n / float64(len(out)); l.FiringRate != want {
					t.Errorf("%v: layer %d (%s) firing rate %v, want %v", ex, i, l.Name, l.FiringRate, want)
				}
			}
			if l.Op == model.OpConv2D && m.Layers[i].Precision == model.PrecisionBinary {
				if l.Sparse != (ex == Sparse) {
					t.Errorf("%v: layer %d Sparse = %v", ex, i, l.Sparse)
				}
				if sh := e.shapes[i]; l.Rows != int64(2*sh.H*sh.W) || l.Words != l.Rows*int64(m.Layers[i].RowWords()) {
					t.Errorf("%v: layer %d Rows = %d, Words = %d for a %v output", ex, i, l.Rows, l.Words, sh)
				}
			}
		}
		e.Close()
	}
}

// TestSilentInput: a rate-coded all-zero input makes every step of the
// first binary conv silent. Nothing is computed, the output is the bias,
// and the result still matches the reference.
func TestSilentInput(t *testing.T) {
	rng := rand.New(rand.NewPCG(16, 16))
	b := modeltest.NewBuilder(rng, model.Shape{C: 70, H: 5, W: 5}, 3, model.EncodingRate)
	x := b.Conv(model.InputIndex, model.PrecisionBinary, 20, 3, 1, 1)
	x = b.LIF(x, model.ResetHard, 0, 0.1)
	b.Readout(b.Linear(b.Flatten(x), model.PrecisionBinary, 4))
	m := b.Model()
	in := make([]float32, m.Input.Shape.Size())
	for _, ex := range []Execution{Dense, Sparse, Auto} {
		e, err := New(m, WithExecution(ex), WithTrace())
		if err != nil {
			t.Fatal(err)
		}
		res, err := e.Infer(in)
		if err != nil {
			t.Fatal(err)
		}
		l := res.Stats.Layers[0]
		if l.Rows != 75 || l.RowsSkipped != 75 || l.BinaryOps != 0 || l.WordsSkipped != l.Words {
			t.Errorf("%v: silent conv: %+v", ex, l)
		}
		checkLayers(t, ex.String(), e, 0, refRun(t, m, 0, in))
		e.Close()
	}
}

// TestInferBatchPasses runs a batch larger than fits one pass: the MNIST
// net's largest map (64×28×28, T = 4) is 800 KB a sample, so WithBatch(32)
// runs passes of 5, and every sample must come out as it does alone.
func TestInferBatchPasses(t *testing.T) {
	m, err := arch.MNIST(arch.MNISTConfig{})
	if err != nil {
		t.Fatal(err)
	}
	arch.Randomize(m, 3)
	inputs := randomInput(m, rand.New(rand.NewPCG(13, 13)), 12)
	e, err := New(m, WithBatch(32), WithThreads(2))
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if e.cfg.batch != 5 {
		t.Fatalf("pass of %d samples, want 5 (4 MiB over 800 KB)", e.cfg.batch)
	}
	single, err := New(m, WithThreads(1))
	if err != nil {
		t.Fatal(err)
	}
	defer single.Close()
	res, err := e.InferBatch(inputs)
	if err != nil {
		t.Fatal(err)
	}
	var spikes int64
	for i, x := range inputs {
		want, err := single.Infer(x)
		if err != nil {
			t.Fatal(err)
		}
		spikes += want.Stats.Layers[1].Spikes
		checkLogits(t, fmt.Sprintf("sample %d", i), res.Logits[i], want.Logits)
	}
	if got := res.Stats.Layers[1].Spikes; got != spikes {
		t.Errorf("layer 1: %d spikes over the passes, %d one by one", got, spikes)
	}
}
