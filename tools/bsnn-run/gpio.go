package main

import (
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/bsnn/bsnn/boards"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/physic"
)

// dryPins stands in for the host's GPIO under -gpio-dry-run: pin names are
// resolved and checked against the board as for real pins, but Out only
// records the level, and flush prints what a frame did.
type dryPins struct {
	board *boards.Board
	w     io.Writer

	mu   sync.Mutex // boards.Outputs may be closed from another goroutine
	pins []*dryPin
}

func newDryPins(b *boards.Board, w io.Writer) *dryPins { return &dryPins{board: b, w: w} }

// open has the signature boards.NewOutputs takes.
func (d *dryPins) open(name string) (gpio.PinOut, error) {
	real, err := d.board.PinName(name)
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, p := range d.pins {
		if p.name == real {
			return p, nil // boards.NewOutputs reports the clash of aliases
		}
	}
	p := &dryPin{d: d, name: real}
	d.pins = append(d.pins, p)
	return p, nil
}

// flush prints one line, "gpio WHEN: PIN=LEVELS ...", with every pin in
// the order of the rules: the levels written since the last flush ("HL" is
// a pulse), or the unchanged level as "H"/"L".
func (d *dryPins) flush(when string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	var b strings.Builder
	fmt.Fprintf(&b, "gpio %s:", when)
	for _, p := range d.pins {
		levels := p.written
		if levels == "" {
			levels = levelLetter(p.level)
		}
		fmt.Fprintf(&b, " %s=%s", p.name, levels)
		p.written = ""
	}
	fmt.Fprintln(d.w, b.String())
}

func levelLetter(l gpio.Level) string {
	if l == gpio.High {
		return "H"
	}
	return "L"
}

// dryPin is one recorded output pin.
type dryPin struct {
	d       *dryPins
	name    string
	level   gpio.Level
	written string
}

func (p *dryPin) String() string   { return p.name + " (dry run)" }
func (p *dryPin) Halt() error      { return nil }
func (p *dryPin) Name() string     { return p.name }
func (p *dryPin) Number() int      { return -1 }
func (p *dryPin) Function() string { return "Out/" + levelLetter(p.level) }

func (p *dryPin) Out(l gpio.Level) error {
	p.d.mu.Lock()
	defer p.d.mu.Unlock()
	p.level = l
	p.written += levelLetter(l)
	return nil
}

func (p *dryPin) PWM(gpio.Duty, physic.Frequency) error {
	return fmt.Errorf("%s: PWM is not simulated", p.name)
}
