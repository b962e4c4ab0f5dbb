package bitops

import "fmt"

// PeakWords is the length, in words, of each buffer PopcountPeak takes; one
// call with reps repetitions does reps·PeakWords·64 binary MACs. It is a
// multiple of every set's peak block (4×4 AVX-512 vectors are 128 words).
const PeakWords = 512

// PopcountPeak measures the set's compute limit: its best AND-popcount
// instruction sequence, register-blocked as its GEMM kernel is (4 activation
// × 4 weight vectors for AVX-512, NEON and generic words, 2×4 for AVX2,
// whose 16 ymm registers cannot hold more), with the operands kept in
// registers, so no loads, reductions or tails. It runs reps·PeakWords·64
// binary MACs on the first vectors of a and b and returns the sum of the
// block's popcounts over all passes; time it, the count only keeps the work
// observable.
func (k *Kernels) PopcountPeak(a, b []uint64, reps int) (int, error) {
	if len(a) != PeakWords || len(b) != PeakWords {
		return 0, fmt.Errorf("bitops: PopcountPeak: buffers have %d and %d words, need %d each", len(a), len(b), PeakWords)
	}
	if reps < 0 {
		return 0, fmt.Errorf("bitops: PopcountPeak: negative repetition count %d", reps)
	}
	return k.peak(a, b, reps), nil
}

// peakCount is what a set's peak loop returns: the passes times the sum of
// popcount(A_r AND B_j) over the block, A_r and B_j the r-th and j-th
// vectors of vw words of a and b.
func peakCount(a, b []uint64, reps, vw, rows, cols int) int {
	c := 0
	for r := range rows {
		for j := range cols {
			c += andPopcountGeneric(a[r*vw:(r+1)*vw], b[j*vw:(j+1)*vw])
		}
	}
	return reps * PeakWords / (rows * cols * vw) * c
}
