// Package rpismoketest checks bsnn's board support on a real Raspberry Pi 4
// or 5: that detection agrees with every source of evidence, and that rule
// driven outputs reach the pins. It refuses to run anywhere else.
//
// Build it for the Pi and run it there, with a jumper wire from GPIO17
// (physical pin 11) to GPIO27 (pin 13) for the loopback check:
//
//	GOOS=linux GOARCH=arm64 go test -c -o rpismoke.test ./boards/rpi/rpismoketest
//	./rpismoke.test -test.v -test.run OnDevice              # on the Pi
//	BSNN_RPI_LOOPBACK=GPIO5:GPIO6 ./rpismoke.test -test.v   # other pins
//
// Off a Pi the on-device test skips.
package rpismoketest

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"periph.io/x/conn/v3/gpio"

	"github.com/bsnn/bsnn/boards"
	"github.com/bsnn/bsnn/boards/rpi"
)

// ErrNotPi is returned by Run on any host that is not a Raspberry Pi 4 or 5.
var ErrNotPi = errors.New("rpismoketest: not a Raspberry Pi 4 or 5")

// SmokeTest is the on-device check. Its Name/Description/Run shape follows
// periph's smoke tests, so a tool can list and run it the same way.
type SmokeTest struct {
	// Out receives the progress report; nil means os.Stdout.
	Out io.Writer
}

// Name implements the periph smoke test shape.
func (s *SmokeTest) Name() string { return "bsnn-rpi" }

// Description implements the periph smoke test shape.
func (s *SmokeTest) Description() string {
	return "checks bsnn board detection and GPIO rule outputs on a Raspberry Pi 4 or 5 (loopback: jumper -out to -in)"
}

// Run parses its flags from args and runs the check:
//
//	-out GPIO17   pin driven by the rules
//	-in  GPIO27   pin wired to -out and read back; "" skips the loopback
//	-frames 1000  frames to time through Outputs
func (s *SmokeTest) Run(f *flag.FlagSet, args []string) error {
	outName := f.String("out", "GPIO17", "output pin driven by the rules")
	inName := f.String("in", "GPIO27", `input pin wired to -out; "" skips the loopback check`)
	frames := f.Int("frames", 1000, "frames to time through Outputs")
	if err := f.Parse(args); err != nil {
		return err
	}
	if f.NArg() != 0 {
		return fmt.Errorf("rpismoketest: unexpected arguments %q", f.Args())
	}
	w := s.Out
	if w == nil {
		w = os.Stdout
	}
	// Detection first: nothing touches GPIO registers off a Pi.
	b := boards.DetectHost()
	if b.ID != "rpi4" && b.ID != "rpi5" {
		return fmt.Errorf("%w (detected %s: %q)", ErrNotPi, b.ID, b.Model)
	}
	fmt.Fprintf(w, "%s\n", b)
	if err := checkFacts(w, b); err != nil {
		return err
	}
	return checkOutputs(w, b, *outName, *inName, *frames)
}

// checkFacts cross-checks the independent sources detection can use: a
// disagreement means one of them is parsed wrongly.
func checkFacts(w io.Writer, b *boards.Board) error {
	want := rpi.BCM2711
	if b.ID == "rpi5" {
		want = rpi.BCM2712
	}
	if s := rpi.SoCFromCompatible(b.Compatible); len(b.Compatible) > 0 && s != want {
		return fmt.Errorf("rpismoketest: device-tree compatible %q says %q, profile %s says %s", b.Compatible, s, b.ID, want)
	}
	if s := rpi.SoCFromModel(b.Model); b.Model != "" && s != want {
		return fmt.Errorf("rpismoketest: model %q says %q, profile %s says %s", b.Model, s, b.ID, want)
	}
	if b.Revision != "" {
		r, err := rpi.ParseRevision(b.Revision)
		if err != nil {
			return err
		}
		if r.Processor != want {
			return fmt.Errorf("rpismoketest: revision %s says %s (%s), profile %s says %s", b.Revision, r.Processor, r.Model(), b.ID, want)
		}
		// Firmware settings (gpu_mem, total_mem) legitimately shrink
		// MemTotal, so a mismatch is worth a look, not a failure.
		if mb := int(b.MemTotal >> 20); b.MemTotal > 0 && (mb > r.MemoryMB || mb < r.MemoryMB*3/4) {
			fmt.Fprintf(w, "rpismoketest: warning: MemTotal %d MiB is not within 75-100 %% of the %d MB revision %s promises\n", mb, r.MemoryMB, b.Revision)
		}
	}
	if b.Cores != b.NominalCores {
		return fmt.Errorf("rpismoketest: %d cores in /proc/cpuinfo, a %s has %d", b.Cores, b.Profile.Name, b.NominalCores)
	}
	if b.Arch == "arm64" && b.ExpectedKernels() != "neon" {
		return fmt.Errorf("rpismoketest: expected kernels %v on arm64, want neon first", b.Kernels)
	}
	return nil
}

// checkOutputs drives the -out pin through rules and, with a loopback wire,
// reads every level back on -in.
func checkOutputs(w io.Writer, b *boards.Board, outName, inName string, frames int) error {
	rules, err := boards.ParseRules(nil, outName+"=class:1")
	if err != nil {
		return err
	}
	var in gpio.PinIO
	if inName != "" {
		if in, err = b.Pin(inName); err != nil {
			return err
		}
		if err := in.In(gpio.PullDown, gpio.NoEdge); err != nil {
			return fmt.Errorf("rpismoketest: %s as input: %w", inName, err)
		}
	}
	out, err := b.Outputs(rules)
	if err != nil {
		return err
	}
	defer out.Close()
	check := func(step string, want gpio.Level) error {
		if in == nil {
			return nil
		}
		time.Sleep(time.Millisecond) // far above any GPIO rise time
		if got := in.Read(); got != want {
			return fmt.Errorf("rpismoketest: %s: %s reads %s, want %s (is %s wired to %s?)", step, inName, got, want, outName, inName)
		}
		return nil
	}
	if err := check("after open", gpio.Low); err != nil {
		return err
	}
	for i, p := range []boards.Prediction{{Class: 1}, {Class: 1}, {Class: 0}, {Class: 1}, {Class: -1}} {
		if err := out.FrameDone(p); err != nil {
			return err
		}
		if err := check(fmt.Sprintf("frame %d (class %d)", i, p.Class), gpio.Level(p.Class == 1)); err != nil {
			return err
		}
	}
	start := time.Now()
	for i := range frames {
		if err := out.FrameDone(boards.Prediction{Class: i & 1}); err != nil {
			return err
		}
	}
	if frames > 0 {
		fmt.Fprintf(w, "rpismoketest: %d toggling frames, %v per FrameDone (one pin write each)\n", frames, time.Since(start)/time.Duration(frames))
	}
	if err := out.Close(); err != nil {
		return err
	}
	if err := check("after close", gpio.Low); err != nil {
		return err
	}
	if in == nil {
		fmt.Fprintln(w, "rpismoketest: pins driven; loopback skipped (-in \"\")")
	} else {
		fmt.Fprintf(w, "rpismoketest: loopback %s -> %s ok\n", outName, inName)
	}
	return nil
}
