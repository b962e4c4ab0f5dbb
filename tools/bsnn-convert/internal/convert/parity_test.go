package convert

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/bsnn/bsnn/model"
	"github.com/bsnn/bsnn/runtime"
	"github.com/bsnn/bsnn/runtime/reference"
	"github.com/bsnn/bsnn/tools/internal/torchload"
)

// The parity fixtures: each preset converted from a real PyTorch checkpoint
// must give exactly the spikes of the PyTorch mirror in every LIF layer,
// logits within 1e-4 (relative to the sample's largest logit) and the same
// argmax, on every input.
var parityFixtures = []string{"mnist", "vgg11", "resnet19", "resnet18", "custom"}

// sampleCounts returns how many inputs the runtime and the float reference
// executor run: the runtime all of them natively, the reference (which costs
// ~50x more per sample) a few; one reference sample under the race detector;
// under -short (qemu runs ~10-30x slower) the reference only on the small
// resnet18 fixture.
func sampleCounts(f *fixture) (rt, ref int) {
	n := f.meta.N
	rt, ref = n, 8
	switch {
	case testing.Short():
		rt, ref = 8, 0
		if f.name == "resnet18" {
			ref = 1
		}
	case raceEnabled:
		rt, ref = 8, 1
	}
	return min(rt, n), min(ref, n)
}

func convertFixture(t testing.TB, f *fixture, opt Options) (*model.Model, *Spec) {
	t.Helper()
	ck, err := torchload.Open(filepath.Join(fixtureDir, f.meta.Checkpoint))
	if err != nil {
		t.Fatal(err)
	}
	defer ck.Close()
	sd, err := ck.StateDict()
	if err != nil {
		t.Fatal(err)
	}
	var spec *Spec
	if f.meta.Preset == "" {
		// A network given as a JSON spec (tools/pyref/convert_fixtures.py CUSTOM_SPEC).
		spec, err = ReadSpec(filepath.Join(fixtureDir, f.meta.Spec))
	} else {
		spec, err = Presets[f.meta.Preset].Spec(PresetOptions{Width: f.meta.Width, Classes: f.meta.Classes, Input: f.meta.InputShape})
		spec.Timesteps = f.meta.Timesteps
	}
	if err != nil {
		t.Fatal(err)
	}
	m, _, err := Build(spec, sd, opt)
	if err != nil {
		t.Fatal(err)
	}
	return m, spec
}

// spikeHash packs a [T, C, H, W] spike map 8 per byte, least significant bit
// first (numpy packbits bitorder="little") and returns the first 8 bytes of
// its SHA-256, little-endian: what convert_fixtures.py stores.
func spikeHash(s []float32) uint64 {
	b := make([]byte, (len(s)+7)/8)
	for i, x := range s {
		if x != 0 {
			b[i/8] |= 1 << uint(i%8)
		}
	}
	h := sha256.Sum256(b)
	return binary.LittleEndian.Uint64(h[:8])
}

// parityChecker compares one executor's outputs with a fixture.
type parityChecker struct {
	t         *testing.T
	f         *fixture
	lif       []int // model layer index of each fixture LIF layer
	hashes    []uint64
	logits    []float32
	failures  int
	maxRel    float64
	hashField string
}

func newChecker(t *testing.T, f *fixture, m *model.Model, logits, hashes string) *parityChecker {
	c := &parityChecker{t: t, f: f, logits: f.z.get(t, logits).f32(), hashes: f.z.get(t, hashes).u64(), hashField: hashes}
	byName := map[string]int{}
	for i, l := range m.Layers {
		byName[l.Name] = i
	}
	for _, n := range f.meta.LIFNames {
		i, ok := byName[n]
		if !ok || m.Layers[i].Op != model.OpLIF {
			t.Fatalf("fixture LIF layer %q is not a LIF layer of the converted model", n)
		}
		c.lif = append(c.lif, i)
	}
	var nlif int
	for _, l := range m.Layers {
		if l.Op == model.OpLIF {
			nlif++
		}
	}
	if nlif != len(c.lif) {
		t.Fatalf("converted model has %d LIF layers, the fixture %d", nlif, len(c.lif))
	}
	return c
}

func (c *parityChecker) fail(format string, args ...any) {
	c.t.Helper()
	c.failures++
	c.t.Errorf(format, args...)
	if c.failures >= 10 {
		c.t.Fatalf("%s: stopping after %d failures", c.f.name, c.failures)
	}
}

// spikes checks LIF layer l's T×C×H×W output for sample b.
func (c *parityChecker) spikes(who string, b, l int, s []float32) {
	c.t.Helper()
	L := len(c.lif)
	if got, want := spikeHash(s), c.hashes[b*L+l]; got != want {
		c.fail("%s: %s sample %d layer %s: spikes differ from PyTorch (%s)", c.f.name, who, b, c.f.meta.LIFNames[l], c.describe(b, l, s))
	}
}

// describe locates a spike mismatch: per-step counts and, for the samples
// whose maps are stored, the first differing position.
func (c *parityChecker) describe(b, l int, s []float32) string {
	T := c.f.meta.Timesteps
	n := len(s) / T
	got := make([]int32, T)
	for t := 0; t < T; t++ {
		for _, x := range s[t*n : (t+1)*n] {
			if x != 0 {
				got[t]++
			}
		}
	}
	L := len(c.lif)
	want := c.f.z.get(c.t, "spike_count").i32()[(b*L+l)*T : (b*L+l+1)*T]
	msg := fmt.Sprintf("counts per step %v, PyTorch %v", got, want)
	if c.hashField == "spike_hash" && b < c.f.meta.Keep {
		packed := c.f.z.get(c.t, fmt.Sprintf("spikes_%d", l))
		row := packed.data[b*packed.shape[1] : (b+1)*packed.shape[1]]
		sh := c.f.meta.LIFShapes[l]
		for i, x := range s {
			if (row[i/8]>>uint(i%8)&1 == 1) != (x != 0) {
				j := i % n
				msg += fmt.Sprintf("; first difference at t=%d c=%d y=%d x=%d (Go %v)", i/n, j/(sh[1]*sh[2]), j/sh[2]%sh[1], j%sh[2], x)
				break
			}
		}
	}
	return msg
}

func (c *parityChecker) result(who string, b int, logits []float32, class int) {
	c.t.Helper()
	K := c.f.meta.Classes
	want := c.logits[b*K : (b+1)*K]
	scale, arg := 0.0, 0
	for j, w := range want {
		scale = math.Max(scale, math.Abs(float64(w)))
		if w > want[arg] {
			arg = j
		}
	}
	for j := range want {
		d := math.Abs(float64(logits[j]) - float64(want[j]))
		if scale > 0 {
			c.maxRel = math.Max(c.maxRel, d/scale)
		}
		if d > 1e-4*scale {
			c.fail("%s: %s sample %d logit %d = %v, PyTorch %v", c.f.name, who, b, j, logits[j], want[j])
			break
		}
	}
	if class != arg {
		c.fail("%s: %s sample %d class %d, PyTorch %d", c.f.name, who, b, class, arg)
	}
}

func runParity(t *testing.T, f *fixture, m *model.Model, logits, hashes string) {
	nrt, nref := sampleCounts(f)

	// The float reference executor, straight from model.go's semantics.
	c := newChecker(t, f, m, logits, hashes)
	x, err := reference.New(m)
	if err != nil {
		t.Fatal(err)
	}
	x.KeepOutputs = true
	for b := 0; b < nref; b++ {
		r, err := x.Run(f.input(b))
		if err != nil {
			t.Fatal(err)
		}
		for l, li := range c.lif {
			var s []float32
			for _, step := range r.Outputs[li] {
				s = append(s, step...)
			}
			c.spikes("reference", b, l, s)
		}
		c.result("reference", b, r.Logits, r.Class)
	}
	t.Logf("reference executor: %d samples, max |Δlogit| / max|logit| = %.2g", nref, c.maxRel)

	// The runtime, with the best kernels, batched.
	c = newChecker(t, f, m, logits, hashes)
	const batch = 8
	e, err := runtime.New(m, runtime.WithTrace(), runtime.WithBatch(batch))
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	var s []float32
	for lo := 0; lo < nrt; lo += batch {
		var in [][]float32
		for b := lo; b < min(lo+batch, nrt); b++ {
			in = append(in, f.input(b))
		}
		r, err := e.InferBatch(in)
		if err != nil {
			t.Fatal(err)
		}
		for j := range in {
			for l, li := range c.lif {
				if s, err = e.LayerOutput(li, j, s); err != nil {
					t.Fatal(err)
				}
				c.spikes("runtime", lo+j, l, s)
			}
			c.result("runtime", lo+j, r.Logits[j], r.Classes[j])
		}
	}
	t.Logf("runtime (%s): %d samples, max |Δlogit| / max|logit| = %.2g", e.Kernels().Name, nrt, c.maxRel)
}

func TestParity(t *testing.T) {
	for _, name := range parityFixtures {
		t.Run(name, func(t *testing.T) {
			f := loadFixture(t, name)
			m, _ := convertFixture(t, f, Options{})
			if rep := f.meta.Report; f.meta.Preset != "" {
				t.Logf("PyTorch float32 eval vs mirror: max |Δlogit| %.2g, argmax %d/%d, spike flips %d/%d",
					rep.MaxAbs, rep.Argmax, f.meta.N, rep.Mismatch, rep.Total)
			}
			runParity(t, f, m, "logits", "spike_hash")
		})
	}
}

// TestParityInt8 checks -fp int8 against the mirror run with the same
// quantization in PyTorch (presets.fold(fp="int8")).
func TestParityInt8(t *testing.T) {
	f := loadFixture(t, "mnist")
	m, _ := convertFixture(t, f, Options{Int8: true})
	for _, l := range m.Layers {
		if (l.Op == model.OpConv2D || l.Op == model.OpLinear) && l.Precision == model.PrecisionFloat32 {
			t.Fatalf("layer %s stayed fp32 with Int8", l.Name)
		}
	}
	runParity(t, f, m, "logits_int8", "spike_hash_int8")
}

// TestPresetSpecs checks that the Go presets build the spec presets.py
// emits for the fixtures' configurations.
func TestPresetSpecs(t *testing.T) {
	for _, name := range parityFixtures[:4] {
		t.Run(name, func(t *testing.T) {
			f := loadFixture(t, name)
			_, got := convertFixture(t, f, Options{})
			b, err := os.ReadFile(filepath.Join(fixtureDir, name+".spec.json"))
			if err != nil {
				t.Fatal(err)
			}
			want, err := ParseSpec(b)
			if err != nil {
				t.Fatal(err)
			}
			want.Normalize()
			if !reflect.DeepEqual(got.Input, want.Input) {
				t.Errorf("input %+v, presets.py %+v", got.Input, want.Input)
			}
			if len(got.Layers) != len(want.Layers) {
				t.Fatalf("%d layers, presets.py %d", len(got.Layers), len(want.Layers))
			}
			for i := range got.Layers {
				if !reflect.DeepEqual(got.Layers[i], want.Layers[i]) {
					t.Errorf("layer %d:\n Go     %+v\n Python %+v", i, got.Layers[i], want.Layers[i])
				}
			}
		})
	}
}
