//go:build gc && !purego && !noasm

package bitops

// Go side of the AVX-512 AndGemmRowsT kernel (rowst_avx512_amd64.s).

//go:noescape
func rowsT4x32AVX512(src *uint64, off *int32, pop *int64, rows int, segs, segStride, segWords int, wt *uint64, n, nb int, dst *int32)

//go:noescape
func rowsT4x32AffineAVX512(src *uint64, off *int32, pop *int32, rows int, segs, segStride, segWords int, wt *uint64, n, nb int, out **float32, scale, bias *float32)

func init() {
	avx512Kernels.andGemmRowsT = andGemmRowsTAVX512
	avx512Kernels.andConvRowsT = andConvRowsTAVX512
	avx512Kernels.wideRows = -1 // BenchmarkConvRows: faster on every shape
}

// andConvRowsTAVX512 is andGemmRowsTAVX512 with the affine fused into the
// blocks' stores; rows are written through per-row pointers into out.
func andConvRowsTAVX512(out []float32, orow []int32, src []uint64, off, pop []int32, segs, segStride, segWords int, wt []uint64, n int, scale, bias []float32) {
	nb := n / 32
	if nb > 0 {
		raceRead(src)
		raceRead(wt)
		var o4, p4 [4]int32
		var r4 [4]*float32
		for i := 0; i < len(off); i += 4 {
			r := min(4, len(off)-i)
			for q := range 4 {
				o4[q] = off[i+min(q, r-1)]
				p4[q] = pop[i+min(q, r-1)]
				r4[q] = &out[int(orow[i+min(q, r-1)])*n]
			}
			for q := range r {
				// Per row: other rows of out belong to other callers.
				raceWrite(out[int(orow[i+q])*n : int(orow[i+q]+1)*n])
			}
			rowsT4x32AffineAVX512(&src[0], &o4[0], &p4[0], r, segs, segStride, segWords, &wt[0], n, nb, &r4[0], &scale[0], &bias[0])
		}
	}
	if nb*32 < n {
		andConvRowsTCols(out, orow, src, off, pop, segs, segStride, segWords, wt, n, scale, bias, nb*32)
	}
}

// andGemmRowsTAVX512 runs the 4×32 blocks over groups of four rows (the
// last group repeats its last row in the unused slots and stores only its
// own rows) and the generic kernel for the channels past the last multiple
// of 32.
func andGemmRowsTAVX512(dst []int32, src []uint64, off, pop []int32, segs, segStride, segWords int, wt []uint64, n int) {
	nb := n / 32
	if nb > 0 {
		raceRead(src)
		raceRead(wt)
		raceWrite(dst)
		var o4 [4]int32
		var p4 [4]int64
		for i := 0; i < len(off); i += 4 {
			r := min(4, len(off)-i)
			for q := range 4 {
				o4[q] = off[i+min(q, r-1)]
				p4[q] = int64(pop[i+min(q, r-1)])
			}
			rowsT4x32AVX512(&src[0], &o4[0], &p4[0], r, segs, segStride, segWords, &wt[0], n, nb, &dst[i*n])
		}
	}
	if nb*32 < n {
		andGemmRowsTCols(dst, src, off, pop, segs, segStride, segWords, wt, n, nb*32, n)
	}
}
