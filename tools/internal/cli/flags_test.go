package cli

import (
	"flag"
	"io"
	"runtime"
	"strings"
	"testing"

	"github.com/bsnn/bsnn/bitops"
)

func parse(t *testing.T, args ...string) (*Flags, error) {
	t.Helper()
	var f Flags
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	f.Register(fs, 3)
	help, err := ParseFlags(fs, args)
	if help {
		return nil, nil
	}
	return &f, err
}

func TestFlags(t *testing.T) {
	t.Setenv(bitops.EnvVar, "")
	f, err := parse(t)
	if err != nil || f.Threads != 3 || f.Kernels != "" || f.Verbose {
		t.Fatalf("defaults: %+v, %v", f, err)
	}
	if k, err := f.KernelSet(); err != nil || k != bitops.Best() {
		t.Errorf("default KernelSet = %v, %v; want Best()", k, err)
	}
	if ks, err := f.KernelSets(); err != nil || len(ks) != len(bitops.Available()) {
		t.Errorf("default KernelSets = %v, %v; want all available", ks, err)
	}

	f, err = parse(t, "-kernels", "generic", "-threads", "0", "-v")
	if err != nil || !f.Verbose || f.Check() != nil || f.NumThreads() != runtime.NumCPU() {
		t.Fatalf("-threads 0: %+v, %v", f, err)
	}
	if ks, err := f.KernelSets(); err != nil || len(ks) != 1 || ks[0] != bitops.Generic {
		t.Errorf("-kernels generic: KernelSets = %v, %v", ks, err)
	}

	f, _ = parse(t, "-threads", "-1")
	if f.Check() == nil {
		t.Error("-threads -1 accepted")
	}
	f, _ = parse(t, "-kernels", "sse9")
	if _, err := f.KernelSet(); err == nil {
		t.Error("-kernels sse9 accepted")
	}

	t.Setenv(bitops.EnvVar, "generic")
	f, _ = parse(t)
	if ks, err := f.KernelSets(); err != nil || len(ks) != 1 || ks[0] != bitops.Generic {
		t.Errorf("$%s=generic: KernelSets = %v, %v", bitops.EnvVar, ks, err)
	}

	if f, err := parse(t, "-h"); f != nil || err != nil {
		t.Errorf("-h: %v, %v; want help and no error", f, err)
	}
	if _, err := parse(t, "-bogus"); err == nil {
		t.Error("-bogus accepted")
	}
}

func TestCPU(t *testing.T) {
	s := CPU()
	if !strings.Contains(s, runtime.GOARCH) || !strings.Contains(s, "logical CPUs") {
		t.Errorf("CPU() = %q", s)
	}
	if !strings.Contains(AvailableNames(), "generic") {
		t.Errorf("AvailableNames() = %q lacks generic", AvailableNames())
	}
}
