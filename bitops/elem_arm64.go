//go:build gc && !purego && !noasm

package bitops

// Go side of the NEON element-wise kernels in elem_arm64.s. NEON has no
// masked loads, so the routines handle whole 4-lane vectors and the generic
// code the elements left over.

//go:noescape
func scaleBiasNEON(dst *float32, acc *int32, m, n, nv int, scale, bias *float32)

var neonElem = elemSet{
	scaleBias: scaleBiasNEONGo,
}

func scaleBiasNEONGo(dst []float32, acc []int32, m int, scale, bias []float32) {
	n := len(scale)
	nv := n / 4
	if nv > 0 {
		raceRead(acc[:m*n])
		raceRead(scale)
		raceRead(bias[:n])
		raceWrite(dst[:m*n])
		scaleBiasNEON(&dst[0], &acc[0], m, n, nv, &scale[0], &bias[0])
	}
	scaleBiasCols(dst, acc, m, scale, bias, nv*4)
}
