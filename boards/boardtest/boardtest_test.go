package boardtest

import (
	"errors"
	"io/fs"
	"slices"
	"strings"
	"testing"

	"periph.io/x/conn/v3/gpio"
)

func TestFixtures(t *testing.T) {
	names := Fixtures()
	for _, want := range []string{"rpi4", "rpi5", "x86-n100"} {
		if !slices.Contains(names, want) {
			t.Errorf("fixture %q missing from %v", want, names)
		}
	}
	for _, n := range names {
		root, err := Fixture(n)
		if err != nil {
			t.Fatal(err)
		}
		if b, err := fs.ReadFile(root, "proc/cpuinfo"); err != nil || !strings.Contains(string(b), "processor\t: 0\n") {
			t.Errorf("%s: proc/cpuinfo unreadable or without processor 0: %v", n, err)
		}
	}
	if _, err := Fixture("rpi9"); err == nil || !strings.Contains(err.Error(), "rpi4") {
		t.Errorf("unknown fixture: %v", err)
	}
}

func TestPins(t *testing.T) {
	ps := NewPins("A", "B")
	a, err := ps.Open("A")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range []gpio.Level{gpio.High, gpio.Low, gpio.Low} {
		if err := a.Out(l); err != nil {
			t.Fatal(err)
		}
	}
	broken := errors.New("broken")
	ps.Pin("B").FailWith(broken)
	if err := ps.Pin("B").Out(gpio.High); err != broken {
		t.Errorf("FailWith: %v", err)
	}
	ps.Pin("B").FailWith(nil)
	if err := ps.Pin("B").Out(gpio.High); err != nil {
		t.Fatal(err)
	}
	if got := ps.Histories(); got != "A:HLL B:H" {
		t.Errorf("Histories %q", got)
	}
	if got := ps.Events(); got != "A=H A=L A=L B=H" {
		t.Errorf("Events %q", got)
	}
	if got := ps.Events(); got != "" {
		t.Errorf("Events not cleared: %q", got)
	}
	if ps.Pin("B").Read() != gpio.High {
		t.Error("fake level not set")
	}
	if _, err := ps.Open("C"); err == nil {
		t.Error("Open of an unknown pin succeeded")
	}
}
