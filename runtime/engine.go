package runtime

import (
	"errors"
	"fmt"
	goruntime "runtime"

	"github.com/bsnn/bsnn/bitops"
	"github.com/bsnn/bsnn/model"
)

// Engine is a model compiled for execution: every buffer is allocated, the
// kernel set and thread count are fixed. An Engine and its Sessions share
// buffers: use them from one goroutine at a time.
type Engine struct {
	m      *model.Model
	shapes []model.Shape
	cfg    *config
	k      *bitops.Kernels
	pool   *pool
	T      int

	ops                 []op
	plan                []planned
	input               *tensor
	outs                []*tensor // per layer (nil for layers fused into a LIF)
	fused               []bool    // layers computed inside the LIF that reads them
	scratch             []*scratch
	logits              []float32 // [batch][classes]
	classes             int
	bufFloats, bufWords int64

	// Per call.
	nb     int           // samples in this pass
	ncall  int           // samples in this call (a batch may take several passes)
	inputs [][]float32   // this pass's samples
	rng    *uint64       // rate encoder state of a Session (nil: per-sample seed)
	state  *sessionState // LIF state carried across frames (nil: start at zero)
	stats  []LayerStats
	in1    [1][]float32

	batchLogits  [][]float32
	batchClasses []int
}

// planned is one op with the tensors it reads and writes, for buffer
// planning.
type planned struct {
	ins, outs []*tensor
}

// op is one step of the compiled program.
type op interface {
	run(e *Engine)
}

// tensor is a layer output (or the encoded model input) for every sample of
// a pass and every stored step. Floats are stored per frame in H,W,C order
// (channels innermost); spikes per frame as channel-packed pixels
// (bitops.PackCHW's layout), or, for a flattened vector, as one packed row.
type tensor struct {
	shape  model.Shape
	spikes bool
	// steps is 1 when the value is the same at every time step (the
	// directly encoded input and what is computed from it alone) and T
	// otherwise. Frame (b, t) is b·steps + t, or b when steps is 1.
	steps  int
	hw, pw int
	frame  int // floats or words per frame
	// halo is the width in pixels of the zero border around a spike map
	// that a binary conv reads in place (its padding); the border is never
	// written, so padded taps read zero spikes without a bounds test.
	halo    int
	words   int // spikes: words of the map itself (hw·pw, without the halo)
	f       []float32
	s       []uint64
	nnz     []int64 // spikes: set bits per frame
	nzw     []int64 // spikes: non-zero words per frame
	last    int     // index of the last op reading it; -1 if none
	freed   bool
	asFloat *tensor // spikes: the float copy made for float consumers
}

// px returns the word offset, within a frame, of spike pixel p (p = y·W+x)
// of a spike tensor. Every reader and writer of packed spikes addresses
// pixels through it, so the map's layout (for instance a zero halo around
// it for the direct convolution) is defined in one place.
func (t *tensor) px(p int) int {
	if t.halo == 0 {
		return p * t.pw
	}
	w := t.shape.W
	return ((p/w+t.halo)*(w+2*t.halo) + p%w + t.halo) * t.pw
}

// rowStride is the distance in words between vertically adjacent pixels of
// a spike map.
func (t *tensor) rowStride() int { return (t.shape.W + 2*t.halo) * t.pw }

func (t *tensor) fr(b, step int) int {
	if t.steps == 1 {
		return b
	}
	return b*t.steps + step
}

// New compiles m. m must pass m.Shapes() and must not change while the
// Engine is in use (weights are used in place, not copied).
func New(m *model.Model, opts ...Option) (*Engine, error) {
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	shapes, err := m.Shapes()
	if err != nil {
		return nil, fmt.Errorf("runtime: %w", err)
	}
	if !cfg.trace {
		// Traced engines run a batch in one pass: LayerOutput reads
		// every sample of the last call.
		cfg.batch = passBatch(shapes, m.Input.Timesteps, cfg.batch)
	}
	e := &Engine{m: m, shapes: shapes, cfg: cfg, k: cfg.kernels, T: m.Input.Timesteps}
	if err := e.compile(); err != nil {
		return nil, err
	}
	e.pool = newPool(cfg.threads)
	// Workers reference only the pool, so an Engine that is dropped
	// without Close still stops them once it is collected.
	goruntime.AddCleanup(e, func(p *pool) { p.close() }, e.pool)
	return e, nil
}

// passBudget bounds the largest activation map of one pass (over all its
// samples). A pass runs layer by layer over every sample at once, so a
// pass whose maps outgrow the caches reads them back from memory at every
// layer: with 32 samples a pass, ResNet-19 and the MNIST net ran 15–28 %
// slower per sample than one sample at a time, and passes of 1–4 samples
// ran alike on one thread.
const passBudget = 4 << 20

// passBatch is how many samples a pass of InferBatch runs: the requested
// batch, or fewer so that the largest map (float32, every step) of a pass
// stays within passBudget; at least 1.
func passBatch(shapes []model.Shape, T, batch int) int {
	per := 1
	for _, s := range shapes {
		per = max(per, 4*T*s.Size())
	}
	return max(1, min(batch, passBudget/per))
}

// Close stops the worker goroutines. The Engine must not be used after.
func (e *Engine) Close() { e.pool.close() }

// Model returns the compiled model.
func (e *Engine) Model() *model.Model { return e.m }

// Kernels returns the bit kernel set in use.
func (e *Engine) Kernels() *bitops.Kernels { return e.k }

// Threads returns the number of threads.
func (e *Engine) Threads() int { return e.cfg.threads }

// Execution returns the execution mode.
func (e *Engine) Execution() Execution { return e.cfg.exec }

// InputLen is the number of floats one sample holds: C·H·W, or T·C·H·W for
// EncodingEvents.
func (e *Engine) InputLen() int {
	n := e.m.Input.Shape.Size()
	if e.m.Input.Encoding == model.EncodingEvents {
		n *= e.T
	}
	return n
}

// BufferBytes is the memory the Engine holds for activations and scratch.
func (e *Engine) BufferBytes() int64 {
	n := 4*e.bufFloats + 8*e.bufWords
	for _, s := range e.scratch {
		n += s.bytes()
	}
	return n
}

func (e *Engine) checkInput(x []float32) error {
	if len(x) == e.InputLen() {
		return nil
	}
	in := e.m.Input
	if in.Encoding == model.EncodingEvents {
		return fmt.Errorf("runtime: input holds %d values, want T×C×H×W = %d×%d×%d×%d = %d (events, CHW per step)",
			len(x), e.T, in.Shape.C, in.Shape.H, in.Shape.W, e.InputLen())
	}
	return fmt.Errorf("runtime: input holds %d values, want C×H×W = %d×%d×%d = %d (CHW order)",
		len(x), in.Shape.C, in.Shape.H, in.Shape.W, e.InputLen())
}

// Result is the outcome of one sample.
type Result struct {
	// Logits is the readout (mean over T). The slice is owned by the Engine
	// and valid until its next call; copy it to keep it.
	Logits []float32
	// Class is the index of the largest logit (the first on ties).
	Class int
	// Stats describes the work done; its slices are owned by the Engine
	// like Logits.
	Stats Stats
}

// Stats is what a call did, per layer and in total.
type Stats struct {
	Layers []LayerStats // one per model layer
	// BinaryOps counts binary multiply-accumulates performed; DenseOps what
	// a dense executor would have performed on the same layers.
	BinaryOps, DenseOps int64
	// RowsSkipped and WordsSkipped total the binary layers' skipped work.
	RowsSkipped, WordsSkipped int64
}

// LayerStats is one layer's share of a call (summed over the samples of a
// batch).
type LayerStats struct {
	Op   model.Op
	Name string
	// Neurons is the layer's output size; Spikes the spikes it emitted over
	// all steps and samples; FiringRate = Spikes / (Neurons·T·samples).
	// Set for LIF layers.
	Neurons    int
	Spikes     int64
	FiringRate float64
	// Binary conv and linear layers: Sparse tells which kernel ran; Rows is
	// the number of output rows (pixels × steps × samples), RowsSkipped those
	// whose input patch was silent; Words the input words of all rows,
	// WordsSkipped those not processed; BinaryOps the binary MACs performed
	// and DenseOps what a dense pass would have performed.
	Sparse              bool
	Rows, RowsSkipped   int64
	Words, WordsSkipped int64
	BinaryOps, DenseOps int64
}

func (e *Engine) resetStats() {
	e.ncall = 0
	for i := range e.stats {
		s := &e.stats[i]
		*s = LayerStats{Op: s.Op, Name: s.Name, Neurons: s.Neurons}
	}
}

func (e *Engine) summary() Stats {
	st := Stats{Layers: e.stats}
	for i := range e.stats {
		s := &e.stats[i]
		if s.Op == model.OpLIF && s.Neurons > 0 {
			s.FiringRate = float64(s.Spikes) / (float64(s.Neurons) * float64(e.T) * float64(e.ncall))
		}
		st.BinaryOps += s.BinaryOps
		st.DenseOps += s.DenseOps
		st.RowsSkipped += s.RowsSkipped
		st.WordsSkipped += s.WordsSkipped
	}
	return st
}

// Infer runs one sample: C×H×W floats in CHW order (pixel values in [0,1];
// the model's normalization is applied here), or T×C×H×W for
// EncodingEvents. It allocates nothing in steady state.
func (e *Engine) Infer(input []float32) (Result, error) {
	if err := e.checkInput(input); err != nil {
		return Result{}, err
	}
	e.in1[0] = input
	e.resetStats()
	e.pass(e.in1[:], nil, nil)
	e.in1[0] = nil
	lg := e.logits[:e.classes]
	return Result{Logits: lg, Class: argmax(lg), Stats: e.summary()}, nil
}

// BatchResult is the outcome of InferBatch. Its slices are owned by the
// Engine and valid until its next call.
type BatchResult struct {
	Logits  [][]float32 // per sample
	Classes []int       // per sample
	Stats   Stats       // summed over the batch
}

// InferBatch runs several samples, WithBatch of them per pass. Results equal
// those of Infer on each sample.
func (e *Engine) InferBatch(inputs [][]float32) (BatchResult, error) {
	for i, x := range inputs {
		if err := e.checkInput(x); err != nil {
			return BatchResult{}, fmt.Errorf("sample %d: %w", i, err)
		}
	}
	n := len(inputs)
	if cap(e.batchClasses) < n {
		e.batchClasses = make([]int, n)
		e.batchLogits = make([][]float32, n)
		flat := make([]float32, n*e.classes)
		for i := range e.batchLogits {
			e.batchLogits[i] = flat[i*e.classes : (i+1)*e.classes : (i+1)*e.classes]
		}
	}
	res := BatchResult{Logits: e.batchLogits[:n], Classes: e.batchClasses[:n]}
	e.resetStats()
	for lo := 0; lo < n; lo += e.cfg.batch {
		hi := min(n, lo+e.cfg.batch)
		e.pass(inputs[lo:hi], nil, nil)
		for i := lo; i < hi; i++ {
			lg := e.logits[(i-lo)*e.classes : (i-lo+1)*e.classes]
			copy(res.Logits[i], lg)
			res.Classes[i] = argmax(lg)
		}
	}
	res.Stats = e.summary()
	return res, nil
}

// pass runs the program on up to cfg.batch samples, adding to the stats.
func (e *Engine) pass(inputs [][]float32, rng *uint64, st *sessionState) {
	e.nb, e.inputs, e.rng, e.state = len(inputs), inputs, rng, st
	e.ncall += len(inputs)
	for _, o := range e.ops {
		o.run(e)
	}
	e.inputs, e.rng, e.state = nil, nil, nil
}

func argmax(x []float32) int {
	best := 0
	for i, v := range x {
		if v > x[best] {
			best = i
		}
	}
	return best
}

// ErrNoTrace is returned by LayerOutput on an Engine built without
// WithTrace.
var ErrNoTrace = errors.New("runtime: layer outputs are kept only with WithTrace")

// LayerOutput appends layer i's output for one sample of the last call to
// dst[:0] and returns it: T steps of C×H×W floats in CHW order (spikes as 0
// and 1). The readout layer's output is its input at each step. It needs
// WithTrace.
func (e *Engine) LayerOutput(i, sample int, dst []float32) ([]float32, error) {
	if !e.cfg.trace {
		return dst[:0], ErrNoTrace
	}
	if i < 0 || i >= len(e.outs) {
		return dst[:0], fmt.Errorf("runtime: layer %d out of range (model has %d layers)", i, len(e.outs))
	}
	if sample < 0 || sample >= e.nb {
		return dst[:0], fmt.Errorf("runtime: sample %d out of range (last call ran %d)", sample, e.nb)
	}
	t := e.outs[i]
	if t == nil {
		return dst[:0], fmt.Errorf("runtime: layer %d (%v) runs inside the LIF that reads it and has no output of its own", i, e.m.Layers[i].Op)
	}
	sh := t.shape
	dst = dst[:0]
	for step := 0; step < e.T; step++ {
		f := t.fr(sample, step)
		for c := 0; c < sh.C; c++ {
			for p := 0; p < t.hw; p++ {
				if t.spikes {
					dst = append(dst, float32(t.s[f*t.frame+t.px(p)+c>>6]>>uint(c&63)&1))
				} else {
					dst = append(dst, t.f[f*t.frame+p*sh.C+c])
				}
			}
		}
	}
	return dst, nil
}
