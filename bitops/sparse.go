package bitops

import (
	"math/bits"
	"sync"
)

// SparseStats reports the work AndGemmSparse or AndGemmEvents did and the
// work it skipped.
// Event-driven layers sum these to report firing rates and skipped work.
type SparseStats struct {
	// Rows is the number of activation rows (m).
	Rows int64
	// SkippedRows counts all-zero rows: their outputs were written as 0 and
	// no weight was read for them.
	SkippedRows int64
	// DenseRows counts rows run through the dense kernel because too few of
	// their words were zero for skipping to pay (see Kernels.AndGemmSparse).
	DenseRows int64
	// Words is the number of activation words (m·words).
	Words int64
	// SkippedWords counts activation words never multiplied with any weight
	// row, including every word of a skipped row.
	SkippedWords int64
	// Spikes counts the set activation bits scattered by AndGemmEvents (0
	// for AndGemmSparse).
	Spikes int64
}

// Add accumulates o into s, for callers that sum the stats of many calls.
func (s *SparseStats) Add(o SparseStats) {
	s.Rows += o.Rows
	s.SkippedRows += o.SkippedRows
	s.DenseRows += o.DenseRows
	s.Words += o.Words
	s.SkippedWords += o.SkippedWords
	s.Spikes += o.Spikes
}

// AllZero reports whether every word of x is zero: a silent spike vector.
func AllZero(x []uint64) bool {
	var or uint64
	i := 0
	for ; i+4 <= len(x); i += 4 {
		if x[i]|x[i+1]|x[i+2]|x[i+3] != 0 {
			return false
		}
	}
	for ; i < len(x); i++ {
		or |= x[i]
	}
	return or == 0
}

// NonZeroWords returns how many words of x are non-zero, the number of words
// a word-skipping kernel has to touch.
func NonZeroWords(x []uint64) int {
	c := 0
	for _, v := range x {
		if v != 0 {
			c++
		}
	}
	return c
}

var blockPool = sync.Pool{New: func() any { return new([]int32) }}

// AndGemmSparse computes the same dst as AndGemm, bit for bit, and skips
// work on zero activations, the basis of event-driven execution:
//   - an all-zero activation row costs one scan: its outputs are 0 (no
//     spikes, so Σ s·w = 0) and no weight is read;
//   - within a row, blocks of all-zero words are skipped. A block is one
//     SIMD register of the set (1 word for generic, 4 for avx2, 8 for
//     avx512, 2 for neon), because testing finer than the register costs
//     more than it saves;
//   - a row with too few words in zero blocks for skipping to pay (under
//     1/12 of the row for generic, 1/4 for avx2, measured on conv rows)
//     runs through the dense kernel, counted in DenseRows; runs of such rows
//     are batched into one dense GEMM call.
//
// The returned stats say what was skipped. Rows at a random 10 % spike rate
// have almost no all-zero words (0.9^64 ≈ 0.1 %), so skipping pays only for
// structured silence: silent pixels, channels or whole samples.
func (k *Kernels) AndGemmSparse(dst []int32, s []uint64, m int, w []uint64, n, words int) (SparseStats, error) {
	if err := checkGemm("AndGemmSparse", len(dst), len(s), m, len(w), n, words); err != nil {
		return SparseStats{}, err
	}
	st := SparseStats{Rows: int64(m), Words: int64(m) * int64(words)}
	if m == 0 {
		return st, nil
	}
	s, w, dst = s[:m*words], w[:n*words], dst[:m*n]
	bw := k.blockWords
	nfull := words / bw
	tailWords := words - nfull*bw
	bp := blockPool.Get().(*[]int32)
	if cap(*bp) < nfull {
		*bp = make([]int32, 0, nfull)
	}
	run := -1 // first row of the pending run of dense rows, or -1
	flush := func(end int) {
		if run >= 0 && n > 0 {
			k.andGemm(dst[run*n:end*n], s[run*words:end*words], end-run, w, n, words)
		}
		run = -1
	}
	for i := 0; i < m; i++ {
		row := s[i*words : (i+1)*words]
		blocks := (*bp)[:0]
		ps := 0
		for b := 0; b < nfull; b++ {
			var or uint64
			for _, x := range row[b*bw : (b+1)*bw] {
				or |= x
				ps += bits.OnesCount64(x)
			}
			if or != 0 {
				blocks = append(blocks, int32(b))
			}
		}
		var tailOr uint64
		for _, x := range row[nfull*bw:] {
			tailOr |= x
			ps += bits.OnesCount64(x)
		}
		tail := tailOr != 0
		live := len(blocks) * bw
		if tail {
			live += tailWords
		}
		skip := words - live
		switch {
		case live == 0:
			flush(i)
			clear(dst[i*n : (i+1)*n])
			st.SkippedRows++
			st.SkippedWords += int64(words)
		case skip*k.skipDiv < words:
			st.DenseRows++
			if run < 0 {
				run = i
			}
		default:
			flush(i)
			if n > 0 {
				k.andRowBlocks(dst[i*n:(i+1)*n], row, blocks, tail, w, n, words, ps)
			}
			st.SkippedWords += int64(skip)
		}
	}
	flush(m)
	blockPool.Put(bp)
	return st, nil
}
