//go:build gc && !purego && !noasm

package bitops

import "unsafe"

// Go side of the element-wise kernels in elem_amd64.s. The AVX-512
// routines use AVX512F and, for the 64-bit spike masks of the LIF quad
// path, AVX512BW; every CPU that qualifies for the avx512 set has both.

//go:noescape
func scaleBiasAVX512(dst *float32, acc *int32, m, n int, scale, bias *float32)

//go:noescape
func scaleBiasAVX2(dst *float32, acc *int32, m, n int, scale, bias *float32)

//go:noescape
func lifAVX512(f *lifFrame)

//go:noescape
func lifAVX2(f *lifFrame)

//go:noescape
func statSpatialAVX512(sum *float64, x *float32, pixels, stride, nblk int)

//go:noescape
func statSpatialAVX2(sum *float64, x *float32, pixels, stride, nblk int)

var avx512Elem = elemSet{
	statSpatial: func(sum []float64, x []float32, pixels, stride int) {
		statSpatialAsm(statSpatialAVX512, 16, sum, x, pixels, stride)
	},
	lif: func(r LIFRun, counts []int64) {
		// Whole output words, bits past C included, and the counts: no
		// lifFinish.
		f := lifFrameOf(&r, (r.C+15)/16)
		f.qblk = 4 * (r.C / 64)
		if counts != nil {
			raceWrite(counts[:2*r.Steps])
			f.cnt = unsafe.Pointer(&counts[0])
		}
		lifAVX512(&f)
	},
	scaleBias: func(dst []float32, acc []int32, m int, scale, bias []float32) {
		scaleBiasAsm(scaleBiasAVX512, dst, acc, m, scale, bias)
	},
}

var avx2Elem = elemSet{
	statSpatial: func(sum []float64, x []float32, pixels, stride int) {
		statSpatialAsm(statSpatialAVX2, 16, sum, x, pixels, stride)
	},
	lif: func(r LIFRun, counts []int64) {
		f := lifFrameOf(&r, (r.C+15)/16)
		lifAVX2(&f)
		lifFinish(&r, counts, true)
	},
	scaleBias: func(dst []float32, acc []int32, m int, scale, bias []float32) {
		scaleBiasAsm(scaleBiasAVX2, dst, acc, m, scale, bias)
	},
}

// scaleBiasAsm runs an assembly ScaleBias that handles every column itself
// (the last n%width with masked loads and stores).
func scaleBiasAsm(f func(dst *float32, acc *int32, m, n int, scale, bias *float32), dst []float32, acc []int32, m int, scale, bias []float32) {
	n := len(scale)
	raceRead(acc[:m*n])
	raceRead(scale)
	raceRead(bias[:n])
	raceWrite(dst[:m*n])
	f(&dst[0], &acc[0], m, n, &scale[0], &bias[0])
}
