//go:build gc && !purego && !noasm

package bitops

import (
	"testing"

	"github.com/klauspost/cpuid/v2"
)

// TestRegisteredAMD64 fails when cpuid reports the features of a set that
// is not registered, or a set is registered without its features.
func TestRegisteredAMD64(t *testing.T) {
	if !haveAsm {
		t.Fatal("haveAsm is false in an assembly build")
	}
	sets := []struct {
		name string
		has  bool
	}{
		{"avx2", cpuid.CPU.Supports(cpuid.AVX2)},
		{"avx512", cpuid.CPU.Supports(cpuid.AVX512F, cpuid.AVX512BW, cpuid.AVX512VPOPCNTDQ)},
	}
	best := "generic"
	for _, s := range sets {
		_, err := Lookup(s.name)
		switch {
		case s.has && err != nil:
			t.Errorf("cpuid reports the features of %q but the set is not registered: %v", s.name, err)
		case !s.has && err == nil:
			t.Errorf("%q is registered but cpuid does not report its features", s.name)
		}
		if s.has {
			best = s.name
		}
	}
	if Best().Name != best {
		t.Errorf("Best() = %q, want %q", Best().Name, best)
	}
	if _, err := Lookup("neon"); err == nil {
		t.Error(`"neon" is registered on amd64`)
	}
	t.Logf("cpu %q: registered %v", cpuid.CPU.BrandName, Available())
}
