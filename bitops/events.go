package bitops

import (
	"fmt"
	"math"
	"math/bits"
	"sync"
)

// Event-driven product. AndGemm costs m·n·words popcounts whatever the
// spikes; scattering instead costs one column add per spike: for each set
// bit b of an activation row, add weight column b (n bits, 1 where the weight
// is +1) into per-output counters c. Then Σ s·w_j = 2·c_j − k for a row with
// k spikes, exactly what AndGemm computes. The columns are prepared once per
// weight matrix (EventWeights) and stay bit-packed, so a 3×3 256→256 conv
// needs 72 KiB of them, which stays in L2.
//
// The counters are bit-sliced: plane p holds bit p of every output's count,
// one bit per output, so adding a column is a ripple-carry add over the
// planes (AND for the carry, XOR for the sum) on whole words or SIMD
// registers at once; sixteen columns at a time go through a Harley–Seal
// carry-save tree instead. Eight planes count up to 255 spikes; rows with
// more fold their planes into int32 counts every 255 spikes (flushPlanes).
//
// Spike extraction and the final planes-to-int32 pass are Go in every set;
// on avx2 they take most of the time at a 10 % spike rate (profiled), so
// that is where a faster event path would start.

// eventLaneAlign is the lane padding of a prepared column: one AVX2 register
// of bits, so every SIMD set works on whole registers.
const eventLaneAlign = 256

// eventPlanes is the number of counter bit planes; eventFlush the spikes
// they can count.
const (
	eventPlanes = 8
	eventFlush  = 1<<eventPlanes - 1
)

// EventWeights is a weight matrix prepared for AndGemmEvents: transposed to
// one bit-packed column per input bit (bit j of a column set when weight
// row j has +1 there), each padded to a multiple of 256 bits. It takes
// words·64·Stride()/8 bytes, about as much as the weights themselves once n
// is a multiple of 256, and is read-only after NewEventWeights, so
// goroutines may share it.
type EventWeights struct {
	n, words int
	colWords int      // words per column
	cols     []uint64 // column b is cols[b*colWords : (b+1)*colWords]
}

// NewEventWeights prepares n weight rows of `words` words each (the w of
// AndGemm) for AndGemmEvents.
func NewEventWeights(w []uint64, n, words int) (*EventWeights, error) {
	if n < 0 || words < 0 {
		return nil, fmt.Errorf("bitops: NewEventWeights: negative shape n=%d words=%d", n, words)
	}
	colWords := (n + eventLaneAlign - 1) / eventLaneAlign * eventLaneAlign / 64
	const maxWords = min(1<<40, math.MaxInt)
	if words != 0 && colWords > maxWords/64/words {
		return nil, fmt.Errorf("bitops: NewEventWeights: %d rows of %d words is too large", n, words)
	}
	if len(w) < n*words {
		return nil, fmt.Errorf("bitops: NewEventWeights: weights hold %d words, %d rows of %d need %d", len(w), n, words, n*words)
	}
	e := &EventWeights{n: n, words: words, colWords: colWords, cols: make([]uint64, words*64*colWords)}
	for j := 0; j < n; j++ {
		row := w[j*words : (j+1)*words]
		bit := uint64(1) << (j % 64)
		for wi, x := range row {
			for x != 0 {
				b := wi*64 + bits.TrailingZeros64(x)
				e.cols[b*colWords+j/64] |= bit
				x &= x - 1
			}
		}
	}
	return e, nil
}

// Rows returns n, the number of outputs (weight rows).
func (e *EventWeights) Rows() int { return e.n }

// Words returns the activation row length in words.
func (e *EventWeights) Words() int { return e.words }

// Stride returns the bits per prepared column: Rows() rounded up to a
// multiple of 256.
func (e *EventWeights) Stride() int { return e.colWords * 64 }

// eventScratch holds one call's spike list, counter planes and counts.
type eventScratch struct {
	idx    []int32
	counts []int32
	planes []uint64
}

var eventPool = sync.Pool{New: func() any { return new(eventScratch) }}

// AndGemmEvents computes the same dst as AndGemm(dst, s, m, w, n, words) for
// the w that e was prepared from, bit for bit, by scattering each spike's
// weight column into bit-sliced counters. Its cost is proportional to the
// number of spikes times n, not to m·n·words, so it wins over AndGemm and
// AndGemmSparse when spikes are rare; which side of the break-even a layer
// is on depends on the set and the shape (bsnn-bench kernels measures it at
// a 10 % spike rate). Rows without spikes cost one scan and are written as 0.
// The stats count rows and words as AndGemmSparse does (a zero word holds no
// spike) and the spikes scattered.
func (k *Kernels) AndGemmEvents(dst []int32, s []uint64, m int, e *EventWeights) (SparseStats, error) {
	if e == nil {
		return SparseStats{}, fmt.Errorf("bitops: AndGemmEvents: nil EventWeights")
	}
	n, words := e.n, e.words
	if err := checkGemm("AndGemmEvents", len(dst), len(s), m, n*words, n, words); err != nil {
		return SparseStats{}, err
	}
	st := SparseStats{Rows: int64(m), Words: int64(m) * int64(words)}
	sc := eventPool.Get().(*eventScratch)
	defer eventPool.Put(sc)
	cw := e.colWords
	if cap(sc.counts) < cw*64 {
		sc.counts = make([]int32, cw*64)
		sc.planes = make([]uint64, eventPlanes*cw)
	}
	counts, planes := sc.counts[:cw*64], sc.planes[:eventPlanes*cw]
	if cap(sc.idx) < words*64 {
		sc.idx = make([]int32, words*64)
	}
	idxBuf := sc.idx[:words*64]
	for i := 0; i < m; i++ {
		row := s[i*words : (i+1)*words]
		// Indexed stores rather than append: this loop runs once per spike.
		ns, zero := 0, 0
		for wi, x := range row {
			if x == 0 {
				zero++
				continue
			}
			base := int32(wi * 64)
			for x != 0 {
				idxBuf[ns] = base + int32(bits.TrailingZeros64(x))
				ns++
				x &= x - 1
			}
		}
		idx := idxBuf[:ns]
		st.SkippedWords += int64(zero)
		out := dst[i*n : (i+1)*n]
		if ns == 0 {
			clear(out)
			st.SkippedRows++
			continue
		}
		st.Spikes += int64(ns)
		if ns <= eventFlush {
			// The common case: one batch of planes, read straight into dst.
			k.events(planes, e.cols, cw, idx)
			planesToDst(out, planes, cw, bits.Len(uint(ns)), int32(ns))
			continue
		}
		clear(counts)
		for len(idx) > 0 {
			chunk := idx[:min(len(idx), eventFlush)]
			idx = idx[len(chunk):]
			k.events(planes, e.cols, cw, chunk)
			// Counts up to len(chunk) need only its bit length of planes.
			flushPlanes(counts, planes, cw, bits.Len(uint(len(chunk))))
		}
		for j := range out {
			out[j] = 2*counts[j] - int32(ns)
		}
	}
	return st, nil
}

// csa is a carry-save adder on 64 lanes: sum = a ^ b ^ c, carry = majority.
func csa(a, b, c uint64) (carry, sum uint64) {
	u := a ^ b
	return a&b | u&c, u ^ c
}

// eventsGeneric sets planes (eventPlanes planes of cw words, plane p at
// planes[p*cw:]) to the bit-sliced counts of the columns listed in idx (at
// most eventFlush of them). Columns are added sixteen at a time through a
// Harley–Seal carry-save tree into planes 0-3 (about 5 operations per
// column, and no data-dependent branch: an early-exit ripple add measured
// 3× slower on branch mispredictions); its carry-out, worth 16, ripples into
// planes 4-7.
func eventsGeneric(planes, cols []uint64, cw int, idx []int32) {
	planes = planes[:eventPlanes*cw]
	for t := 0; t < cw; t++ {
		var ones, twos, fours, eights, p4, p5, p6, p7 uint64
		col := func(k int32) uint64 { return cols[int(k)*cw+t] }
		i := 0
		for ; i+16 <= len(idx); i += 16 {
			g := idx[i : i+16 : i+16]
			var twosA, twosB, foursA, foursB, eightsA, eightsB, sixteens uint64
			twosA, ones = csa(ones, col(g[0]), col(g[1]))
			twosB, ones = csa(ones, col(g[2]), col(g[3]))
			foursA, twos = csa(twos, twosA, twosB)
			twosA, ones = csa(ones, col(g[4]), col(g[5]))
			twosB, ones = csa(ones, col(g[6]), col(g[7]))
			foursB, twos = csa(twos, twosA, twosB)
			eightsA, fours = csa(fours, foursA, foursB)
			twosA, ones = csa(ones, col(g[8]), col(g[9]))
			twosB, ones = csa(ones, col(g[10]), col(g[11]))
			foursA, twos = csa(twos, twosA, twosB)
			twosA, ones = csa(ones, col(g[12]), col(g[13]))
			twosB, ones = csa(ones, col(g[14]), col(g[15]))
			foursB, twos = csa(twos, twosA, twosB)
			eightsB, fours = csa(fours, foursA, foursB)
			sixteens, eights = csa(eights, eightsA, eightsB)
			c := p4 & sixteens
			p4 ^= sixteens
			c, p5 = p5&c, p5^c
			c, p6 = p6&c, p6^c
			p7 ^= c // at most 255 columns: no carry out of plane 7
		}
		for _, b := range idx[i:] {
			c := col(b)
			c, ones = ones&c, ones^c
			c, twos = twos&c, twos^c
			c, fours = fours&c, fours^c
			c, eights = eights&c, eights^c
			c, p4 = p4&c, p4^c
			c, p5 = p5&c, p5^c
			c, p6 = p6&c, p6^c
			p7 ^= c
		}
		planes[t], planes[cw+t], planes[2*cw+t], planes[3*cw+t] = ones, twos, fours, eights
		planes[4*cw+t], planes[5*cw+t], planes[6*cw+t], planes[7*cw+t] = p4, p5, p6, p7
	}
}

// spread[b] has bit i of b in the low bit of byte i.
var spread = func() (t [256]uint64) {
	for b := range t {
		for i := 0; i < 8; i++ {
			t[b] |= uint64(b>>i&1) << (8 * i)
		}
	}
	return
}()

// planesToDst writes out[j] = 2·count_j − spikes for the counts held in the
// first np planes: flushPlanes and the final map in one pass, for rows
// whose spikes fit one batch of planes.
func planesToDst(out []int32, planes []uint64, cw, np int, spikes int32) {
	for t := 0; t < cw && t*64 < len(out); t++ {
		for k := 0; k < 64 && t*64+k < len(out); k += 8 {
			var acc uint64
			for p := 0; p < np; p++ {
				acc += spread[planes[p*cw+t]>>k&0xff] << p
			}
			o := out[t*64+k : min(t*64+k+8, len(out))]
			for i := range o {
				o[i] = 2*int32(acc>>(8*i)&0xff) - spikes
			}
		}
	}
}

// flushPlanes adds the counts held in the first np bit-sliced planes to
// counts: for each group of 8 outputs, the plane bytes are spread into byte
// lanes and weighted by their plane (no lane exceeds eventFlush, so none
// carries into the next), then the byte lanes are widened.
func flushPlanes(counts []int32, planes []uint64, cw, np int) {
	counts = counts[:cw*64]
	for t := 0; t < cw; t++ {
		for k := 0; k < 64; k += 8 {
			var acc uint64
			for p := 0; p < np; p++ {
				acc += spread[planes[p*cw+t]>>k&0xff] << p
			}
			c := counts[t*64+k : t*64+k+8]
			c[0] += int32(acc & 0xff)
			c[1] += int32(acc >> 8 & 0xff)
			c[2] += int32(acc >> 16 & 0xff)
			c[3] += int32(acc >> 24 & 0xff)
			c[4] += int32(acc >> 32 & 0xff)
			c[5] += int32(acc >> 40 & 0xff)
			c[6] += int32(acc >> 48 & 0xff)
			c[7] += int32(acc >> 56)
		}
	}
}
