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
func avgSpikesAVX512(dst *float32, src *uint64, off *int32, ntap, nchunk, tailK int, table *float32)

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
	avgSpikes: avgSpikesAVX512Go,
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
	avgSpikes: avgSpikesGeneric,
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

// avgSpikesAVX512Go counts 16 channels at a time in int32 lanes, a masked
// add per vector, and looks the quotients up with one VPERMI2PS from a
// 32-entry table, so windows of up to 31 vectors run in assembly and
// larger ones in Go.
func avgSpikesAVX512Go(dst []float32, src []uint64, off []int32, table []float32) {
	if len(off) == 0 || len(off) > 31 {
		avgSpikesGeneric(dst, src, off, table)
		return
	}
	var t [32]float32
	copy(t[:], table[:len(off)+1])
	if raceEnabled {
		pw := (len(dst) + 63) / 64
		for _, o := range off {
			raceRead(src[o : int(o)+pw])
		}
		raceRead(off)
		raceWrite(dst)
	}
	nchunk := (len(dst) + 15) / 16
	tail := len(dst) - (nchunk-1)*16
	avgSpikesAVX512(&dst[0], &src[0], &off[0], len(off), nchunk, 1<<tail-1, &t[0])
}
