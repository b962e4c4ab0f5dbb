package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bsnn/bsnn/model"
	"github.com/bsnn/bsnn/model/arch"
)

// benchModel runs "bsnn-bench model" with args and returns its output.
func benchModel(t *testing.T, args ...string) string {
	t.Helper()
	var out bytes.Buffer
	old := stdout
	stdout = &out
	defer func() { stdout = old }()
	if err := mainImpl(append([]string{"model"}, args...)); err != nil {
		t.Fatalf("model %v: %v", args, err)
	}
	return out.String()
}

func TestModelArchJSON(t *testing.T) {
	out := benchModel(t, "-arch", "resnet19", "-widths", "8,16,32", "-duration", "1ms", "-min-iters", "2",
		"-ref-iters", "1", "-no-rss", "-threads", "2", "-json")
	var r ModelReport
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%v in %s", err, out)
	}
	if r.Model != "arch:resnet19" || r.Timesteps != 2 || r.Threads != 2 {
		t.Errorf("header %+v", r)
	}
	if r.OneThread.Samples < 2 || r.OneThread.P50ms <= 0 || r.OneThread.P99ms < r.OneThread.P50ms || r.AllThreads.Samples < 2 {
		t.Errorf("latencies %+v %+v", r.OneThread, r.AllThreads)
	}
	if r.Reference == nil || r.Reference.Samples != 1 || r.Speedup <= 0 {
		t.Errorf("reference %+v, speedup %v", r.Reference, r.Speedup)
	}
	if r.FileBytes <= 0 || r.FileBytes >= r.Float32Bytes || len(r.FiringRates) != 17 || r.BinaryMACs <= 0 {
		t.Errorf("size %d vs %d, %d firing rates, %d binary MACs", r.FileBytes, r.Float32Bytes, len(r.FiringRates), r.BinaryMACs)
	}
	if r.Memory != nil {
		t.Errorf("-no-rss measured memory: %+v", r.Memory)
	}
}

func TestModelFileText(t *testing.T) {
	m, err := arch.MNIST(arch.MNISTConfig{C1: 4, C2: 8, C3: 8, T: 2})
	if err != nil {
		t.Fatal(err)
	}
	arch.Randomize(m, 3)
	path := filepath.Join(t.TempDir(), "mnist.bsnn")
	if err := model.Save(path, m); err != nil {
		t.Fatal(err)
	}
	out := benchModel(t, "-model", path, "-duration", "1ms", "-min-iters", "3", "-no-ref", "-no-rss", "-exec", "sparse", "-kernels", "generic")
	for _, want := range []string{"mnist.bsnn", "kernels generic, execution sparse", "latency, 1 thread", "p99", "firing rates (LIF)", "size"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "float reference") {
		t.Errorf("-no-ref still ran the reference:\n%s", out)
	}
}

// TestRSSChild runs the child side in-process: it must report a positive
// peak RSS and the model and activation sizes.
func TestRSSChild(t *testing.T) {
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("no /proc/self/status")
	}
	out := benchModel(t, "-arch", "vgg", "-widths", "4,8,8", "-rss-child")
	var mem MemoryReport
	if err := json.Unmarshal([]byte(out), &mem); err != nil {
		t.Fatalf("%v in %q", err, out)
	}
	if mem.PeakRSSBytes <= 0 || mem.ModelBytes <= 0 || mem.ActivationBytes <= 0 || mem.EngineBufferBytes <= 0 || mem.Ratio <= 0 {
		t.Errorf("memory report %+v", mem)
	}
}

func TestModelBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"-arch", "resnet19", "-model", "x.bsnn"},
		{"-arch", "alexnet"},
		{"-arch", "resnet19", "-widths", "8,16"},
		{"-arch", "resnet19", "-widths", "8,x,16"},
		{"-arch", "mnist", "-exec", "fast"},
		{"-arch", "mnist", "-duration", "0s"},
		{"-arch", "mnist", "-ref-iters", "0"},
		{"-arch", "mnist", "-kernels", "sse9"},
		{"-model", filepath.Join(t.TempDir(), "missing.bsnn")},
		{"-arch", "mnist", "extra"},
	} {
		if err := mainImpl(append([]string{"model"}, args...)); err == nil {
			t.Errorf("model %v: no error", args)
		}
	}
}
