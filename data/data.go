// Package data holds the data sets bsnn trains on: MNIST and Fashion-MNIST
// from their IDX files, folders of PNG/JPEG images, and event data (N-MNIST
// files, or N-MNIST-style events made from any image set by a simulated DVS
// camera doing three saccades). Nothing here touches the network.
//
// # Samples
//
// A Dataset yields samples of Steps() frames, each frame of Shape() (C, H, W),
// laid out [step][C][H][W] in one []float32. Image sets have one step (the
// model's encoding repeats or rate-codes it); event sets have T steps whose
// channels are the two polarities (channel 0 = OFF, channel 1 = ON, as in the
// N-MNIST files). Image values are in [0,1]; normalization by the model's
// Mean/Std is the runtime's job (model.EncodingDirect), not this package's.
//
// # Determinism
//
// Shuffling, subsets and random augmentations draw from a PCG generator seeded
// from (seed, epoch, position), with this package's own bounded-integer and
// shuffle code, so a batch's content depends only on the seed, the epoch and
// the batch index: not on the Go version, the thread count or the CPU.
// Interpolation rounds to float32 after every operation (no fused
// multiply-add), so amd64 and arm64 produce the same bits.
package data

import (
	"errors"
	"fmt"
	"math/bits"
	"math/rand/v2"

	"github.com/bsnn/bsnn/model"
)

// Dataset is a labelled, indexable set of samples. Implementations must be
// safe for concurrent calls to Get (the Batcher fills a batch from several
// goroutines).
type Dataset interface {
	// Len returns the number of samples.
	Len() int
	// Shape returns the shape of one frame of a sample.
	Shape() model.Shape
	// Steps returns the frames per sample: 1 for images, T for event sets.
	Steps() int
	// Classes returns the class names; labels index into it.
	Classes() []string
	// Label returns the label of sample i without decoding the sample.
	Label(i int) int
	// Get writes sample i into dst (len ≥ Steps()·Shape().Size(), layout
	// [step][C][H][W]) and returns its label. Only data sets read lazily
	// from disk return errors.
	Get(i int, dst []float32) (label int, err error)
}

// SampleSize returns the float32 values one sample of d occupies.
func SampleSize(d Dataset) int { return d.Steps() * d.Shape().Size() }

// Split selects the training or test part of a data set that ships both.
type Split uint8

// Splits.
const (
	Train Split = iota
	Test
)

// String returns "train" or "test".
func (s Split) String() string {
	switch s {
	case Train:
		return "train"
	case Test:
		return "test"
	}
	return fmt.Sprintf("split(%d)", uint8(s))
}

// Images is an in-memory image data set: 8-bit pixels, one byte per value,
// so a data set costs what its files hold uncompressed (MNIST train: 47 MB).
type Images struct {
	shape   model.Shape
	classes []string
	pix     []uint8 // [n][C][H][W]
	labels  []uint8
}

// NewImages builds an in-memory data set from 8-bit pixels laid out
// [n][C][H][W] and one label per image. The slices are kept, not copied.
func NewImages(shape model.Shape, classes []string, pix, labels []uint8) (*Images, error) {
	if shape.C <= 0 || shape.H <= 0 || shape.W <= 0 {
		return nil, fmt.Errorf("data: image shape %v has a non-positive dimension", shape)
	}
	if len(classes) == 0 || len(classes) > 256 {
		return nil, fmt.Errorf("data: %d classes; need 1..256", len(classes))
	}
	if len(pix) != len(labels)*shape.Size() {
		return nil, fmt.Errorf("data: %d pixel bytes for %d images of %v (want %d)", len(pix), len(labels), shape, len(labels)*shape.Size())
	}
	for i, l := range labels {
		if int(l) >= len(classes) {
			return nil, fmt.Errorf("data: image %d has label %d, but there are only %d classes", i, l, len(classes))
		}
	}
	return &Images{shape: shape, classes: classes, pix: pix, labels: labels}, nil
}

// Len returns the number of images.
func (d *Images) Len() int { return len(d.labels) }

// Shape returns the image shape.
func (d *Images) Shape() model.Shape { return d.shape }

// Steps returns 1.
func (d *Images) Steps() int { return 1 }

// Classes returns the class names.
func (d *Images) Classes() []string { return d.classes }

// Label returns image i's label.
func (d *Images) Label(i int) int { return int(d.labels[i]) }

// Pixels returns image i's bytes ([C][H][W]); the caller must not modify them.
func (d *Images) Pixels(i int) []uint8 {
	n := d.shape.Size()
	return d.pix[i*n : (i+1)*n : (i+1)*n]
}

// Get writes image i as values in [0,1] into dst.
func (d *Images) Get(i int, dst []float32) (int, error) {
	p := d.Pixels(i)
	if len(dst) < len(p) {
		return 0, fmt.Errorf("data: Get: dst has %d values, an image needs %d", len(dst), len(p))
	}
	for j, v := range p {
		dst[j] = u8ToFloat[v]
	}
	return int(d.labels[i]), nil
}

// u8ToFloat maps a byte to v/255, the same value everywhere it is used.
var u8ToFloat = func() (t [256]float32) {
	for i := range t {
		t[i] = float32(i) / 255
	}
	return
}()

// Histogram returns the number of samples per class.
func Histogram(d Dataset) []int {
	h := make([]int, len(d.Classes()))
	for i := range d.Len() {
		if l := d.Label(i); l >= 0 && l < len(h) {
			h[l]++
		}
	}
	return h
}

// view is a data set seen through an index list.
type view struct {
	Dataset
	idx []int
}

func (v *view) Len() int                              { return len(v.idx) }
func (v *view) Label(i int) int                       { return v.Dataset.Label(v.idx[i]) }
func (v *view) Get(i int, dst []float32) (int, error) { return v.Dataset.Get(v.idx[i], dst) }
func (v *view) Unwrap() Dataset                       { return v.Dataset }
func (v *view) Index(i int) int                       { return v.idx[i] }

// Subset returns the samples of d at the given indices, in that order. The
// index slice is kept, not copied.
func Subset(d Dataset, idx []int) (Dataset, error) {
	n := d.Len()
	for k, i := range idx {
		if i < 0 || i >= n {
			return nil, fmt.Errorf("data: Subset: index %d (position %d) out of range [0,%d)", i, k, n)
		}
	}
	return &view{d, idx}, nil
}

// First returns the first n samples of d (all of them if n ≥ Len).
func First(d Dataset, n int) Dataset {
	n = min(max(n, 0), d.Len())
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	return &view{d, idx}
}

// Random returns n samples of d drawn without replacement, in random order,
// reproducibly from seed (all of them, shuffled, if n ≥ Len).
func Random(d Dataset, n int, seed uint64) Dataset {
	p := Permutation(d.Len(), newRand(seed, 0x5ab5e7))
	return &view{d, p[:min(max(n, 0), len(p))]}
}

// TrainTest splits d at random, reproducibly from seed, into a training part
// and a test part holding testFraction of the samples (rounded down, at
// least one when d has two or more samples). It is for data sets that ship
// no split, such as image folders.
func TrainTest(d Dataset, testFraction float64, seed uint64) (train, test Dataset, err error) {
	if !(testFraction > 0 && testFraction < 1) {
		return nil, nil, fmt.Errorf("data: TrainTest: test fraction %v not in (0,1)", testFraction)
	}
	n := d.Len()
	if n < 2 {
		return nil, nil, fmt.Errorf("data: TrainTest: %d samples cannot be split", n)
	}
	nt := max(int(float64(n)*testFraction), 1)
	p := Permutation(n, newRand(seed, 0x7e57))
	return &view{d, p[nt:]}, &view{d, p[:nt]}, nil
}

// Permutation returns a uniformly random permutation of 0..n-1 drawn from r
// by Fisher-Yates with this package's own bounded draw, so it never changes
// with the Go release.
func Permutation(n int, r *rand.PCG) []int {
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	for i := n - 1; i > 0; i-- {
		j := int(uintn(r, uint64(i+1)))
		p[i], p[j] = p[j], p[i]
	}
	return p
}

// uintn returns a uniform value in [0,n) (Lemire's multiply-shift with
// rejection).
func uintn(r *rand.PCG, n uint64) uint64 {
	hi, lo := bits.Mul64(r.Uint64(), n)
	if lo < n {
		thresh := -n % n
		for lo < thresh {
			hi, lo = bits.Mul64(r.Uint64(), n)
		}
	}
	return hi
}

// unitFloat returns a uniform float64 in [0,1) with 53 random bits.
func unitFloat(r *rand.PCG) float64 { return float64(r.Uint64()>>11) / (1 << 53) }

// newRand returns a PCG stream for (seed, stream); streams never overlap
// usefully for distinct inputs because both words are mixed.
func newRand(seed, stream uint64) *rand.PCG {
	return rand.NewPCG(mix64(seed), mix64(stream^0x9e3779b97f4a7c15))
}

// mix64 is splitmix64's finalizer.
func mix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// ErrMissing is wrapped by the errors that report a data set's files missing
// (as opposed to present but malformed): test with errors.Is.
var ErrMissing = errors.New("data set not found")
