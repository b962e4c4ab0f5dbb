package rpismoketest

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"strings"
	"testing"

	"github.com/bsnn/bsnn/boards"
)

func onPi() bool {
	id := boards.DetectHost().ID
	return id == "rpi4" || id == "rpi5"
}

// TestOnDevice is the real check. BSNN_RPI_LOOPBACK=OUT:IN picks the wired
// pins (default GPIO17:GPIO27); BSNN_RPI_LOOPBACK=OUT: drives OUT without
// reading back.
func TestOnDevice(t *testing.T) {
	if !onPi() {
		t.Skip("not on a Raspberry Pi 4 or 5")
	}
	args := []string{}
	if v := os.Getenv("BSNN_RPI_LOOPBACK"); v != "" {
		out, in, _ := strings.Cut(v, ":")
		args = append(args, "-out", out, "-in", in)
	}
	var log bytes.Buffer
	s := &SmokeTest{Out: &log}
	err := s.Run(flag.NewFlagSet(s.Name(), flag.ContinueOnError), args)
	t.Log(log.String())
	if err != nil {
		t.Fatal(err)
	}
}

// TestRefusesOffPi runs everywhere else: the smoke test must stop before
// touching GPIO.
func TestRefusesOffPi(t *testing.T) {
	if onPi() {
		t.Skip("on a Pi: TestOnDevice covers it")
	}
	var log bytes.Buffer
	s := &SmokeTest{Out: &log}
	err := s.Run(flag.NewFlagSet(s.Name(), flag.ContinueOnError), nil)
	if !errors.Is(err, ErrNotPi) || !strings.Contains(err.Error(), "detected") {
		t.Errorf("Run off a Pi: %v, want ErrNotPi naming what was detected", err)
	}
	if log.Len() != 0 {
		t.Errorf("Run printed %q before refusing", log.String())
	}
	if err := s.Run(flag.NewFlagSet(s.Name(), flag.ContinueOnError), []string{"extra"}); err == nil || !strings.Contains(err.Error(), "unexpected arguments") {
		t.Errorf("stray argument: %v", err)
	}
}
