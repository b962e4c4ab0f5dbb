//go:build !(linux && (amd64 || arm64 || arm || 386 || riscv64 || loong64))

package input

import (
	"fmt"
	"runtime"
)

// OpenDevice fails: V4L2 capture is implemented for little-endian Linux
// targets only.
func OpenDevice(path string) (Device, error) {
	return nil, fmt.Errorf("v4l2: %s: V4L2 capture needs Linux on amd64, arm64, arm, 386, riscv64 or loong64 (this is %s/%s)", path, runtime.GOOS, runtime.GOARCH)
}
