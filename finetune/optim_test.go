package finetune

import (
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/bsnn/bsnn/model"
)

// TestOptimizerRules checks each update rule against PyTorch's formulas,
// written out in float64 here, over three steps.
func TestOptimizerRules(t *testing.T) {
	grads := [][]float32{{0.5, -1, 0.25}, {0.1, 0.2, -0.3}, {-0.4, 0.0, 1.5}}
	w0 := []float32{0.3, -0.2, 0.05}
	type rule func(w, m, v []float64, g []float64, step int)
	const lr, mu, wd = 0.1, 0.9, 0.01
	cases := map[string]struct {
		cfg  OptimConfig
		want rule
	}{
		"sgd": {OptimConfig{Kind: "sgd", LR: lr}, func(w, m, v, g []float64, s int) {
			for i := range w {
				w[i] -= lr * g[i]
			}
		}},
		"sgd momentum wd": {OptimConfig{Kind: "sgd", LR: lr, Momentum: mu, WeightDecay: wd}, func(w, m, v, g []float64, s int) {
			for i := range w {
				d := g[i] + wd*w[i]
				if s == 1 {
					m[i] = d
				} else {
					m[i] = mu*m[i] + d
				}
				w[i] -= lr * m[i]
			}
		}},
		"sgd nesterov decoupled": {OptimConfig{Kind: "sgd", LR: lr, Momentum: mu, Nesterov: true, WeightDecay: wd, DecoupledWD: true}, func(w, m, v, g []float64, s int) {
			for i := range w {
				w[i] *= 1 - lr*wd
				if s == 1 {
					m[i] = g[i]
				} else {
					m[i] = mu*m[i] + g[i]
				}
				w[i] -= lr * (g[i] + mu*m[i])
			}
		}},
		"adam l2": {OptimConfig{Kind: "adam", LR: lr, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: wd}, func(w, m, v, g []float64, s int) {
			for i := range w {
				d := g[i] + wd*w[i]
				m[i] = 0.9*m[i] + 0.1*d
				v[i] = 0.999*v[i] + 0.001*d*d
				den := math.Sqrt(v[i])/math.Sqrt(1-math.Pow(0.999, float64(s))) + 1e-8
				w[i] -= lr / (1 - math.Pow(0.9, float64(s))) * m[i] / den
			}
		}},
		"adamw": {OptimConfig{Kind: "adam", LR: lr, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: wd, DecoupledWD: true}, func(w, m, v, g []float64, s int) {
			for i := range w {
				w[i] *= 1 - lr*wd
				m[i] = 0.9*m[i] + 0.1*g[i]
				v[i] = 0.999*v[i] + 0.001*g[i]*g[i]
				den := math.Sqrt(v[i])/math.Sqrt(1-math.Pow(0.999, float64(s))) + 1e-8
				w[i] -= lr / (1 - math.Pow(0.9, float64(s))) * m[i] / den
			}
		}},
	}
	for name, c := range cases {
		p := newParam("w", GroupFP, 0, true, 3)
		copy(p.Data, w0)
		o := newOptimizer(&c.cfg, []*Param{p})
		w, m, v := make([]float64, 3), make([]float64, 3), make([]float64, 3)
		for i, x := range w0 {
			w[i] = float64(x)
		}
		for s, g := range grads {
			copy(p.Grad, g)
			o.update(&c.cfg, []*Param{p}, c.cfg.LR, workers{1})
			g64 := make([]float64, 3)
			for i, x := range g {
				g64[i] = float64(x)
			}
			c.want(w, m, v, g64, s+1)
			for i := range w {
				if math.Abs(float64(p.Data[i])-w[i]) > 1e-6*math.Max(1, math.Abs(w[i])) {
					t.Fatalf("%s: step %d: w[%d] = %v, want %v", name, s+1, i, p.Data[i], w[i])
				}
			}
		}
	}
}

func TestScheduleAndGroups(t *testing.T) {
	c := OptimConfig{LR: 1, Schedule: "cosine", WarmupSteps: 4, TotalSteps: 14}
	want := map[int64]float64{0: 0.25, 3: 1, 4: 1, 9: 0.5, 14: 0, 20: 0}
	for s, w := range want {
		if got := c.lrAt(s); math.Abs(float64(got)-w) > 1e-6 {
			t.Errorf("cosine lr at step %d = %v, want %v", s, got, w)
		}
	}
	if got := (&OptimConfig{LR: 0.3}).lrAt(100); got != 0.3 {
		t.Errorf("constant schedule: %v", got)
	}

	// Group factors: binary weights frozen by a zero factor, the rest move.
	cfg := smallConfigs()["mnist"]
	cfg.Optim.GroupLR = map[string]float32{GroupBinary: 0}
	n, err := NewNet(cfg)
	if err != nil {
		t.Fatal(err)
	}
	before := stateOf(n)
	if _, err := n.TrainStep(randomInput(n, 4, 1), randomLabels(n, 4, 1)); err != nil {
		t.Fatal(err)
	}
	after := stateOf(n)
	for _, p := range n.Params() {
		same := slices.Equal(before[p.Name], after[p.Name])
		if p.Group == GroupBinary && !same {
			t.Errorf("%s moved with a zero learning-rate factor", p.Name)
		}
		if p.Group == GroupFP && same {
			t.Errorf("%s did not move", p.Name)
		}
	}
}

// freezeStep fine-tunes a model exported from a small trained MNIST net
// with first and last as OptimConfig.TrainFirst and TrainLast, takes one
// training step and returns the net and its parameters before and after.
func freezeStep(t *testing.T, first, last int) (n *Net, before, after map[string][]float32) {
	t.Helper()
	src := smallConfigs()["mnist"]
	src.BN.Momentum = 1 // running statistics = the last batch's: evaluation mode is alive
	m, err := trained(t, src, 3).Export(model.Provenance{Accuracy: -1})
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig(PresetModel)
	cfg.Optim.TrainFirst, cfg.Optim.TrainLast = first, last
	cfg.Optim.LR = 0.5
	if n, err = FromModel(m, cfg); err != nil {
		t.Fatal(err)
	}
	before = stateOf(n)
	if _, err := n.TrainStep(randomInput(n, 8, 1), randomLabels(n, 8, 1)); err != nil {
		t.Fatal(err)
	}
	return n, before, stateOf(n)
}

// TestTrainLast freezes everything but the last conv/linear layers of a
// network fine-tuned from a model: their parameters stay and no gradient is
// computed for them, while the last layers train.
func TestTrainLast(t *testing.T) {
	n, before, after := freezeStep(t, 0, 2) // conv3 and fc
	for _, p := range n.Params() {
		same := slices.Equal(before[p.Name], after[p.Name])
		last := strings.HasPrefix(p.Name, "conv3.") || strings.HasPrefix(p.Name, "fc.") || strings.HasPrefix(p.Name, "agmm3.")
		if p.Frozen == last {
			t.Errorf("%s: frozen %v", p.Name, p.Frozen)
		}
		if !last && !same {
			t.Errorf("%s changed although frozen", p.Name)
		}
	}
	for _, name := range []string{"conv3.weight", "fc.weight", "fc.bn.bias"} {
		if slices.Equal(before[name], after[name]) {
			t.Errorf("%s did not train", name)
		}
	}
	for i, s := range n.specs {
		if s.Name == "conv2" && n.up[i] {
			t.Errorf("gradients are computed for the frozen conv2")
		}
	}
}

// TestTrainFirst trains only the first conv layer of a fine-tuned network:
// every later parameter stays, yet the gradient flows back through the
// frozen layers to reach conv1, and TrainLast adds its layers to the set.
func TestTrainFirst(t *testing.T) {
	for _, tc := range []struct {
		last   int
		prefix []string
	}{
		{0, []string{"conv1."}},
		{1, []string{"conv1.", "fc."}},
	} {
		n, before, after := freezeStep(t, 1, tc.last)
		for _, p := range n.Params() {
			train := false
			for _, pre := range tc.prefix {
				train = train || strings.HasPrefix(p.Name, pre)
			}
			if p.Frozen == train {
				t.Errorf("last %d: %s: frozen %v", tc.last, p.Name, p.Frozen)
			}
			if !train && !slices.Equal(before[p.Name], after[p.Name]) {
				t.Errorf("last %d: %s changed although frozen", tc.last, p.Name)
			}
		}
		if slices.Equal(before["conv1.weight"], after["conv1.weight"]) {
			t.Errorf("last %d: conv1.weight did not train", tc.last)
		}
		for i, s := range n.specs {
			if s.Name == "conv3" && !n.up[i] {
				t.Errorf("last %d: no gradient flows back through the frozen conv3", tc.last)
			}
		}
	}
}

// TestFlipStatistics: the step's flip rate is the fraction of latent
// weights whose sign the update changed.
func TestFlipStatistics(t *testing.T) {
	cfg := smallConfigs()["mnist"]
	cfg.Optim.LR = 2 // a big step, so that some weights do flip
	n, err := NewNet(cfg)
	if err != nil {
		t.Fatal(err)
	}
	snap := n.Signs()
	var w0 [][]float32
	for _, j := range n.bins {
		w0 = append(w0, slices.Clone(n.layers[j].(*convNode).w.Data))
	}
	st, err := n.TrainStep(randomInput(n, 4, 2), randomLabels(n, 4, 2))
	if err != nil {
		t.Fatal(err)
	}
	since, err := n.FlipsSince(snap)
	if err != nil {
		t.Fatal(err)
	}
	for i, j := range n.bins {
		w := n.layers[j].(*convNode).w.Data
		changed := 0
		for k, v := range w {
			if (v >= 0) != (w0[i][k] >= 0) {
				changed++
			}
		}
		want := float64(changed) / float64(len(w))
		if st.Flips[i] != want || since[i] != want {
			t.Errorf("%s: step flips %v, since snapshot %v, counted %v", n.BinaryNames()[i], st.Flips[i], since[i], want)
		}
		if want == 0 {
			t.Errorf("%s: no weight flipped in a step at lr 0.1 (test too weak)", n.BinaryNames()[i])
		}
		if st.GradStd[i] <= 0 {
			t.Errorf("%s: gradient std %v", n.BinaryNames()[i], st.GradStd[i])
		}
	}
}

// TestAlphaModes: a fixed α never moves, a scheduled α follows its linear
// ramp over Optim.TotalSteps, a learned α trains.
func TestAlphaModes(t *testing.T) {
	for _, mode := range []AlphaMode{AlphaLearn, AlphaFixed, AlphaSchedule} {
		cfg := smallConfigs()["mnist"]
		cfg.AGMM.Alpha, cfg.AGMM.AlphaInit, cfg.AGMM.AlphaEnd = mode, 0.5, 1.5
		cfg.Optim.TotalSteps = 4
		n, err := NewNet(cfg)
		if err != nil {
			t.Fatal(err)
		}
		for s := 0; s < 3; s++ {
			if _, err := n.TrainStep(randomInput(n, 4, uint64(s)), randomLabels(n, 4, uint64(s))); err != nil {
				t.Fatal(err)
			}
		}
		a := n.Alphas()[0]
		switch mode {
		case AlphaFixed:
			if !slices.Equal(a, []float32{0.5, 0.5, 0.5, 0.5}) {
				t.Errorf("fixed α moved: %v", a)
			}
		case AlphaSchedule:
			// The third step ran at progress 2/4: α = 0.5 + 1·0.5.
			if !slices.Equal(a, []float32{1, 1, 1, 1}) {
				t.Errorf("scheduled α after 3 steps = %v, want 1 everywhere", a)
			}
		case AlphaLearn:
			if slices.Equal(a, []float32{0.5, 0.5, 0.5, 0.5}) {
				t.Errorf("learned α did not move")
			}
		}
	}
}
