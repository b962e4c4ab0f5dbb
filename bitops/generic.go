package bitops

import "math/bits"

// The generic kernels are the reference every SIMD set is checked against.
// They are untagged so they exist on every platform and build. They are also
// the fallback for the row and column tails the SIMD kernels leave to Go.
//
// The GEMM kernels run one 4× unrolled AND/XOR-popcount per output, with
// four independent counters to keep the popcount units busy. Blocking four
// weight rows per pass (one activation load for four popcounts) measured
// slower on amd64: it needs more live registers than Go keeps across the
// bits.OnesCount64 fallback call, so the loop spills.

func popcountGeneric(x []uint64) int {
	var c0, c1, c2, c3 int
	i := 0
	for ; i+4 <= len(x); i += 4 {
		c0 += bits.OnesCount64(x[i])
		c1 += bits.OnesCount64(x[i+1])
		c2 += bits.OnesCount64(x[i+2])
		c3 += bits.OnesCount64(x[i+3])
	}
	for ; i < len(x); i++ {
		c0 += bits.OnesCount64(x[i])
	}
	return c0 + c1 + c2 + c3
}

func andPopcountGeneric(a, b []uint64) int {
	b = b[:len(a)]
	var c0, c1, c2, c3 int
	i := 0
	for ; i+4 <= len(a); i += 4 {
		c0 += bits.OnesCount64(a[i] & b[i])
		c1 += bits.OnesCount64(a[i+1] & b[i+1])
		c2 += bits.OnesCount64(a[i+2] & b[i+2])
		c3 += bits.OnesCount64(a[i+3] & b[i+3])
	}
	for ; i < len(a); i++ {
		c0 += bits.OnesCount64(a[i] & b[i])
	}
	return c0 + c1 + c2 + c3
}

func xorPopcountGeneric(a, b []uint64) int {
	b = b[:len(a)]
	var c0, c1, c2, c3 int
	i := 0
	for ; i+4 <= len(a); i += 4 {
		c0 += bits.OnesCount64(a[i] ^ b[i])
		c1 += bits.OnesCount64(a[i+1] ^ b[i+1])
		c2 += bits.OnesCount64(a[i+2] ^ b[i+2])
		c3 += bits.OnesCount64(a[i+3] ^ b[i+3])
	}
	for ; i < len(a); i++ {
		c0 += bits.OnesCount64(a[i] ^ b[i])
	}
	return c0 + c1 + c2 + c3
}

func andGemmGeneric(dst []int32, s []uint64, m int, w []uint64, n, words int) {
	for i := 0; i < m; i++ {
		andRowGeneric(dst[i*n:(i+1)*n], s[i*words:(i+1)*words], w, 0, n, words)
	}
}

// andRowGeneric computes dst[j-j0] = Σ s·w_j for weight rows j0 ≤ j < n. The
// SIMD sets call it for the weight rows past their last full block.
func andRowGeneric(dst []int32, row []uint64, w []uint64, j0, n, words int) {
	ps := popcountGeneric(row)
	out := dst[:n-j0]
	for j := j0; j < n; j++ {
		out[j-j0] = int32(2*andPopcountGeneric(row, w[j*words:(j+1)*words]) - ps)
	}
}

func xnorGemmGeneric(dst []int32, a []uint64, m int, w []uint64, n, words, nbits int) {
	for i := 0; i < m; i++ {
		xnorRowGeneric(dst[i*n:(i+1)*n], a[i*words:(i+1)*words], w, 0, n, words, nbits)
	}
}

// xnorRowGeneric computes dst[j-j0] = Σ a·w_j for weight rows j0 ≤ j < n.
func xnorRowGeneric(dst []int32, row []uint64, w []uint64, j0, n, words, nbits int) {
	out := dst[:n-j0]
	for j := j0; j < n; j++ {
		out[j-j0] = int32(nbits - 2*xorPopcountGeneric(row, w[j*words:(j+1)*words]))
	}
}

// andRowBlocksGeneric is the word-granular sparse row kernel: blocks lists
// the indices of the non-zero words of s (blockWords is 1, so there is never
// a tail). Four weight rows share each index and activation word load.
func andRowBlocksGeneric(dst []int32, s []uint64, blocks []int32, _ bool, w []uint64, n, words, ps int) {
	out := dst[:n]
	j := 0
	for ; j+4 <= n; j += 4 {
		w0 := w[j*words : (j+1)*words]
		w1 := w[(j+1)*words : (j+2)*words]
		w2 := w[(j+2)*words : (j+3)*words]
		w3 := w[(j+3)*words : (j+4)*words]
		var c0, c1, c2, c3 int
		for _, b := range blocks {
			v := s[b]
			c0 += bits.OnesCount64(v & w0[b])
			c1 += bits.OnesCount64(v & w1[b])
			c2 += bits.OnesCount64(v & w2[b])
			c3 += bits.OnesCount64(v & w3[b])
		}
		o := out[j : j+4]
		o[0] = int32(2*c0 - ps)
		o[1] = int32(2*c1 - ps)
		o[2] = int32(2*c2 - ps)
		o[3] = int32(2*c3 - ps)
	}
	for ; j < n; j++ {
		wj := w[j*words : (j+1)*words]
		c := 0
		for _, b := range blocks {
			c += bits.OnesCount64(s[b] & wj[b])
		}
		out[j] = int32(2*c - ps)
	}
}

// peakGeneric is the generic set's compute peak: 4×4 words held in
// variables, sixteen AND + bits.OnesCount64 + add per pass (the gc
// compiler does not hoist the loop-invariant popcounts; checked in the
// disassembly).
func peakGeneric(a, b []uint64, reps int) int {
	a0, a1, a2, a3 := a[0], a[1], a[2], a[3]
	b0, b1, b2, b3 := b[0], b[1], b[2], b[3]
	var c0, c1, c2, c3 int
	for range reps * PeakWords / 16 {
		c0 += bits.OnesCount64(a0&b0) + bits.OnesCount64(a0&b1) + bits.OnesCount64(a0&b2) + bits.OnesCount64(a0&b3)
		c1 += bits.OnesCount64(a1&b0) + bits.OnesCount64(a1&b1) + bits.OnesCount64(a1&b2) + bits.OnesCount64(a1&b3)
		c2 += bits.OnesCount64(a2&b0) + bits.OnesCount64(a2&b1) + bits.OnesCount64(a2&b2) + bits.OnesCount64(a2&b3)
		c3 += bits.OnesCount64(a3&b0) + bits.OnesCount64(a3&b1) + bits.OnesCount64(a3&b2) + bits.OnesCount64(a3&b3)
	}
	return c0 + c1 + c2 + c3
}
