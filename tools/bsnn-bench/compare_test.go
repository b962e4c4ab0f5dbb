package main

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/bsnn/bsnn/bitops"
	"github.com/bsnn/bsnn/model"
	"github.com/bsnn/bsnn/model/arch"
	"github.com/bsnn/bsnn/runtime/reference"
)

// tinyNet is input 1×4×4 → conv 3×3 fp32 (2 ch, pad 1) → LIF → binary conv
// 3×3 stride 2 pad 1 (3 ch, 2×2) → LIF → flatten → linear fp32 (12 → 2) →
// readout, T = 2.
func tinyNet(t *testing.T) (*model.Model, []model.Shape) {
	t.Helper()
	ones := func(n int) []float32 {
		s := make([]float32, n)
		for i := range s {
			s[i] = 1
		}
		return s
	}
	lif := func(name string, in int) model.Layer {
		return model.Layer{Op: model.OpLIF, Name: name, Inputs: []int{in}, Lambda: 0.5, Vth: 1}
	}
	m := &model.Model{
		Input: model.InputSpec{Shape: model.Shape{C: 1, H: 4, W: 4}, Timesteps: 2},
		Layers: []model.Layer{
			{Op: model.OpConv2D, Name: "conv1", Inputs: []int{model.InputIndex}, Precision: model.PrecisionFloat32,
				InC: 1, OutC: 2, KH: 3, KW: 3, Stride: 1, Pad: 1, Weights: make([]float32, 18), Scale: ones(2), Bias: make([]float32, 2)},
			lif("lif1", 0),
			{Op: model.OpConv2D, Name: "conv2", Inputs: []int{1}, Precision: model.PrecisionBinary,
				InC: 2, OutC: 3, KH: 3, KW: 3, Stride: 2, Pad: 1, Bits: make([]uint64, 3*9), Scale: ones(3), Bias: make([]float32, 3)},
			lif("lif2", 2),
			{Op: model.OpFlatten, Name: "flatten", Inputs: []int{3}},
			{Op: model.OpLinear, Name: "fc", Inputs: []int{4}, Precision: model.PrecisionFloat32,
				InC: 12, OutC: 2, KH: 1, KW: 1, Stride: 1, Weights: make([]float32, 24), Scale: ones(2), Bias: make([]float32, 2)},
			{Op: model.OpReadout, Name: "readout", Inputs: []int{5}},
		},
	}
	for i := range m.Layers[2].Bits {
		m.Layers[2].Bits[i] = 3 // two input channels, both +1
	}
	shapes, err := m.Shapes()
	if err != nil {
		t.Fatal(err)
	}
	return m, shapes
}

func TestFanAxis(t *testing.T) {
	for _, c := range []struct {
		n, out, k, s, p int
		want            []int64
	}{
		{4, 4, 3, 1, 1, []int64{2, 3, 3, 2}},
		{4, 2, 3, 2, 1, []int64{1, 2, 1, 1}},
		{4, 2, 2, 2, 0, []int64{1, 1, 1, 1}},
		{3, 3, 1, 1, 0, []int64{1, 1, 1}},
	} {
		if got := fanAxis(c.n, c.out, c.k, c.s, c.p); !reflect.DeepEqual(got, c.want) {
			t.Errorf("fanAxis(%d, %d, k %d, s %d, p %d) = %v, want %v", c.n, c.out, c.k, c.s, c.p, got, c.want)
		}
	}
}

func TestCountOpsAndEnergy(t *testing.T) {
	m, shapes := tinyNet(t)
	// lif1: T×2×4×4. Spikes at t=0: c0 (0,0), c0 (1,1), c1 (3,3); t=1: c0 (1,2).
	lif1 := make([]float32, 2*2*16)
	for _, i := range []int{0*32 + 0*16 + 0*4 + 0, 0*32 + 0*16 + 1*4 + 1, 0*32 + 1*16 + 3*4 + 3, 1*32 + 0*16 + 1*4 + 2} {
		lif1[i] = 1
	}
	// lif2 (read through flatten): T×3×2×2, 3 spikes.
	lif2 := make([]float32, 2*12)
	lif2[0], lif2[7], lif2[23] = 1, 1, 1
	out := func(j int) ([]float32, error) {
		switch j {
		case 1:
			return lif1, nil
		case 4: // the flatten of lif2
			return lif2, nil
		}
		t.Fatalf("output of layer %d asked for", j)
		return nil, nil
	}
	layers, err := countOps(m, shapes, out)
	if err != nil {
		t.Fatal(err)
	}
	want := []EnergyLayer{
		// fp32 stem on the image: dense, T times. 2×4×4 outputs × 9 taps.
		{Layer: 0, Name: "conv1", Precision: "fp32", MACs: 576, DenseMACs: 288},
		// fan along each axis [1,2,1,1]: 1·1 + 2·2 + 1·1 + 2·1 = 8, × 3 channels.
		{Layer: 2, Name: "conv2", Precision: "binary", SpikeInput: true, InputRate: 4.0 / 64, ACs: 24, DenseMACs: 216},
		// 3 spikes × 2 outputs; spikes through a flatten still count.
		{Layer: 5, Name: "fc", Precision: "fp32", SpikeInput: true, InputRate: 3.0 / 24, ACs: 6, DenseMACs: 24},
	}
	if !reflect.DeepEqual(layers, want) {
		t.Fatalf("countOps:\n got %+v\nwant %+v", layers, want)
	}
	// Two samples: the second with the same stem and no spikes.
	quiet := append([]EnergyLayer(nil), want...)
	quiet[1].ACs, quiet[1].InputRate, quiet[2].ACs, quiet[2].InputRate = 0, 0, 0, 0
	e := summarizeEnergy([][]EnergyLayer{want, quiet})
	if e.Samples != 2 || e.ACs != 15 || e.MACs != 576 || e.ANNMACs != 528 || e.Layers[1].InputRate != 2.0/64 {
		t.Errorf("summary %+v", e)
	}
	snn := (15*0.9 + 576*4.6) / 1e6
	ann := 528 * 4.6 / 1e6
	if math.Abs(e.SNNuJ-snn) > 1e-15 || math.Abs(e.ANNuJ-ann) > 1e-15 || math.Abs(e.Ratio-ann/snn) > 1e-12 {
		t.Errorf("energy %v µJ vs ANN %v µJ (ratio %v), want %v, %v", e.SNNuJ, e.ANNuJ, e.Ratio, snn, ann)
	}
	if _, err := countOps(m, shapes, func(int) ([]float32, error) { return make([]float32, 3), nil }); err == nil {
		t.Error("a wrongly sized layer output was accepted")
	}
}

// bruteACs counts, output by output and tap by tap, the taps of conv layer
// l that read a spike: the definition countOps computes through fan-outs.
func bruteACs(in []float32, is model.Shape, l *model.Layer, os model.Shape, T int) int64 {
	var n int64
	for t := 0; t < T; t++ {
		for oy := 0; oy < os.H; oy++ {
			for ox := 0; ox < os.W; ox++ {
				for c := 0; c < is.C; c++ {
					for ky := 0; ky < l.KH; ky++ {
						for kx := 0; kx < l.KW; kx++ {
							y, x := oy*l.Stride-l.Pad+ky, ox*l.Stride-l.Pad+kx
							if y >= 0 && y < is.H && x >= 0 && x < is.W && in[((t*is.C+c)*is.H+y)*is.W+x] != 0 {
								n++
							}
						}
					}
				}
			}
		}
	}
	return n * int64(os.C)
}

func TestCountOpsMatchesBruteForce(t *testing.T) {
	m, err := arch.ResNet19(arch.ResNet19Config{In: model.Shape{C: 3, H: 8, W: 8}, Widths: [3]int{4, 8, 8}, Blocks: [3]int{1, 1, 1}})
	if err != nil {
		t.Fatal(err)
	}
	arch.Randomize(m, 5)
	shapes, _ := m.Shapes()
	x, err := reference.New(m)
	if err != nil {
		t.Fatal(err)
	}
	x.KeepOutputs = true
	res, err := x.Run(benchInputs(m, 2, 1)[0])
	if err != nil {
		t.Fatal(err)
	}
	T := m.Timesteps()
	flat := func(j int) ([]float32, error) {
		var v []float32
		for _, step := range res.Outputs[j] {
			v = append(v, step...)
		}
		return v, nil
	}
	layers, err := countOps(m, shapes, flat)
	if err != nil {
		t.Fatal(err)
	}
	nSpike, strided := 0, 0
	for _, el := range layers {
		l := &m.Layers[el.Layer]
		if !el.SpikeInput {
			if el.ACs != 0 || el.MACs != float64(T)*float64(el.DenseMACs) {
				t.Errorf("%s: float input counted as %+v", el.Name, el)
			}
			continue
		}
		nSpike++
		if l.Stride > 1 {
			strided++
		}
		in, _ := flat(l.Inputs[0])
		if want := bruteACs(in, inputShape(m, shapes, el.Layer), l, shapes[el.Layer], T); el.ACs != float64(want) || want == 0 {
			t.Errorf("%s: %v accumulates, brute force %d", el.Name, el.ACs, want)
		}
	}
	if nSpike != 6 || strided != 2 {
		t.Errorf("%d spike-driven layers (%d strided), want the 6 binary convs (2 strided)", nSpike, strided)
	}
}

func TestDumpReadBack(t *testing.T) {
	m, err := arch.ResNet19(arch.ResNet19Config{In: model.Shape{C: 3, H: 8, W: 8}, Widths: [3]int{4, 8, 70}, Blocks: [3]int{1, 1, 1}, Shortcut: model.PrecisionInt8})
	if err != nil {
		t.Fatal(err)
	}
	arch.Randomize(m, 9)
	samples := benchInputs(m, 3, 3)
	dir := t.TempDir()
	if err := writeDump(dir, m, samples); err != nil {
		t.Fatal(err)
	}
	g, data, err := readDump(dir)
	if err != nil {
		t.Fatal(err)
	}
	if g.Input.Shape != [3]int{3, 8, 8} || g.Input.Encoding != "direct" || g.Input.Timesteps != 2 || len(g.Layers) != len(m.Layers) {
		t.Fatalf("graph header %+v, %d layers", g.Input, len(g.Layers))
	}
	var want int64
	kinds := map[string]int{}
	for i := range m.Layers {
		l, d := &m.Layers[i], g.Layers[i]
		if d.Op != l.Op.String() || d.Name != l.Name || !reflect.DeepEqual(d.Inputs, l.Inputs) {
			t.Fatalf("layer %d: %+v against %s %s %v", i, d, l.Op, l.Name, l.Inputs)
		}
		switch l.Op {
		case model.OpConv2D, model.OpLinear:
			kinds[d.Precision]++
			w := make([]float32, l.OutC*l.InC*l.KH*l.KW)
			switch l.Precision {
			case model.PrecisionBinary:
				// An independent unpacking: bitops' inverse of the packing.
				if err := bitops.UnpackOIHW(w, l.Bits, l.OutC, l.InC, l.KH, l.KW); err != nil {
					t.Fatal(err)
				}
			case model.PrecisionInt8:
				for j, q := range l.WeightsI8 {
					w[j] = float32(q)
				}
			default:
				w = l.Weights
			}
			if got := d.Tensors["weight"].values(data); !reflect.DeepEqual(got, w) || !reflect.DeepEqual(d.Tensors["weight"].Shape, []int{l.OutC, l.InC, l.KH, l.KW}) {
				t.Errorf("layer %s: weights differ after the round trip", l.Name)
			}
			if !reflect.DeepEqual(d.Tensors["scale"].values(data), l.Scale) || !reflect.DeepEqual(d.Tensors["bias"].values(data), l.Bias) {
				t.Errorf("layer %s: scale or bias differ", l.Name)
			}
			if d.Stride != l.Stride || d.Pad != l.Pad || d.KH != l.KH || d.InC != l.InC || d.OutC != l.OutC {
				t.Errorf("layer %s: geometry %+v", l.Name, d)
			}
			want += int64(len(w) + 2*l.OutC)
		case model.OpAGMM:
			if !reflect.DeepEqual(d.Tensors["alpha"].values(data), l.Alpha) || d.Stat != "spatial" {
				t.Errorf("layer %s: alpha or stat differ", l.Name)
			}
			want += int64(len(l.Alpha))
		case model.OpLIF:
			if d.Lambda != 0.5 || d.Vth != 1 || d.Reset != "hard" {
				t.Errorf("layer %s: LIF %+v", l.Name, d)
			}
		case model.OpAvgPool:
			if d.Kernel != 2 || d.Stride != 2 {
				t.Errorf("layer %s: pool %+v", l.Name, d)
			}
		}
	}
	// Stem + 6 binary convs + 2 int8 shortcuts + fc.
	if kinds["binary"] != 6 || kinds["int8"] != 2 || kinds["fp32"] != 2 {
		t.Errorf("precisions %v", kinds)
	}
	if !reflect.DeepEqual(g.Samples.Shape, []int{3, 192}) || !reflect.DeepEqual(g.Samples.values(data)[192:384], samples[1]) {
		t.Errorf("samples %+v", g.Samples)
	}
	if int64(len(data)) != want+3*192 {
		t.Errorf("weights.bin holds %d floats, want %d", len(data), want+3*192)
	}
}

func TestMeasureAndRatios(t *testing.T) {
	var ms measure
	ms.add([]float64{0.004, 0.002, 0.006}, 2) // per sample 2, 1, 3 ms
	ms.add([]float64{0.010}, 2)               // 5 ms
	p := ms.perf()
	if p.Calls != 4 || p.P50ms != 2.5 || p.Minms != 1 || p.Throughput != (500+200)/2.0 {
		t.Errorf("perf %+v", p)
	}
	r := CompareResult{BSNN: Perf{P50ms: 2, Minms: 1, Throughput: 500}, Torch: &Perf{P50ms: 7, Minms: 4, Throughput: 125}}
	r.finish()
	if r.Speedup != 3.5 || r.MinSpeedup != 4 || r.ThroughputRatio != 4 {
		t.Errorf("ratios %+v", r)
	}
	for v, want := range map[float64]string{3.5: "3.50×", 0: "–", math.Inf(1): "–", 0.25: "0.25×"} {
		if got := fmtRatio(v); got != want {
			t.Errorf("fmtRatio(%v) = %q, want %q", v, got, want)
		}
	}
	a, err := agreement([][]float32{{1, 2, 0.5}, {3, -1, 2}}, [][]float64{{1, 2.25, 0.5}, {1.5, -1, 2}})
	if err != nil || *a != (Agreement{Samples: 2, MaxAbsDiff: 1.5, MaxAbs: 3, SameClass: 1}) {
		t.Errorf("agreement %+v, %v", a, err)
	}
	if _, err := agreement([][]float32{{1}}, [][]float64{{1, 2}}); err == nil {
		t.Error("logit vectors of different lengths were accepted")
	}
}

func TestPrintCompare(t *testing.T) {
	r := &CompareReport{
		CPU: "cpu", Go: "go1", Torch: "1.13", Python: "3.11", OMPWait: "PASSIVE", Model: "arch:mnist", Timesteps: 4,
		Input: "1×28×28 direct", Kernels: "generic", Execution: "auto", Rounds: 3, DurationS: 1,
		Agreement: &Agreement{Samples: 4, MaxAbsDiff: 1.25e-6, MaxAbs: 2.5, SameClass: 4},
		Results: []CompareResult{{Threads: 1, Batch: 32, BSNN: Perf{P50ms: 0.5, Minms: 0.25, Throughput: 2000},
			Torch: &Perf{P50ms: 2, Minms: 1.5, Throughput: 400}, Speedup: 4, MinSpeedup: 6, ThroughputRatio: 5}},
		Memory: []CompareRSS{{Threads: 1, Batch: 1, BSNNBytes: 4e6, TorchBytes: 250e6, Ratio: 0.016}},
		Energy: &EnergyReport{Samples: 2, ACs: 1e6, MACs: 2e5, ANNMACs: 1400000, PJPerAC: 0.9, PJPerMAC: 4.6, SNNuJ: 1.82, ANNuJ: 6.44, Ratio: 6.44 / 1.82},
	}
	var b bytes.Buffer
	if err := printCompare(&b, r); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"PyTorch    1.13 (Python 3.11), fp32, eval, no_grad, OMP_WAIT_POLICY=PASSIVE\n",
		"agreement  4/4 samples same class, max |logit diff| 1.25e-06 (largest |logit| 2.5)\n",
		"1     32        0.500   0.250     2000.0           2.000   1.500      400.0         4.00×  6.00×       5.00×",
		"peak RSS, 1 thread(s), batch 1  bsnn 4.0 MB, PyTorch 250.0 MB (bsnn/PyTorch 0.016)\n",
		"1e+06 accumulates (spike-driven) + 2e+05 MACs (float inputs), mean of 2 samples\n",
		"BSNN 1.82 µJ (0.9 pJ/AC, 4.6 pJ/MAC) vs the float ANN 6.44 µJ (1.4e+06 MACs): 3.54× less\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	r.TorchMissing, r.Results[0].Torch = "no torch: "+torchHint, nil
	b.Reset()
	if err := printCompare(&b, r); err != nil {
		t.Fatal(err)
	}
	if out := b.String(); !strings.Contains(out, "apt-get install python3-torch") || strings.Count(out, "–") != 6 {
		t.Errorf("report without PyTorch:\n%s", out)
	}
}

func benchCompare(t *testing.T, args ...string) *CompareReport {
	t.Helper()
	var out bytes.Buffer
	old := stdout
	stdout = &out
	defer func() { stdout = old }()
	if err := mainImpl(append([]string{"compare", "-json", "-no-rss"}, args...)); err != nil {
		t.Fatalf("compare %v: %v", args, err)
	}
	var r CompareReport
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatalf("%v in %s", err, out.String())
	}
	return &r
}

var tinyCompare = []string{"-arch", "mnist", "-widths", "4,8,8", "-T", "2", "-duration", "1ms", "-rounds", "2",
	"-min-calls", "1", "-threads", "1,2", "-batch", "1,3", "-energy-samples", "1"}

func TestCompareWithoutTorch(t *testing.T) {
	r := benchCompare(t, append(tinyCompare, "-python", "/nonexistent/python3")...)
	if !strings.Contains(r.TorchMissing, "apt-get install python3-torch") || r.Agreement != nil || r.Torch != "" {
		t.Errorf("missing PyTorch reported as %q, agreement %+v", r.TorchMissing, r.Agreement)
	}
	if len(r.Results) != 4 || r.Results[3].Threads != 2 || r.Results[3].Batch != 3 {
		t.Fatalf("results %+v", r.Results)
	}
	for _, c := range r.Results {
		if c.BSNN.Calls < 2 || c.BSNN.P50ms <= 0 || c.BSNN.Minms > c.BSNN.P50ms || c.Torch != nil || c.Speedup != 0 {
			t.Errorf("result %+v", c)
		}
	}
	if r.Energy == nil || r.Energy.ACs <= 0 || r.Energy.ANNMACs <= 0 || len(r.Energy.Layers) != 4 {
		t.Errorf("energy %+v", r.Energy)
	}
}

func TestCompareTorch(t *testing.T) {
	if why := torchMissing("/usr/bin/python3"); why != "" {
		t.Skipf("PyTorch twin not tested: %s", why)
	}
	r := benchCompare(t, append(tinyCompare, "-agree", "3")...)
	if r.TorchMissing != "" || r.Torch == "" {
		t.Fatalf("PyTorch not run: %q", r.TorchMissing)
	}
	// Same weights, same semantics: the fp32 twin differs from bsnn only
	// by float rounding, far below a spike's worth of logit.
	if a := r.Agreement; a == nil || a.Samples != 3 || a.SameClass != 3 || a.MaxAbsDiff > 1e-4 || a.MaxAbs == 0 {
		t.Errorf("agreement %+v", r.Agreement)
	}
	for _, c := range r.Results {
		if c.Torch == nil || c.Torch.Calls < 2 || c.Torch.P50ms <= 0 || c.Speedup <= 0 || c.ThroughputRatio <= 0 {
			t.Errorf("result %+v", c)
		}
	}
}
