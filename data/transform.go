package data

import (
	"math/rand/v2"
	"sync"

	"github.com/bsnn/bsnn/model"
)

// mapped is a data set whose samples pass through a fixed function.
type mapped struct {
	Dataset
	f func(x []float32, s model.Shape, steps int)
}

func (m *mapped) Get(i int, dst []float32) (int, error) {
	l, err := m.Dataset.Get(i, dst)
	if err != nil {
		return l, err
	}
	m.f(dst[:SampleSize(m.Dataset)], m.Dataset.Shape(), m.Dataset.Steps())
	return l, nil
}

func (m *mapped) Unwrap() Dataset { return m.Dataset }

// Map returns d with f applied to every sample after Get. f receives the
// sample ([step][C][H][W]), the frame shape and the step count; it must be
// safe for concurrent use.
func Map(d Dataset, f func(x []float32, s model.Shape, steps int)) Dataset {
	return &mapped{d, f}
}

// Invert returns d with every value v replaced by 1−v: white digits on black
// become black on white (a domain shift for the fine-tuning scenario).
func Invert(d Dataset) Dataset {
	return Map(d, func(x []float32, _ model.Shape, _ int) {
		for i, v := range x {
			x[i] = 1 - v
		}
	})
}

// Rotate returns d with every frame rotated by `degrees` counter-clockwise
// about its centre, bilinearly; corners that come from outside read as 0
// (the MNIST background).
func Rotate(d Dataset, degrees float64) Dataset {
	pool := sync.Pool{New: func() any { return new([]float32) }}
	return Map(d, func(x []float32, s model.Shape, steps int) {
		bp := pool.Get().(*[]float32)
		defer pool.Put(bp)
		n := s.Size()
		if cap(*bp) < n {
			*bp = make([]float32, n)
		}
		tmp := (*bp)[:n]
		for t := range steps {
			f := x[t*n : (t+1)*n]
			copy(tmp, f)
			RotateInto(f, tmp, s.C, s.H, s.W, degrees, 0)
		}
	})
}

// Augmenter is a random augmentation a Batcher applies to each sample it
// loads. It draws its parameters once per sample from r and applies them to
// every step, so event frames stay aligned in time.
type Augmenter interface {
	Augment(x []float32, s model.Shape, steps int, r *rand.PCG)
}

// RandomShift moves the sample by up to Max pixels in x and y (uniform
// integers in [−Max, Max]), filling with 0: the pad-by-Max-and-random-crop
// augmentation.
type RandomShift struct{ Max int }

// Augment implements Augmenter.
func (a RandomShift) Augment(x []float32, s model.Shape, steps int, r *rand.PCG) {
	if a.Max <= 0 {
		return
	}
	span := uint64(2*a.Max + 1)
	dx, dy := int(uintn(r, span))-a.Max, int(uintn(r, span))-a.Max
	n := s.Size()
	for t := range steps {
		Shift(x[t*n:(t+1)*n], s.C, s.H, s.W, dx, dy, 0)
	}
}

// RandomFlip mirrors the sample left to right with probability 1/2. Not for
// digits, whose mirror images are not digits.
type RandomFlip struct{}

// Augment implements Augmenter.
func (RandomFlip) Augment(x []float32, s model.Shape, steps int, r *rand.PCG) {
	if r.Uint64()&1 == 0 {
		return
	}
	n := s.Size()
	for t := range steps {
		FlipH(x[t*n:(t+1)*n], s.C, s.H, s.W)
	}
}

// RandomRotation rotates the sample by a uniform angle in [−MaxDegrees,
// MaxDegrees], bilinearly, filling with 0.
type RandomRotation struct{ MaxDegrees float64 }

// Augment implements Augmenter.
func (a RandomRotation) Augment(x []float32, s model.Shape, steps int, r *rand.PCG) {
	if a.MaxDegrees <= 0 {
		return
	}
	deg := (2*unitFloat(r) - 1) * a.MaxDegrees
	n := s.Size()
	tmp := make([]float32, n)
	for t := range steps {
		f := x[t*n : (t+1)*n]
		copy(tmp, f)
		RotateInto(f, tmp, s.C, s.H, s.W, deg, 0)
	}
}
