//go:build unix

package finetune

import (
	"syscall"
	"time"
)

// cpuTime returns the CPU time this process has used. Benchmarks report
// samples per CPU-second besides per wall-second because the development
// machine is shared: wall time there measures the neighbours as much as
// this code.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
