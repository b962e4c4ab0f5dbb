//go:build (amd64 || arm64) && gc && !purego && !noasm

package bitops

// elemSet is one SIMD set's element-wise kernels (elem.go), wrapped for
// the Kernels fields: each function takes the checked arguments of its
// field and is equivalent to the generic twin.
type elemSet struct {
	scaleBias func(dst []float32, acc []int32, m int, scale, bias []float32)
}
