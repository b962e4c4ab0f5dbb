//go:build (amd64 || arm64) && gc && !purego && !noasm

package bitops

// Helpers shared by the Go wrappers of the assembly sets.

// andRowBlocksTail is the Go part of a SIMD set's sparse row kernel: weight
// rows j0 ≤ j < n, visiting the full blocks of bw words listed in blocks and,
// when tail is true, the words past the last full block.
func andRowBlocksTail(dst []int32, s []uint64, blocks []int32, bw int, tail bool, w []uint64, j0, n, words, ps int) {
	full := words / bw * bw
	for j := j0; j < n; j++ {
		wj := w[j*words : (j+1)*words]
		c := 0
		for _, b := range blocks {
			o := int(b) * bw
			c += andPopcountGeneric(s[o:o+bw], wj[o:o+bw])
		}
		if tail {
			c += andPopcountGeneric(s[full:], wj[full:])
		}
		dst[j] = int32(2*c - ps)
	}
}
