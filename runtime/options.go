package runtime

import (
	"fmt"
	"math"
	goruntime "runtime"

	"github.com/bsnn/bsnn/bitops"
)

// Execution chooses how binary layers run.
type Execution uint8

// Execution modes.
const (
	// Auto picks, per layer and call, the sparse kernel when the layer's
	// input is sparse enough (see WithSparseThreshold) and the dense one
	// otherwise.
	Auto Execution = iota
	// Dense always runs the dense AND-popcount GEMM (all-zero patch rows and
	// silent steps are still skipped).
	Dense
	// Sparse always runs the kernel that skips all-zero spike words.
	Sparse
)

func (x Execution) String() string {
	switch x {
	case Auto:
		return "auto"
	case Dense:
		return "dense"
	case Sparse:
		return "sparse"
	}
	return fmt.Sprintf("execution(%d)", uint8(x))
}

// ParseExecution parses "auto", "dense" or "sparse".
func ParseExecution(s string) (Execution, error) {
	switch s {
	case "auto", "":
		return Auto, nil
	case "dense":
		return Dense, nil
	case "sparse":
		return Sparse, nil
	}
	return 0, fmt.Errorf("runtime: unknown execution mode %q (want auto, dense or sparse)", s)
}

// DefaultSparseThreshold is Auto's default switch point for kernel sets
// without a wide-row direct-conv kernel (bitops.Kernels.WideRows): a binary
// layer whose input has fewer than this fraction of non-zero 64-bit spike
// words runs the sparse kernel. A word-skipping kernel's cost follows the
// fraction of non-zero words, not the firing rate (at a uniform 10 % rate
// almost no 64-channel word is zero). Measured with BenchmarkBinConvDensity
// (3×3 conv 256→256, 16×16, avx2, best of 60 runs): sparse/dense time is
// 1.01 at 50 % non-zero words, 0.94 at 30 %, 0.80 at 20 % and 0.55 at 10 %.
//
// Where the set has a wide-row kernel (avx512), Auto runs dense unless
// WithSparseThreshold says otherwise: the same benchmark measured the direct
// conv faster than the sparse kernel at every density down to 5 % non-zero
// words (0.37 ms against 0.51 ms there, 0.49 against 0.80 ms at 100 %).
const DefaultSparseThreshold = 0.35

type config struct {
	kernels     *bitops.Kernels
	kernelsName string
	threads     int
	exec        Execution
	threshold   float64
	thresholdOK bool // set by WithSparseThreshold
	seed        uint64
	batch       int
	trace       bool
	traceFused  bool // tests: trace, but keep AGMM/Add → LIF fusion
	err         error
}

// Option configures New.
type Option func(*config)

// WithKernels selects the bit kernel set (default bitops.Best()).
func WithKernels(k *bitops.Kernels) Option {
	return func(c *config) {
		if k == nil {
			c.err = fmt.Errorf("runtime: WithKernels(nil)")
		}
		c.kernels = k
	}
}

// WithKernelsName selects the bit kernel set by name ("generic", "avx2",
// "avx512", "neon", "best"); New fails if it is not available here.
func WithKernelsName(name string) Option {
	return func(c *config) { c.kernelsName, c.kernels = name, nil }
}

// WithThreads sets the number of threads (default GOMAXPROCS). Results do
// not depend on it.
func WithThreads(n int) Option {
	return func(c *config) {
		if n < 1 {
			c.err = fmt.Errorf("runtime: WithThreads(%d): need at least 1", n)
		}
		c.threads = n
	}
}

// WithExecution chooses dense, sparse or automatic execution of binary
// layers (default Auto).
func WithExecution(x Execution) Option {
	return func(c *config) {
		if x > Sparse {
			c.err = fmt.Errorf("runtime: unknown execution mode %d", x)
		}
		c.exec = x
	}
}

// WithSparseThreshold sets Auto's switch point: the fraction of non-zero
// spike words in a binary layer's input below which it runs the sparse
// kernel (default DefaultSparseThreshold).
func WithSparseThreshold(f float64) Option {
	return func(c *config) {
		if !(f >= 0 && f <= 1) {
			c.err = fmt.Errorf("runtime: sparse threshold %v, want 0..1", f)
		}
		c.threshold = f
		c.thresholdOK = true
	}
}

// WithSeed seeds the rate encoder (EncodingRate models). Infer reseeds it
// for every sample, so equal inputs give equal outputs; a Session seeds it
// once and its sequence runs on across frames.
func WithSeed(seed uint64) Option { return func(c *config) { c.seed = seed } }

// WithBatch sets how many samples one pass of InferBatch runs together
// (default 1): each layer then runs once for all of them, which gives
// threads more rows to share. Buffers grow in proportion, up to a pass
// whose largest activation map is about 4 MiB; a larger batch runs in
// passes of that size, since maps that leave the caches cost more than
// the larger pass saves (except with WithTrace, whose LayerOutput reads
// every sample of the last pass).
func WithBatch(n int) Option {
	return func(c *config) {
		if n < 1 {
			c.err = fmt.Errorf("runtime: WithBatch(%d): need at least 1", n)
		}
		c.batch = n
	}
}

// WithTrace keeps every layer's output of the last call readable through
// Engine.LayerOutput. It costs memory: no activation buffer is reused.
func WithTrace() Option { return func(c *config) { c.trace = true } }

func newConfig(opts []Option) (*config, error) {
	c := &config{threads: goruntime.GOMAXPROCS(0), threshold: DefaultSparseThreshold, batch: 1}
	for _, o := range opts {
		o(c)
		if c.err != nil {
			return nil, c.err
		}
	}
	if c.kernels == nil {
		k, err := bitops.Lookup(c.kernelsName)
		if err != nil {
			return nil, fmt.Errorf("runtime: %w", err)
		}
		c.kernels = k
	}
	if !c.thresholdOK && c.kernels.WideRows(math.MaxInt) {
		c.threshold = 0
	}
	return c, nil
}
