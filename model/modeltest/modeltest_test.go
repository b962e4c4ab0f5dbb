package modeltest_test

import (
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/bsnn/bsnn/model"
	"github.com/bsnn/bsnn/model/modeltest"
)

// spikeProducers returns, per layer, whether its output is 0/1 spikes.
func spikeProducers(m *model.Model) []bool {
	s := make([]bool, len(m.Layers))
	in := func(i int) bool {
		if i == model.InputIndex {
			return m.Input.Encoding == model.EncodingRate
		}
		return s[i]
	}
	for i, l := range m.Layers {
		switch l.Op {
		case model.OpLIF:
			s[i] = true
		case model.OpMaxPool, model.OpFlatten:
			s[i] = in(l.Inputs[0])
		}
	}
	return s
}

// checkBinaryOnSpikes fails if a binary layer reads a tensor that is not
// spikes: the runtime's binary kernels assume it.
func checkBinaryOnSpikes(t *testing.T, m *model.Model) {
	t.Helper()
	s := spikeProducers(m)
	for i, l := range m.Layers {
		if (l.Op == model.OpConv2D || l.Op == model.OpLinear) && l.Precision == model.PrecisionBinary {
			src := l.Inputs[0]
			if src == model.InputIndex && m.Input.Encoding != model.EncodingRate || src >= 0 && !s[src] {
				t.Errorf("layer %d: binary %s reads non-spike layer %d", i, l.Op, src)
			}
		}
	}
}

func TestRandom(t *testing.T) {
	n := 300
	if testing.Short() {
		n = 60
	}
	ops := map[model.Op]int{}
	for seed := range n {
		a := modeltest.Random(rand.New(rand.NewPCG(uint64(seed), 1)), modeltest.Options{}) // panics if invalid
		b := modeltest.Random(rand.New(rand.NewPCG(uint64(seed), 1)), modeltest.Options{})
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("seed %d: Random is not deterministic", seed)
		}
		checkBinaryOnSpikes(t, a)
		for _, l := range a.Layers {
			ops[l.Op]++
		}
	}
	for op := model.OpConv2D; op <= model.OpReadout; op++ {
		if ops[op] == 0 {
			t.Errorf("no random model has a %s layer", op)
		}
	}
}

func TestRandomOptions(t *testing.T) {
	o := modeltest.Options{Input: model.Shape{C: 3, H: 9, W: 7}, Timesteps: 5, Encoding: model.EncodingEvents, SetEncoding: true, Blocks: 6, MaxChannels: 4}
	for seed := range 20 {
		m := modeltest.Random(rand.New(rand.NewPCG(uint64(seed), 2)), o)
		if m.Input.Shape != o.Input || m.Timesteps() != 5 || m.Input.Encoding != model.EncodingEvents {
			t.Fatalf("options ignored: %+v", m.Input)
		}
		for i, l := range m.Layers {
			if l.OutC > 4 && l.Op == model.OpConv2D {
				t.Errorf("seed %d layer %d: %d channels, MaxChannels 4", seed, i, l.OutC)
			}
		}
	}
}

func TestFixedArchitectures(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	all := modeltest.AllKinds(rng)
	checkBinaryOnSpikes(t, all)
	seen := map[string]bool{}
	for _, l := range all.Layers {
		seen[l.Op.String()] = true
		switch l.Op {
		case model.OpConv2D, model.OpLinear:
			seen[l.Op.String()+"/"+l.Precision.String()] = true
		case model.OpAGMM:
			seen["agmm/"+l.Stat.String()] = true
		case model.OpLIF:
			seen["lif/"+l.Reset.String()] = true
		}
	}
	if len(seen) != 11+6+3+2 {
		t.Errorf("AllKinds covers %d of 22 kinds: %v", len(seen), seen)
	}

	mnist := modeltest.MNIST(rng)
	checkBinaryOnSpikes(t, mnist)
	shapes, err := mnist.Shapes()
	if err != nil {
		t.Fatal(err)
	}
	if got := shapes[len(shapes)-1]; got != (model.Shape{C: 10, H: 1, W: 1}) {
		t.Errorf("MNIST logits %v", got)
	}

	width := 128
	if testing.Short() {
		width = 16
	}
	r := modeltest.ResNet19(rng, width, 2)
	checkBinaryOnSpikes(t, r)
	binary := 0
	for _, l := range r.Layers {
		if l.Precision == model.PrecisionBinary {
			binary++
		}
	}
	if binary != 16 {
		t.Errorf("ResNet19 has %d binary convs, want 16", binary)
	}
}

func TestRandomBitsPadZero(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, inC := range []int{1, 63, 64, 65, 130} {
		bits := modeltest.RandomBits(rng, 3, 9, inC)
		pw := (inC + 63) / 64
		if len(bits) != 3*9*pw {
			t.Fatalf("inC %d: %d words", inC, len(bits))
		}
		if r := inC % 64; r != 0 {
			for i := pw - 1; i < len(bits); i += pw {
				if bits[i]>>uint(r) != 0 {
					t.Fatalf("inC %d: word %d has pad bits set", inC, i)
				}
			}
		}
	}
}
