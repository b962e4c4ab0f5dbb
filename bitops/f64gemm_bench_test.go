package bitops

import (
	"math/rand/v2"
	"testing"
)

// BenchmarkF64Gemm times F64GemmScaled per set on the full-precision layers
// of ResNet-19 (T = 2, one sample): the stem (3→128 3×3 on 32×32, run once
// per pass), the two 1×1 shortcut convs on AvgPool2 of spikes, and the
// classifier. "pooled" inputs are {0, .25, .5, .75, 1} with about half
// zeros independently (so a block of 8 rows almost never shares a zero and
// the skip only costs its search), and "deadcols" has a third of the
// channels zero in every row (channels that never fire), run with and
// without zero-skipping. GMAC/s counts the dense MACs.
func BenchmarkF64Gemm(b *testing.B) {
	shapes := []struct {
		name    string
		m, k, n int
		mode    int
		skip    bool
	}{
		{"stem-k27-m1024-n128", 1024, 27, 128, f64Dense, false},
		{"short1-k128-m512-n256", 512, 128, 256, f64Pooled, false},
		{"short1-k128-m512-n256-skip", 512, 128, 256, f64Pooled, true},
		{"short2-k256-m128-n512", 128, 256, 512, f64Pooled, false},
		{"short2-k256-m128-n512-skip", 128, 256, 512, f64Pooled, true},
		{"short2-k256-m128-n512-deadcols", 128, 256, 512, f64Columns, false},
		{"short2-k256-m128-n512-deadcols-skip", 128, 256, 512, f64Columns, true},
		{"fc-k512-m2-n10", 2, 512, 10, f64Dense, false},
	}
	for _, k := range Available() {
		for _, sh := range shapes {
			b.Run(k.Name+"/"+sh.name, func(b *testing.B) {
				rng := rand.New(rand.NewPCG(81, 82))
				a := make([]float64, sh.m*sh.k)
				fillF64(rng, a, sh.m, sh.k, sh.mode)
				wT := f64Weights(rng, sh.k, sh.n)
				scale, bias := f32Scales(rng, sh.n)
				out := make([]float32, sh.m*sh.n)
				var skip []int32
				if sh.skip {
					skip = make([]int32, sh.k)
				}
				for b.Loop() {
					_ = k.F64GemmScaled(out, a, sh.m, sh.k, wT, sh.n, scale, bias, skip)
				}
				macs := float64(sh.m) * float64(sh.k) * float64(sh.n)
				b.ReportMetric(macs*float64(b.N)/b.Elapsed().Seconds()/1e9, "GMAC/s")
			})
		}
	}
}
