//go:build gc && !purego && !noasm

package bitops

import "github.com/klauspost/cpuid/v2"

// haveAsm reports whether this build contains any assembly kernels.
const haveAsm = true

// The arch files only register; the kernels stay in their own files.
func init() {
	if cpuid.CPU.Supports(cpuid.AVX2) {
		register(avx2Kernels)
	}
	if cpuid.CPU.Supports(cpuid.AVX512F, cpuid.AVX512BW, cpuid.AVX512VPOPCNTDQ) {
		if cpuid.CPU.Supports(cpuid.AVX2) {
			// The scatter kernel is AVX2 code; every AVX-512 CPU so far
			// has AVX2, but do not assume it.
			avx512Kernels.events = eventsAVX2Go
		}
		register(avx512Kernels)
	}
}
