//go:build gc && !purego && !noasm

package bitops

// haveAsm reports whether this build contains any assembly kernels.
const haveAsm = true

// Advanced SIMD (NEON) is mandatory in ARMv8-A, so it needs no cpuid gate;
// registered_arm64_test.go still checks that cpuid agrees.
func init() {
	register(neonKernels)
}
