package bitops

import (
	"math/rand/v2"
	"testing"
)

// Benchmarks per kernel set and shape: b.Run("<kernel>/<shape>"). SetBytes
// counts the bytes of activation × weight pairs combined (m·n·words·8), so
// MB/s × 8 is millions of binary MACs per second; the Gbmac/s metric says it
// directly. bsnn-bench kernels measures the same shapes with threads and
// the popcount peak.

type benchShape struct {
	name     string
	m, n, w  int
	rate     float64 // spike rate of the activations; 0 means uniform random bits
	silentPx float64 // fraction of activation rows (pixels) that are all zero
}

var (
	shapeConv = benchShape{name: "conv3x3-256-16x16", m: 16 * 16, n: 256, w: 9 * 4}
	shapeFC   = benchShape{name: "fc-4096x4096", m: 1, n: 4096, w: 4096 / 64}
)

func benchInputs(sh benchShape) (s, w []uint64, dst []int32) {
	rng := rand.New(rand.NewPCG(21, 22))
	s = make([]uint64, sh.m*sh.w)
	w = make([]uint64, sh.n*sh.w)
	fillWords(rng, w, modeRandom)
	for i := range s {
		if sh.rate == 0 {
			s[i] = rng.Uint64()
			continue
		}
		var v uint64
		for b := 0; b < 64; b++ {
			if rng.Float64() < sh.rate {
				v |= 1 << b
			}
		}
		s[i] = v
	}
	for i := 0; i < sh.m; i++ {
		if rng.Float64() < sh.silentPx {
			clear(s[i*sh.w : (i+1)*sh.w])
		}
	}
	return s, w, make([]int32, sh.m*sh.n)
}

func reportMACs(b *testing.B, sh benchShape) {
	macs := float64(sh.m) * float64(sh.n) * float64(sh.w*64)
	b.SetBytes(int64(sh.m * sh.n * sh.w * 8))
	b.ReportMetric(macs*float64(b.N)/b.Elapsed().Seconds()/1e9, "Gbmac/s")
}

func BenchmarkAndGemm(b *testing.B) {
	for _, k := range Available() {
		for _, sh := range []benchShape{shapeConv, shapeFC} {
			b.Run(k.Name+"/"+sh.name, func(b *testing.B) {
				s, w, dst := benchInputs(sh)
				for b.Loop() {
					if err := k.AndGemm(dst, s, sh.m, w, sh.n, sh.w); err != nil {
						b.Fatal(err)
					}
				}
				reportMACs(b, sh)
			})
		}
	}
}

func BenchmarkXnorGemm(b *testing.B) {
	for _, k := range Available() {
		sh := shapeConv
		b.Run(k.Name+"/"+sh.name, func(b *testing.B) {
			s, w, dst := benchInputs(sh)
			for b.Loop() {
				if err := k.XnorGemm(dst, s, sh.m, w, sh.n, sh.w, sh.w*64); err != nil {
					b.Fatal(err)
				}
			}
			reportMACs(b, sh)
		})
	}
}

// BenchmarkAndGemmSparse runs the conv shape at a 10 % spike rate (almost no
// all-zero words: the sparse kernel should cost what the dense one does) and
// with 90 % of the pixels silent (structured sparsity it skips).
func BenchmarkAndGemmSparse(b *testing.B) {
	shapes := []benchShape{
		{name: "conv3x3-256-16x16-rate10", m: 256, n: 256, w: 36, rate: 0.1},
		{name: "conv3x3-256-16x16-silent90", m: 256, n: 256, w: 36, silentPx: 0.9},
		{name: "conv3x3-256-16x16-rate1", m: 256, n: 256, w: 36, rate: 0.01},
	}
	for _, k := range Available() {
		for _, sh := range shapes {
			b.Run(k.Name+"/"+sh.name, func(b *testing.B) {
				s, w, dst := benchInputs(sh)
				for b.Loop() {
					if _, err := k.AndGemmSparse(dst, s, sh.m, w, sh.n, sh.w); err != nil {
						b.Fatal(err)
					}
				}
				reportMACs(b, sh)
			})
		}
	}
}

func BenchmarkPopcountPeak(b *testing.B) {
	rng := rand.New(rand.NewPCG(23, 24))
	x, y := make([]uint64, PeakWords), make([]uint64, PeakWords)
	fillWords(rng, x, modeRandom)
	fillWords(rng, y, modeRandom)
	for _, k := range Available() {
		b.Run(k.Name, func(b *testing.B) {
			const reps = 100
			for b.Loop() {
				if _, err := k.PopcountPeak(x, y, reps); err != nil {
					b.Fatal(err)
				}
			}
			b.SetBytes(reps * PeakWords * 8)
			b.ReportMetric(float64(reps*PeakWords*64)*float64(b.N)/b.Elapsed().Seconds()/1e9, "Gbmac/s")
		})
	}
}

// BenchmarkAndGemmEvents runs the event-driven (scatter) product on the conv
// shape at 10 % and 1 % spike rates; compare with BenchmarkAndGemmSparse.
func BenchmarkAndGemmEvents(b *testing.B) {
	shapes := []benchShape{
		{name: "conv3x3-256-16x16-rate10", m: 256, n: 256, w: 36, rate: 0.1},
		{name: "conv3x3-256-16x16-rate1", m: 256, n: 256, w: 36, rate: 0.01},
		{name: "fc-4096x4096-rate10", m: 1, n: 4096, w: 64, rate: 0.1},
	}
	for _, k := range Available() {
		for _, sh := range shapes {
			b.Run(k.Name+"/"+sh.name, func(b *testing.B) {
				s, w, dst := benchInputs(sh)
				ew, err := NewEventWeights(w, sh.n, sh.w)
				if err != nil {
					b.Fatal(err)
				}
				for b.Loop() {
					if _, err := k.AndGemmEvents(dst, s, sh.m, ew); err != nil {
						b.Fatal(err)
					}
				}
				reportMACs(b, sh)
			})
		}
	}
}

// convRowsShapes are the direct 3×3 convs of bsnn-bench kernels: an h×w map
// of pw words per pixel with a one-pixel halo, n output channels.
var convRowsShapes = []struct {
	name       string
	h, w, pw   int
	n, cinBits int
}{
	{"rows-conv-128-32x32", 32, 32, 2, 128, 128},
	{"rows-conv-256-16x16", 16, 16, 4, 256, 256},
	{"rows-conv-512-8x8", 8, 8, 8, 512, 512},
	{"rows-conv-32to64-28x28", 28, 28, 1, 64, 32},
	{"rows-conv-64-14x14", 14, 14, 1, 64, 64},
}

func BenchmarkAndGemmRows(b *testing.B) {
	rng := rand.New(rand.NewPCG(31, 32))
	for _, sh := range convRowsShapes {
		stride := (sh.w + 2) * sh.pw
		src := make([]uint64, (sh.h+2)*stride)
		fillWords(rng, src, modeRandom)
		w := make([]uint64, sh.n*9*sh.pw)
		fillWords(rng, w, modeRandom)
		m := sh.h * sh.w
		off, pop := make([]int32, m), make([]int32, m)
		for y := range sh.h {
			for x := range sh.w {
				off[y*sh.w+x] = int32(y*stride + x*sh.pw)
				pop[y*sh.w+x] = int32(Generic.RowPopcount(src, int(off[y*sh.w+x]), 3, stride, 3*sh.pw))
			}
		}
		dst := make([]int32, m*sh.n)
		for _, k := range Available() {
			b.Run(k.Name+"/"+sh.name, func(b *testing.B) {
				for b.Loop() {
					if err := k.AndGemmRows(dst, src, off, pop, 3, stride, 3*sh.pw, w, sh.n); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(m*sh.n*9*sh.cinBits)*float64(b.N)/b.Elapsed().Seconds()/1e9, "Gbmac/s")
			})
		}
	}
}
