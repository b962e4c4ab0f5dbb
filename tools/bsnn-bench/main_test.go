package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"sync"
	"testing"

	"github.com/bsnn/bsnn/bitops"
)

func TestSubcommands(t *testing.T) {
	if err := mainImpl(nil); err == nil || !strings.Contains(err.Error(), "missing subcommand") {
		t.Errorf("no arguments: %v", err)
	}
	if err := mainImpl([]string{"nonsense"}); err == nil || !strings.Contains(err.Error(), "kernels") {
		t.Errorf("unknown subcommand: error %v should list the known ones", err)
	}
	for _, h := range []string{"help", "-h"} {
		if err := mainImpl([]string{h}); err != nil {
			t.Errorf("%s: %v", h, err)
		}
	}
	if err := mainImpl([]string{"kernels", "-h"}); err != nil {
		t.Errorf("kernels -h: %v", err)
	}
}

func TestKernelsBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"-trials", "0"},
		{"-iters", "-1"},
		{"-duration", "0s"},
		{"-threads", "-2"},
		{"-kernels", "sse9"},
		{"extra"},
		{"-nosuchflag"},
	} {
		if err := mainImpl(append([]string{"kernels"}, args...)); err == nil {
			t.Errorf("kernels %v: no error", args)
		}
	}
}

func TestKernelsJSON(t *testing.T) {
	var buf bytes.Buffer
	stdout = &buf
	defer func() { stdout = nil }()
	t.Setenv(bitops.EnvVar, "")
	if err := mainImpl([]string{"kernels", "-iters", "1", "-trials", "2", "-threads", "2", "-json"}); err != nil {
		t.Fatal(err)
	}
	var rep KernelsReport
	if err := json.Unmarshal(buf.Bytes(), &rep); err != nil {
		t.Fatalf("bad JSON: %v\n%s", err, buf.String())
	}
	if len(rep.Sets) != len(bitops.Available()) || rep.Threads != 2 || rep.Trials != 2 || rep.Iters != 1 {
		t.Fatalf("report header: %+v", rep)
	}
	if rep.CPUPeakGMACs <= 0 || rep.CPUPeakSet == "" {
		t.Errorf("no CPU peak: %+v", rep)
	}
	for _, s := range rep.Sets {
		if s.Peak.GMACsBest <= 0 || s.Peak.PeakFraction != 1 {
			t.Errorf("%s: peak %+v", s.Name, s.Peak)
		}
		if len(s.Results) != len(kernelShapes) {
			t.Fatalf("%s: %d results, want %d", s.Name, len(s.Results), len(kernelShapes))
		}
		for i, r := range s.Results {
			sh := kernelShapes[i]
			if sh.events && (r.Sparse == nil || r.Sparse.SpikeRate < 0.05 || r.Sparse.SpikeRate > 0.15) {
				t.Errorf("%s %s: spike rate of a 10%% input: %+v", s.Name, sh.name, r.Sparse)
			}
			macs := sh.m * sh.n * sh.words * 64
			if sh.conv != nil {
				// Real MACs only: not the zero bits past cin in a pixel.
				macs = sh.m * sh.n * 9 * sh.conv.cin
			}
			if r.Shape != sh.name || r.MACsPerOp != float64(macs) {
				t.Errorf("%s %s: shape/MACs %+v", s.Name, sh.name, r)
			}
			if r.GMACsBest <= 0 || r.GMACsBest < r.GMACsMedian || r.VsGeneric <= 0 {
				t.Errorf("%s %s: rates %+v", s.Name, sh.name, r)
			}
			if (r.Sparse != nil) != (sh.sparse || sh.events) {
				t.Errorf("%s %s: sparse stats %v for sparse=%v", s.Name, sh.name, r.Sparse, sh.sparse)
			}
		}
	}
}

func TestKernelsTable(t *testing.T) {
	var buf bytes.Buffer
	stdout = &buf
	defer func() { stdout = nil }()
	if err := mainImpl([]string{"kernels", "-kernels", "generic", "-iters", "1", "-trials", "1"}); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{"generic", "popcount-peak", "conv3x3-256-16x16", "fc-4096x4096", "sparse10", "events10", "%peak", "CPU popcount peak"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}

func TestSplit(t *testing.T) {
	for _, c := range []struct{ threads, total, align int }{
		{1, 10, 4}, {2, 256, 4}, {3, 256, 4}, {4, 7, 4}, {8, 4096, 4}, {3, 3, 1}, {5, 2, 1},
	} {
		var mu sync.Mutex
		var chunks [][3]int
		err := split(c.threads, c.total, c.align, func(t, lo, hi int) error {
			mu.Lock()
			chunks = append(chunks, [3]int{t, lo, hi})
			mu.Unlock()
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		seen := make([]int, c.total)
		ids := map[int]bool{}
		for _, ch := range chunks {
			id, lo, hi := ch[0], ch[1], ch[2]
			if id < 0 || id >= c.threads || ids[id] {
				t.Fatalf("split%+v: bad or repeated chunk number in %v", c, chunks)
			}
			ids[id] = true
			if lo%c.align != 0 {
				t.Fatalf("split%+v: chunk [%d,%d) not aligned", c, lo, hi)
			}
			for i := lo; i < hi; i++ {
				seen[i]++
			}
		}
		for i, n := range seen {
			if n != 1 {
				t.Fatalf("split%+v: index %d covered %d times: %v", c, i, n, chunks)
			}
		}
	}
}
