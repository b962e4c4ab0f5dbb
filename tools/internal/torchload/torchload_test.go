package torchload

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// want mirrors tools/pyref/torchload_fixtures.py.
func wantW(i, j int) float64 { return float64(i*10) + float64(j)/4 }

func checkFixture(t *testing.T, sd *StateDict) {
	t.Helper()
	get := func(k string) *Tensor {
		t.Helper()
		x := sd.Tensors[k]
		if x == nil {
			t.Fatalf("key %q missing; have %v", k, sd.Keys)
		}
		return x
	}
	expect := func(k string, dt DType, shape []int, f func(i int) float64) {
		t.Helper()
		x := get(k)
		if x.DType != dt || ShapeString(x.Shape) != ShapeString(shape) {
			t.Fatalf("%s: %v %v, want %v %v", k, x.DType, ShapeString(x.Shape), dt, ShapeString(shape))
		}
		v, err := x.Float64()
		if err != nil {
			t.Fatalf("%s: %v", k, err)
		}
		v32, err := x.Float32()
		if err != nil {
			t.Fatalf("%s: %v", k, err)
		}
		for i := range v {
			if w := f(i); v[i] != w || float64(v32[i]) != float64(float32(w)) {
				t.Fatalf("%s[%d] = %v / %v, want %v", k, i, v[i], v32[i], w)
			}
		}
	}
	expect("conv.weight", Float32, []int{3, 5}, func(i int) float64 { return wantW(i/5, i%5) })
	expect("conv.weight_t", Float32, []int{5, 3}, func(i int) float64 { return wantW(i%3, i/3) })
	expect("row", Float32, []int{5}, func(i int) float64 { return wantW(1, i) })
	expect("half", Float16, []int{3, 5}, func(i int) float64 { return wantW(i/5, i%5) - 7 })
	expect("bf16", BFloat16, []int{3, 5}, func(i int) float64 { return wantW(i/5, i%5) + 0.5 })
	expect("double", Float64, []int{3, 5}, func(i int) float64 { return wantW(i/5, i%5) / 3 })
	expect("bn.num_batches_tracked", Int64, []int{}, func(int) float64 { return 17 })
	expect("ints", Int32, []int{6}, func(i int) float64 { return float64(i - 3) })
	expect("flags", Bool, []int{3}, func(i int) float64 { return float64(1 - i%2) })
	expect("empty", Float32, []int{0, 4}, nil)
	expect("scalar", Float32, []int{}, func(int) float64 { return 2.5 })
}

func openSD(t *testing.T, path string) (*Checkpoint, *StateDict) {
	t.Helper()
	c, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	sd, err := c.StateDict()
	if err != nil {
		t.Fatal(err)
	}
	return c, sd
}

func TestTorchFiles(t *testing.T) {
	for _, tc := range []struct{ file, format, under, prefix string }{
		{"zip.pt", "zip", "", ""},
		{"legacy.pt", "legacy", "", ""},
		{"proto4.pt", "zip", "", ""},
		{"wrapped.pt", "zip", "state_dict", "module."},
	} {
		t.Run(tc.file, func(t *testing.T) {
			c, sd := openSD(t, filepath.Join("testdata", tc.file))
			if c.Format != tc.format || sd.Under != tc.under || sd.Prefix != tc.prefix {
				t.Fatalf("format %q under %q prefix %q, want %q %q %q", c.Format, sd.Under, sd.Prefix, tc.format, tc.under, tc.prefix)
			}
			if sd.Keys[0] != "conv.weight" || len(sd.Keys) != 11 {
				t.Fatalf("keys %v", sd.Keys)
			}
			checkFixture(t, sd)
		})
	}
}

func TestParameter(t *testing.T) {
	_, sd := openSD(t, "testdata/params.pt")
	v, err := sd.Tensors["w"].Float32()
	if err != nil || len(v) != 15 || v[14] != float32(wantW(2, 4)) {
		t.Fatalf("w = %v, %v", v, err)
	}
}

func TestPickledModuleRefused(t *testing.T) {
	_, err := Open("testdata/module.pt")
	var ug *UnknownGlobalError
	if !errors.As(err, &ug) || !strings.Contains(err.Error(), "torch.nn.modules.linear.Linear") || !strings.Contains(err.Error(), "state_dict()") {
		t.Fatalf("err = %v, want an unknown-global error naming torch.nn.modules.linear.Linear", err)
	}
}

// readBytes runs Read on b and returns the error of reading the state_dict
// and every tensor's data.
func readBytes(b []byte) error {
	c, err := Read(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return err
	}
	sd, err := c.StateDict()
	if err != nil {
		return err
	}
	for _, k := range sd.Keys {
		if _, err := sd.Tensors[k].Float32(); err != nil {
			return err
		}
	}
	return nil
}

// zipWith builds a torch-style zip archive from entries (name → bytes),
// stored uncompressed as torch.save does.
func zipWith(t *testing.T, entries ...string) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	for i := 0; i < len(entries); i += 2 {
		f, err := w.CreateHeader(&zip.FileHeader{Name: entries[i], Method: zip.Store})
		if err != nil {
			t.Fatal(err)
		}
		f.Write([]byte(entries[i+1]))
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// tensorPickle is a protocol-2 pickle of {"w": tensor} whose storage has
// numel elements and whose view has the given size, stride and offset (each
// a BININT1, so 0..255).
func tensorPickle(numel, size, stride, offset byte) string {
	return "\x80\x02}(X\x01\x00\x00\x00w" +
		"ctorch._utils\n_rebuild_tensor_v2\n" +
		"((X\x07\x00\x00\x00storagectorch\nFloatStorage\nX\x01\x00\x00\x000X\x03\x00\x00\x00cpuK" + b1(numel) + "tQ" +
		"K" + b1(offset) + "K" + b1(size) + "\x85K" + b1(stride) + "\x85\x89)tR" +
		"u."
}

func b1(x byte) string { return string([]byte{x}) }

func f32s(v ...float32) string {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return string(b)
}

func TestCraftedGood(t *testing.T) {
	// The crafted builder itself must produce a readable checkpoint, or the
	// bad-input tests below prove nothing.
	b := zipWith(t, "a/data.pkl", tensorPickle(4, 2, 2, 1), "a/data/0", f32s(1, 2, 3, 4), "a/version", "3\n")
	c, err := Read(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	sd, err := c.StateDict()
	if err != nil {
		t.Fatal(err)
	}
	v, err := sd.Tensors["w"].Float32()
	if err != nil || len(v) != 2 || v[0] != 2 || v[1] != 4 {
		t.Fatalf("w = %v, %v; want [2 4]", v, err)
	}
}

func TestBadInput(t *testing.T) {
	good, err := os.ReadFile("testdata/zip.pt")
	if err != nil {
		t.Fatal(err)
	}
	legacy, err := os.ReadFile("testdata/legacy.pt")
	if err != nil {
		t.Fatal(err)
	}
	corrupt := append([]byte(nil), good...)
	// Flip a byte inside the first storage (conv.weight's data): the CRC
	// check must catch it when the tensor is read.
	if i := bytes.Index(corrupt, []byte(f32s(0, 0.25, 0.5))); i < 0 {
		t.Fatal("storage bytes not found in zip.pt")
	} else {
		corrupt[i+5] ^= 0x40
	}
	corruptPkl := append([]byte(nil), good...)
	corruptLegacy := append([]byte(nil), legacy...)
	for _, b := range [][]byte{corruptPkl, corruptLegacy} {
		if i := bytes.Index(b, []byte("_rebuild_tensor_v2")); i < 0 {
			t.Fatal("pickle not found")
		} else {
			copy(b[i:], "_rebuild_tensor_vX")
		}
	}
	pk := func(p string) []byte { return zipWith(t, "a/data.pkl", p, "a/data/0", f32s(1, 2, 3, 4)) }
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"truncated zip", good[:len(good)/2], "truncated or corrupt zip"},
		{"corrupt storage", corrupt, "checksum"},
		{"corrupt zip pickle", corruptPkl, "data.pkl: zip: checksum error"},
		{"corrupt legacy pickle", corruptLegacy, "global torch._utils._rebuild_tensor_vX"},
		{"truncated legacy", legacy[:len(legacy)-40], "truncated"},
		{"truncated legacy pickle", legacy[:300], "pickle truncated"},
		{"text file", []byte("epoch,loss\n1,0.5\n"), "not a PyTorch checkpoint"},
		{"empty", nil, "not a PyTorch checkpoint"},
		{"bsnn file", []byte("\x10\x00\x00\x00BSNN\x00\x00\x00\x00"), ".bsnn model"},
		{"zip without pickle", zipWith(t, "x.npy", "abc"), "without data.pkl"},
		{"torchscript", zipWith(t, "m/data.pkl", "\x80\x02}.", "m/constants.pkl", "\x80\x02)."), "TorchScript"},
		{"unknown global", pk("\x80\x02cos\nsystem\n(X\x02\x00\x00\x00lstR."), "global os.system"},
		{"unknown stack global", pk("\x80\x04\x8c\x08builtins\x8c\x04eval\x93."), "global builtins.eval"},
		{"huge bytes length", pk("\x80\x04\x8e\xff\xff\xff\xff\xff\xff\xff\x7f."), "claims"},
		{"huge frame", pk("\x80\x04\x95\x00\x00\x00\x00\x00\x00\x00\x10."), "frame"},
		{"negative binstring", pk("\x80\x02T\xff\xff\xff\xff."), "claims"},
		{"unknown opcode", pk("\x80\x02\xff."), "unknown opcode 0xff"},
		{"extension opcode", pk("\x80\x02\x82\x01."), "extension registry"},
		{"no stop", pk("\x80\x02}"), "no STOP"},
		{"odd dict", pk("\x80\x02(K\x01d."), "malformed pickle"},
		{"empty stack", pk("\x80\x02R."), "malformed pickle"},
		{"too many marks", pk("\x80\x02" + strings.Repeat("(", maxPickleMarks+1) + "."), "MARK"},
		{"not a dict", pk("\x80\x02K\x05."), "not a state_dict"},
		{"no tensors", pk("\x80\x02}(X\x05\x00\x00\x00epochK\x03u."), "no tensors"},
		{"storage past entry", pk(tensorPickle(9, 2, 1, 0)), "needs 36"},
		{"view past storage", pk(tensorPickle(4, 3, 2, 0)), "past the end of storage"},
		{"missing storage entry", zipWith(t, "a/data.pkl", tensorPickle(4, 2, 1, 0)), "no zip entry"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := readBytes(tc.data)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one containing %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error spans lines: %q", err)
			}
		})
	}
}

func TestHalf(t *testing.T) {
	for _, tc := range []struct {
		h uint16
		f float32
	}{
		{0x0000, 0}, {0x3c00, 1}, {0xc000, -2}, {0x7bff, 65504}, {0x0001, 1.0 / (1 << 24)},
		{0x03ff, 1023.0 / (1 << 24)}, {0x0400, 1.0 / (1 << 14)}, {0x3555, 0.333251953125},
	} {
		if got := halfToFloat32(tc.h); got != tc.f {
			t.Errorf("half %#04x = %v, want %v", tc.h, got, tc.f)
		}
	}
	if !math.IsInf(float64(halfToFloat32(0xfc00)), -1) || !math.IsNaN(float64(halfToFloat32(0x7e00))) {
		t.Error("half inf/nan")
	}
	if math.Signbit(float64(halfToFloat32(0x8000))) != true {
		t.Error("half -0 lost its sign")
	}
}

// FuzzRead feeds arbitrary bytes (seeded with the fixtures) to Read: it must
// return an error or a checkpoint, never panic or allocate without bound.
func FuzzRead(f *testing.F) {
	for _, name := range []string{"zip.pt", "legacy.pt", "wrapped.pt"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		_ = readBytes(b)
	})
}
