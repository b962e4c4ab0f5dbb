//go:build gc && !purego && !noasm

package bitops

import (
	"testing"

	"github.com/klauspost/cpuid/v2"
)

// TestRegisteredARM64 checks that NEON is registered and chosen: Advanced
// SIMD is mandatory on ARMv8-A, so there is no cpuid gate, but a cpuid that
// reports no ASIMD means the kernels would fault, so it fails the test too.
func TestRegisteredARM64(t *testing.T) {
	if !haveAsm {
		t.Fatal("haveAsm is false in an assembly build")
	}
	if _, err := Lookup("neon"); err != nil {
		t.Fatalf("neon is not registered: %v", err)
	}
	if Best().Name != "neon" {
		t.Errorf("Best() = %q, want neon", Best().Name)
	}
	if !cpuid.CPU.Supports(cpuid.ASIMD) {
		t.Errorf("cpuid does not report ASIMD on this arm64 CPU (%q), but neon is registered", cpuid.CPU.BrandName)
	}
	for _, name := range []string{"avx2", "avx512"} {
		if _, err := Lookup(name); err == nil {
			t.Errorf("%q is registered on arm64", name)
		}
	}
}
