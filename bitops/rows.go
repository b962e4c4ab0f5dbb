package bitops

import (
	"fmt"
	"math"
)

// AndGemmRows is the AND-popcount GEMM of a direct convolution: its
// activation rows are read in place from a channel-packed spike map instead
// of being gathered into a patch matrix (im2col).
//
// Row i (of m = len(off)) is the concatenation of segs segments of segWords
// words each; segment s starts at word off[i] + s·segStride of src. For a
// K×K conv over a map stored with a zero halo of the conv's padding, a
// segment is one kernel row (K neighbouring pixels, K·words-per-pixel
// words), segStride is one map row, and off[i] is the top-left tap of
// output pixel i. Weight row j is the segs·segWords words of w starting at
// j·segs·segWords, in the same tap order. pop[i] must be popcount(row i).
//
// dst[i*n+j] = 2·popcount(row_i AND w_j) − pop[i] = Σ s·w over the row.
func (k *Kernels) AndGemmRows(dst []int32, src []uint64, off, pop []int32, segs, segStride, segWords int, w []uint64, n int) error {
	m := len(off)
	if segs < 0 || segStride < 0 || segWords < 0 || n < 0 {
		return fmt.Errorf("bitops: AndGemmRows: negative shape segs=%d segStride=%d segWords=%d n=%d", segs, segStride, segWords, n)
	}
	const maxElems = min(1<<40, math.MaxInt)
	if segs != 0 && segWords > maxElems/segs || segs != 0 && segStride > maxElems/segs {
		return fmt.Errorf("bitops: AndGemmRows: shape segs=%d segStride=%d segWords=%d is too large", segs, segStride, segWords)
	}
	words := segs * segWords
	if n != 0 && words > maxElems/n || m != 0 && n > maxElems/m {
		return fmt.Errorf("bitops: AndGemmRows: shape m=%d n=%d words=%d is too large", m, n, words)
	}
	if len(pop) < m {
		return fmt.Errorf("bitops: AndGemmRows: pop holds %d counts, %d rows need %d", len(pop), m, m)
	}
	if len(w) < n*words {
		return fmt.Errorf("bitops: AndGemmRows: weights hold %d words, %d rows of %d need %d", len(w), n, words, n*words)
	}
	if len(dst) < m*n {
		return fmt.Errorf("bitops: AndGemmRows: dst holds %d values, needs %d", len(dst), m*n)
	}
	if m == 0 || n == 0 {
		return nil
	}
	if words == 0 {
		for i := range m {
			for j := range n {
				dst[i*n+j] = -pop[i]
			}
		}
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
		return fmt.Errorf("bitops: AndGemmRows: row offsets %d..%d with span %d words leave src of %d words", lo, hi, span, len(src))
	}
	k.andGemmRows(dst[:m*n], src, off, pop[:m], segs, segStride, segWords, w[:n*words], n)
	return nil
}

// RowPopcount returns popcount(row) for a row laid out as AndGemmRows reads
// it: segs segments of segWords words, segment s at off + s·segStride.
func (k *Kernels) RowPopcount(src []uint64, off, segs, segStride, segWords int) int {
	c := 0
	for s := range segs {
		o := off + s*segStride
		c += k.popcount(src[o : o+segWords])
	}
	return c
}

// andGemmRowsGeneric is the reference for every set's andGemmRows: one
// AND-popcount per output over the row's segments.
func andGemmRowsGeneric(dst []int32, src []uint64, off, pop []int32, segs, segStride, segWords int, w []uint64, n int) {
	words := segs * segWords
	for i, o := range off {
		d := dst[i*n : (i+1)*n]
		for j := range d {
			wj := w[j*words : (j+1)*words]
			c := 0
			for s := range segs {
				a := int(o) + s*segStride
				c += andPopcountGeneric(src[a:a+segWords], wj[s*segWords:(s+1)*segWords])
			}
			d[j] = int32(2*c) - pop[i]
		}
	}
}
