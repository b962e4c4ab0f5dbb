package bitops

import (
	"fmt"
	"math/bits"
)

// TransposeWords returns the word-major copy of n weight rows of `words`
// words each: wt[k*n+j] = w[j*words+k]. AndGemmRowsT reads weights in this
// order, so that one vector load holds word k of many consecutive output
// channels.
func TransposeWords(w []uint64, n, words int) []uint64 {
	wt := make([]uint64, n*words)
	for j := 0; j < n; j++ {
		for k, v := range w[j*words : (j+1)*words] {
			wt[k*n+j] = v
		}
	}
	return wt
}

// AndGemmRowsT is AndGemmRows with the weights in word-major order (see
// TransposeWords): dst[i*n+j] = 2·popcount(row_i AND w_j) − pop[i], row i
// being segs segments of segWords words, segment s at off[i] + s·segStride
// of src.
//
// It is the form a wide-vector set computes best: each lane of a register
// accumulates one output channel of one row, fed by the broadcast
// activation word, so a row needs no horizontal reduction and no padding of
// its length to the vector width; short rows (few channels per pixel) cost
// no more per MAC than long ones. WideRows reports, per row length,
// whether this set's kernel for this form beats AndGemmRows.
func (k *Kernels) AndGemmRowsT(dst []int32, src []uint64, off, pop []int32, segs, segStride, segWords int, wt []uint64, n int) error {
	if err := checkRows("AndGemmRowsT", dst, src, off, pop, segs, segStride, segWords, len(wt), n); err != nil {
		return err
	}
	m := len(off)
	if m == 0 || n == 0 {
		return nil
	}
	if segs*segWords == 0 {
		for i := range m {
			for j := range n {
				dst[i*n+j] = -pop[i]
			}
		}
		return nil
	}
	k.andGemmRowsT(dst[:m*n], src, off, pop[:m], segs, segStride, segWords, wt[:n*segs*segWords], n)
	return nil
}

// AndConvRowsT is AndGemmRowsT followed by a binary conv's per-channel
// affine, written straight to the output rows: for row i,
// out[orow[i]*n+j] = float32(float32(acc_ij)·scale[j]) + bias[j], with
// acc_ij = Σ s·w as AndGemmRowsT computes it and float32 operations
// rounded one at a time (no fused multiply-add). Rows of out not named in
// orow are left alone.
func (k *Kernels) AndConvRowsT(out []float32, orow []int32, src []uint64, off, pop []int32, segs, segStride, segWords int, wt []uint64, n int, scale, bias []float32) error {
	if err := checkRows("AndConvRowsT", nil, src, off, pop, segs, segStride, segWords, len(wt), n); err != nil {
		return err
	}
	m := len(off)
	if len(orow) < m {
		return fmt.Errorf("bitops: AndConvRowsT: orow holds %d rows, want %d", len(orow), m)
	}
	if len(scale) < n || len(bias) < n {
		return fmt.Errorf("bitops: AndConvRowsT: scale and bias hold %d and %d values, want %d", len(scale), len(bias), n)
	}
	if m == 0 || n == 0 {
		return nil
	}
	rows := len(out) / n
	for _, r := range orow[:m] {
		if r < 0 || int(r) >= rows {
			return fmt.Errorf("bitops: AndConvRowsT: output row %d outside out's %d rows of %d", r, rows, n)
		}
	}
	if segs*segWords == 0 {
		andConvRowsTCols(out, orow[:m], src, off, pop[:m], segs, segStride, segWords, wt, n, scale, bias, 0)
		return nil
	}
	k.andConvRowsT(out, orow[:m], src, off, pop[:m], segs, segStride, segWords, wt[:n*segs*segWords], n, scale[:n], bias[:n])
	return nil
}

// andConvRowsTGeneric is the reference for every set's andConvRowsT.
func andConvRowsTGeneric(out []float32, orow []int32, src []uint64, off, pop []int32, segs, segStride, segWords int, wt []uint64, n int, scale, bias []float32) {
	andConvRowsTCols(out, orow, src, off, pop, segs, segStride, segWords, wt, n, scale, bias, 0)
}

// andConvRowsTCols computes output channels j0 ≤ j < n of every row.
func andConvRowsTCols(out []float32, orow []int32, src []uint64, off, pop []int32, segs, segStride, segWords int, wt []uint64, n int, scale, bias []float32, j0 int) {
	for i, o := range off {
		d := out[int(orow[i])*n : int(orow[i]+1)*n]
		for j := j0; j < n; j++ {
			c := rowTCount(src, int(o), segs, segStride, segWords, wt, n, j)
			d[j] = float32(float32(int32(2*c)-pop[i])*scale[j]) + bias[j]
		}
	}
}

// rowTCount is popcount(row AND w_j) for the row of segs segments at o and
// channel j of the word-major weights wt (n channels).
func rowTCount(src []uint64, o, segs, segStride, segWords int, wt []uint64, n, j int) int {
	c, k := 0, 0
	for s := range segs {
		a := o + s*segStride
		for _, v := range src[a : a+segWords] {
			c += bits.OnesCount64(v & wt[k*n+j])
			k++
		}
	}
	return c
}

// WideRows reports whether AndGemmRowsT and AndConvRowsT are native
// kernels of this set and faster than AndGemmRows on rows of `words`
// words. AVX-512 measured faster on every conv shape; AVX2 (no vector
// popcount, so both forms pay the same per word) only on short rows, where
// AndGemmRows wastes most of its vectors and reductions.
func (k *Kernels) WideRows(words int) bool {
	return k.wideRows != 0 && (k.wideRows < 0 || words <= k.wideRows)
}

// andGemmRowsTGeneric is the reference for every set's andGemmRowsT.
func andGemmRowsTGeneric(dst []int32, src []uint64, off, pop []int32, segs, segStride, segWords int, wt []uint64, n int) {
	andGemmRowsTCols(dst, src, off, pop, segs, segStride, segWords, wt, n, 0, n)
}

// andGemmRowsTCols computes output channels j0 ≤ j < j1 of every row; the
// SIMD wrappers use it for the channels past their last full block.
func andGemmRowsTCols(dst []int32, src []uint64, off, pop []int32, segs, segStride, segWords int, wt []uint64, n, j0, j1 int) {
	for i, o := range off {
		d := dst[i*n : (i+1)*n]
		for j := j0; j < j1; j++ {
			c := rowTCount(src, int(o), segs, segStride, segWords, wt, n, j)
			d[j] = int32(2*c) - pop[i]
		}
	}
}

// checkRows validates the arguments shared by AndGemmRows and AndGemmRowsT.
func checkRows(op string, dst []int32, src []uint64, off, pop []int32, segs, segStride, segWords, lw, n int) error {
	m := len(off)
	if segs < 0 || segStride < 0 || segWords < 0 || n < 0 {
		return fmt.Errorf("bitops: %s: negative shape segs=%d segStride=%d segWords=%d n=%d", op, segs, segStride, segWords, n)
	}
	const maxElems = 1 << 40
	if segs != 0 && segWords > maxElems/segs || segs != 0 && segStride > maxElems/segs {
		return fmt.Errorf("bitops: %s: shape segs=%d segStride=%d segWords=%d is too large", op, segs, segStride, segWords)
	}
	words := segs * segWords
	if n != 0 && words > maxElems/n || m != 0 && n > maxElems/m {
		return fmt.Errorf("bitops: %s: shape m=%d n=%d words=%d is too large", op, m, n, words)
	}
	if len(pop) < m {
		return fmt.Errorf("bitops: %s: pop holds %d counts, %d rows need %d", op, len(pop), m, m)
	}
	if lw < n*words {
		return fmt.Errorf("bitops: %s: weights hold %d words, %d rows of %d need %d", op, lw, n, words, n*words)
	}
	if dst != nil && len(dst) < m*n {
		return fmt.Errorf("bitops: %s: dst holds %d values, needs %d", op, len(dst), m*n)
	}
	if m == 0 || words == 0 {
		return nil
	}
	// Every row must lie inside src: its first word at off[i] ≥ 0 and its
	// last at off[i] + (segs−1)·segStride + segWords − 1 < len(src).
	span := (segs-1)*segStride + segWords
	lo, hi := off[0], off[0]
	for _, o := range off {
		lo, hi = min(lo, o), max(hi, o)
	}
	if lo < 0 || int(hi) > len(src)-span {
		return fmt.Errorf("bitops: %s: row offsets %d..%d with span %d words leave src of %d words", op, lo, hi, span, len(src))
	}
	return nil
}
