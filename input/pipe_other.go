//go:build !linux

package input

import "os"

// growPipe does nothing: only Linux lets a reader resize a pipe.
func growPipe(*os.File) {}
