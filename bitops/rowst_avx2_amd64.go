//go:build gc && !purego && !noasm

package bitops

import "unsafe"

// Go side of the AVX2 AndGemmRowsT / AndConvRowsT kernel
// (rowst_avx2_amd64.s): 2 rows × 16 channels per block.

//go:noescape
func rowsT2x16AVX2(src *uint64, off *int32, pop *int32, rows int, segs, segStride, segWords int, wt *uint64, n, nb int, out *unsafe.Pointer, scale, bias *float32, affine int)

func init() {
	avx2Kernels.andGemmRowsT = andGemmRowsTAVX2
	avx2Kernels.andConvRowsT = andConvRowsTAVX2
	// BenchmarkConvRows, best of 6: 281 against 121 G binary-MAC/s on
	// 64-channel rows (9 words), level at 72 words, 260 against 291 at 36.
	avx2Kernels.wideRows = 24
}

var unitScale = [16]float32{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}

// andGemmRowsTAVX2 runs the 2×16 blocks over pairs of rows (an odd last
// row is computed twice and stored once) and the generic kernel for the
// channels past the last multiple of 16.
func andGemmRowsTAVX2(dst []int32, src []uint64, off, pop []int32, segs, segStride, segWords int, wt []uint64, n int) {
	nb := n / 16
	if nb > 0 {
		raceRead(src)
		raceRead(wt)
		var o2, p2 [2]int32
		var r2 [2]unsafe.Pointer
		for i := 0; i < len(off); i += 2 {
			r := min(2, len(off)-i)
			for q := range 2 {
				o2[q] = off[i+min(q, r-1)]
				p2[q] = pop[i+min(q, r-1)]
				r2[q] = unsafe.Pointer(&dst[(i+min(q, r-1))*n])
			}
			raceWrite(dst[i*n : (i+r)*n])
			// scale and bias are not read in integer mode.
			rowsT2x16AVX2(&src[0], &o2[0], &p2[0], r, segs, segStride, segWords, &wt[0], n, nb, &r2[0], &unitScale[0], &unitScale[0], 0)
		}
	}
	if nb*16 < n {
		andGemmRowsTCols(dst, src, off, pop, segs, segStride, segWords, wt, n, nb*16, n)
	}
}

// andConvRowsTAVX2 is andGemmRowsTAVX2 with the affine fused into the
// stores, rows written through the row map.
func andConvRowsTAVX2(out []float32, orow []int32, src []uint64, off, pop []int32, segs, segStride, segWords int, wt []uint64, n int, scale, bias []float32) {
	nb := n / 16
	if nb > 0 {
		raceRead(src)
		raceRead(wt)
		var o2, p2 [2]int32
		var r2 [2]unsafe.Pointer
		for i := 0; i < len(off); i += 2 {
			r := min(2, len(off)-i)
			for q := range 2 {
				o2[q] = off[i+min(q, r-1)]
				p2[q] = pop[i+min(q, r-1)]
				r2[q] = unsafe.Pointer(&out[int(orow[i+min(q, r-1)])*n])
			}
			for q := range r {
				raceWrite(out[int(orow[i+q])*n : int(orow[i+q]+1)*n])
			}
			rowsT2x16AVX2(&src[0], &o2[0], &p2[0], r, segs, segStride, segWords, &wt[0], n, nb, &r2[0], &scale[0], &bias[0], 1)
		}
	}
	if nb*16 < n {
		andConvRowsTCols(out, orow, src, off, pop, segs, segStride, segWords, wt, n, scale, bias, nb*16)
	}
}
