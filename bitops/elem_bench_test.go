package bitops

import (
	"math/rand/v2"
	"testing"
)

// Benchmarks of the element-wise kernels per set (generic beside the SIMD
// sets): b.Run("<kernel>/<shape>"). SetBytes counts the bytes read and
// written once.

func BenchmarkScaleBias(b *testing.B) {
	const m, n = 16 * 16, 256 // a 3×3 256→256 conv on a 16×16 map
	rng := rand.New(rand.NewPCG(1, 2))
	acc := make([]int32, m*n)
	for i := range acc {
		acc[i] = int32(rng.IntN(4000) - 2000)
	}
	scale, bias, dst := make([]float32, n), make([]float32, n), make([]float32, m*n)
	fillFloats(rng, scale)
	fillFloats(rng, bias)
	for _, k := range Available() {
		b.Run(k.Name+"/256x256", func(b *testing.B) {
			b.SetBytes(m * n * 8)
			for b.Loop() {
				if err := k.ScaleBias(dst, acc, m, scale, bias); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
