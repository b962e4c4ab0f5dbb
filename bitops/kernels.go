package bitops

import (
	"fmt"
	"os"
	"sort"
	"strings"
)

// Kernels is one complete implementation of the bit kernels (generic Go,
// AVX2, AVX-512, NEON). Callers hold a *Kernels per instance (an engine, a
// trainer, a benchmark) instead of reading a global, so one process can
// compare implementations and tests need no global state.
//
// The exported methods check every length and shape and return an error;
// the function fields below are only ever called with checked arguments.
type Kernels struct {
	// Name is the set's registry name: "generic", "avx2", "avx512" or "neon".
	Name string
	prio int

	// blockWords is the word granularity of AndGemmSparse's skipping: a set
	// skips all-zero blocks of this many words (one SIMD register), because
	// testing and skipping finer than the register width costs more than the
	// popcounts it saves.
	blockWords int
	// skipDiv: AndGemmSparse skips inside a row (andRowBlocks) only when at
	// least 1/skipDiv of the row's words are in all-zero blocks; below that
	// the dense kernel is faster. Measured break-even on the 3×3 256→256
	// conv rows (36 words): generic ≈ 1/12, avx2 ≈ 1/4 (its dense 2×4
	// kernel is 24 % faster than the indexed one with nothing to skip).
	// avx512 and neon reuse the avx2 value: they could not be timed here.
	skipDiv int

	// andGemm: dst[i*n+j] = 2*popcount(s_i AND w_j) - popcount(s_i) for
	// m activation rows s and n weight rows w of `words` words each.
	andGemm func(dst []int32, s []uint64, m int, w []uint64, n, words int)
	// xnorGemm: dst[i*n+j] = bits - 2*popcount(a_i XOR w_j).
	xnorGemm func(dst []int32, a []uint64, m int, w []uint64, n, words, bits int)
	// andGemmRows: AndGemmRows with checked arguments (see rows.go).
	// andGemmRowsT: AndGemmRowsT likewise (rowst.go). wideRows is the
	// longest row (in words) on which it and andConvRowsT beat
	// andGemmRows: 0 where they are the generic fallback, −1 for any
	// length.
	andGemmRowsT func(dst []int32, src []uint64, off, pop []int32, segs, segStride, segWords int, wt []uint64, n int)
	andConvRowsT func(out []float32, orow []int32, src []uint64, off, pop []int32, segs, segStride, segWords int, wt []uint64, n int, scale, bias []float32)
	wideRows     int
	andGemmRows  func(dst []int32, src []uint64, off, pop []int32, segs, segStride, segWords int, w []uint64, n int)
	// andRowBlocks: dst[j] = 2*popcount(s AND w_j) - ps, where the popcount
	// only visits the full blocks of blockWords words listed in blocks and,
	// when tail is true, the words past the last full block. The caller
	// guarantees every block not visited is zero in s.
	andRowBlocks func(dst []int32, s []uint64, blocks []int32, tail bool, w []uint64, n, words, ps int)
	// events sets the bit-sliced counter planes to the sum of the columns
	// listed in idx (at most eventFlush); see eventsGeneric.
	events func(planes, cols []uint64, colWords int, idx []int32)
	// popcount of a whole slice.
	popcount func(x []uint64) int
	// peak runs the set's register-blocked peak loop for reps·PeakWords
	// words' worth of AND-popcounts and returns peakCount's value.
	peak func(a, b []uint64, reps int) int

	// scaleBias: ScaleBias with checked arguments (m, len(scale) > 0).
	scaleBias func(dst []float32, acc []int32, m int, scale, bias []float32)
	// lif: LIF with checked arguments (C, Pixels, Steps > 0).
	lif func(r LIFRun, counts []int64)
	// statSpatial: StatSpatial with checked arguments (len(sum), pixels > 0).
	statSpatial func(sum []float64, x []float32, pixels, stride int)
	// avgSpikes: AvgSpikes with checked arguments (len(dst) > 0).
	avgSpikes func(dst []float32, src []uint64, off []int32, table []float32)
	// f64Gemm runs one block of rows of the float64 GEMM over all n
	// columns (f64gemm.go), visiting only the indices in idx when it is
	// non-nil; kk and n are at least 1.
	f64Gemm func(b f64Block, wT []float64, kk, n int, idx []int32, scale, bias []float32)
	// f64SkipPct: a block visits only its non-zero indices when they are
	// fewer than this percentage of kk; above it the dense loop is faster.
	f64SkipPct int
	// peakRows × peakCols is the peak loop's block, in vectors of
	// blockWords words.
	peakRows, peakCols int
}

// Generic is the pure-Go kernel set. It is compiled on every platform and is
// the reference every other set is tested against.
var Generic = &Kernels{
	Name:         "generic",
	prio:         0,
	blockWords:   1,
	skipDiv:      12,
	andGemm:      andGemmGeneric,
	xnorGemm:     xnorGemmGeneric,
	andGemmRows:  andGemmRowsGeneric,
	andGemmRowsT: andGemmRowsTGeneric,
	andConvRowsT: andConvRowsTGeneric,
	andRowBlocks: andRowBlocksGeneric,
	events:       eventsGeneric,
	popcount:     popcountGeneric,
	peak:         peakGeneric,
	scaleBias:    scaleBiasGeneric,
	lif:          lifGeneric,
	statSpatial:  statSpatialGeneric,
	avgSpikes:    avgSpikesGeneric,
	f64Gemm:      f64GemmGeneric,
	f64SkipPct:   75,
	peakRows:     4,
	peakCols:     4,
}

// registry is appended to only from init functions and read-only afterwards.
var registry []*Kernels

func init() { register(Generic) }

func register(k *Kernels) {
	registry = append(registry, k)
	sort.SliceStable(registry, func(i, j int) bool { return registry[i].prio > registry[j].prio })
}

// Available lists the kernel sets usable on this CPU, best first.
func Available() []*Kernels {
	out := make([]*Kernels, len(registry))
	copy(out, registry)
	return out
}

// Best returns the fastest kernel set usable on this CPU.
func Best() *Kernels { return registry[0] }

// KnownNames lists every kernel set name bsnn has on any platform.
var KnownNames = []string{"generic", "avx2", "avx512", "neon"}

// Lookup returns the kernel set with the given name. An empty name or "best"
// gives Best(). A name that exists on other CPUs but not this one, or an
// unknown name, is an error that lists what is available.
func Lookup(name string) (*Kernels, error) {
	if name == "" || name == "best" {
		return Best(), nil
	}
	for _, k := range registry {
		if k.Name == name {
			return k, nil
		}
	}
	var avail []string
	for _, k := range registry {
		avail = append(avail, k.Name)
	}
	for _, n := range KnownNames {
		if n == name {
			return nil, fmt.Errorf("bitops: kernel set %q is not available on this CPU or build (available: %s)", name, strings.Join(avail, ", "))
		}
	}
	return nil, fmt.Errorf("bitops: unknown kernel set %q (known: %s; available here: %s)", name, strings.Join(KnownNames, ", "), strings.Join(avail, ", "))
}

// EnvVar names the environment variable that selects a kernel set.
const EnvVar = "BSNN_KERNELS"

// FromEnv returns the set named by $BSNN_KERNELS, or Best() when it is unset.
func FromEnv() (*Kernels, error) {
	return Lookup(os.Getenv(EnvVar))
}

// Select resolves a -kernels flag value: a non-empty flag wins over
// $BSNN_KERNELS, which wins over Best().
func Select(flag string) (*Kernels, error) {
	if flag != "" {
		return Lookup(flag)
	}
	return FromEnv()
}

// String returns the set's registry name.
func (k *Kernels) String() string { return k.Name }
