package runtime

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/bsnn/bsnn/model"
	"github.com/bsnn/bsnn/model/arch"
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
