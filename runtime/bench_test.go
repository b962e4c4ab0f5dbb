package runtime

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/bsnn/bsnn/model"
	"github.com/bsnn/bsnn/model/arch"
	"github.com/bsnn/bsnn/model/modeltest"
)

func benchModel(b *testing.B, m *model.Model, opts ...Option) {
	e, err := New(m, opts...)
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	x := randomInput(m, rand.New(rand.NewPCG(1, 1)), 1)[0]
	if _, err := e.Infer(x); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := e.Infer(x); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkResNet19(b *testing.B) {
	m, err := arch.ResNet19(arch.ResNet19Config{})
	if err != nil {
		b.Fatal(err)
	}
	arch.Randomize(m, 1)
	for _, th := range []int{1, 2} {
		for _, x := range []Execution{Dense, Sparse, Auto} {
			b.Run(fmt.Sprintf("t%d/%v", th, x), func(b *testing.B) { benchModel(b, m, WithThreads(th), WithExecution(x)) })
		}
	}
}

// BenchmarkBinConvDensity times one binary 3×3 conv (256→256, 16×16, T = 2)
// with the dense and the sparse kernel while the fraction of non-zero input
// words falls: the measurement behind DefaultSparseThreshold. Whole 64-channel
// words of a pixel are silenced at random (structured silence, the only
// kind a word-skipping kernel can use); the rest fire at 20 %.
func BenchmarkBinConvDensity(b *testing.B) {
	const c, hw = 256, 16
	for _, density := range []float64{1, 0.5, 0.3, 0.2, 0.1, 0.05} {
		rng := rand.New(rand.NewPCG(1, 1))
		mb := modeltest.NewBuilder(rng, model.Shape{C: c, H: hw, W: hw}, 2, model.EncodingRate)
		x := mb.Conv(model.InputIndex, model.PrecisionBinary, c, 3, 1, 1)
		mb.Readout(mb.GlobalAvgPool(x))
		m := mb.Model()
		in := make([]float32, c*hw*hw)
		for ch := 0; ch < c; ch += 64 {
			for p := 0; p < hw*hw; p++ {
				v := float32(0)
				if rng.Float64() < density {
					v = 0.2
				}
				for j := ch; j < min(ch+64, c); j++ {
					in[j*hw*hw+p] = v
				}
			}
		}
		for _, x := range []Execution{Dense, Sparse} {
			b.Run(fmt.Sprintf("density%.2f/%v", density, x), func(b *testing.B) {
				e, err := New(m, WithThreads(1), WithExecution(x))
				if err != nil {
					b.Fatal(err)
				}
				defer e.Close()
				res, err := e.Infer(in)
				if err != nil {
					b.Fatal(err)
				}
				var conv op
				for _, o := range e.ops {
					if _, ok := o.(*binConv); ok {
						conv = o
					}
				}
				b.ResetTimer()
				for b.Loop() {
					conv.run(e)
				}
				b.ReportMetric(float64(res.Stats.Layers[0].DenseOps)*float64(b.N)/b.Elapsed().Seconds()/1e9, "Gbmac/s")
			})
		}
	}
}

// BenchmarkBatch measures per-sample throughput of InferBatch at batch 1
// and 32 on one and two threads (samples/s), on the MNIST net and
// ResNet-19.
func BenchmarkBatch(b *testing.B) {
	r19, err := arch.ResNet19(arch.ResNet19Config{})
	if err != nil {
		b.Fatal(err)
	}
	arch.Randomize(r19, 1)
	mn, err := arch.MNIST(arch.MNISTConfig{})
	if err != nil {
		b.Fatal(err)
	}
	arch.Randomize(mn, 1)
	for _, net := range []struct {
		name string
		m    *model.Model
	}{{"mnist", mn}, {"resnet19", r19}} {
		xs := randomInput(net.m, rand.New(rand.NewPCG(1, 1)), 32)
		for _, th := range []int{1, 2} {
			for _, bs := range []int{1, 32} {
				b.Run(fmt.Sprintf("%s/t%d/b%d", net.name, th, bs), func(b *testing.B) {
					e, err := New(net.m, WithThreads(th), WithBatch(bs))
					if err != nil {
						b.Fatal(err)
					}
					defer e.Close()
					if _, err := e.InferBatch(xs); err != nil {
						b.Fatal(err)
					}
					for b.Loop() {
						if _, err := e.InferBatch(xs); err != nil {
							b.Fatal(err)
						}
					}
					b.ReportMetric(float64(len(xs))*float64(b.N)/b.Elapsed().Seconds(), "samples/s")
				})
			}
		}
	}
}
