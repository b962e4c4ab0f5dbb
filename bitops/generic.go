package bitops

import "math/bits"

// The generic kernels are the reference every SIMD set is checked against.
// They are untagged so they exist on every platform and build.

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
		row := s[i*words : (i+1)*words]
		ps := popcountGeneric(row)
		out := dst[i*n : (i+1)*n]
		for j := range out {
			out[j] = int32(2*andPopcountGeneric(row, w[j*words:(j+1)*words]) - ps)
		}
	}
}

func xnorGemmGeneric(dst []int32, a []uint64, m int, w []uint64, n, words, nbits int) {
	for i := 0; i < m; i++ {
		row := a[i*words : (i+1)*words]
		out := dst[i*n : (i+1)*n]
		for j := range out {
			out[j] = int32(nbits - 2*xorPopcountGeneric(row, w[j*words:(j+1)*words]))
		}
	}
}
