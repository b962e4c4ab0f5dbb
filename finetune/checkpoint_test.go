package finetune

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/bsnn/bsnn/model"
)

func ckptConfig(kind string) Config {
	c := smallConfigs()["mnist"]
	c.Input.Encoding = model.EncodingRate // the rate encoder's generator is part of the state
	c.Input.Timesteps = 2
	c.Optim.Kind = kind
	c.Optim.TotalSteps = 6
	c.Optim.WarmupSteps = 1
	c.AGMM.Alpha = AlphaLearn
	c.Threads = 2
	return c
}

// stateOf returns every tensor of the training state, for bit comparisons.
func stateOf(n *Net) map[string][]float32 {
	names, ts := n.state()
	m := map[string][]float32{}
	for i, name := range names {
		m[name] = slices.Clone(ts[i])
	}
	return m
}

func TestResumeIsBitIdentical(t *testing.T) {
	for _, kind := range []string{"sgd", "adam"} {
		t.Run(kind, func(t *testing.T) {
			cfg := ckptConfig(kind)
			a, err := NewNet(cfg)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := NewNet(cfg)
			step := func(n *Net, s int) StepStats {
				st, err := n.TrainStep(randomInput(n, 6, uint64(s)), randomLabels(n, 6, uint64(s)))
				if err != nil {
					t.Fatal(err)
				}
				return st
			}
			var want []StepStats
			for s := 0; s < 4; s++ {
				want = append(want, step(a, s))
			}
			step(b, 0)
			step(b, 1)
			b.SetPosition(3, 17)
			b.Meta = map[string]string{"dataset": "random"}
			path := filepath.Join(t.TempDir(), "run.ckpt")
			if err := b.SaveCheckpoint(path); err != nil {
				t.Fatal(err)
			}
			c, err := LoadCheckpoint(path, 1, nil)
			if err != nil {
				t.Fatal(err)
			}
			if e, k := c.Position(); e != 3 || k != 17 || c.Step() != 2 || c.Meta["dataset"] != "random" {
				t.Fatalf("restored position (%d, %d), step %d, meta %v", e, k, c.Step(), c.Meta)
			}
			for s := 2; s < 4; s++ {
				got := step(c, s)
				if got.Loss != want[s].Loss || !slices.Equal(got.Flips, want[s].Flips) {
					t.Fatalf("step %d after resume: loss %v flips %v, uninterrupted %v %v", s, got.Loss, got.Flips, want[s].Loss, want[s].Flips)
				}
			}
			sa, sc := stateOf(a), stateOf(c)
			for name, v := range sa {
				if !slices.Equal(v, sc[name]) {
					t.Fatalf("%s differs after resume", name)
				}
			}
		})
	}
}

func TestCheckpointErrors(t *testing.T) {
	dir := t.TempDir()
	n, err := NewNet(ckptConfig("sgd"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "good.ckpt")
	if err := n.SaveCheckpoint(path); err != nil {
		t.Fatal(err)
	}
	good, _ := os.ReadFile(path)
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	flipped := slices.Clone(good)
	flipped[len(flipped)-100] ^= 1
	key := slices.Clone(good)
	key[20] = '!'
	cases := map[string]struct {
		path string
		want string
	}{
		"truncated":   {write("trunc.ckpt", good[:len(good)/2]), "truncated"},
		"tiny":        {write("tiny.ckpt", good[:10]), "truncated"},
		"bit flip":    {write("flip.ckpt", flipped), "checksum"},
		"header key":  {write("key.ckpt", key), "checksum"},
		"not a ckpt":  {write("text.ckpt", []byte("hello, world, this is not a checkpoint")), "not a bsnn checkpoint"},
		"empty":       {write("empty.ckpt", nil), "not a bsnn checkpoint"},
		"nonexistent": {filepath.Join(dir, "missing.ckpt"), "no such file"},
	}
	for name, c := range cases {
		_, err := LoadCheckpoint(c.path, 1, nil)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one mentioning %q", name, err, c.want)
		}
		if err := n.Restore(c.path); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: Restore error %v, want one mentioning %q", name, err, c.want)
		}
	}

	// A network of another shape refuses the checkpoint, naming the layer.
	cfg := ckptConfig("sgd")
	cfg.Widths = []int{8, 16, 24}
	other, _ := NewNet(cfg)
	err = other.Restore(path)
	var ce *CheckpointError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "different architecture") || !strings.Contains(err.Error(), "conv3") {
		t.Errorf("restoring into another architecture: %v", err)
	}
	// A network of the same architecture takes the checkpoint's state and
	// configuration (here: SGD over Adam) and trains on exactly as the
	// network rebuilt by LoadCheckpoint does.
	adam, _ := NewNet(ckptConfig("adam"))
	if err := adam.Restore(path); err != nil {
		t.Fatalf("restoring into a network of the same architecture: %v", err)
	}
	loaded, err := LoadCheckpoint(path, 2, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []*Net{adam, loaded} {
		if m.Config().Optim.Kind != "sgd" {
			t.Fatalf("restored optimizer %q, want the checkpoint's sgd", m.Config().Optim.Kind)
		}
		if _, err := m.TrainStep(randomInput(m, 4, 9), randomLabels(m, 4, 9)); err != nil {
			t.Fatal(err)
		}
	}
	sa, sl := stateOf(adam), stateOf(loaded)
	for name, v := range sl {
		if !slices.Equal(v, sa[name]) {
			t.Fatalf("%s differs between Restore and LoadCheckpoint after a step", name)
		}
	}

	// A failed save leaves the old checkpoint and no temporary file behind.
	blocked := filepath.Join(dir, "blocked")
	if err := os.Mkdir(blocked, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := n.SaveCheckpoint(blocked); err == nil {
		t.Fatal("saving over a directory succeeded")
	}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.Contains(e.Name(), ".tmp") {
			t.Errorf("temporary file %s left behind", e.Name())
		}
	}
	if err := n.SaveCheckpoint(filepath.Join(dir, "no", "such", "dir.ckpt")); err == nil {
		t.Fatal("saving into a missing directory succeeded")
	}
	if b, _ := os.ReadFile(path); !slices.Equal(b, good) {
		t.Fatal("the good checkpoint changed")
	}
}

func TestNonFiniteNamesStepAndLayer(t *testing.T) {
	n, err := NewNet(smallConfigs()["mnist"])
	if err != nil {
		t.Fatal(err)
	}
	x, y := randomInput(n, 4, 1), randomLabels(n, 4, 1)
	if _, err := n.TrainStep(x, y); err != nil {
		t.Fatal(err)
	}
	// Poison conv3's latent weights: its output is the first NaN.
	var conv3 *Param
	for _, p := range n.Params() {
		if p.Name == "conv3.weight" {
			conv3 = p
		}
	}
	conv3.Data[5] = float32(math.NaN())
	before := stateOf(n)
	_, err = n.TrainStep(x, y)
	var nf *NonFiniteError
	if !errors.As(err, &nf) {
		t.Fatalf("error %v, want a NonFiniteError", err)
	}
	if nf.Step != 1 || nf.Name != "conv3" || !strings.Contains(err.Error(), "step 1") || !strings.Contains(err.Error(), "conv3") {
		t.Fatalf("error %q (step %d, layer %q), want step 1 and layer conv3", err, nf.Step, nf.Name)
	}
	after := stateOf(n)
	for name, v := range before {
		if !slices.Equal(v, after[name]) && !(name == "conv3.weight") {
			t.Fatalf("%s changed in the failed step", name)
		}
	}
	if n.Step() != 1 {
		t.Fatalf("step counter %d after the failed step, want 1", n.Step())
	}
}
