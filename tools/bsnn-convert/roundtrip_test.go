package main

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"flag"
	"io"
	"math"
	"math/big"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/bsnn/bsnn/finetune"
	"github.com/bsnn/bsnn/model"
	"github.com/bsnn/bsnn/runtime"
	"github.com/bsnn/bsnn/tools/internal/statedict"
	"github.com/bsnn/bsnn/tools/internal/torchload"
)

// The round trip of issue 5: a net trained by bsnn-train (its checkpoint),
// dumped by tools/internal/statedict, loaded into its PyTorch twin and saved
// by tools/pyref/roundtrip.py, converted back by bsnn-convert.
const (
	rtDir        = "testdata/roundtrip"
	rtCheckpoint = rtDir + "/mnist.ckpt"      // bsnn-train -run-dir checkpoint
	rtDump       = rtDir + "/mnist_go.npz"    // statedict of the checkpoint (Go)
	rtPTH        = rtDir + "/mnist.pth"       // torch.save of the twin loaded from the dump
	rtTorch      = rtDir + "/mnist_torch.npz" // the twin's float32 PyTorch eval logits
	rtInputs     = "testdata/inputs_mnist28.npz"
	rtSamples    = 64
	rtRegenerate = "regenerate with /usr/bin/python3 tools/pyref/roundtrip.py"
)

var roundtripDump = flag.Bool("roundtrip-dump", false, "TestRoundTripDump writes "+rtDump+" from "+rtCheckpoint+" (tools/pyref/roundtrip.py runs it)")

// TestRoundTripDump writes the PyTorch state_dict of the trainer's checkpoint
// for tools/pyref/roundtrip.py; it runs only with -roundtrip-dump.
func TestRoundTripDump(t *testing.T) {
	if !*roundtripDump {
		t.Skip("writes the round-trip fixture; run by tools/pyref/roundtrip.py with -roundtrip-dump")
	}
	_, sd, err := statedict.FromCheckpoint(rtCheckpoint)
	if err != nil {
		t.Fatal(err)
	}
	b, err := sd.NPZ()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(rtDump, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestRoundTrip requires the model bsnn-train exports from its checkpoint and
// the model bsnn-convert makes of the PyTorch twin's checkpoint to be the same
// file apart from provenance, except for Scale/Bias values that the trainer
// folds in float32 steps where the converter folds in float64 and rounds
// once (each such value must be exactly the trainer's rule), and then
// requires the runtime to give both the same spikes in every LIF layer and
// the same logits, bit for bit.
func TestRoundTrip(t *testing.T) {
	net, sd, err := statedict.FromCheckpoint(rtCheckpoint)
	if err != nil {
		t.Fatalf("%v (%s)", err, rtRegenerate)
	}

	// The chain of fixtures is consistent: the committed dump is the
	// checkpoint's, and the .pth holds exactly the dump's values.
	dump, err := sd.NPZ()
	if err != nil {
		t.Fatal(err)
	}
	if committed, err := os.ReadFile(rtDump); err != nil || !bytes.Equal(committed, dump) {
		t.Fatalf("%s is not the state_dict of %s (err %v); %s", rtDump, rtCheckpoint, err, rtRegenerate)
	}
	checkPTH(t, sd)

	// Model A: what bsnn-train exports (through the file format).
	dir := t.TempDir()
	mA, err := net.Export(model.Provenance{Dataset: "mnist", Accuracy: -1})
	if err != nil {
		t.Fatal(err)
	}
	if err := model.Save(filepath.Join(dir, "a.bsnn"), mA); err != nil {
		t.Fatal(err)
	}
	if mA, err = model.Load(filepath.Join(dir, "a.bsnn")); err != nil {
		t.Fatal(err)
	}
	// Model B: bsnn-convert of the twin's checkpoint, with the preset's
	// defaults. A state_dict has no class names: they come from -labels, as
	// bsnn-train took them from its data set.
	width := float64(sd.Meta.Widths[0]) / 32
	out, labels := filepath.Join(dir, "b.bsnn"), filepath.Join(dir, "labels.txt")
	if err := os.WriteFile(labels, []byte(strings.Join(mA.Labels, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if text, err := run(t, "-arch", "mnist", "-width", strconv.FormatFloat(width, 'g', -1, 64), "-labels", labels, "-in", rtPTH, "-out", out); err != nil {
		t.Fatalf("bsnn-convert: %v\n%s", err, text)
	}
	mB, err := model.Load(out)
	if err != nil {
		t.Fatal(err)
	}

	// explainFolds patches a copy of A (its slices are A's own after a load).
	patched, err := model.Load(filepath.Join(dir, "a.bsnn"))
	if err != nil {
		t.Fatal(err)
	}
	explained := explainFolds(t, net, sd, patched, mB)
	patched.Provenance = mB.Provenance
	ea, err := model.Encode(patched)
	if err != nil {
		t.Fatal(err)
	}
	eb, err := model.Encode(mB)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(ea, eb) {
		diffModels(t, patched, mB)
		t.Fatalf("the trainer's export and the converted twin differ beyond the folding (%d vs %d bytes)", len(ea), len(eb))
	}
	if explained == 0 {
		t.Logf("identical .bsnn files apart from provenance (%d bytes)", len(eb))
	}
	sameOutputs(t, mA, mB, net)
}

// checkPTH requires the twin's checkpoint to hold exactly the dump's tensors
// (bit for bit) plus each BatchNorm's num_batches_tracked = the trainer's
// step count.
func checkPTH(t *testing.T, sd *statedict.StateDict) {
	t.Helper()
	ck, err := torchload.Open(rtPTH)
	if err != nil {
		t.Fatal(err)
	}
	defer ck.Close()
	pth, err := ck.StateDict()
	if err != nil {
		t.Fatal(err)
	}
	var nbt int
	for _, k := range pth.Keys {
		pt := pth.Tensors[k]
		if strings.HasSuffix(k, ".num_batches_tracked") {
			nbt++
			v, err := pt.Float32()
			if err != nil || len(v) != 1 || int64(v[0]) != sd.Meta.Step {
				t.Errorf("%s = %v (%v), want the trainer's %d steps", k, v, err, sd.Meta.Step)
			}
			continue
		}
		want := sd.Tensors[k]
		if want == nil {
			t.Errorf("%s: not in the Go dump (%s)", k, rtRegenerate)
			continue
		}
		got, err := pt.Float32()
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(pt.Shape, want.Shape) || !sameBits(got, want.Data) {
			t.Errorf("%s: the twin's tensor %v differs from the Go dump's %v (%s)", k, pt.Shape, want.Shape, rtRegenerate)
		}
	}
	if n := len(pth.Keys) - nbt; n != len(sd.Keys) || nbt != 3 {
		t.Errorf("the twin's checkpoint has %d tensors and %d num_batches_tracked, the dump %d tensors and 3 BatchNorms", n, nbt, len(sd.Keys))
	}
}

func sameBits(a, b []float32) bool {
	return slices.EqualFunc(a, b, func(x, y float32) bool { return math.Float32bits(x) == math.Float32bits(y) })
}

// trainerFold is the trainer's BatchNorm folding (finetune's bn.fold and
// convNode.affine), from the state_dict: α = float32(Σ|w| / n) with the sum in
// float64 in weight order (binary layers; else 1), std =
// float32(√float64(var + ε)) with var + ε in float32, sc = γ / std, then
// Scale = α·sc and Bias = β − float32(mean·sc), every operation rounded to
// float32.
func trainerFold(w, g, be, m, v []float32, eps float32, binary bool, o int) (scale, bias float32) {
	a := float32(1)
	if binary {
		j := len(w) / len(g)
		var s float64
		for _, x := range w[o*j : (o+1)*j] {
			s += math.Abs(float64(x))
		}
		a = float32(s / float64(j))
	}
	std := float32(math.Sqrt(float64(v[o] + eps)))
	sc := g[o] / std
	return a * sc, be[o] - float32(m[o]*sc)
}

// exactFold returns the folded Scale and Bias of channel o computed exactly
// (big.Float, far more bits than any rounding involved) and then rounded to
// float32: mean|w| (binary layers) · γ/√(var + ε) and β − mean·γ/√(var + ε),
// with ε = 1e-5 as the converter and PyTorch take it.
func exactFold(w, g, be, m, v []float32, binary bool, o int) (scale, bias float32) {
	const prec = 400
	f := func(x float64) *big.Float { return new(big.Float).SetPrec(prec).SetFloat64(x) }
	a := f(1)
	if binary {
		j := len(w) / len(g)
		sum := f(0)
		for _, x := range w[o*j : (o+1)*j] {
			sum.Add(sum, f(math.Abs(float64(x))))
		}
		a.Quo(sum, f(float64(j)))
	}
	s := new(big.Float).SetPrec(prec).Add(f(float64(v[o])), f(1e-5))
	s.Quo(f(float64(g[o])), s.Sqrt(s))
	scale, _ = new(big.Float).SetPrec(prec).Mul(a, s).Float32()
	bias, _ = new(big.Float).SetPrec(prec).Sub(f(float64(be[o])), s.Mul(s, f(float64(m[o])))).Float32()
	return scale, bias
}

// explainFolds finds the Scale/Bias values where the trainer's export (a)
// and the converter's model (b) differ. It requires each of a's to be
// exactly trainerFold and each of b's to be the exactly rounded fold
// (exactFold, the converter's documented rule: float64, rounded once),
// reports how far apart they are, and copies b's values into a so the rest
// of the two files can be compared byte for byte. It returns the number of
// differing values.
func explainFolds(t *testing.T, net *finetune.Net, sd *statedict.StateDict, a, b *model.Model) int {
	t.Helper()
	if len(a.Layers) != len(b.Layers) {
		t.Fatalf("the trainer's export has %d layers, the converted twin %d", len(a.Layers), len(b.Layers))
	}
	eps := net.Config().BN.Eps
	total := 0
	for i := range a.Layers {
		la, lb := &a.Layers[i], &b.Layers[i]
		if la.Op != model.OpConv2D && la.Op != model.OpLinear || la.Name != lb.Name || len(la.Scale) != len(lb.Scale) || len(la.Bias) != len(lb.Bias) {
			continue // a structural difference shows in the byte comparison
		}
		w := sd.Tensors[la.Name+".weight"]
		bn, _ := statedict.PyTorchKey(la.Name + ".bn.x")
		bn = strings.TrimSuffix(bn, ".x")
		g, be, m, v := sd.Tensors[bn+".weight"], sd.Tensors[bn+".bias"], sd.Tensors[bn+".running_mean"], sd.Tensors[bn+".running_var"]
		var nScale, nBias int
		var ulps int64
		hasBN := w != nil && g != nil && be != nil && m != nil && v != nil
		binary := la.Precision == model.PrecisionBinary
		for o := range la.Scale {
			if hasBN {
				if es, eb := exactFold(w.Data, g.Data, be.Data, m.Data, v.Data, binary, o); es != lb.Scale[o] || eb != lb.Bias[o] {
					t.Errorf("layer %s channel %d: the converter wrote Scale %v Bias %v, the exactly rounded fold is %v %v", la.Name, o, lb.Scale[o], lb.Bias[o], es, eb)
				}
			}
			ds, db := la.Scale[o] != lb.Scale[o], la.Bias[o] != lb.Bias[o]
			if !ds && !db {
				continue
			}
			if !hasBN {
				t.Errorf("layer %s channel %d: Scale %v/%v Bias %v/%v differ, and the layer has no BatchNorm to explain it", la.Name, o, la.Scale[o], lb.Scale[o], la.Bias[o], lb.Bias[o])
				continue
			}
			sc, bi := trainerFold(w.Data, g.Data, be.Data, m.Data, v.Data, eps, binary, o)
			if math.Float32bits(sc) != math.Float32bits(la.Scale[o]) || math.Float32bits(bi) != math.Float32bits(la.Bias[o]) {
				t.Errorf("layer %s channel %d: the trainer exported Scale %v Bias %v, its float32 folding rule gives %v %v; the converter %v %v",
					la.Name, o, la.Scale[o], la.Bias[o], sc, bi, lb.Scale[o], lb.Bias[o])
				continue
			}
			if ds {
				nScale++
				ulps = max(ulps, ulpDist(la.Scale[o], lb.Scale[o]))
			}
			if db {
				nBias++
				ulps = max(ulps, ulpDist(la.Bias[o], lb.Bias[o]))
			}
			la.Scale[o], la.Bias[o] = lb.Scale[o], lb.Bias[o]
		}
		if nScale+nBias > 0 {
			t.Logf("layer %s: the trainer's float32-step folding is off the exactly rounded value (the converter's) in %d of %d Scale and %d of %d Bias values, by at most %d ulp",
				la.Name, nScale, len(la.Scale), nBias, len(la.Bias), ulps)
		}
		total += nScale + nBias
	}
	return total
}

func ulpDist(x, y float32) int64 {
	key := func(f float32) int64 {
		b := int64(math.Float32bits(f))
		if b&(1<<31) != 0 {
			return -(b &^ (1 << 31))
		}
		return b
	}
	d := key(x) - key(y)
	if d < 0 {
		d = -d
	}
	return d
}

// diffModels names the fields where two models differ.
func diffModels(t *testing.T, a, b *model.Model) {
	t.Helper()
	if !reflect.DeepEqual(a.Input, b.Input) {
		t.Errorf("input: trainer %+v, converter %+v", a.Input, b.Input)
	}
	if !reflect.DeepEqual(a.Labels, b.Labels) {
		t.Errorf("labels: trainer %q, converter %q", a.Labels, b.Labels)
	}
	for i := range min(len(a.Layers), len(b.Layers)) {
		va, vb := reflect.ValueOf(a.Layers[i]), reflect.ValueOf(b.Layers[i])
		for f := 0; f < va.NumField(); f++ {
			if !reflect.DeepEqual(va.Field(f).Interface(), vb.Field(f).Interface()) {
				t.Errorf("layer %d (%s) %s differs: trainer %.80v, converter %.80v", i, a.Layers[i].Name, va.Type().Field(f).Name, va.Field(f).Interface(), vb.Field(f).Interface())
			}
		}
	}
}

// sameOutputs runs both models with the runtime on the first rtSamples
// fixture inputs and requires the same spikes in every LIF layer and the
// same logits bit for bit. It logs how the PyTorch twin's float32 eval
// compares (report only: PyTorch's float32 arithmetic is not the
// deployment's).
func sameOutputs(t *testing.T, a, b *model.Model, net *finetune.Net) {
	t.Helper()
	u8, shape := readNPY(t, rtInputs, "inputs.npy")
	n := shape[1] * shape[2] * shape[3]
	inputs := make([][]float32, rtSamples)
	flat := make([]float32, 0, rtSamples*n)
	for i := range inputs {
		inputs[i] = make([]float32, n)
		for j, u := range u8[i*n : (i+1)*n] {
			inputs[i][j] = float32(u) / 255
		}
		flat = append(flat, inputs[i]...)
	}
	run := func(m *model.Model) (logits [][]float32, classes []int, spikes [][]float32) {
		e, err := runtime.New(m, runtime.WithTrace(), runtime.WithBatch(8))
		if err != nil {
			t.Fatal(err)
		}
		defer e.Close()
		for lo := 0; lo < len(inputs); lo += 8 {
			r, err := e.InferBatch(inputs[lo : lo+8])
			if err != nil {
				t.Fatal(err)
			}
			for j := range 8 {
				logits = append(logits, slices.Clone(r.Logits[j]))
				classes = append(classes, r.Classes[j])
				var s []float32
				for li, l := range m.Layers {
					if l.Op == model.OpLIF {
						o, err := e.LayerOutput(li, j, nil)
						if err != nil {
							t.Fatal(err)
						}
						s = append(s, o...)
					}
				}
				spikes = append(spikes, s)
			}
		}
		return logits, classes, spikes
	}
	la, ca, sa := run(a)
	lb, cb, sb := run(b)
	var fired float64
	for i := range inputs {
		if !sameBits(sa[i], sb[i]) {
			t.Errorf("sample %d: spikes differ between the trainer's export and the converted twin", i)
		}
		if !sameBits(la[i], lb[i]) || ca[i] != cb[i] {
			t.Errorf("sample %d: logits %v (class %d) vs %v (class %d)", i, la[i], ca[i], lb[i], cb[i])
		}
		for _, x := range sa[i] {
			fired += float64(x)
		}
	}
	// The trainer's own evaluation is what its export computes.
	ev, err := net.Evaluate(flat, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range inputs {
		if !sameBits(ev.Logits[i*len(la[i]):(i+1)*len(la[i])], la[i]) {
			t.Errorf("sample %d: the trainer's Evaluate gives %v, the runtime on its export %v", i, ev.Logits[i*len(la[i]):(i+1)*len(la[i])], la[i])
			break
		}
	}
	torch, _ := readNPY(t, rtTorch, "logits.npy")
	K := len(la[0])
	var maxd float64
	agree := 0
	for i := range inputs {
		tl := make([]float32, K)
		for k := range tl {
			tl[k] = math.Float32frombits(binary.LittleEndian.Uint32(torch[4*(i*K+k):]))
			maxd = math.Max(maxd, math.Abs(float64(tl[k]-la[i][k])))
		}
		if argmax(tl) == ca[i] {
			agree++
		}
	}
	t.Logf("%d inputs: identical spikes (%.0f spikes over all LIF layers) and logits; PyTorch twin float32 eval: max |Δlogit| %.2g, argmax %d/%d",
		len(inputs), fired, maxd, agree, len(inputs))
}

func argmax(v []float32) int {
	k := 0
	for i, x := range v {
		if x > v[k] {
			k = i
		}
	}
	return k
}

var npyShape = regexp.MustCompile(`'descr':\s*'([^']+)'.*'shape':\s*\(([^)]*)\)`)

// readNPY returns the raw data and shape of one .npy in a .npz (uint8 or
// little-endian float32, C order).
func readNPY(t *testing.T, path, name string) ([]byte, []int) {
	t.Helper()
	z, err := zip.OpenReader(path)
	if err != nil {
		t.Fatalf("%v (%s)", err, rtRegenerate)
	}
	defer z.Close()
	f, err := z.Open(name)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil || len(b) < 10 || string(b[:6]) != "\x93NUMPY" || b[6] != 1 {
		t.Fatalf("%s/%s: not a version 1 .npy (%v)", path, name, err)
	}
	hl := int(binary.LittleEndian.Uint16(b[8:]))
	if 10+hl > len(b) {
		t.Fatalf("%s/%s: truncated", path, name)
	}
	m := npyShape.FindStringSubmatch(string(b[10 : 10+hl]))
	if m == nil {
		t.Fatalf("%s/%s: header %q", path, name, b[10:10+hl])
	}
	size := map[string]int{"|u1": 1, "<f4": 4}[m[1]]
	var shape []int
	count := 1
	for _, p := range strings.Split(m[2], ",") {
		if p = strings.TrimSpace(p); p != "" {
			d, err := strconv.Atoi(p)
			if err != nil {
				t.Fatal(err)
			}
			shape = append(shape, d)
			count *= d
		}
	}
	data := b[10+hl:]
	if size == 0 || len(data) != count*size || len(shape) == 0 || shape[0] < rtSamples {
		t.Fatalf("%s/%s: %s %v holds %d bytes, want at least %d samples", path, name, m[1], shape, len(data), rtSamples)
	}
	return data, shape
}
