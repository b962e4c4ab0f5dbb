// Package cli holds what every bsnn command shares: the -kernels, -threads
// and -v flags, kernel-set resolution and a one-line CPU description.
//
// Tools register the flags on their own flag.FlagSet, so a command with
// subcommands (bsnn-bench) can give each subcommand its own set:
//
//	var common cli.Flags
//	fs := flag.NewFlagSet("kernels", flag.ContinueOnError)
//	common.Register(fs, 1)
//	if err := fs.Parse(args); err != nil { ... }
//	k, err := common.KernelSet()
package cli

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"runtime"
	"strings"

	"github.com/bsnn/bsnn/bitops"
	"github.com/klauspost/cpuid/v2"
)

// Flags are the options common to every bsnn tool.
type Flags struct {
	// Kernels names a kernel set (-kernels); empty means $BSNN_KERNELS, else
	// the best set for this CPU.
	Kernels string
	// Threads is the number of worker goroutines (-threads); 0 means one per
	// logical CPU. Use NumThreads to read it.
	Threads int
	// Verbose asks for progress and detail on stderr (-v).
	Verbose bool
}

// Register adds -kernels, -threads (defaulting to defaultThreads) and -v to
// fs.
func (f *Flags) Register(fs *flag.FlagSet, defaultThreads int) {
	fs.StringVar(&f.Kernels, "kernels", "", fmt.Sprintf(
		"kernel set, one of %s (default: $%s, else the best for this CPU; available here: %s)",
		strings.Join(bitops.KnownNames, ", "), bitops.EnvVar, AvailableNames()))
	fs.IntVar(&f.Threads, "threads", defaultThreads, "worker goroutines; 0 means one per logical CPU")
	fs.BoolVar(&f.Verbose, "v", false, "verbose output on stderr")
}

// Check validates the parsed values.
func (f *Flags) Check() error {
	if f.Threads < 0 {
		return fmt.Errorf("-threads %d: must be 0 (one per CPU) or positive", f.Threads)
	}
	return nil
}

// NumThreads returns the worker count: -threads, or runtime.NumCPU() for 0.
func (f *Flags) NumThreads() int {
	if f.Threads <= 0 {
		return runtime.NumCPU()
	}
	return f.Threads
}

// KernelSet resolves -kernels with bitops.Select: the flag wins over
// $BSNN_KERNELS, which wins over bitops.Best(). An unknown or unavailable
// name is an error that lists the available sets.
func (f *Flags) KernelSet() (*bitops.Kernels, error) {
	return bitops.Select(f.Kernels)
}

// KernelSets is KernelSet for tools that compare sets: with neither
// -kernels nor $BSNN_KERNELS it returns every available set, best first.
func (f *Flags) KernelSets() ([]*bitops.Kernels, error) {
	if f.Kernels == "" && os.Getenv(bitops.EnvVar) == "" {
		return bitops.Available(), nil
	}
	k, err := bitops.Select(f.Kernels)
	if err != nil {
		return nil, err
	}
	return []*bitops.Kernels{k}, nil
}

// AvailableNames lists the kernel sets usable here, best first.
func AvailableNames() string {
	var names []string
	for _, k := range bitops.Available() {
		names = append(names, k.Name)
	}
	return strings.Join(names, ", ")
}

// CPU describes this machine in one line: brand, logical CPUs, and the
// instruction-set features the kernel sets depend on.
func CPU() string {
	var feats []string
	for _, f := range []struct {
		id   cpuid.FeatureID
		name string
	}{
		{cpuid.POPCNT, "popcnt"}, {cpuid.AVX2, "avx2"}, {cpuid.AVX512F, "avx512f"},
		{cpuid.AVX512BW, "avx512bw"}, {cpuid.AVX512VPOPCNTDQ, "avx512vpopcntdq"},
		{cpuid.ASIMD, "asimd"},
	} {
		if cpuid.CPU.Supports(f.id) {
			feats = append(feats, f.name)
		}
	}
	brand := cpuid.CPU.BrandName
	if brand == "" {
		brand = "unknown CPU"
	}
	return fmt.Sprintf("%s, %d logical CPUs, %s/%s, features: %s",
		brand, runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, strings.Join(feats, " "))
}

// ParseFlags parses args into fs (created with flag.ContinueOnError). After
// -h or -help, which print the usage, it returns help = true and no error, so
// the caller exits 0 instead of reporting flag.ErrHelp as a failure.
func ParseFlags(fs *flag.FlagSet, args []string) (help bool, err error) {
	err = fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		return true, nil
	}
	return false, err
}
