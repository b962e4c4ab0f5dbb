package boards

import (
	"fmt"
	"strings"
	"sync"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpioreg"
	"periph.io/x/host/v3"
)

// hostInit runs periph's host.Init once per process: it loads every driver
// that applies (memory-mapped BCM283x on a Pi 4, /dev/gpiochip* ioctl on a
// Pi 5 and x86 boxes) and registers their pins in gpioreg.
var hostInit = sync.OnceValue(func() error {
	if _, err := host.Init(); err != nil {
		return fmt.Errorf("boards: periph host.Init: %w", err)
	}
	return nil
})

// Open makes the host's GPIO usable through periph. It is safe to call more
// than once; only the first call does work, and later calls return its
// error.
func (b *Board) Open() error { return hostInit() }

// PinName resolves a pin name as written by the user to the line name periph
// registers. On boards with a known header it accepts "GPIO17" in any case
// and "P1_11"/"J8_11", and rejects pins that are not on the header, listing
// those that are. Elsewhere the name is passed through unchanged, since line
// names on x86 GPIO chips are arbitrary and case-sensitive.
func (b *Board) PinName(name string) (string, error) {
	if len(b.GPIO) == 0 {
		return name, nil
	}
	if p, ok := b.Header(name); ok {
		return p.Name, nil
	}
	names := make([]string, len(b.GPIO))
	for i, p := range b.GPIO {
		names[i] = p.Name
	}
	return "", fmt.Errorf("%w %q on the %s header (it has %s)", ErrNoPin, name, b.Profile.Name, strings.Join(names, " "))
}

// Pin resolves name with [Board.PinName], initialises periph ([Board.Open])
// and returns the host's pin of that name.
func (b *Board) Pin(name string) (gpio.PinIO, error) {
	line, err := b.PinName(name)
	if err != nil {
		return nil, err
	}
	if err := b.Open(); err != nil {
		return nil, err
	}
	p := gpioreg.ByName(line)
	if p == nil {
		return nil, fmt.Errorf("%w %q on this host (periph registered %s)", ErrNoPin, line, hostPinSample())
	}
	return p, nil
}

// hostPinSample lists some registered pin names for an error message.
func hostPinSample() string {
	all := gpioreg.All()
	if len(all) == 0 {
		return "no GPIO pins: is /dev/gpiochip* readable by this user?"
	}
	const show = 12
	var names []string
	for i, p := range all {
		if i == show {
			names = append(names, fmt.Sprintf("... (%d in all)", len(all)))
			break
		}
		names = append(names, p.Name())
	}
	return strings.Join(names, " ")
}

// Outputs opens the pins the rules name on this host and returns their
// driver; see [NewOutputs].
func (b *Board) Outputs(rules []Rule) (*Outputs, error) {
	return NewOutputs(rules, func(name string) (gpio.PinOut, error) { return b.Pin(name) })
}
