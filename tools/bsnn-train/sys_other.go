//go:build !linux

package main

import "errors"

// peakRSS is only measured on Linux (VmHWM).
func peakRSS() (int64, error) {
	return 0, errors.New("peak RSS is only measured on Linux")
}
