package boards_test

import (
	"errors"
	"math"
	"runtime"
	"strings"
	"sync"
	"testing"

	"periph.io/x/conn/v3/gpio"

	"github.com/bsnn/bsnn/boards"
	"github.com/bsnn/bsnn/boards/boardtest"
)

func mustRules(t *testing.T, specs ...string) []boards.Rule {
	t.Helper()
	rules, err := boards.ParseRules(fashion, specs...)
	if err != nil {
		t.Fatal(err)
	}
	return rules
}

func mustOutputs(t *testing.T, pins *boardtest.Pins, specs ...string) *boards.Outputs {
	t.Helper()
	o, err := boards.NewOutputs(mustRules(t, specs...), pins.Open)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func TestOutputsSequence(t *testing.T) {
	pins := boardtest.NewPins("GPIO5", "GPIO6", "GPIO17", "GPIO22", "GPIO27")
	o := mustOutputs(t, pins, "GPIO17=class:3", "GPIO27=spike-rate>0.2", "GPIO22=busy", "GPIO5,GPIO6=class:0,1&conf>=0.5")
	nan := float32(math.NaN())
	frames := []struct {
		start bool
		p     boards.Prediction
	}{
		{true, boards.Prediction{Class: 3, Confidence: 0.9, SpikeRate: 0.1}},
		{true, boards.Prediction{Class: 3, Confidence: 0.9, SpikeRate: 0.3}},
		{false, boards.Prediction{Class: 0, Confidence: 0.6, SpikeRate: 0.25}}, // no FrameStart: busy pulses
		{true, boards.Prediction{Class: 1, Confidence: 0.4, SpikeRate: nan}},
		{true, boards.Prediction{Class: 0, Confidence: 0.5, SpikeRate: 0.2}},
		{true, boards.Prediction{Class: -1, Confidence: nan, SpikeRate: 0.21}},
	}
	for i, f := range frames {
		if f.start {
			if err := o.FrameStart(); err != nil {
				t.Fatalf("frame %d start: %v", i, err)
			}
		}
		if err := o.FrameDone(f.p); err != nil {
			t.Fatalf("frame %d done: %v", i, err)
		}
	}
	if err := o.Close(); err != nil {
		t.Fatal(err)
	}
	// Each pin: L when opened, then only changes; busy pulses every frame.
	want := "GPIO17:LHL GPIO22:LHLHLHLHLHLHL GPIO27:LHLHL GPIO5:LHLHL GPIO6:L"
	if got := pins.Histories(); got != want {
		t.Errorf("histories\n got %s\nwant %s", got, want)
	}
}

// TestOutputsOrder checks what a scope sees: busy rises at FrameStart, the
// condition pins change, and only then busy falls.
func TestOutputsOrder(t *testing.T) {
	pins := boardtest.NewPins("GPIO17", "GPIO22", "GPIO27")
	o := mustOutputs(t, pins, "GPIO22=busy; GPIO17=class:Dress; GPIO27=conf>0.5")
	if got, want := pins.Events(), "GPIO22=L GPIO17=L GPIO27=L"; got != want {
		t.Errorf("open: %s, want %s", got, want)
	}
	steps := []struct {
		do   func() error
		want string
	}{
		{o.FrameStart, "GPIO22=H"},
		{o.FrameStart, ""}, // already high
		{func() error { return o.FrameDone(boards.Prediction{Class: 3, Confidence: 0.7}) }, "GPIO17=H GPIO27=H GPIO22=L"},
		{func() error { return o.FrameDone(boards.Prediction{Class: 3, Confidence: 0.2}) }, "GPIO27=L GPIO22=H GPIO22=L"},
		{o.Close, "GPIO17=L"},
	}
	for i, s := range steps {
		if err := s.do(); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if got := pins.Events(); got != s.want {
			t.Errorf("step %d: %q, want %q", i, got, s.want)
		}
	}
	for _, f := range []func() error{o.FrameStart, func() error { return o.FrameDone(boards.Prediction{}) }, o.Close} {
		if err := f(); !errors.Is(err, boards.ErrClosed) {
			t.Errorf("after Close: %v, want ErrClosed", err)
		}
	}
	if got := pins.Events(); got != "" {
		t.Errorf("pins written after Close: %s", got)
	}
	if got, want := o.String(), "GPIO22=busy; GPIO17=class:3; GPIO27=conf>0.5"; got != want {
		t.Errorf("String %q, want %q", got, want)
	}
}

func TestOutputsPinFailure(t *testing.T) {
	pins := boardtest.NewPins("GPIO17", "GPIO27")
	o := mustOutputs(t, pins, "GPIO17=class:1; GPIO27=class:1")
	broken := errors.New("line busy")
	pins.Pin("GPIO17").FailWith(broken)
	err := o.FrameDone(boards.Prediction{Class: 1})
	if !errors.Is(err, broken) || !strings.Contains(err.Error(), "GPIO17") {
		t.Errorf("error %v does not wrap the pin's error and name the pin", err)
	}
	if got := pins.Pin("GPIO27").History(); got != "LH" {
		t.Errorf("the healthy pin was not set: %s", got)
	}
	// Once the pin works again it is rewritten even though the wanted level
	// did not change, since its real level is unknown after the failure.
	pins.Pin("GPIO17").FailWith(nil)
	if err := o.FrameDone(boards.Prediction{Class: 1}); err != nil {
		t.Fatal(err)
	}
	if got := pins.Histories(); got != "GPIO17:LH GPIO27:LH" {
		t.Errorf("after recovery: %s", got)
	}
}

// alias stands for gpioreg's alias pins ("P1_11" for "GPIO17").
type alias struct {
	*boardtest.Pin
	name string
}

func (a alias) Name() string           { return a.name }
func (a alias) Real() gpio.PinIO       { return a.Pin }
func (a alias) Out(l gpio.Level) error { return a.Pin.Out(l) }

func TestNewOutputsErrors(t *testing.T) {
	pins := boardtest.NewPins("GPIO17")
	open := func(name string) (gpio.PinOut, error) {
		if name == "P1_11" {
			return alias{pins.Pin("GPIO17"), name}, nil
		}
		return pins.Open(name)
	}
	_, err := boards.NewOutputs(mustRules(t, "GPIO17=class:1; P1_11=class:2"), open)
	if err == nil || !strings.Contains(err.Error(), `pin GPIO17 is already driven by rule "GPIO17=class:1"`) {
		t.Errorf("alias of a used pin: %v", err)
	}
	_, err = boards.NewOutputs(mustRules(t, "GPIO99=busy"), open)
	if err == nil || !strings.Contains(err.Error(), `gpio rule "GPIO99=busy": boardtest: no pin "GPIO99"`) {
		t.Errorf("unknown pin: %v", err)
	}
	_, err = boards.NewOutputs([]boards.Rule{{Pin: "GPIO17"}}, open)
	if err == nil || !strings.Contains(err.Error(), "not made by ParseRules") {
		t.Errorf("zero rule: %v", err)
	}
	pins.Pin("GPIO17").FailWith(errors.New("permission denied"))
	_, err = boards.NewOutputs(mustRules(t, "GPIO17=busy"), open)
	if err == nil || !strings.Contains(err.Error(), "setting GPIO17 Low: permission denied") {
		t.Errorf("failing initial write: %v", err)
	}
}

// TestOutputsConcurrentClose runs under -race: a signal handler may Close
// while the frame loop is running.
func TestOutputsConcurrentClose(t *testing.T) {
	pins := boardtest.NewPins("GPIO17", "GPIO22")
	o := mustOutputs(t, pins, "GPIO17=class:1; GPIO22=busy")
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			_ = o.FrameStart()
			if err := o.FrameDone(boards.Prediction{Class: i % 3}); errors.Is(err, boards.ErrClosed) {
				return
			} else if err != nil {
				t.Error(err)
				return
			}
		}
	}()
	for pins.Pin("GPIO22").History() == "L" {
		runtime.Gosched() // let the loop run at least one frame
	}
	if err := o.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if l := pins.Pin("GPIO17").Read(); l != gpio.Low {
		t.Errorf("GPIO17 %s after Close", l)
	}
	if l := pins.Pin("GPIO22").Read(); l != gpio.Low {
		t.Errorf("GPIO22 %s after Close", l)
	}
}
