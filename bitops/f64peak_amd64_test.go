//go:build gc && !purego && !noasm

package bitops

import (
	"testing"

	"github.com/klauspost/cpuid/v2"
)

// BenchmarkF64FMAPeak measures the CPU's float64 FMA peak with register-only
// loops (no loads): the ceiling BenchmarkF64Gemm's GMAC/s is compared with.
func BenchmarkF64FMAPeak(b *testing.B) {
	const reps = 10000
	if cpuid.CPU.Supports(cpuid.AVX512F) {
		b.Run("avx512", func(b *testing.B) {
			for b.Loop() {
				f64PeakAVX512(reps)
			}
			b.ReportMetric(reps*16*8*float64(b.N)/b.Elapsed().Seconds()/1e9, "GMAC/s")
		})
	}
	if cpuid.CPU.Supports(cpuid.AVX2, cpuid.FMA3) {
		b.Run("avx2", func(b *testing.B) {
			for b.Loop() {
				f64PeakAVX2(reps)
			}
			b.ReportMetric(reps*12*4*float64(b.N)/b.Elapsed().Seconds()/1e9, "GMAC/s")
		})
	}
}

func TestF64Peak(t *testing.T) {
	// Every chain stays at +0 (0·0 + 0), and the loop must run and return.
	if cpuid.CPU.Supports(cpuid.AVX512F) && f64PeakAVX512(3) != 0 {
		t.Error("f64PeakAVX512 is not 0")
	}
	if cpuid.CPU.Supports(cpuid.AVX2, cpuid.FMA3) && f64PeakAVX2(3) != 0 {
		t.Error("f64PeakAVX2 is not 0")
	}
}
