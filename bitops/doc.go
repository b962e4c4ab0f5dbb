// Package bitops packs binary activations and weights into 64-bit words and
// multiplies them with AND/XNOR-popcount kernels, choosing the fastest
// implementation for the CPU at run time. Every binary layer of bsnn, at
// inference and in fine-tuning, runs through it.
//
// # Packing
//
// Bit i of word j holds element 64·j+i (little-endian words). A weight bit 1
// means +1, 0 means −1; a spike bit 1 means a spike. Rows of a dense layer are
// packed one after another, each Words(n) words long. Conv maps are
// channel-packed NHWC: pixel (y, x) of a c-channel map occupies
// PixelWords(c) words with channel ch at bit ch (PackCHW), so one 3×3 tap of
// a 256-channel map is 4 words. A conv weight row (one output channel,
// PackOIHW) lays its kh·kw taps out the same way, so an output pixel is one
// AND-popcount of its gathered patch (im2col) against each row. Pad bits past
// the last element are always 0: in spikes they add nothing, and in XNOR
// operands they are equal and cancel.
//
// Conv weight rows come in two named layouts. The padded layout (PackOIHW,
// ConvRowWords) starts every tap on a word boundary; it is the one of the
// model format and the inference engine, which read a patch in place from
// the map. The tight layout (PackOIHWTight, TightConvRowWords) puts tap k's
// channel ch at bit k·c+ch, with no padding between taps; the trainer
// gathers each patch into a row in that layout, which saves words when c is
// not a multiple of 64.
//
// # Arithmetic
//
// For spikes s ∈ {0,1} and weights w ∈ {−1,+1}:
//
//	Σ s·w = 2·popcount(s AND w⁺) − popcount(s)        (AndDot, AndGemv, AndGemm)
//
// and for two ±1 vectors of nbits elements:
//
//	Σ a·b = nbits − 2·popcount(a XOR b)               (XnorDot, XnorGemv, XnorGemm)
//
// Results are exact int32. Two event-driven variants return what AndGemm
// returns, bit for bit, and report their work in SparseStats:
// AndGemmSparse skips all-zero activation rows and all-zero blocks of words
// (it pays for structured silence such as silent pixels), and AndGemmEvents
// scatters each spike's weight column, prepared once with NewEventWeights,
// into bit-sliced counters, so its cost follows the number of spikes (it pays
// for low spike rates, also unstructured ones).
//
// The full-precision layers (the stem conv on the image, fp32/int8 shortcut
// convs, the classifier) use F64Gemm / F64GemmScaled: float64 dot products of
// float32 values, each summed in index order in one accumulator, so they
// equal a float reference bit for bit. SIMD lanes are output channels
// (AVX-512 8 rows × 16 channels per pass, AVX2 and NEON 4 × 8); blocks whose
// rows share zero indices can skip them exactly.
//
// # Direct convolution and the layer epilogue
//
// The inference engine's dense binary convs read rows in place from a
// channel-packed map with a zero halo (AndGemmRows: segs runs of segWords
// words, segStride apart, per row). AndGemmRowsT and AndConvRowsT take the
// weights word-major instead (TransposeWords: word k of every output
// channel side by side), so a vector of weights is word k of consecutive
// channels and each activation word is broadcast against it: every lane is
// one output and no horizontal reduction is needed. AVX-512 runs 4 rows ×
// 32 channels per block (16 zmm accumulators) on any row length; AVX2 runs
// 2 rows × 16 channels, which wins on short rows only. WideRows tells
// whether a set runs these kernels for a given row length. AndConvRowsT also
// applies the conv epilogue (float32(float32(acc)·scale)+bias) and writes
// float rows through a row map.
//
// The element-wise kernels follow the model's float contract (each float32
// operation rounded on its own, reductions in float64 in index order) and
// vectorize across channels only: ScaleBias (the epilogue alone), LIF (a
// LIF layer with its AGMM gate and float or spike shortcut, from
// pre-activations to packed spike words and their counts; AVX-512 runs a
// whole output word, four 16-lane blocks, at a time, the last partial word
// masked), StatSpatial (an AGMM gate's per-channel spatial sums) and
// AvgSpikes (an average pool over spikes through a quotient table; AVX-512
// counts 16 channels per vector and looks quotients up with VPERMI2PS).
//
// # Kernel sets
//
// A *Kernels is one complete implementation; callers hold one per engine,
// trainer or benchmark instead of reading a global:
//
//   - generic: Go with bits.OnesCount64, 4× unrolled with independent
//     counters. Always compiled (generic.go is untagged); the reference every
//     other set is tested against, and the code for their tails.
//   - avx2 (amd64, cpuid AVX2): nibble-lookup popcount (VPSHUFB on the two
//     nibbles of each byte, byte accumulators folded with VPSADBW every ≤31
//     vectors). The GEMM runs 2 activation rows × 4 weight rows per block
//     over the whole row; partial vectors use VPMASKMOVQ.
//   - avx512 (amd64, cpuid AVX512F + AVX512BW + AVX512_VPOPCNTDQ): VPANDQ /
//     VPXORQ, VPOPCNTQ and VPADDQ into 64-bit lanes. AndGemm and AndGemmRows
//     run 8 activation rows × 16 weight rows per block vectorised across
//     the rows: the 8 rows are transposed into scratch (VPGATHERQQ, read in
//     place), each word is ANDed with embedded broadcasts of 16 weight
//     words, so every lane is one output, with no horizontal reduction and
//     no partial vectors. The rows and weight rows left over run 4×4 blocks
//     along the row (16 zmm accumulators, K-masked loads for the partial
//     last vector); XnorGemm runs 2×4 blocks.
//   - neon (arm64, always): VAND/VEOR, VCNT and byte accumulators folded with
//     VUADDLV; 4×4 blocks for AndGemm and AndGemmRows (32 vector registers
//     hold 16 accumulators), 2×4 for XnorGemm and row remainders.
//
// AVX2 keeps 2×4 blocks: 16 ymm registers cannot hold 16 accumulators plus
// the operands and the lookup constants.
//
// AndGemmRows reads direct-conv rows in place. Where a set vectorises along
// the row, the segments of each block's rows are first copied into one
// contiguous scratch row, so only the row's last vector is partial rather
// than every segment's (a 3×3 conv over 256 channels has 12-word segments:
// 5 AVX-512 vectors per row instead of 6).
//
// The AndGemmEvents column adds are AVX2 assembly on avx2 and avx512 and Go
// (64 outputs per uint64 operation) on generic and neon.
//
// Available lists the sets usable on this CPU, best first; Best returns the
// first. Lookup and Select find one by name ("generic", "avx2", "avx512",
// "neon", or "best"); Select gives a tool's -kernels flag precedence over
// the BSNN_KERNELS environment variable (EnvVar), which wins over Best. An
// unknown name, or one not available on this CPU or build, is an error.
//
// The assembly does whole blocks (all words of 8, 4, 2 or 1 activation rows
// against 16 or 4 weight rows at a time). The exported methods check every length; the Go
// wrappers (avx2_amd64.go, avx512_amd64.go, neon_arm64.go) then reslice the
// operands to their exact lengths (so Go's bounds checks back the pointers
// and counts the assembly gets), run the weight rows past the last block of
// 4 in Go, and tell the race detector what the assembly reads and writes
// (race.go/norace.go, using runtime.RaceReadRange and RaceWriteRange, which
// exist in race builds only). No kernel reads or writes outside its slices;
// the tests surround every output with guard words.
//
// # Build tags
//
// The assembly files and the arch files that register the sets carry
// //go:build gc && !purego && !noasm. Building with -tags purego (the Go-wide
// convention) or -tags noasm (the klauspost convention, which cpuid also
// honours) compiles all assembly out and leaves only generic; so do gccgo
// and architectures other than amd64 and arm64 (dispatch_other.go).
//
// # Regenerating
//
// Nothing in this package is generated: the assembly is written by hand
// (avo was not used), so there is nothing to regenerate. Every routine has
// its own literal TEXT line and reads its arguments by name in its body, so
// go vet checks every frame; macros hold only inner compute sequences with
// no FP references. After editing a .s file run, from the repository root:
//
//	go vet ./bitops/
//	go test -race ./bitops/
//	go test -tags purego ./bitops/ && go test -tags noasm ./bitops/
//	GOARCH=arm64 go test -exec qemu-aarch64-static ./bitops/
//	go test -run '^$' -fuzz FuzzAndGemm -fuzztime 1m ./bitops/
//
// The AVX-512 set only runs on a CPU whose cpuid reports its features;
// set BSNN_REQUIRE_KERNELS=avx2,avx512 there to make the tests fail if it
// did not register. Benchmarks: go test -run '^$' -bench . ./bitops/, and
// the bsnn-bench kernels command for throughput against the measured
// compute peak (PopcountPeak: each set's register-blocked inner loop with
// its operands in registers and no loads).
//
// The Go assembly policy (https://go.dev/wiki/AssemblyPolicy) asks for
// assembly to be justified by benchmarks against the Go code; BenchmarkAndGemm
// and friends include the generic set for that comparison.
package bitops
