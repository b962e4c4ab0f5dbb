package bitops

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// convShape is a 3×3, stride 1, pad 1 binary conv on a map stored with a
// one-pixel zero halo, as the runtime lays it out.
type convShape struct {
	name     string
	c, n, hw int
}

var convShapes = []convShape{
	{"c64-n64-14", 64, 64, 14},     // MNIST net conv3
	{"c32-n64-28", 32, 64, 28},     // MNIST net conv2 (32 real channels in a word)
	{"c128-n128-32", 128, 128, 32}, // ResNet-19 stage 1
	{"c256-n256-16", 256, 256, 16}, // stage 2
	{"c512-n512-8", 512, 512, 8},   // stage 3
}

// BenchmarkConvRows times the direct-conv kernels against the im2col GEMM
// on the same rows: AndGemm on gathered rows (gather not timed),
// AndGemmRows and AndGemmRowsT reading the haloed map in place. The metric
// counts real binary MACs (pixels · n · 9 · channels).
func BenchmarkConvRows(b *testing.B) {
	for _, sh := range convShapes {
		pw := Words(sh.c)
		rowPix := sh.hw + 2
		src := make([]uint64, rowPix*rowPix*pw)
		rng := rand.New(rand.NewPCG(1, 2))
		for y := 0; y < sh.hw; y++ {
			for x := 0; x < sh.hw; x++ {
				for j := 0; j < pw; j++ {
					v := rng.Uint64() & rng.Uint64() & rng.Uint64()
					if sh.c < 64 {
						v &= 1<<uint(sh.c) - 1
					}
					src[((y+1)*rowPix+x+1)*pw+j] = v
				}
			}
		}
		m := sh.hw * sh.hw
		words := 9 * pw
		off := make([]int32, m)
		pop := make([]int32, m)
		rows := make([]uint64, m*words)
		for y := 0; y < sh.hw; y++ {
			for x := 0; x < sh.hw; x++ {
				i := y*sh.hw + x
				off[i] = int32((y*rowPix + x) * pw)
				for s := 0; s < 3; s++ {
					copy(rows[i*words+s*3*pw:], src[int(off[i])+s*rowPix*pw:int(off[i])+s*rowPix*pw+3*pw])
				}
				pop[i] = int32(Generic.RowPopcount(src, int(off[i]), 3, rowPix*pw, 3*pw))
			}
		}
		w := make([]uint64, sh.n*words)
		for i := range w {
			w[i] = rng.Uint64()
		}
		wt := TransposeWords(w, sh.n, words)
		dst := make([]int32, m*sh.n)
		macs := float64(m * sh.n * 9 * sh.c)
		for _, k := range Available() {
			run := func(name string, f func()) {
				b.Run(fmt.Sprintf("%s/%s/%s", sh.name, k.Name, name), func(b *testing.B) {
					for b.Loop() {
						f()
					}
					b.ReportMetric(macs*float64(b.N)/b.Elapsed().Seconds()/1e9, "Gbmac/s")
				})
			}
			run("im2col", func() { _ = k.AndGemm(dst, rows, m, w, sh.n, words) })
			run("rows", func() { _ = k.AndGemmRows(dst, src, off, pop, 3, rowPix*pw, 3*pw, w, sh.n) })
			run("rowsT", func() { _ = k.AndGemmRowsT(dst, src, off, pop, 3, rowPix*pw, 3*pw, wt, sh.n) })
		}
	}
}
