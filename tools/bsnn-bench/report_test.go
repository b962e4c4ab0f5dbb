package main

import (
	"bytes"
	"encoding/json"
	"image/png"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func sampleReports() (*KernelsReport, []*CompareReport) {
	kr := &KernelsReport{CPU: "cpu", Go: "go1", Threads: 1, Trials: 5, CPUPeakGMACs: 700, CPUPeakSet: "avx512",
		Sets: []SetReport{
			{Name: "avx512", Peak: Result{GMACsMedian: 700, GMACsBest: 720}, Results: []Result{
				{Shape: "conv3x3-256-16x16", GMACsMedian: 500, GMACsBest: 600, PeakFraction: 0.714, CPUPeakFrac: 0.714},
				{Shape: "sparse10-conv3x3-256-16x16", GMACsMedian: 450, GMACsBest: 550, PeakFraction: 0.64, CPUPeakFrac: 0.64}}},
			{Name: "generic", Peak: Result{GMACsMedian: 70, GMACsBest: 80}, Results: []Result{
				{Shape: "conv3x3-256-16x16", GMACsMedian: 60, GMACsBest: 65, PeakFraction: 0.857, CPUPeakFrac: 0.0857}}},
		}}
	res := func(th, b int, bp, tp float64) CompareResult {
		r := CompareResult{Threads: th, Batch: b, BSNN: Perf{Calls: 10, P50ms: bp, Minms: bp / 2, Throughput: 1000 / bp},
			Torch: &Perf{Calls: 5, P50ms: tp, Minms: tp / 2, Throughput: 1000 / tp}}
		r.finish()
		return r
	}
	r19 := &CompareReport{Command: "bsnn-bench compare -arch resnet19 -T 2", CPU: "cpu", Go: "go1", Python: "3.11", Torch: "1.13",
		OMPWait: "PASSIVE", Model: "arch:resnet19", Timesteps: 2, Input: "3×32×32 direct", Kernels: "avx512", Execution: "auto",
		Rounds: 3, DurationS: 1, Agreement: &Agreement{Samples: 4, SameClass: 4, MaxAbsDiff: 3e-7, MaxAbs: 0.96},
		Results: []CompareResult{res(1, 1, 25, 100), res(2, 1, 20, 100), res(1, 32, 20, 160), res(2, 32, 16, 120)},
		Memory:  []CompareRSS{{Threads: 1, Batch: 1, BSNNBytes: 10e6, TorchBytes: 400e6, Ratio: 0.025}},
		Energy:  &EnergyReport{Samples: 4, ACs: 6e8, MACs: 4e7, ANNMACs: 2.3e9, PJPerAC: 0.9, PJPerMAC: 4.6, SNNuJ: 724, ANNuJ: 10580, Ratio: 10580.0 / 724}}
	mn := &CompareReport{Command: "bsnn-bench compare -arch mnist", Model: "arch:mnist", Timesteps: 4, Input: "1×28×28 direct",
		Results: []CompareResult{res(1, 1, 1, 3), res(2, 1, 1, 6)}}
	return kr, []*CompareReport{r19, mn}
}

func TestReportBars(t *testing.T) {
	kr, crs := sampleReports()
	cats, groups := speedupBars(crs)
	if !reflect.DeepEqual(cats, []string{"resnet19 T=2", "mnist T=4"}) || len(groups) != 4 {
		t.Fatalf("speed-up categories %v, %d groups", cats, len(groups))
	}
	if g := groups[1]; g.name != "2 thread(s), batch 1" || !reflect.DeepEqual(g.values, []float64{5, 6}) {
		t.Errorf("group %+v", g)
	}
	if g := groups[2]; g.name != "1 thread(s), batch 32" || !reflect.DeepEqual(g.values, []float64{8, 0}) {
		t.Errorf("group %+v", g)
	}
	cats, groups = kernelBars(kr)
	if !reflect.DeepEqual(cats, []string{"conv3x3-256-16x16", "sparse10\nconv3x3-256-16x16"}) {
		t.Errorf("kernel categories %q", cats)
	}
	if !reflect.DeepEqual(groups, []barGroup{{"avx512", []float64{500, 450}}, {"generic", []float64{60, 0}}}) {
		t.Errorf("kernel groups %+v", groups)
	}
	lc := latencyChart(crs[0])
	if len(lc.Series) != 4 || lc.Series[3].Name != "PyTorch, batch 32" || !reflect.DeepEqual(lc.Series[3].Y, []float64{160, 120}) ||
		!reflect.DeepEqual(lc.Series[0].X, []float64{1, 2}) {
		t.Errorf("latency chart %+v", lc.Series)
	}
}

func TestReportFiles(t *testing.T) {
	kr, crs := sampleReports()
	dir := t.TempDir()
	write := func(name string, v any) string {
		b, _ := json.Marshal(v)
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	kf, af, bf := write("k.json", kr), write("a.json", crs[0]), write("b.json", crs[1])
	out := filepath.Join(dir, "bench")
	var so bytes.Buffer
	old := stdout
	stdout = &so
	defer func() { stdout = old }()
	if err := mainImpl([]string{"report", "-kernels", kf, "-compare", af + "," + bf, "-out", out}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"latency-resnet19.png", "latency-mnist.png", chartSpeedup, chartKernels} {
		f, err := os.Open(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := png.DecodeConfig(f)
		f.Close()
		if err != nil || cfg.Width < 600 || cfg.Height < 380 {
			t.Errorf("%s: %+v, %v", name, cfg, err)
		}
	}
	md, err := os.ReadFile(filepath.Join(out, "REPORT.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"- PyTorch: 1.13 (Python 3.11), fp32, eval mode, `torch.no_grad`, `OMP_WAIT_POLICY=PASSIVE`\n",
		"## resnet19, T = 2 (input 3×32×32 direct)\n\n```\nbsnn-bench compare -arch resnet19 -T 2\n```\n",
		"Same net: 4 of 4 samples give the same class; largest |logit difference| 3e-07 (largest |logit| 0.96).\n",
		"| 1 | 32 | 20.000 | 10.000 | 50.0 | 160.000 | 80.000 | 6.2 | 8.00× | 8.00× | 8.00× |\n",
		"- Peak RSS, 1 thread(s), batch 1: bsnn 10.0 MB, PyTorch 400.0 MB (bsnn uses 2.5 % of PyTorch's)\n",
		"45 nm estimate 724 µJ against 1.058e+04 µJ for the same net as a float ANN (2.3e+09 MACs at 4.6 pJ): 14.61× less.\n",
		"![resnet19 latency against threads](latency-resnet19.png)",
		"| avx512 | sparse10-conv3x3-256-16x16 | 450.0 | 550.0 | 64 % | 64 % |\n",
		"![speed-up over PyTorch](speedup.png)",
	} {
		if !strings.Contains(string(md), want) {
			t.Errorf("REPORT.md lacks %q:\n%s", want, md)
		}
	}
	if err := mainImpl([]string{"report", "-out", out}); err == nil {
		t.Error("report with no inputs succeeded")
	}
}

func TestReportDate(t *testing.T) {
	var b bytes.Buffer
	writeReportMD(&b, "T", time.Date(2026, 12, 3, 14, 5, 0, 0, time.UTC), nil, nil, nil)
	if !strings.Contains(b.String(), "on 2026-12-03 14:05 UTC.\n") {
		t.Errorf("%s", b.String())
	}
}
