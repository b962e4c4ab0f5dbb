package finetune

import (
	"sync"

	"github.com/bsnn/bsnn/bitops"
	"github.com/bsnn/bsnn/model"
)

// tensor is one activation over a whole batch and every time step: rows of
// C×H×W values in C,H,W order, row r = t·B + b ([T][B][C][H][W]).
//
// A tensor whose value is the same at every step (the stem of a network fed
// a directly encoded image) is stored once: rep is set and it holds B rows;
// the logical row t·B+b reads physical row b. A gradient flowing into such a
// tensor is the sum over t, so it too has B rows.
type tensor struct {
	T, B  int
	rep   bool
	shape model.Shape
	data  []float32
	// binary is set when every value is 0 or 1 (spikes).
	binary bool
	// bits, when not nil, holds the spikes of a binary tensor packed per
	// row as the runtime packs them: pixel-major, channels packed,
	// bitops.PixelWords(C) words per pixel.
	bits []uint64
}

// rows returns the number of physical rows.
func (x *tensor) rows() int {
	if x.rep {
		return x.B
	}
	return x.T * x.B
}

func (x *tensor) size() int { return x.shape.Size() }

// row returns physical row r.
func (x *tensor) row(r int) []float32 {
	n := x.shape.Size()
	return x.data[r*n : (r+1)*n]
}

// phys maps logical row t·B+b to its physical row.
func (x *tensor) phys(r int) int {
	if x.rep {
		return r % x.B
	}
	return r
}

// pixelWords is the packed size of one pixel.
func (x *tensor) pixelWords() int { return bitops.PixelWords(x.shape.C) }

// rowBits returns the packed spikes of physical row r.
func (x *tensor) rowBits(r int) []uint64 {
	n := x.shape.H * x.shape.W * x.pixelWords()
	return x.bits[r*n : (r+1)*n]
}

// reshape sets the tensor's geometry and makes data (and bits, if withBits)
// large enough, reusing memory from earlier steps.
func (x *tensor) reshape(T, B int, rep bool, s model.Shape, withBits bool) {
	x.T, x.B, x.rep, x.shape = T, B, rep, s
	x.binary = false
	x.data = grow(x.data, x.rows()*s.Size())
	if withBits {
		x.bits = grow(x.bits, x.rows()*s.H*s.W*bitops.PixelWords(s.C))
	} else {
		x.bits = nil
	}
}

// grow returns s resized to n elements, reallocating only when it is too
// small. The contents are not preserved or cleared.
func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

// packRow packs one CHW row of spikes into bitops' channel-packed NHWC
// layout (the rows' shapes are fixed when the graph is built).
func packRow(dst []uint64, src []float32, s model.Shape) {
	_ = bitops.PackCHW(dst, src, s.C, s.H, s.W, false)
}

// workers runs loops on a fixed number of goroutines. The partition of work
// never depends on the number of goroutines in a way that changes results:
// every reduction in this package runs in an order fixed by the data shape.
type workers struct{ n int }

// run calls fn(wk, lo, hi) on up to w.n contiguous ranges covering [0, n);
// wk in [0, w.n) names the goroutine, for per-goroutine scratch memory.
func (w workers) run(n int, fn func(wk, lo, hi int)) {
	k := min(w.n, n)
	if k <= 1 {
		if n > 0 {
			fn(0, 0, n)
		}
		return
	}
	var wg sync.WaitGroup
	for i := 0; i < k; i++ {
		lo, hi := i*n/k, (i+1)*n/k
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn(i, lo, hi)
		}()
	}
	wg.Wait()
}

// each calls fn(wk, i) for every i in [0, n), spread over the workers.
func (w workers) each(n int, fn func(wk, i int)) {
	w.run(n, func(wk, lo, hi int) {
		for i := lo; i < hi; i++ {
			fn(wk, i)
		}
	})
}
