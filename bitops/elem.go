package bitops

import (
	"fmt"
	"math"
)

// Float element-wise kernels of the inference engine. They follow the model
// package's arithmetic contract: every float32 operation is rounded on its
// own (multiply, then add; never a fused multiply-add), and a reduction
// accumulates in float64 in index order. The SIMD sets vectorize across
// channels only, so every set returns the generic set's results bit for bit.

// maxElems bounds the element counts the element-wise kernels accept, so
// their index arithmetic cannot overflow.
const maxElems = min(1<<40, math.MaxInt)

// ScaleBias is the epilogue of a binary conv or linear layer: for m rows of
// n = len(scale) int32 accumulators,
//
//	dst[i*n+o] = float32(float32(acc[i*n+o])·scale[o]) + bias[o].
//
// bias must hold n values, acc and dst at least m·n.
func (k *Kernels) ScaleBias(dst []float32, acc []int32, m int, scale, bias []float32) error {
	n := len(scale)
	if m < 0 {
		return fmt.Errorf("bitops: ScaleBias: negative row count %d", m)
	}
	if len(bias) != n {
		return fmt.Errorf("bitops: ScaleBias: bias holds %d values, scale %d", len(bias), n)
	}
	if n != 0 && m > maxElems/n {
		return fmt.Errorf("bitops: ScaleBias: shape m=%d n=%d is too large", m, n)
	}
	if len(acc) < m*n {
		return fmt.Errorf("bitops: ScaleBias: acc holds %d values, %d rows of %d need %d", len(acc), m, n, m*n)
	}
	if len(dst) < m*n {
		return fmt.Errorf("bitops: ScaleBias: dst holds %d values, needs %d", len(dst), m*n)
	}
	if m == 0 || n == 0 {
		return nil
	}
	k.scaleBias(dst[:m*n], acc[:m*n], m, scale, bias)
	return nil
}
