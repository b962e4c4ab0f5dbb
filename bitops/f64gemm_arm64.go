//go:build gc && !purego && !noasm

package bitops

import "unsafe"

// Go side of the float64 GEMM kernel in f64gemm_arm64.s.

//go:noescape
func f64Gemm4NEON(a0, a1, a2, a3, w *float64, ldw, kk, n int, idx *int32, nidx int, d0, d1, d2, d3 unsafe.Pointer, scale, bias *float32)

// f64NEONChunk is the column chunk of the scaled path: its float64 sums
// wait in a stack tile (8 rows × 128 columns, 8 KiB) for the Go epilogue.
const f64NEONChunk = 128

// f64GemmNEONGo runs the NEON kernel over 8-column panels and the generic
// kernel over the last n%8 columns. The kernel stores float64 sums only, so
// scaled outputs go through a tile and the epilogue is applied here.
func f64GemmNEONGo(b f64Block, wT []float64, kk, n int, idx []int32, scale, bias []float32) {
	nc := n / 8 * 8
	if nc > 0 {
		if b.out[0] == nil {
			f64NEON(f64AsmPrep(nc, &b, wT, kk, n, idx, nil, nil))
		} else {
			var tile [F64BlockRows][f64NEONChunk]float64
			var t f64Block
			t.a = b.a
			for c0 := 0; c0 < nc; c0 += f64NEONChunk {
				c1 := min(c0+f64NEONChunk, nc)
				for j := range t.acc {
					t.acc[j] = tile[j][:c1-c0]
				}
				f64NEON(f64AsmPrep(c1-c0, &t, wT[c0:], kk, n, idx, nil, nil))
				for j := range tile {
					d := b.out[j][c0:c1]
					for o, v := range tile[j][:c1-c0] {
						d[o] = float32(float32(v)*scale[c0+o]) + bias[c0+o]
					}
				}
			}
		}
	}
	if nc < n {
		f64ColsGeneric(&b, wT, kk, n, nc, idx, scale, bias)
	}
}

// f64NEON runs the 4-row kernel on both halves of the block.
func f64NEON(p f64AsmArgs) {
	for h := 0; h < F64BlockRows; h += 4 {
		f64Gemm4NEON(p.a[h], p.a[h+1], p.a[h+2], p.a[h+3], p.w, p.ldw, p.kk, p.n, p.idx, p.nidx, p.d[h], p.d[h+1], p.d[h+2], p.d[h+3], p.scale, p.bias)
	}
}
