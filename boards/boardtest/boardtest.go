// Package boardtest provides fakes for testing code that uses package
// boards without hardware: GPIO pins that record every level written, and
// root file systems of real board types for detection.
//
// The fixtures are written after the format of the real /proc, /sys and
// device-tree files of each board (field names, tabs, NUL-terminated
// device-tree strings); values such as serial numbers and free memory are
// made up.
package boardtest

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"sync"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"
)

// Pin is a gpiotest.Pin that records every level written with Out, so tests
// can assert exact sequences, and that can be made to fail.
type Pin struct {
	gpiotest.Pin

	rec     sync.Mutex
	history []gpio.Level
	fail    error
	set     *Pins // owner, for the shared event log; nil for a lone Pin
}

// Out records l and sets the fake pin's level, or returns the error set by
// FailWith without recording.
func (p *Pin) Out(l gpio.Level) error {
	p.rec.Lock()
	defer p.rec.Unlock()
	if p.fail != nil {
		return p.fail
	}
	p.history = append(p.history, l)
	if p.set != nil {
		p.set.logEvent(p.N, l)
	}
	return p.Pin.Out(l)
}

// FailWith makes later Out calls return err (nil restores normal behaviour).
func (p *Pin) FailWith(err error) {
	p.rec.Lock()
	defer p.rec.Unlock()
	p.fail = err
}

// History returns the levels written so far as a string, one letter per
// Out call: "L" for low, "H" for high, e.g. "LHL".
func (p *Pin) History() string {
	p.rec.Lock()
	defer p.rec.Unlock()
	var b strings.Builder
	for _, l := range p.history {
		if l {
			b.WriteByte('H')
		} else {
			b.WriteByte('L')
		}
	}
	return b.String()
}

// Pins is a set of fake pins looked up by name, standing in for periph's
// gpioreg.
type Pins struct {
	mu     sync.Mutex
	pins   map[string]*Pin
	events []string
}

// NewPins returns fake pins with the given names, numbered from 0.
func NewPins(names ...string) *Pins {
	ps := &Pins{pins: map[string]*Pin{}}
	for i, n := range names {
		ps.pins[n] = &Pin{Pin: gpiotest.Pin{N: n, Num: i, Fn: "Out/Low"}, set: ps}
	}
	return ps
}

// Open returns the named pin; it has the signature boards.NewOutputs takes.
func (ps *Pins) Open(name string) (gpio.PinOut, error) {
	if p := ps.Pin(name); p != nil {
		return p, nil
	}
	return nil, fmt.Errorf("boardtest: no pin %q", name)
}

// Pin returns the named pin, or nil.
func (ps *Pins) Pin(name string) *Pin {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	return ps.pins[name]
}

// Histories returns every pin's history as "NAME:HISTORY" in name order,
// e.g. "GPIO17:LH GPIO22:LHL", to compare all pins in one assertion.
func (ps *Pins) Histories() string {
	ps.mu.Lock()
	names := make([]string, 0, len(ps.pins))
	for n := range ps.pins {
		names = append(names, n)
	}
	ps.mu.Unlock()
	slices.Sort(names)
	for i, n := range names {
		names[i] = n + ":" + ps.Pin(n).History()
	}
	return strings.Join(names, " ")
}

func (ps *Pins) logEvent(name string, l gpio.Level) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	c := "L"
	if l {
		c = "H"
	}
	ps.events = append(ps.events, name+"="+c)
}

// Events returns every successful Out call on any of the pins, in call
// order, as "NAME=H" or "NAME=L" separated by spaces, and clears the log.
// It shows ordering across pins, which per-pin histories cannot.
func (ps *Pins) Events() string {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	s := strings.Join(ps.events, " ")
	ps.events = nil
	return s
}

//go:embed fixtures
var fixtures embed.FS

// Fixture returns the root file system of a board type, for boards.Detect.
// Names are those of [Fixtures].
func Fixture(name string) (fs.FS, error) {
	if !slices.Contains(Fixtures(), name) {
		return nil, fmt.Errorf("boardtest: no fixture %q (have %s)", name, strings.Join(Fixtures(), ", "))
	}
	return fs.Sub(fixtures, "fixtures/"+name)
}

// Fixtures lists the board fixtures: "rock5b" (RK3588 big.LITTLE), "rpi3",
// "rpi4", "rpi5", "x86-n100" (AVX2 only, placeholder DMI), "x86-nuc11"
// (AVX-512, SMT).
func Fixtures() []string {
	entries, err := fixtures.ReadDir("fixtures")
	if err != nil {
		panic(errors.Join(errors.New("boardtest: embedded fixtures unreadable"), err))
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}
