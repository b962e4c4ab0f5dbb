//go:build !(amd64 || arm64) || !gc || purego || noasm

package bitops

// Without assembly (other architectures, gccgo, or the purego / noasm tags)
// nothing is registered beyond Generic, which kernels.go always provides.

// haveAsm reports whether this build contains any assembly kernels.
const haveAsm = false
