//go:build linux

package input

import (
	"os"
	"syscall"
)

// fSetPipeSz is Linux's F_SETPIPE_SZ fcntl.
const fSetPipeSz = 1031

// growPipe raises the kernel buffer of f to 1 MiB (the default unprivileged
// maximum) if f is a pipe. A 640×480 I420 frame is 450 KiB: through the
// default 64 KiB pipe every frame costs the reader and the writer seven
// extra wake-ups each. Best effort: a failure leaves the pipe as it was.
func growPipe(f *os.File) {
	st, err := f.Stat()
	if err != nil || st.Mode()&os.ModeNamedPipe == 0 {
		return
	}
	syscall.Syscall(syscall.SYS_FCNTL, f.Fd(), fSetPipeSz, 1<<20)
}
