package finetune

import (
	"context"
	"errors"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"

	"github.com/bsnn/bsnn/data"
	"github.com/bsnn/bsnn/model"
)

// sliceSource serves batches from memory, shuffled per epoch from a seed.
type sliceSource struct {
	x    []float32
	y    []int
	size int // floats per sample
	b    int // batch size
	xb   []float32
	yb   []int
}

func (s *sliceSource) Batches() int { return len(s.y) / s.b }

func (s *sliceSource) Batch(epoch, k int) ([]float32, []int, error) {
	order := rand.New(rand.NewPCG(uint64(epoch), 42)).Perm(len(s.y))
	s.xb, s.yb = s.xb[:0], s.yb[:0]
	for _, i := range order[k*s.b : (k+1)*s.b] {
		s.xb = append(s.xb, s.x[i*s.size:(i+1)*s.size]...)
		s.yb = append(s.yb, s.y[i])
	}
	return s.xb, s.yb, nil
}

// squares is a synthetic 10-class task on h×h images: class c is a bright
// 3×3 square at one of ten positions, on noise.
func squares(n, h int, seed uint64) *sliceSource {
	r := rand.New(rand.NewPCG(seed, 3))
	s := &sliceSource{size: h * h, b: 16}
	for i := 0; i < n; i++ {
		c := r.IntN(10)
		img := make([]float32, h*h)
		for j := range img {
			img[j] = float32(r.Float64() * 0.5)
		}
		oy, ox := 1+(c/5)*(h/2), 1+(c%5)*(h-4)/4
		for dy := 0; dy < 3; dy++ {
			for dx := 0; dx < 3; dx++ {
				img[(oy+dy)*h+ox+dx] = 1
			}
		}
		s.x = append(s.x, img...)
		s.y = append(s.y, c)
	}
	return s
}

func squaresConfig() Config {
	c := DefaultConfig(PresetMNIST)
	c.Widths = []int{8, 16, 16}
	c.Input.Shape = model.Shape{C: 1, H: 12, W: 12}
	c.Input.Timesteps = 2
	c.Input.Mean, c.Input.Std = []float32{0.3}, []float32{0.3}
	c.Optim.WeightDecay = 0
	c.Threads = 2
	return c
}

// TestTrainingLearns is the quick sanity check: a short run on a synthetic
// task ends far above chance (10 %).
func TestTrainingLearns(t *testing.T) {
	train, test := squares(480, 12, 1), squares(160, 12, 2)
	epochs := 3
	if testing.Short() {
		train, test, epochs = squares(320, 12, 1), squares(64, 12, 2), 2
	}
	n, err := NewNet(squaresConfig())
	if err != nil {
		t.Fatal(err)
	}
	var last EpochStats
	tr := &Trainer{Net: n, Train: train, Test: test, Epochs: epochs, OnEpoch: func(e EpochStats) error {
		t.Logf("epoch %d: train loss %.3f acc %.3f, test acc %.3f, firing %.3f, flips %.4f, epoch flips %.3f, α %v",
			e.Epoch, e.TrainLoss, e.TrainAcc, e.TestAcc, e.Firing, e.Flips, e.EpochFlips, e.Alpha)
		last = e
		return nil
	}}
	if err := tr.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !last.HasTest || last.TestAcc < 0.6 {
		t.Fatalf("test accuracy %.3f after %d epochs, want ≥ 0.6 (chance 0.1)", last.TestAcc, epochs)
	}
	if len(last.Flips) != 2 || len(last.Firing) != 3 || len(last.Alpha) != 2 || len(last.EpochFlips) != 2 {
		t.Fatalf("statistics have the wrong layer counts: %+v", last)
	}
	for i, f := range last.EpochFlips {
		if f <= 0 || f > 0.5 {
			t.Errorf("epoch-to-epoch flip rate of %s = %v", n.BinaryNames()[i], f)
		}
	}
}

// TestTrainerInterruptResume: a run interrupted mid-epoch (Ctrl-C) and
// resumed from its checkpoint ends bit-identical to an uninterrupted run and
// reports the same epoch statistics.
func TestTrainerInterruptResume(t *testing.T) {
	src := squares(64, 12, 5)
	cfg := squaresConfig()
	run := func(n *Net, ckpt string, stopAfter int) ([]EpochStats, error) {
		var eps []EpochStats
		steps := 0
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		tr := &Trainer{Net: n, Train: src, Test: src, Epochs: 2, Checkpoint: ckpt,
			OnStep: func(e, k, nb int, st StepStats) error {
				steps++
				if steps == stopAfter {
					cancel()
				}
				return nil
			},
			OnEpoch: func(e EpochStats) error { eps = append(eps, e); return nil }}
		return eps, tr.Run(ctx)
	}
	a, _ := NewNet(cfg)
	want, err := run(a, "", -1)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "run.ckpt")
	b, _ := NewNet(cfg)
	if _, err := run(b, path, 6); !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted run returned %v", err)
	}
	if e, k := b.Position(); e != 1 || k != 2 {
		t.Fatalf("interrupted at (%d, %d), want epoch 1 batch 2", e, k)
	}
	c, err := LoadCheckpoint(path, 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := run(c, path, -1)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Epoch != 1 {
		t.Fatalf("resumed run reported epochs %+v, want epoch 1 only", got)
	}
	g, w := got[0], want[1]
	if g.TrainLoss != w.TrainLoss || g.Steps != w.Steps || !slices.Equal(g.Flips, w.Flips) ||
		!slices.Equal(g.EpochFlips, w.EpochFlips) || g.TestAcc != w.TestAcc {
		t.Fatalf("resumed epoch statistics %+v, uninterrupted %+v", g, w)
	}
	sa, sc := stateOf(a), stateOf(c)
	for name, v := range sa {
		if !slices.Equal(v, sc[name]) {
			t.Fatalf("%s differs between the resumed and the uninterrupted run", name)
		}
	}
}

// TestMNISTSubset trains the MNIST preset (narrower) for one epoch on 1,600
// real MNIST images and checks the test accuracy on 1,000 others. It needs
// the MNIST files of the GoMNIST module and is skipped with -short and
// under the race detector.
func TestMNISTSubset(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("long test")
	}
	x, y, err := loadMNIST("train", 1600)
	if err != nil {
		t.Skipf("MNIST not available: %v", err)
	}
	tx, ty, err := loadMNIST("t10k", 1000)
	if err != nil {
		t.Skipf("MNIST not available: %v", err)
	}
	cfg := DefaultConfig(PresetMNIST)
	cfg.Widths = []int{16, 32, 32}
	cfg.Threads = 2
	n, err := NewNet(cfg)
	if err != nil {
		t.Fatal(err)
	}
	train := &sliceSource{x: x, y: y, size: 784, b: 32}
	test := &sliceSource{x: tx, y: ty, size: 784, b: 100}
	var acc float64
	tr := &Trainer{Net: n, Train: train, Test: test, Epochs: 1, OnEpoch: func(e EpochStats) error {
		t.Logf("train loss %.3f acc %.3f, test acc %.3f, %.1f s", e.TrainLoss, e.TrainAcc, e.TestAcc, e.Seconds)
		acc = e.TestAcc
		return nil
	}}
	if err := tr.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if acc < 0.8 {
		t.Fatalf("test accuracy %.3f after one epoch on 1,600 images, want ≥ 0.8", acc)
	}
}

// TestBatcherSource trains on a data.Batcher through BatcherSource: the
// batcher's sample layout is the one TrainStep takes.
func TestBatcherSource(t *testing.T) {
	sq := squares(64, 12, 3)
	pix := make([]uint8, len(sq.x))
	for i, v := range sq.x {
		pix[i] = uint8(v * 255)
	}
	lab := make([]uint8, len(sq.y))
	for i, v := range sq.y {
		lab[i] = uint8(v)
	}
	ds, err := data.NewImages(model.Shape{C: 1, H: 12, W: 12}, []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}, pix, lab)
	if err != nil {
		t.Fatal(err)
	}
	b, err := data.NewBatcher(ds, data.BatchOptions{Size: 16, Shuffle: true, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	n, err := NewNet(squaresConfig())
	if err != nil {
		t.Fatal(err)
	}
	src := BatcherSource(b)
	x, y, err := src.Batch(0, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(x) != 16*n.InputLen() || len(y) != 16 {
		t.Fatalf("batch of %d values and %d labels, want %d and 16", len(x), len(y), 16*n.InputLen())
	}
	var st EpochStats
	tr := &Trainer{Net: n, Train: src, Test: src, Epochs: 1, OnEpoch: func(e EpochStats) error { st = e; return nil }}
	if err := tr.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st.Steps != 4 || st.Samples != 64 || !st.HasTest {
		t.Fatalf("epoch statistics %+v", st)
	}
}
