//go:build gc && !purego && !noasm

package bitops

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/klauspost/cpuid/v2"
)

// The AVX-512 set runs AndGemm as 4×4 blocks; its 2×4 blocks (still used for
// XnorGemm and the row remainders) are kept comparable here.

func haveAVX512() bool {
	return cpuid.CPU.Supports(cpuid.AVX512F, cpuid.AVX512BW, cpuid.AVX512VPOPCNTDQ)
}

func TestAVX512BlockingsAgree(t *testing.T) {
	if !haveAVX512() {
		t.Skip("no AVX-512 VPOPCNTDQ")
	}
	rng := rand.New(rand.NewPCG(5, 6))
	for trial := 0; trial < 100; trial++ {
		m, n, words := rng.IntN(11), rng.IntN(14), rng.IntN(40)
		s, w := make([]uint64, m*words), make([]uint64, n*words)
		fillWords(rng, s, rng.IntN(numModes))
		fillWords(rng, w, rng.IntN(numModes))
		got, want := make([]int32, m*n), make([]int32, m*n)
		avx512Blocks.gemm(false, got, s, m, w, n, words, 0)
		andGemmGeneric(want, s, m, w, n, words)
		if !slices.Equal(got, want) {
			t.Fatalf("2×4 blocking m=%d n=%d words=%d: got %v want %v", m, n, words, got, want)
		}
	}
}

func BenchmarkAVX512Blocking(b *testing.B) {
	if !haveAVX512() {
		b.Skip("no AVX-512 VPOPCNTDQ")
	}
	sh := shapeConv
	s, w, dst := benchInputs(sh)
	b.Run("2x4/"+sh.name, func(b *testing.B) {
		for b.Loop() {
			avx512Blocks.gemm(false, dst, s, sh.m, w, sh.n, sh.w, 0)
		}
		reportMACs(b, sh)
	})
	b.Run("4x4/"+sh.name, func(b *testing.B) {
		for b.Loop() {
			avx512Kernels.andGemm(dst, s, sh.m, w, sh.n, sh.w)
		}
		reportMACs(b, sh)
	})
}
