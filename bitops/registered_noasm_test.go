//go:build !(amd64 || arm64) || !gc || purego || noasm

package bitops

import "testing"

// TestOnlyGeneric checks that the purego and noasm tags (and platforms
// without assembly) leave only the generic set.
func TestOnlyGeneric(t *testing.T) {
	if haveAsm {
		t.Fatal("haveAsm is true in a build without assembly")
	}
	av := Available()
	if len(av) != 1 || av[0] != Generic || Best() != Generic {
		t.Fatalf("Available() = %v, Best() = %v; want only generic", av, Best())
	}
}
