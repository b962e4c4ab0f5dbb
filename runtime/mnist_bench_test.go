package runtime

import (
	"testing"

	"github.com/bsnn/bsnn/model/arch"
)

func BenchmarkMNIST(b *testing.B) {
	m, err := arch.MNIST(arch.MNISTConfig{})
	if err != nil {
		b.Fatal(err)
	}
	arch.Randomize(m, 1)
	b.Run("t1", func(b *testing.B) { benchModel(b, m, WithThreads(1)) })
	b.Run("t2", func(b *testing.B) { benchModel(b, m, WithThreads(2)) })
}
