package bitops

import "fmt"

// PeakWords is the length, in words, of each buffer PopcountPeak runs over:
// 3.75 KiB, so both buffers stay in any L1 data cache, and a multiple of
// every set's unroll.
const PeakWords = 480

// PopcountPeak runs the set's tightest AND-popcount loop reps times over a
// and b (PeakWords words each) and returns the total popcount(a AND b). It is
// the yardstick for "fraction of the popcount peak": the same instruction
// sequence the set's GEMM uses, without the GEMM's blocking, loads of new
// data or reductions. Time it; the count only keeps the work observable.
func (k *Kernels) PopcountPeak(a, b []uint64, reps int) (int, error) {
	if len(a) != PeakWords || len(b) != PeakWords {
		return 0, fmt.Errorf("bitops: PopcountPeak: buffers have %d and %d words, need %d each", len(a), len(b), PeakWords)
	}
	if reps < 0 {
		return 0, fmt.Errorf("bitops: PopcountPeak: negative repetition count %d", reps)
	}
	return k.peak(a, b, reps), nil
}
