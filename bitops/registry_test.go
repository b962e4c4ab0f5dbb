package bitops

import (
	"os"
	"strings"
	"testing"
)

func TestRegistry(t *testing.T) {
	av := Available()
	if len(av) == 0 || av[0] != Best() {
		t.Fatalf("Available() = %v does not start with Best() = %v", av, Best())
	}
	for i := 1; i < len(av); i++ {
		if av[i-1].prio < av[i].prio {
			t.Errorf("Available() not sorted best first: %v", av)
		}
	}
	if av[len(av)-1] != Generic {
		t.Errorf("generic is not the last (fallback) set: %v", av)
	}
	av[0] = nil
	if Available()[0] == nil {
		t.Error("Available() exposes the registry itself")
	}
	for _, k := range Available() {
		got, err := Lookup(k.Name)
		if err != nil || got != k {
			t.Errorf("Lookup(%q) = %v, %v", k.Name, got, err)
		}
		if k.String() != k.Name {
			t.Errorf("String() = %q, want %q", k.String(), k.Name)
		}
		if k.blockWords < 1 || k.skipDiv < 1 || k.andGemm == nil || k.xnorGemm == nil || k.andRowBlocks == nil || k.events == nil || k.popcount == nil || k.peak == nil {
			t.Errorf("set %q is incomplete", k.Name)
		}
	}
	for _, name := range []string{"", "best"} {
		if k, err := Lookup(name); err != nil || k != Best() {
			t.Errorf("Lookup(%q) = %v, %v; want Best()", name, k, err)
		}
	}
	_, err := Lookup("sse9")
	if err == nil || !strings.Contains(err.Error(), "unknown kernel set") || !strings.Contains(err.Error(), "sse9") {
		t.Errorf("Lookup(unknown) error = %v", err)
	}
	for _, name := range KnownNames {
		if _, err := Lookup(name); err != nil && !strings.Contains(err.Error(), "not available") {
			t.Errorf("Lookup(%q) for a known but unavailable set: %v", name, err)
		}
	}
}

func TestSelect(t *testing.T) {
	t.Setenv(EnvVar, "")
	if k, err := Select(""); err != nil || k != Best() {
		t.Errorf("Select with no flag and no env = %v, %v; want Best()", k, err)
	}
	t.Setenv(EnvVar, "generic")
	if k, err := FromEnv(); err != nil || k != Generic {
		t.Errorf("FromEnv with %s=generic = %v, %v", EnvVar, k, err)
	}
	if k, err := Select(""); err != nil || k != Generic {
		t.Errorf("Select(\"\") with %s=generic = %v, %v", EnvVar, k, err)
	}
	if k, err := Select(Best().Name); err != nil || k != Best() {
		t.Errorf("the flag does not win over %s: %v, %v", EnvVar, k, err)
	}
	t.Setenv(EnvVar, "nonsense")
	if _, err := Select(""); err == nil {
		t.Errorf("Select accepted %s=nonsense", EnvVar)
	}
	if k, err := Select("generic"); err != nil || k != Generic {
		t.Errorf("a valid flag must win over an invalid %s: %v, %v", EnvVar, k, err)
	}
}

// TestRequiredKernels lets CI on a given machine insist that sets ran:
// BSNN_REQUIRE_KERNELS=avx2,avx512 fails the build where either is missing,
// so a cpuid or build-tag regression cannot silently skip the SIMD tests.
func TestRequiredKernels(t *testing.T) {
	req := os.Getenv("BSNN_REQUIRE_KERNELS")
	if req == "" {
		t.Skip("BSNN_REQUIRE_KERNELS not set")
	}
	for _, name := range strings.Split(req, ",") {
		if _, err := Lookup(strings.TrimSpace(name)); err != nil {
			t.Errorf("required kernel set: %v", err)
		}
	}
}
