package finetune

import (
	"math/rand/v2"
	goruntime "runtime"
	"testing"
)

// benchBatch returns a batch of MNIST-shaped random images whose class is
// encoded in a bright square, so the network has something to learn.
func benchBatch(B int, seed uint64) ([]float32, []int) {
	r := rand.New(rand.NewPCG(seed, 1))
	x := make([]float32, B*28*28)
	y := make([]int, B)
	for b := range y {
		y[b] = r.IntN(10)
		img := x[b*784 : (b+1)*784]
		for i := range img {
			img[i] = float32(r.Float64() * 0.3)
		}
		oy, ox := 2+(y[b]/5)*12, 2+(y[b]%5)*5
		for dy := 0; dy < 8; dy++ {
			for dx := 0; dx < 4; dx++ {
				img[(oy+dy)*28+ox+dx] = 1
			}
		}
	}
	return x, y
}

// BenchmarkTrainStep times one training step of the MNIST preset at T=4,
// batch 32, one thread: go test -bench TrainStep -run ^$ ./finetune/
// (tools/pyref/bench_train.py times the same network in PyTorch). With one
// thread, samples/cpu-s (CPU time from getrusage, which counts the GC's
// goroutines too) is the number to compare when the machine is shared.
func BenchmarkTrainStep(b *testing.B) { benchTrainStep(b, 1) }

// BenchmarkTrainStepThreads is BenchmarkTrainStep on every core.
func BenchmarkTrainStepThreads(b *testing.B) { benchTrainStep(b, goruntime.NumCPU()) }

func benchTrainStep(b *testing.B, threads int) {
	cfg := DefaultConfig(PresetMNIST)
	cfg.Threads = threads
	n, err := NewNet(cfg)
	if err != nil {
		b.Fatal(err)
	}
	const B, batches = 32, 12
	x, y, err := loadMNIST("train", B*batches)
	if err != nil {
		b.Logf("MNIST not found (%v): synthetic batches", err)
		x, y = benchBatch(B*batches, 1)
	}
	step := func(i int) {
		k := i % batches
		if _, err := n.TrainStep(x[k*B*784:(k+1)*B*784], y[k*B:(k+1)*B]); err != nil {
			b.Fatal(err)
		}
	}
	step(0)
	step(1)
	b.ResetTimer()
	c0 := cpuTime()
	for i := 0; i < b.N; i++ {
		step(i + 2)
	}
	b.ReportMetric(float64(B*b.N)/b.Elapsed().Seconds(), "samples/s")
	b.ReportMetric(float64(B*b.N)/(cpuTime()-c0).Seconds(), "samples/cpu-s")
}
