package data

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/bsnn/bsnn/model"
)

func shapeOf(c, h, w int) model.Shape { return model.Shape{C: c, H: h, W: w} }

// toySet returns n 1×4×4 images whose pixels encode the index (pixel 0 =
// i%256) and whose labels are i%10.
func toySet(t testing.TB, n int) *Images {
	pix := make([]uint8, n*16)
	labels := make([]uint8, n)
	for i := range n {
		for j := range 16 {
			pix[i*16+j] = uint8((i*7 + j*13) % 256)
		}
		pix[i*16] = uint8(i % 256)
		labels[i] = uint8(i % 10)
	}
	d, err := NewImages(shapeOf(1, 4, 4), MNISTClasses, pix, labels)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestBatcherOrder(t *testing.T) {
	d := toySet(t, 10)
	b, err := NewBatcher(d, BatchOptions{Size: 4})
	if err != nil {
		t.Fatal(err)
	}
	if b.Batches() != 3 {
		t.Fatalf("%d batches, want 3", b.Batches())
	}
	var seen []int
	for batch, err := range b.Epoch(0, 0) {
		if err != nil {
			t.Fatal(err)
		}
		seen = append(seen, batch.Index[:batch.N]...)
		for j := range batch.N {
			if batch.Labels[j] != batch.Index[j]%10 || batch.X[j*16] != float32(batch.Index[j])/255 {
				t.Errorf("sample %d: label %d, first value %v", batch.Index[j], batch.Labels[j], batch.X[j*16])
			}
		}
	}
	if !slices.Equal(seen, []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}) {
		t.Errorf("unshuffled order %v", seen)
	}
	b, _ = NewBatcher(d, BatchOptions{Size: 4, DropLast: true})
	if b.Batches() != 2 {
		t.Errorf("DropLast: %d batches", b.Batches())
	}
	if err := b.Fill(&Batch{}, 0, 2); err == nil {
		t.Error("batch past the end accepted")
	}
	if _, err := NewBatcher(d, BatchOptions{}); err == nil {
		t.Error("batch size 0 accepted")
	}
}

func TestBatcherShuffleDeterministic(t *testing.T) {
	d := toySet(t, 100)
	opt := BatchOptions{Size: 8, Shuffle: true, Seed: 42, Augment: []Augmenter{RandomShift{Max: 1}, RandomFlip{}, RandomRotation{MaxDegrees: 10}}}
	collect := func(o BatchOptions, epoch, start int) [][]float32 {
		b, err := NewBatcher(d, o)
		if err != nil {
			t.Fatal(err)
		}
		var out [][]float32
		for batch, err := range b.Epoch(epoch, start) {
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, slices.Clone(batch.X[:batch.N*16]))
		}
		return out
	}
	a := collect(opt, 3, 0)
	if len(a) != 13 {
		t.Fatalf("%d batches", len(a))
	}
	w := opt
	w.Workers = 3
	if got := collect(w, 3, 0); !equalBatches(got, a) {
		t.Error("3 workers give different batches than 1")
	}
	if got := collect(opt, 3, 5); !equalBatches(got, a[5:]) {
		t.Error("resuming at batch 5 gives different batches")
	}
	if got := collect(opt, 4, 0); equalBatches(got, a) {
		t.Error("epochs 3 and 4 have the same batches")
	}
	o2 := opt
	o2.Seed = 43
	if got := collect(o2, 3, 0); equalBatches(got, a) {
		t.Error("seeds 42 and 43 give the same batches")
	}
	// Each epoch is a permutation.
	b, _ := NewBatcher(d, opt)
	p := slices.Clone(b.Order(7))
	slices.Sort(p)
	for i, v := range p {
		if v != i {
			t.Fatal("epoch order is not a permutation")
		}
	}
}

func equalBatches(a, b [][]float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !equalF(a[i], b[i]) {
			return false
		}
	}
	return true
}

func TestSubsets(t *testing.T) {
	d := toySet(t, 50)
	f := First(d, 7)
	if f.Len() != 7 || f.Label(6) != 6 {
		t.Errorf("First: len %d", f.Len())
	}
	if First(d, 500).Len() != 50 {
		t.Error("First(500) of 50")
	}
	r1, r2 := Random(d, 20, 9), Random(d, 20, 9)
	seen := map[int]bool{}
	for i := range r1.Len() {
		j := r1.(*view).Index(i)
		if seen[j] {
			t.Fatal("Random repeats a sample")
		}
		seen[j] = true
		if r2.(*view).Index(i) != j {
			t.Fatal("Random is not reproducible")
		}
	}
	tr, te, err := TrainTest(d, 0.2, 1)
	if err != nil {
		t.Fatal(err)
	}
	if tr.Len() != 40 || te.Len() != 10 {
		t.Errorf("train %d test %d", tr.Len(), te.Len())
	}
	all := append(slices.Clone(tr.(*view).idx), te.(*view).idx...)
	slices.Sort(all)
	for i, v := range all {
		if v != i {
			t.Fatal("train and test do not partition the set")
		}
	}
	if _, err := Subset(d, []int{0, 50}); err == nil {
		t.Error("index 50 of 50 accepted")
	}
	s, _ := Subset(d, []int{3, 1})
	if s.Label(0) != 3 || s.Len() != 2 {
		t.Error("Subset order")
	}
	if _, _, err := TrainTest(d, 1, 1); err == nil {
		t.Error("test fraction 1 accepted")
	}
}

func TestPermutationUniform(t *testing.T) {
	// Every position of a 4-element permutation takes every value about
	// equally often (a biased bounded draw would skew this).
	var count [4][4]int
	r := rand.NewPCG(1, 2)
	const n = 24000
	for range n {
		for i, v := range Permutation(4, r) {
			count[i][v]++
		}
	}
	for i := range count {
		for v := range count[i] {
			if c := count[i][v]; c < n/4-400 || c > n/4+400 {
				t.Errorf("position %d value %d: %d of %d", i, v, c, n)
			}
		}
	}
}

func TestInvertRotate(t *testing.T) {
	d := toySet(t, 3)
	x := make([]float32, 16)
	y := make([]float32, 16)
	d.Get(1, x)
	inv := Invert(d)
	if l, _ := inv.Get(1, y); l != 1 {
		t.Error("Invert changed the label")
	}
	for i := range x {
		if y[i] != 1-x[i] {
			t.Fatalf("inverted value %v for %v", y[i], x[i])
		}
	}
	rot := Rotate(d, 180)
	rot.Get(1, y)
	// 180° about the centre maps (x, y) to (3−x, 3−y) exactly.
	for i := range 16 {
		r, c := i/4, i%4
		if diff := y[i] - x[(3-r)*4+3-c]; diff > 1e-5 || diff < -1e-5 {
			t.Fatalf("rotated 180: pixel %d = %v, want %v", i, y[i], x[(3-r)*4+3-c])
		}
	}
	if Rotate(Invert(d), 90).Len() != 3 {
		t.Error("wrapped length")
	}
}
