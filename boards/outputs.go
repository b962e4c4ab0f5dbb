package boards

import (
	"errors"
	"fmt"
	"strings"
	"sync"

	"periph.io/x/conn/v3/gpio"
)

// Prediction is what the runtime reports for one frame.
type Prediction struct {
	Class      int     // predicted class (argmax of the T-mean logits); -1 for none
	Confidence float32 // probability of Class in [0,1]; NaN when not computed
	SpikeRate  float32 // mean firing rate of the frame in [0,1]; NaN when not counted
}

// ErrClosed is returned by [Outputs] methods after Close.
var ErrClosed = errors.New("boards: outputs are closed")

// Outputs drives GPIO pins from predictions according to rules. A frame is
// FrameStart (optional) followed by FrameDone: condition pins are set from
// the prediction first, then busy pins fall, so the falling edge of a busy
// pin marks the moment the other outputs are valid. Pins are written only
// when their level changes, except busy pins, which pulse every frame.
//
// Outputs is safe for concurrent use, so a signal handler may Close it while
// the frame loop runs.
type Outputs struct {
	mu      sync.Mutex
	pins    []*output
	inFrame bool // FrameStart raised the busy pins
	closed  bool
}

type output struct {
	rule  Rule
	name  string // real pin name, for errors
	pin   gpio.PinOut
	level gpio.Level
	known bool // level is what the pin was last set to successfully
}

// NewOutputs opens one pin per rule with open and drives it low, the safe
// state for active-high loads such as LEDs and relay drivers. Two rules on
// the same physical pin (an alias like "P1_11" for "GPIO17") are an error.
// Tests pass the Open method of package boardtest's fake Pins; [Board.Outputs] passes the host's.
func NewOutputs(rules []Rule, open func(name string) (gpio.PinOut, error)) (*Outputs, error) {
	o := &Outputs{}
	owner := map[string]string{}
	for _, r := range rules {
		if r.Pin == "" || (!r.busy && r.classes == nil && r.tests == nil) {
			return nil, fmt.Errorf("boards: rule %q was not made by ParseRules", r.String())
		}
		p, err := open(r.Pin)
		if err != nil {
			return nil, fmt.Errorf("gpio rule %q: %w", r.String(), err)
		}
		real := realName(p)
		if prev, dup := owner[real]; dup {
			return nil, fmt.Errorf("gpio rule %q: pin %s is already driven by rule %q", r.String(), real, prev)
		}
		owner[real] = r.String()
		out := &output{rule: r, name: real, pin: p}
		if err := out.set(gpio.Low); err != nil {
			return nil, err
		}
		o.pins = append(o.pins, out)
	}
	return o, nil
}

// realName names the physical pin behind an alias, so aliases of one pin
// are recognised as the same pin.
func realName(p gpio.PinOut) string {
	if rp, ok := p.(gpio.RealPin); ok {
		return rp.Real().Name()
	}
	return p.Name()
}

func (out *output) set(l gpio.Level) error {
	if err := out.pin.Out(l); err != nil {
		out.known = false
		return fmt.Errorf("boards: setting %s %s: %w", out.name, l, err)
	}
	out.level, out.known = l, true
	return nil
}

// setIfChanged writes l unless the pin is known to be at l already.
func (out *output) setIfChanged(l gpio.Level) error {
	if out.known && out.level == l {
		return nil
	}
	return out.set(l)
}

// FrameStart raises the busy pins: the runtime starts working on a frame.
func (o *Outputs) FrameStart() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return ErrClosed
	}
	var errs []error
	for _, out := range o.pins {
		if out.rule.busy {
			errs = append(errs, out.setIfChanged(gpio.High))
		}
	}
	o.inFrame = true
	return errors.Join(errs...)
}

// FrameDone applies a frame's prediction: every condition pin goes high or
// low as its rule holds or not, then busy pins fall. A FrameDone without a
// FrameStart still pulses the busy pins (high, then low at once), so every
// frame shows on a scope. Errors from several pins are joined; the other
// pins are still set.
func (o *Outputs) FrameDone(p Prediction) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return ErrClosed
	}
	var errs []error
	for _, out := range o.pins {
		if !out.rule.busy {
			errs = append(errs, out.setIfChanged(gpio.Level(out.rule.holds(p))))
		}
	}
	for _, out := range o.pins {
		if out.rule.busy {
			if !o.inFrame {
				errs = append(errs, out.set(gpio.High))
			}
			errs = append(errs, out.set(gpio.Low))
		}
	}
	o.inFrame = false
	return errors.Join(errs...)
}

// Close drives every pin low and releases nothing else: periph pins need no
// closing. Later calls return ErrClosed.
func (o *Outputs) Close() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return ErrClosed
	}
	o.closed = true
	var errs []error
	for _, out := range o.pins {
		errs = append(errs, out.setIfChanged(gpio.Low))
	}
	return errors.Join(errs...)
}

// String lists the rules in canonical form, separated by "; ".
func (o *Outputs) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	s := make([]string, len(o.pins))
	for i, out := range o.pins {
		s[i] = out.rule.String()
	}
	return strings.Join(s, "; ")
}
