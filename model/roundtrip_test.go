package model_test

import (
	"bytes"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"unsafe"

	"github.com/bsnn/bsnn/model"
	"github.com/bsnn/bsnn/model/modeltest"
)

// testModels returns models covering every op, precision, statistic, reset
// and encoding, plus random structures.
func testModels(t testing.TB) map[string]*model.Model {
	t.Helper()
	ms := map[string]*model.Model{
		"allkinds": modeltest.AllKinds(rand.New(rand.NewPCG(1, 2))),
		"mnist":    modeltest.MNIST(rand.New(rand.NewPCG(3, 4))),
	}
	n := 40
	if testing.Short() {
		n = 10
	}
	for i := range n {
		rng := rand.New(rand.NewPCG(uint64(i), 99))
		ms["random"+string(rune('A'+i%26))+string(rune('a'+i/26))] = modeltest.Random(rng, modeltest.Options{})
	}
	return ms
}

func mustEncode(t testing.TB, m *model.Model) []byte {
	t.Helper()
	data, err := model.Encode(m)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// checkSame fails unless got equals want field by field and encodes to the
// same bytes (which compares floats bit for bit, −0 included).
func checkSame(t *testing.T, got, want *model.Model) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		for i := range min(len(got.Layers), len(want.Layers)) {
			if !reflect.DeepEqual(got.Layers[i], want.Layers[i]) {
				t.Fatalf("layer %d differs:\n got %+v\nwant %+v", i, got.Layers[i], want.Layers[i])
			}
		}
		t.Fatalf("models differ:\n got %+v\nwant %+v", got, want)
	}
	if !bytes.Equal(mustEncode(t, got), mustEncode(t, want)) {
		t.Fatal("models are DeepEqual but encode differently")
	}
}

func TestRoundTrip(t *testing.T) {
	dir := t.TempDir()
	kinds := map[model.Op]bool{}
	precisions := map[[2]int]bool{}
	for name, m := range testModels(t) {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := model.Write(&buf, m); err != nil {
				t.Fatal(err)
			}
			got, err := model.Read(bytes.NewReader(buf.Bytes()))
			if err != nil {
				t.Fatal(err)
			}
			checkSame(t, got, m)

			path := filepath.Join(dir, name+".bsnn")
			if err := model.Save(path, m); err != nil {
				t.Fatal(err)
			}
			got, err = model.Load(path)
			if err != nil {
				t.Fatal(err)
			}
			checkSame(t, got, m)
			for i := range got.Layers {
				l := &got.Layers[i]
				kinds[l.Op] = true
				if l.Op == model.OpConv2D || l.Op == model.OpLinear {
					precisions[[2]int{int(l.Op), int(l.Precision)}] = true
				}
				if len(l.Bits) > 0 && uintptr(unsafe.Pointer(&l.Bits[0]))%model.WeightAlign != 0 {
					t.Errorf("layer %d: decoded bits are not %d-byte aligned in memory", i, model.WeightAlign)
				}
			}
		})
	}
	for op := model.OpConv2D; op <= model.OpReadout; op++ {
		if !kinds[op] {
			t.Errorf("no test model has a %s layer", op)
		}
	}
	if len(precisions) != 6 {
		t.Errorf("test models cover %d of 6 conv/linear precisions: %v", len(precisions), precisions)
	}
}

// TestWeightAlignment checks in the raw file that every weight vector's data
// starts at a multiple of WeightAlign (the verifier enforces it; this pins
// that the writer produces it).
func TestWeightAlignment(t *testing.T) {
	m := modeltest.AllKinds(rand.New(rand.NewPCG(5, 6)))
	data := mustEncode(t, m)
	for i, l := range m.Layers {
		var raw []byte
		switch {
		case len(l.Bits) > 0:
			raw = make([]byte, 8*len(l.Bits))
			for j, w := range l.Bits {
				for k := range 8 {
					raw[8*j+k] = byte(w >> (8 * k))
				}
			}
		case len(l.WeightsI8) > 0:
			raw = make([]byte, len(l.WeightsI8))
			for j, x := range l.WeightsI8 {
				raw[j] = byte(x)
			}
		case len(l.Weights) > 0:
			raw = make([]byte, 4*len(l.Weights))
			for j, x := range l.Weights {
				b := math.Float32bits(x)
				raw[4*j], raw[4*j+1], raw[4*j+2], raw[4*j+3] = byte(b), byte(b>>8), byte(b>>16), byte(b>>24)
			}
		default:
			continue
		}
		pos := bytes.Index(data, raw)
		if pos < 0 {
			t.Fatalf("layer %d: weights not found in the file", i)
		}
		if pos%model.WeightAlign != 0 {
			t.Errorf("layer %d: weight data at byte %d, not %d-byte aligned", i, pos, model.WeightAlign)
		}
	}
}

func TestNegativeZeroSurvives(t *testing.T) {
	m := modeltest.MNIST(rand.New(rand.NewPCG(7, 8)))
	negZero := float32(math.Copysign(0, -1))
	m.Provenance.Accuracy = negZero
	for i := range m.Layers {
		if m.Layers[i].Op == model.OpLIF {
			m.Layers[i].Lambda = negZero
			break
		}
	}
	m.Layers[0].Bias[0] = negZero
	got, err := model.Parse(mustEncode(t, m))
	if err != nil {
		t.Fatal(err)
	}
	if math.Float32bits(got.Provenance.Accuracy) != math.Float32bits(negZero) {
		t.Error("accuracy −0 came back as +0")
	}
	if math.Float32bits(got.Layers[0].Bias[0]) != math.Float32bits(negZero) {
		t.Error("bias −0 came back as +0")
	}
	checkSame(t, got, m)
}

func TestWriteRefusesInvalid(t *testing.T) {
	m := modeltest.MNIST(rand.New(rand.NewPCG(1, 1)))
	m.Layers[2].Bits = m.Layers[2].Bits[:len(m.Layers[2].Bits)-1]
	var buf bytes.Buffer
	err := model.Write(&buf, m)
	var le *model.LayerError
	if !errors.As(err, &le) || le.Layer != 2 || le.Field != "bits" {
		t.Fatalf("Write: err = %v, want a LayerError on layer 2 bits", err)
	}
	if buf.Len() != 0 {
		t.Errorf("Write wrote %d bytes of an invalid model", buf.Len())
	}

	// A value the format cannot hold in a field the op does not use: Check
	// ignores it, Write must still refuse it rather than write a file
	// that does not load.
	m = modeltest.MNIST(rand.New(rand.NewPCG(1, 1)))
	m.Layers[1].Stride = -3 // a LIF layer
	if err := m.Check(); err != nil {
		t.Fatalf("Check: %v", err)
	}
	if err := model.Write(&buf, m); err == nil || !errors.Is(err, model.ErrInvalid) {
		t.Fatalf("Write with stride -3 on a LIF: err = %v, want ErrInvalid", err)
	}
}

func TestSave(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "m.bsnn")
	a := modeltest.MNIST(rand.New(rand.NewPCG(1, 1)))
	b := modeltest.AllKinds(rand.New(rand.NewPCG(1, 1)))
	if err := model.Save(path, a); err != nil {
		t.Fatal(err)
	}
	if err := model.Save(path, b); err != nil { // replaces
		t.Fatal(err)
	}
	bad := modeltest.AllKinds(rand.New(rand.NewPCG(1, 1)))
	bad.Input.Timesteps = 0
	if err := model.Save(path, bad); err == nil {
		t.Fatal("Save of an invalid model succeeded")
	}
	got, err := model.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	checkSame(t, got, b)
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries, want only m.bsnn (no temp files)", len(entries))
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, want 0644", fi.Mode().Perm())
	}
	if err := model.Save(filepath.Join(dir, "missing", "m.bsnn"), a); err == nil {
		t.Error("Save into a missing directory succeeded")
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := model.Load(filepath.Join(dir, "none.bsnn")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: err = %v, want ErrNotExist", err)
	}
	path := filepath.Join(dir, "junk.bsnn")
	if err := os.WriteFile(path, []byte("GIF89a, not a model"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := model.Load(path)
	const want = `junk.bsnn: bsnn file: identifier: not a .bsnn file: file identifier is "9a, ", want "BSNN"`
	if err == nil || err.Error() != filepath.Join(dir, want) {
		t.Errorf("err = %v\nwant %s", err, filepath.Join(dir, want))
	}

	// A sparse file just over the cap is refused from its size, before
	// anything is read or allocated.
	big := filepath.Join(dir, "big.bsnn")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(model.MaxFileSize + 1); err != nil {
		t.Skip("cannot make a sparse file:", err)
	}
	f.Close()
	if _, err := model.Load(big); !errors.Is(err, model.ErrTooLarge) {
		t.Errorf("oversized file: err = %v, want ErrTooLarge", err)
	}
}

func TestReadLimit(t *testing.T) {
	data := bytes.Repeat([]byte{1}, 1000)
	if got, err := model.ReadLimited(bytes.NewReader(data), 1000); err != nil || len(got) != 1000 {
		t.Errorf("1000 bytes at limit 1000: %d bytes, %v", len(got), err)
	}
	if _, err := model.ReadLimited(bytes.NewReader(data), 999); !errors.Is(err, model.ErrTooLarge) {
		t.Errorf("1000 bytes at limit 999: err = %v, want ErrTooLarge", err)
	}
	// An endless reader stops at the limit.
	if _, err := model.ReadLimited(endless{}, 1<<16); !errors.Is(err, model.ErrTooLarge) {
		t.Errorf("endless reader: err = %v, want ErrTooLarge", err)
	}
}

type endless struct{}

func (endless) Read(p []byte) (int, error) { return len(p), nil }
