package bitops

import (
	"fmt"
	"math"
)

// The float64 GEMM of bsnn's full-precision layers (the stem conv on the
// image, fp32/int8 shortcut convs, the classifier): every output is one
// float64 accumulator summed over the reduction index in increasing order,
// exactly as the float reference sums it, so results match it bit for bit.
// Speed comes from computing many outputs at once (SIMD lanes are output
// channels, register blocks are rows × channels), never from splitting or
// reordering a sum.
//
// The kernels use fused multiply-add. That is exact here only because every
// product is of two float32-representable values (a float32 activation and
// a float32, int8 or ±1 weight): such a product has at most 48 significant
// bits and an exponent well inside float64's range, so it is exact in
// float64 and fma(a, w, s) rounds the same sum as s + a·w does.
//
// Zero terms may be skipped: an accumulator starts at +0, a sum of finite
// values can only become −0 from −0 + −0, so adding a ±0 product (a zero
// activation times a finite weight) never changes it.

// F64BlockRows is the number of patch rows F64Gemm computes per pass over the
// weights in every kernel set; the zero-skipping of a pass can skip a
// reduction index only when it is zero in all of the block's rows.
const F64BlockRows = 8

// F64Gemm computes acc[r·n+o] = Σ_{i=0..kk−1, in order} a[r·kk+i]·wT[i·n+o]
// for r < m, o < n, each sum in one float64 accumulator starting at +0.
// a holds m patch rows of kk values and wT the weights transposed (row i is
// reduction index i for all n outputs). Every a and wT value must be a
// float32 value (float64(float32 x), e.g. a converted int8): the kernels
// rely on products being exact (see the package comment of this file), and
// wT must be finite so that zero terms can be skipped.
//
// skip, when non-nil, is scratch of at least kk int32s that lets a block of
// F64BlockRows rows visit only the indices i where some row of the block is
// non-zero, when that saves enough; the result is the same either way. Pass
// nil for dense inputs (images), where looking for zeros costs time.
func (k *Kernels) F64Gemm(acc []float64, a []float64, m, kk int, wT []float64, n int, skip []int32) error {
	if err := checkF64Gemm("F64Gemm", a, m, kk, wT, n, skip); err != nil {
		return err
	}
	if len(acc) < m*n {
		return fmt.Errorf("bitops: F64Gemm: acc holds %d values, needs %d", len(acc), m*n)
	}
	f64GemmDrive(k, acc, nil, a, m, kk, wT, n, nil, nil, skip)
	return nil
}

// F64GemmScaled is F64Gemm followed by the conv epilogue of bsnn's
// semantics: dst[r·n+o] = float32(float32(acc)·scale[o]) + bias[o], each
// operation rounded to float32 (no fused multiply-add).
func (k *Kernels) F64GemmScaled(dst []float32, a []float64, m, kk int, wT []float64, n int, scale, bias []float32, skip []int32) error {
	if err := checkF64Gemm("F64GemmScaled", a, m, kk, wT, n, skip); err != nil {
		return err
	}
	if len(dst) < m*n {
		return fmt.Errorf("bitops: F64GemmScaled: dst holds %d values, needs %d", len(dst), m*n)
	}
	if len(scale) < n || len(bias) < n {
		return fmt.Errorf("bitops: F64GemmScaled: scale and bias hold %d and %d values, need %d", len(scale), len(bias), n)
	}
	f64GemmDrive(k, nil, dst, a, m, kk, wT, n, scale, bias, skip)
	return nil
}

func checkF64Gemm(name string, a []float64, m, kk int, wT []float64, n int, skip []int32) error {
	if m < 0 || kk < 0 || n < 0 {
		return fmt.Errorf("bitops: %s: negative shape m=%d k=%d n=%d", name, m, kk, n)
	}
	const maxElems = min(1<<40, math.MaxInt)
	if kk != 0 && (m > maxElems/kk || n > maxElems/kk) || m != 0 && n > maxElems/m {
		return fmt.Errorf("bitops: %s: shape m=%d k=%d n=%d is too large", name, m, kk, n)
	}
	if len(a) < m*kk {
		return fmt.Errorf("bitops: %s: a holds %d values, %d rows of %d need %d", name, len(a), m, kk, m*kk)
	}
	if len(wT) < kk*n {
		return fmt.Errorf("bitops: %s: wT holds %d values, %d×%d need %d", name, len(wT), kk, n, kk*n)
	}
	if skip != nil && len(skip) < kk {
		return fmt.Errorf("bitops: %s: skip scratch holds %d indices, needs %d", name, len(skip), kk)
	}
	return nil
}

// f64Block is one pass of a set's float64 GEMM kernel: F64BlockRows rows of
// a (the rows of a short last block repeat an earlier row, so the kernel
// always computes full blocks; a repeated row writes the same values to the
// same place) against all n columns of wT. Exactly one of acc and out is
// used: acc receives the sums, out the scaled outputs. It is passed by
// value: a pointer handed to a kernel set's func field would escape and
// cost an allocation per call.
type f64Block struct {
	a   [F64BlockRows][]float64 // kk values each
	acc [F64BlockRows][]float64 // n values each, or nil
	out [F64BlockRows][]float32 // n values each, or nil
}

// f64GemmDrive splits the rows into blocks, builds each block's index list
// when skipping pays, and runs the set's block kernel.
func f64GemmDrive(k *Kernels, acc []float64, out []float32, a []float64, m, kk int, wT []float64, n int, scale, bias []float32, skip []int32) {
	if m == 0 || n == 0 {
		return
	}
	wT = wT[:kk*n]
	gemm := k.f64Gemm
	if kk == 0 {
		gemm = f64GemmGeneric // every sum is +0; the SIMD kernels need kk ≥ 1
	}
	var b f64Block
	for r0 := 0; r0 < m; r0 += F64BlockRows {
		for j := range F64BlockRows {
			r := min(r0+j, m-1)
			b.a[j] = a[r*kk : (r+1)*kk : (r+1)*kk]
			if out != nil {
				b.out[j] = out[r*n : (r+1)*n : (r+1)*n]
			} else {
				b.acc[j] = acc[r*n : (r+1)*n : (r+1)*n]
			}
		}
		var idx []int32
		if skip != nil {
			idx = nonzeroUnion(skip[:kk], &b.a)
			if len(idx)*100 >= kk*k.f64SkipPct {
				idx = nil
			}
		}
		gemm(b, wT, kk, n, idx, scale, bias)
	}
}

// nonzeroUnion writes to dst, in increasing order, the indices at which any
// row of the block is non-zero (−0 counts as zero), and returns them.
func nonzeroUnion(dst []int32, a *[F64BlockRows][]float64) []int32 {
	a0 := a[0]
	n := len(a0)
	a1, a2, a3, a4, a5, a6, a7 := a[1][:n], a[2][:n], a[3][:n], a[4][:n], a[5][:n], a[6][:n], a[7][:n]
	dst = dst[:n]
	c := 0
	for i, x := range a0 {
		u := math.Float64bits(x) | math.Float64bits(a1[i]) | math.Float64bits(a2[i]) | math.Float64bits(a3[i]) |
			math.Float64bits(a4[i]) | math.Float64bits(a5[i]) | math.Float64bits(a6[i]) | math.Float64bits(a7[i])
		// Shifting out the sign bit leaves zero only for ±0.
		dst[c] = int32(i)
		if u<<1 != 0 {
			c++
		}
	}
	return dst[:c]
}

// f64GemmGeneric is the reference block kernel every set is tested against.
func f64GemmGeneric(b f64Block, wT []float64, kk, n int, idx []int32, scale, bias []float32) {
	f64ColsGeneric(&b, wT, kk, n, 0, idx, scale, bias)
}

// f64ColsGeneric computes columns c0 ≤ o < n of one block (the SIMD sets'
// column tail), four rows by two columns per pass over the indices (dense,
// or those in idx), each output in its own accumulator summed in index
// order.
func f64ColsGeneric(b *f64Block, wT []float64, kk, n, c0 int, idx []int32, scale, bias []float32) {
	for h := 0; h < F64BlockRows; h += 4 {
		a0 := b.a[h][:kk]
		a1, a2, a3 := b.a[h+1][:kk], b.a[h+2][:kk], b.a[h+3][:kk]
		o := c0
		for ; o+2 <= n; o += 2 {
			var s [8]float64
			if idx != nil {
				s = f64Dot4x2Idx(a0, a1, a2, a3, wT, n, o, idx)
			} else {
				s = f64Dot4x2(a0, a1, a2, a3, wT, n, o)
			}
			f64Put(b, h, o, s[0:2], s[2:4], s[4:6], s[6:8], scale, bias)
		}
		if o < n {
			var s [4]float64
			if idx != nil {
				s = f64Dot4x1Idx(a0, a1, a2, a3, wT, n, o, idx)
			} else {
				s = f64Dot4x1(a0, a1, a2, a3, wT, n, o)
			}
			f64Put(b, h, o, s[0:1], s[1:2], s[2:3], s[3:4], scale, bias)
		}
	}
}

// f64Put stores the sums of columns o, o+1, … of the block's rows h..h+3.
func f64Put(b *f64Block, h, o int, s0, s1, s2, s3 []float64, scale, bias []float32) {
	for j, s := range [4][]float64{s0, s1, s2, s3} {
		r := h + j
		if b.out[r] != nil {
			d := b.out[r][o : o+len(s)]
			for j, v := range s {
				d[j] = float32(float32(v)*scale[o+j]) + bias[o+j]
			}
		} else {
			copy(b.acc[r][o:o+len(s)], s)
		}
	}
}

// The dot kernels spell each product as float64(x·w) so the compiler cannot
// fuse it with the add: the generic set is the plain mul-then-add order the
// other sets are compared with (fusing would give the same sums, the products
// being exact, but the twin should not rely on what it is there to check).

// f64Dot4x2 returns the sums of rows a0..a3 against columns o and o+1 of w
// (row stride n), row-major: a0·w0, a0·w1, a1·w0, …
func f64Dot4x2(a0, a1, a2, a3, w []float64, n, o int) [8]float64 {
	var s0, s1, s2, s3, s4, s5, s6, s7 float64
	for i, x0 := range a0 {
		wi := w[i*n+o : i*n+o+2]
		v0, v1 := wi[0], wi[1]
		x1, x2, x3 := a1[i], a2[i], a3[i]
		s0 += float64(x0 * v0)
		s1 += float64(x0 * v1)
		s2 += float64(x1 * v0)
		s3 += float64(x1 * v1)
		s4 += float64(x2 * v0)
		s5 += float64(x2 * v1)
		s6 += float64(x3 * v0)
		s7 += float64(x3 * v1)
	}
	return [8]float64{s0, s1, s2, s3, s4, s5, s6, s7}
}

// f64Dot4x2Idx is f64Dot4x2 over the indices in idx only.
func f64Dot4x2Idx(a0, a1, a2, a3, w []float64, n, o int, idx []int32) [8]float64 {
	var s0, s1, s2, s3, s4, s5, s6, s7 float64
	for _, i := range idx {
		wi := w[int(i)*n+o : int(i)*n+o+2]
		v0, v1 := wi[0], wi[1]
		x0, x1, x2, x3 := a0[i], a1[i], a2[i], a3[i]
		s0 += float64(x0 * v0)
		s1 += float64(x0 * v1)
		s2 += float64(x1 * v0)
		s3 += float64(x1 * v1)
		s4 += float64(x2 * v0)
		s5 += float64(x2 * v1)
		s6 += float64(x3 * v0)
		s7 += float64(x3 * v1)
	}
	return [8]float64{s0, s1, s2, s3, s4, s5, s6, s7}
}

// f64Dot4x1 returns the sums of rows a0..a3 against column o of w.
func f64Dot4x1(a0, a1, a2, a3, w []float64, n, o int) [4]float64 {
	var s0, s1, s2, s3 float64
	for i, x0 := range a0 {
		v := w[i*n+o]
		s0 += float64(x0 * v)
		s1 += float64(a1[i] * v)
		s2 += float64(a2[i] * v)
		s3 += float64(a3[i] * v)
	}
	return [4]float64{s0, s1, s2, s3}
}

// f64Dot4x1Idx is f64Dot4x1 over the indices in idx only.
func f64Dot4x1Idx(a0, a1, a2, a3, w []float64, n, o int, idx []int32) [4]float64 {
	var s0, s1, s2, s3 float64
	for _, i := range idx {
		v := w[int(i)*n+o]
		s0 += float64(a0[i] * v)
		s1 += float64(a1[i] * v)
		s2 += float64(a2[i] * v)
		s3 += float64(a3[i] * v)
	}
	return [4]float64{s0, s1, s2, s3}
}
