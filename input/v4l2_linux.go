//go:build linux && (amd64 || arm64 || arm || 386 || riscv64 || loong64)

package input

import (
	"fmt"
	"syscall"
	"unsafe"
)

// sysDevice is a V4L2 device node. The struct layouts and ioctl encoding in
// v4l2.go hold on the little-endian Linux targets this file builds for.
type sysDevice struct{ fd int }

// OpenDevice opens a V4L2 device node such as /dev/video0.
func OpenDevice(path string) (Device, error) {
	fd, err := syscall.Open(path, syscall.O_RDWR|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("v4l2: open %s: %w", path, err)
	}
	return &sysDevice{fd: fd}, nil
}

func (d *sysDevice) Ioctl(req uintptr, arg unsafe.Pointer) error {
	for {
		_, _, e := syscall.Syscall(syscall.SYS_IOCTL, uintptr(d.fd), req, uintptr(arg))
		switch e {
		case 0:
			return nil
		case syscall.EINTR:
			continue
		}
		return e
	}
}

func (d *sysDevice) Mmap(offset int64, length int) ([]byte, error) {
	return syscall.Mmap(d.fd, offset, length, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED)
}

func (d *sysDevice) Munmap(b []byte) error { return syscall.Munmap(b) }

func (d *sysDevice) Close() error { return syscall.Close(d.fd) }
