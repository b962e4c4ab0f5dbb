package bitops

import (
	"fmt"
	"math"
)

// WordBits is the number of elements packed into one word.
const WordBits = 64

// Words returns how many 64-bit words hold n packed elements.
func Words(n int) int { return (n + WordBits - 1) / WordBits }

// Popcount returns the number of set bits in x.
func (k *Kernels) Popcount(x []uint64) int { return k.popcount(x) }

// AndDot returns Σ s·w for a spike vector s ∈ {0,1} and a weight vector
// w ∈ {-1,+1} (bit 1 = +1): 2·popcount(s AND w) − popcount(s).
func (k *Kernels) AndDot(s, w []uint64) (int, error) {
	if len(s) != len(w) {
		return 0, fmt.Errorf("bitops: AndDot: spike vector has %d words, weight vector %d", len(s), len(w))
	}
	var out [1]int32
	k.andGemm(out[:], s, 1, w, 1, len(s))
	return int(out[0]), nil
}

// XnorDot returns Σ a·b for two ±1 vectors of nbits elements each (bit 1 =
// +1): nbits − 2·popcount(a XOR b). Pad bits beyond nbits must be equal in a
// and b (bsnn keeps them zero).
func (k *Kernels) XnorDot(a, b []uint64, nbits int) (int, error) {
	if len(a) != len(b) {
		return 0, fmt.Errorf("bitops: XnorDot: vectors have %d and %d words", len(a), len(b))
	}
	if nbits < 0 || Words(nbits) != len(a) {
		return 0, fmt.Errorf("bitops: XnorDot: %d bits need %d words, vectors have %d", nbits, Words(nbits), len(a))
	}
	var out [1]int32
	k.xnorGemm(out[:], a, 1, b, 1, len(a), nbits)
	return int(out[0]), nil
}

// AndGemv computes dst[r] = Σ s·w_r for `rows` weight rows stored back to
// back in w, each len(s) words long.
func (k *Kernels) AndGemv(dst []int32, w []uint64, rows int, s []uint64) error {
	return k.AndGemm(dst, s, 1, w, rows, len(s))
}

// XnorGemv computes dst[r] = Σ a·w_r for ±1 vectors of nbits elements.
func (k *Kernels) XnorGemv(dst []int32, w []uint64, rows int, a []uint64, nbits int) error {
	return k.XnorGemm(dst, a, 1, w, rows, len(a), nbits)
}

// AndGemm computes dst[i*n+j] = Σ s_i·w_j for m spike rows s_i and n weight
// rows w_j, every row `words` words long, stored back to back. It is the
// kernel behind binary conv (rows = output pixels) and batched linear layers.
func (k *Kernels) AndGemm(dst []int32, s []uint64, m int, w []uint64, n, words int) error {
	if err := checkGemm("AndGemm", len(dst), len(s), m, len(w), n, words); err != nil {
		return err
	}
	if m == 0 || n == 0 {
		return nil
	}
	k.andGemm(dst[:m*n], s[:m*words], m, w[:n*words], n, words)
	return nil
}

// XnorGemm computes dst[i*n+j] = Σ a_i·w_j for ±1 rows of nbits elements.
func (k *Kernels) XnorGemm(dst []int32, a []uint64, m int, w []uint64, n, words, nbits int) error {
	if err := checkGemm("XnorGemm", len(dst), len(a), m, len(w), n, words); err != nil {
		return err
	}
	if nbits < 0 || Words(nbits) != words {
		return fmt.Errorf("bitops: XnorGemm: %d bits need %d words per row, rows have %d", nbits, Words(nbits), words)
	}
	if m == 0 || n == 0 {
		return nil
	}
	k.xnorGemm(dst[:m*n], a[:m*words], m, w[:n*words], n, words, nbits)
	return nil
}

func checkGemm(op string, ldst, ls, m, lw, n, words int) error {
	if m < 0 || n < 0 || words < 0 {
		return fmt.Errorf("bitops: %s: negative shape m=%d n=%d words=%d", op, m, n, words)
	}
	// Bounds m·words, n·words and m·n well below overflow on 64-bit ints
	// and at MaxInt on 32-bit ones (32-bit ARM boards).
	const maxElems = min(1<<40, math.MaxInt)
	if m != 0 && words > maxElems/m || n != 0 && words > maxElems/n || m != 0 && n > maxElems/m {
		return fmt.Errorf("bitops: %s: shape m=%d n=%d words=%d is too large", op, m, n, words)
	}
	if ls < m*words {
		return fmt.Errorf("bitops: %s: activations hold %d words, %d rows of %d need %d", op, ls, m, words, m*words)
	}
	if lw < n*words {
		return fmt.Errorf("bitops: %s: weights hold %d words, %d rows of %d need %d", op, lw, n, words, n*words)
	}
	if ldst < m*n {
		return fmt.Errorf("bitops: %s: dst holds %d values, needs %d", op, ldst, m*n)
	}
	return nil
}
