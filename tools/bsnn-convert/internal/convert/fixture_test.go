package convert

import (
	"archive/zip"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// testdata written by tools/pyref/convert_fixtures.py.
const fixtureDir = "../../testdata"

// npy is one array from a .npy file.
type npy struct {
	descr string
	shape []int
	data  []byte
}

var npyHeader = regexp.MustCompile(`'descr':\s*'([^']+)'.*'fortran_order':\s*(True|False).*'shape':\s*\(([^)]*)\)`)

func parseNPY(b []byte) (*npy, error) {
	if len(b) < 10 || string(b[:6]) != "\x93NUMPY" {
		return nil, fmt.Errorf("not a .npy file")
	}
	var hl, off int
	if b[6] == 1 {
		hl, off = int(binary.LittleEndian.Uint16(b[8:])), 10
	} else {
		hl, off = int(binary.LittleEndian.Uint32(b[8:])), 12
	}
	if off+hl > len(b) {
		return nil, fmt.Errorf("truncated .npy header")
	}
	m := npyHeader.FindStringSubmatch(string(b[off : off+hl]))
	if m == nil || m[2] == "True" {
		return nil, fmt.Errorf("unsupported .npy header %q", b[off:off+hl])
	}
	a := &npy{descr: m[1], data: b[off+hl:]}
	n := 1
	for _, p := range strings.Split(m[3], ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		d, err := strconv.Atoi(p)
		if err != nil {
			return nil, err
		}
		a.shape = append(a.shape, d)
		n *= d
	}
	size := map[string]int{"<f4": 4, "<u8": 8, "<i4": 4, "|u1": 1, "<i8": 8}[a.descr]
	if size == 0 || len(a.data) != n*size {
		return nil, fmt.Errorf(".npy %s %v holds %d bytes", a.descr, a.shape, len(a.data))
	}
	return a, nil
}

func (a *npy) f32() []float32 {
	out := make([]float32, len(a.data)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(a.data[4*i:]))
	}
	return out
}

func (a *npy) u64() []uint64 {
	out := make([]uint64, len(a.data)/8)
	for i := range out {
		out[i] = binary.LittleEndian.Uint64(a.data[8*i:])
	}
	return out
}

func (a *npy) i32() []int32 {
	out := make([]int32, len(a.data)/4)
	for i := range out {
		out[i] = int32(binary.LittleEndian.Uint32(a.data[4*i:]))
	}
	return out
}

// npz is a zip of .npy arrays plus an optional meta.json.
type npz struct {
	arrays map[string]*npy
	meta   []byte
}

func readNPZ(t testing.TB, path string) *npz {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatalf("%s: %v (regenerate with /usr/bin/python3 tools/pyref/convert_fixtures.py)", path, err)
	}
	defer zr.Close()
	z := &npz{arrays: map[string]*npy{}}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		if f.Name == "meta.json" {
			z.meta = b
			continue
		}
		a, err := parseNPY(b)
		if err != nil {
			t.Fatalf("%s/%s: %v", path, f.Name, err)
		}
		z.arrays[strings.TrimSuffix(f.Name, ".npy")] = a
	}
	return z
}

func (z *npz) get(t testing.TB, name string) *npy {
	t.Helper()
	a := z.arrays[name]
	if a == nil {
		t.Fatalf("fixture has no array %q", name)
	}
	return a
}

// fixtureMeta is meta.json.
type fixtureMeta struct {
	Preset     string   `json:"preset"` // "" for a -spec network
	Spec       string   `json:"spec"`
	Checkpoint string   `json:"checkpoint"`
	Save       string   `json:"save"`
	Width      float64  `json:"width"`
	InputShape []int    `json:"input_shape"`
	Classes    int      `json:"classes"`
	Inputs     string   `json:"inputs"`
	N          int      `json:"n"`
	Timesteps  int      `json:"timesteps"`
	LIFNames   []string `json:"lif_names"`
	LIFShapes  [][]int  `json:"lif_shapes"`
	Keep       int      `json:"keep_spikes"`
	Report     struct {
		MaxAbs   float64 `json:"max_abs_logit_diff"`
		Argmax   int     `json:"argmax_agree"`
		Mismatch int     `json:"spike_mismatch"`
		Total    int     `json:"spikes_total"`
	} `json:"report"`
}

type fixture struct {
	name   string
	meta   fixtureMeta
	z      *npz
	inputs *npy // uint8 [N, C, H, W]
}

func loadFixture(t testing.TB, name string) *fixture {
	t.Helper()
	f := &fixture{name: name, z: readNPZ(t, filepath.Join(fixtureDir, name+".npz"))}
	if err := json.Unmarshal(f.z.meta, &f.meta); err != nil {
		t.Fatalf("%s meta.json: %v", name, err)
	}
	f.inputs = readNPZ(t, filepath.Join(fixtureDir, f.meta.Inputs)).get(t, "inputs")
	return f
}

// input returns sample i as the model takes it: u8 / 255 in float32.
func (f *fixture) input(i int) []float32 {
	n := f.inputs.shape[1] * f.inputs.shape[2] * f.inputs.shape[3]
	x := make([]float32, n)
	for j, u := range f.inputs.data[i*n : (i+1)*n] {
		x[j] = float32(u) / 255
	}
	return x
}
