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

// BenchmarkLIF runs a 16×16 map of 256 channels over T = 2 steps, row by
// row as the engine does: plain, and with the Bi-Real chain's gate and
// float shortcut fused in. SetBytes counts the input floats.
func BenchmarkLIF(b *testing.B) {
	const c, hw, T = 256, 16, 2
	rng := rand.New(rand.NewPCG(3, 4))
	frame := hw * hw * c
	x, res, gate := make([]float32, T*frame), make([]float32, T*frame), make([]float32, T*c)
	for _, v := range [][]float32{x, res, gate} {
		for i := range v {
			v[i] = float32(rng.NormFloat64())
		}
	}
	pw := c / 64
	out := make([]uint64, T*hw*hw*pw)
	counts := make([]int64, 2*T)
	for _, k := range Available() {
		for _, fused := range []bool{false, true} {
			name := k.Name + "/plain"
			if fused {
				name = k.Name + "/gate+res"
			}
			b.Run(name, func(b *testing.B) {
				b.SetBytes(int64(4 * T * frame))
				for b.Loop() {
					for y := 0; y < hw; y++ {
						r := LIFRun{C: c, Pixels: hw, Steps: T, Lambda: 0.5, Vth: 1, Hard: true,
							X: x[y*hw*c:], XPixel: c, XStep: frame,
							Out: out[y*hw*pw:], OutPixel: pw, OutStep: hw * hw * pw}
						if fused {
							r.Gate, r.GateStep = gate, c
							r.Res, r.ResPixel, r.ResStep = res[y*hw*c:], c, frame
						}
						if err := k.LIF(&r, counts); err != nil {
							b.Fatal(err)
						}
					}
				}
			})
		}
	}
}

// BenchmarkStatSpatial sums 256 channels over a 16×16 map.
func BenchmarkStatSpatial(b *testing.B) {
	const c, px = 256, 16 * 16
	rng := rand.New(rand.NewPCG(5, 6))
	x := make([]float32, c*px)
	fillFloats(rng, x)
	sum := make([]float64, c)
	for _, k := range Available() {
		b.Run(k.Name+"/256x16x16", func(b *testing.B) {
			b.SetBytes(int64(4 * len(x)))
			for b.Loop() {
				if err := k.StatSpatial(sum, x, px, c); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
