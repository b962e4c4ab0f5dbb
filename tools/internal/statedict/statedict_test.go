package statedict

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/bsnn/bsnn/finetune"
	"github.com/bsnn/bsnn/model"
)

func TestPyTorchKey(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"conv1.weight", "conv1.weight"},
		{"conv2.bn.weight", "bn2.weight"},
		{"conv12.bn.running_var", "bn12.running_var"},
		{"layer1.0.conv2.bn.bias", "layer1.0.bn2.bias"},
		{"layer2.0.downsample.conv.bn.running_mean", "layer2.0.downsample.bn.running_mean"},
		{"agmm3.alpha", "agmm3.alpha"},
		{"fc.bias", "fc.bias"},
	} {
		got, err := PyTorchKey(c.in)
		if err != nil || got != c.want {
			t.Errorf("PyTorchKey(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
	for _, in := range []string{"fc.bn.weight", "conv.x.bn.weight"} {
		if k, err := PyTorchKey(in); err == nil || !strings.Contains(err.Error(), "no PyTorch BN name") {
			t.Errorf("PyTorchKey(%q) = %q, %v; want an error", in, k, err)
		}
	}
}

// trained returns a small MNIST-preset net after a few training steps on
// random images (so the BN running statistics are neither 0 nor 1) and the
// path of its checkpoint.
func trained(t *testing.T) (*finetune.Net, string) {
	t.Helper()
	cfg := finetune.DefaultConfig(finetune.PresetMNIST)
	cfg.Widths = []int{3, 5, 4}
	cfg.Optim.TotalSteps = 3
	n, err := finetune.NewNet(cfg)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	const batch = 4
	x := make([]float32, batch*n.InputLen())
	labels := make([]int, batch)
	for step := 0; step < 3; step++ {
		for i := range x {
			x[i] = r.Float32()
		}
		for i := range labels {
			labels[i] = r.IntN(10)
		}
		if _, err := n.TrainStep(x, labels); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(t.TempDir(), "net.ckpt")
	if err := n.SaveCheckpoint(path); err != nil {
		t.Fatal(err)
	}
	return n, path
}

func TestFromCheckpoint(t *testing.T) {
	n, path := trained(t)
	_, sd, err := FromCheckpoint(path)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"conv1.weight", "bn1.weight", "bn1.bias", "bn1.running_mean", "bn1.running_var",
		"conv2.weight", "bn2.weight", "bn2.bias", "bn2.running_mean", "bn2.running_var", "agmm2.alpha",
		"conv3.weight", "bn3.weight", "bn3.bias", "bn3.running_mean", "bn3.running_var", "agmm3.alpha",
		"fc.weight", "fc.bias",
	}
	if !slices.Equal(sd.Keys, want) {
		t.Fatalf("keys %q, want %q", sd.Keys, want)
	}
	shapes := map[string][]int{"conv2.weight": {5, 3, 3, 3}, "bn3.running_var": {4}, "agmm2.alpha": {4}, "fc.weight": {10, 4 * 7 * 7}}
	for k, s := range shapes {
		if !slices.Equal(sd.Tensors[k].Shape, s) {
			t.Errorf("%s shape %v, want %v", k, sd.Tensors[k].Shape, s)
		}
	}
	for _, p := range n.Params() {
		k, _ := PyTorchKey(p.Name)
		if !slices.Equal(sd.Tensors[k].Data, p.Data) {
			t.Errorf("%s (%s) differs from the parameter", k, p.Name)
		}
	}
	// The running statistics are the trainer's: its export folds them as
	// Scale = γ/√(var+ε) for the float32 stem (no binarization scale).
	for _, bn := range []string{"bn1", "bn2", "bn3"} {
		m, v := sd.Tensors[bn+".running_mean"].Data, sd.Tensors[bn+".running_var"].Data
		if m[0] == 0 || v[0] == 1 {
			t.Errorf("%s running statistics %v, %v look untrained", bn, m, v)
		}
	}
	mod, err := n.Export(model.Provenance{})
	if err != nil {
		t.Fatal(err)
	}
	g, v, eps := sd.Tensors["bn1.weight"].Data, sd.Tensors["bn1.running_var"].Data, n.Config().BN.Eps
	for c := range g {
		if want := g[c] / float32(math.Sqrt(float64(v[c]+eps))); mod.Layers[0].Scale[c] != want {
			t.Errorf("conv1 Scale[%d] = %v, γ/√(var+ε) from the dump %v", c, mod.Layers[0].Scale[c], want)
		}
	}
	if sd.Meta.Step != 3 || !slices.Equal(sd.Meta.Widths, []int{3, 5, 4}) || sd.Meta.Timesteps != 4 || sd.Meta.Reset != "hard" || sd.Meta.Stat != "spatial" {
		t.Errorf("meta %+v", sd.Meta)
	}
}

func TestFromNetStats(t *testing.T) {
	n, path := trained(t)
	stats, err := CheckpointStats(path, n)
	if err != nil {
		t.Fatal(err)
	}
	if len(stats) != 6 {
		t.Fatalf("%d running statistics, want 6", len(stats))
	}
	missing := map[string][]float32{}
	for k, v := range stats {
		if k != "conv2.bn.running_var" {
			missing[k] = v
		}
	}
	if _, err := FromNet(n, missing); err == nil || !strings.Contains(err.Error(), "conv2.bn.running_var") {
		t.Errorf("missing statistic: %v", err)
	}
	extra := map[string][]float32{"fc.bn.running_mean": {1}}
	for k, v := range stats {
		extra[k] = v
	}
	if _, err := FromNet(n, extra); err == nil || !strings.Contains(err.Error(), "fc.bn.running_mean") {
		t.Errorf("extra statistic: %v", err)
	}
	short := map[string][]float32{}
	for k, v := range stats {
		short[k] = v
	}
	short["conv3.bn.running_mean"] = []float32{1}
	if _, err := FromNet(n, short); err == nil || !strings.Contains(err.Error(), "conv3.bn.running_mean has 1 values") {
		t.Errorf("mis-sized statistic: %v", err)
	}
}

func TestCheckpointStatsBadFiles(t *testing.T) {
	n, path := trained(t)
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(b []byte) string {
		p := filepath.Join(dir, "x.ckpt")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	flipped := slices.Clone(good)
	flipped[len(flipped)/2] ^= 1
	v2 := slices.Clone(good)
	v2[8] = 2
	for _, c := range []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "not a finetune checkpoint"},
		{"foreign", []byte("PK\x03\x04 some zip file of sufficient length"), "not a finetune checkpoint"},
		{"version", v2, "format version 2"},
		{"flipped", flipped, "CRC mismatch"},
		{"truncated", good[:len(good)-9], "CRC mismatch"},
	} {
		if _, err := CheckpointStats(write(c.data), n); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
	// A checkpoint of another net of the same shape: its parameters are
	// not n's, which is how a layout this reader misreads would show.
	cfg := n.Config()
	cfg.Seed = 7
	other, err := finetune.NewNet(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := CheckpointStats(path, other); err == nil || !strings.Contains(err.Error(), "differs from the network's parameter") {
		t.Errorf("other net: %v", err)
	}
}

// parseNPY decodes what NPY writes, checking the .npy v1.0 layout.
func parseNPY(t *testing.T, b []byte) (header string, data []float32) {
	t.Helper()
	if string(b[:8]) != "\x93NUMPY\x01\x00" {
		t.Fatalf("magic %q", b[:8])
	}
	hl := int(binary.LittleEndian.Uint16(b[8:]))
	if (10+hl)%64 != 0 || b[10+hl-1] != '\n' {
		t.Fatalf("header of %d bytes: data not 64-byte aligned or no trailing newline", hl)
	}
	rest := b[10+hl:]
	data = make([]float32, len(rest)/4)
	for i := range data {
		data[i] = math.Float32frombits(binary.LittleEndian.Uint32(rest[4*i:]))
	}
	return strings.TrimRight(string(b[10:10+hl]), " \n"), data
}

func TestNPZ(t *testing.T) {
	sd := &StateDict{
		Keys: []string{"a.weight", "b.alpha", "c"},
		Tensors: map[string]*Tensor{
			"a.weight": {Shape: []int{2, 1, 3}, Data: []float32{1, -2, 3.5, float32(math.Inf(-1)), 0, -0.25}},
			"b.alpha":  {Shape: []int{4}, Data: []float32{0.5, 1, 1.5, 2}},
			"c":        {Shape: []int{}, Data: []float32{7}},
		},
		Meta: Meta{Preset: "mnist", Widths: []int{1, 2, 3}, Mean: []float32{0.1307}, Step: 9},
	}
	b, err := sd.NPZ()
	if err != nil {
		t.Fatal(err)
	}
	again, _ := sd.NPZ()
	if !bytes.Equal(b, again) {
		t.Error("NPZ is not deterministic")
	}
	z, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	wantHeader := map[string]string{
		"a.weight.npy": "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 1, 3), }",
		"b.alpha.npy":  "{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }",
		"c.npy":        "{'descr': '<f4', 'fortran_order': False, 'shape': (), }",
	}
	var names []string
	for _, f := range z.File {
		names = append(names, f.Name)
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		if f.Name == "meta.json" {
			var m Meta
			if err := json.Unmarshal(body, &m); err != nil || m.Step != 9 || m.Mean[0] != float32(0.1307) {
				t.Errorf("meta.json %s: %v", body, err)
			}
			continue
		}
		h, data := parseNPY(t, body)
		if h != wantHeader[f.Name] {
			t.Errorf("%s header %q, want %q", f.Name, h, wantHeader[f.Name])
		}
		want := sd.Tensors[strings.TrimSuffix(f.Name, ".npy")].Data
		if !slices.EqualFunc(data, want, func(x, y float32) bool { return math.Float32bits(x) == math.Float32bits(y) }) {
			t.Errorf("%s data %v, want %v", f.Name, data, want)
		}
	}
	if !slices.Equal(names, []string{"a.weight.npy", "b.alpha.npy", "c.npy", "meta.json"}) {
		t.Errorf("entries %q", names)
	}
}
