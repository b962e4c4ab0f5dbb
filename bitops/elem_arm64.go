//go:build gc && !purego && !noasm

package bitops

// Go side of the NEON element-wise kernels in elem_arm64.s. NEON has no
// masked loads, so the routines handle whole 4-lane vectors and the generic
// code the elements left over.

//go:noescape
func scaleBiasNEON(dst *float32, acc *int32, m, n, nv int, scale, bias *float32)

//go:noescape
func lifNEON(f *lifFrame)

//go:noescape
func statSpatialNEON(sum *float64, x *float32, pixels, stride, nblk int)

var neonElem = elemSet{
	statSpatial: func(sum []float64, x []float32, pixels, stride int) {
		statSpatialAsm(statSpatialNEON, 8, sum, x, pixels, stride)
	},
	scaleBias: scaleBiasNEONGo,
	lif:       lifNEONGo,
	avgSpikes: avgSpikesGeneric,
}

// lifNEONGo runs the whole 16-channel blocks in assembly and the C%16 last
// channels of every pixel in Go.
func lifNEONGo(r LIFRun, counts []int64) {
	nblk := r.C / 16
	if nblk > 0 {
		f := lifFrameOf(&r, nblk)
		lifNEON(&f)
	}
	if nblk*16 < r.C {
		lifChannels(&r, nblk*16)
	}
	lifFinish(&r, counts, true)
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
