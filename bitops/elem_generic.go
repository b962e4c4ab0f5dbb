package bitops

// Generic twins of the element-wise kernels (elem.go): the reference every
// SIMD set is tested against, and the code that handles what a SIMD routine
// leaves over.

// scaleBiasGeneric is ScaleBias with checked arguments: m rows of
// n = len(scale).
func scaleBiasGeneric(dst []float32, acc []int32, m int, scale, bias []float32) {
	n := len(scale)
	bias = bias[:n]
	for i := 0; i < m; i++ {
		d, a := dst[i*n:(i+1)*n], acc[i*n:(i+1)*n]
		for o, s := range scale {
			d[o] = float32(float32(a[o])*s) + bias[o]
		}
	}
}

// scaleBiasCols is scaleBiasGeneric on the columns o0 ≤ o < n of every row,
// for the columns a SIMD routine leaves over.
func scaleBiasCols(dst []float32, acc []int32, m int, scale, bias []float32, o0 int) {
	n := len(scale)
	for i := 0; i < m; i++ {
		for o := o0; o < n; o++ {
			dst[i*n+o] = float32(float32(acc[i*n+o])*scale[o]) + bias[o]
		}
	}
}
