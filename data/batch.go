package data

import (
	"fmt"
	"iter"
	"sync"
)

// BatchOptions configure a Batcher.
type BatchOptions struct {
	Size     int         // samples per batch (> 0)
	Shuffle  bool        // a new random order every epoch, from Seed and the epoch
	Seed     uint64      // drives shuffling and augmentation
	DropLast bool        // drop the last batch if it is short
	Augment  []Augmenter // applied in order to every sample, with per-sample randomness
	Workers  int         // goroutines loading one batch (≤ 1: the caller's goroutine)
}

// Batcher cuts a data set into batches. Batch k of epoch e holds the same
// samples with the same augmentations whatever the worker count and however
// the batches before it were produced, which is what lets a training run
// resume bit for bit from a checkpoint that records (epoch, batch).
type Batcher struct {
	data Dataset
	opt  BatchOptions

	mu    sync.Mutex
	epoch int
	order []int // order of the cached epoch; nil before the first call
}

// Batch is one batch of samples.
type Batch struct {
	N      int       // samples in this batch
	X      []float32 // N samples, each [step][C][H][W]
	Labels []int     // N labels
	Index  []int     // N indices into the data set
}

// NewBatcher returns a batcher over d.
func NewBatcher(d Dataset, o BatchOptions) (*Batcher, error) {
	if o.Size <= 0 {
		return nil, fmt.Errorf("data: batch size %d; must be positive", o.Size)
	}
	if d.Len() == 0 {
		return nil, fmt.Errorf("data: cannot batch an empty data set")
	}
	return &Batcher{data: d, opt: o}, nil
}

// Data returns the batched data set.
func (b *Batcher) Data() Dataset { return b.data }

// Batches returns the number of batches per epoch.
func (b *Batcher) Batches() int {
	n := b.data.Len()
	if b.opt.DropLast {
		return n / b.opt.Size
	}
	return (n + b.opt.Size - 1) / b.opt.Size
}

// Order returns the sample order of an epoch (the identity without Shuffle).
// The slice is shared: do not modify it.
func (b *Batcher) Order(epoch int) []int {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.order == nil || b.epoch != epoch {
		if b.opt.Shuffle {
			b.order = Permutation(b.data.Len(), newRand(b.opt.Seed, uint64(epoch)))
		} else {
			b.order = First(b.data, b.data.Len()).(*view).idx
		}
		b.epoch = epoch
	}
	return b.order
}

// Fill loads batch k of an epoch into dst, reusing dst's memory.
func (b *Batcher) Fill(dst *Batch, epoch, k int) error {
	if k < 0 || k >= b.Batches() {
		return fmt.Errorf("data: batch %d out of range [0,%d)", k, b.Batches())
	}
	order := b.Order(epoch)
	lo := k * b.opt.Size
	hi := min(lo+b.opt.Size, len(order))
	n := hi - lo
	size := SampleSize(b.data)
	dst.N = n
	dst.X = grow(dst.X, n*size)
	dst.Labels = grow(dst.Labels, n)
	dst.Index = grow(dst.Index, n)
	copy(dst.Index, order[lo:hi])

	load := func(j int) error {
		x := dst.X[j*size : (j+1)*size]
		l, err := b.data.Get(dst.Index[j], x)
		if err != nil {
			return fmt.Errorf("data: sample %d: %w", dst.Index[j], err)
		}
		dst.Labels[j] = l
		if len(b.opt.Augment) > 0 {
			// The stream depends only on (seed, epoch, position).
			r := newRand(b.opt.Seed^mix64(uint64(epoch)+0xa5), uint64(lo+j))
			for _, a := range b.opt.Augment {
				a.Augment(x, b.data.Shape(), b.data.Steps(), r)
			}
		}
		return nil
	}
	workers := min(b.opt.Workers, n)
	if workers <= 1 {
		for j := range n {
			if err := load(j); err != nil {
				return err
			}
		}
		return nil
	}
	errs := make([]error, n)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := w; j < n; j += workers {
				errs[j] = load(j)
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// Epoch returns the batches of an epoch from batch `start` on. The yielded
// *Batch is reused by the next iteration. After an error the sequence stops.
func (b *Batcher) Epoch(epoch, start int) iter.Seq2[*Batch, error] {
	return func(yield func(*Batch, error) bool) {
		var batch Batch
		for k := max(start, 0); k < b.Batches(); k++ {
			if err := b.Fill(&batch, epoch, k); err != nil {
				yield(nil, err)
				return
			}
			if !yield(&batch, nil) {
				return
			}
		}
	}
}

func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}
