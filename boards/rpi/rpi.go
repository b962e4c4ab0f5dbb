// Package rpi holds Raspberry Pi facts that board detection and GPIO naming
// need: the 40-pin header map, the SoC behind each model, and the decoding of
// the revision code in /proc/cpuinfo.
//
// It is pure data and string parsing, with no file or hardware access, so it
// compiles and is tested on every GOOS/GOARCH. Detection that reads the host
// lives in package boards.
package rpi

import (
	"fmt"
	"strconv"
	"strings"
)

// SoC names the Broadcom system-on-chip of a Raspberry Pi.
type SoC string

// The SoCs bsnn has profiles for. Older Pis (BCM2835/6/7) are recognised as
// Raspberry Pis by [ParseRevision] but get the generic arm64 profile.
const (
	BCM2711 SoC = "BCM2711" // Pi 4 Model B, Pi 400, Compute Module 4: 4× Cortex-A72.
	BCM2712 SoC = "BCM2712" // Pi 5, Pi 500, Compute Module 5: 4× Cortex-A76.
)

// processors maps the revision code's processor field to the SoC.
var processors = [...]SoC{"BCM2835", "BCM2836", "BCM2837", BCM2711, BCM2712}

// models maps the revision code's type field to the model name, for the
// types bsnn knows by name (the rest print as "type 0xNN").
var models = map[uint32]string{
	0x08: "3 Model B", 0x0d: "3 Model B+", 0x0e: "3 Model A+", 0x10: "Compute Module 3+",
	0x11: "4 Model B", 0x12: "Zero 2 W", 0x13: "400", 0x14: "Compute Module 4", 0x15: "Compute Module 4S",
	0x17: "5", 0x18: "Compute Module 5", 0x19: "500", 0x1a: "Compute Module 5 Lite",
}

// Revision is a decoded new-style revision code (the "Revision" line of
// /proc/cpuinfo, bit 23 set), as documented by Raspberry Pi Ltd:
// NOQuuuWuFMMMCCCCPPPPTTTTTTTTRRRR.
type Revision struct {
	Code      uint32 // the raw code, e.g. 0xc03114
	Type      uint32 // board type field, e.g. 0x11 for Pi 4 Model B
	Processor SoC    // SoC from the processor field
	MemoryMB  int    // nominal RAM from the memory field
	PCBRev    uint32 // PCB revision field
}

// Model returns the model name for the type field, e.g. "Raspberry Pi 4 Model B".
func (r Revision) Model() string {
	if m, ok := models[r.Type]; ok {
		return "Raspberry Pi " + m
	}
	return fmt.Sprintf("Raspberry Pi type 0x%02x", r.Type)
}

// ParseRevision decodes the value of the "Revision" line of /proc/cpuinfo.
// Old-style codes (bit 23 clear, boards before the Pi 2) and overvoltage-
// warranty prefixes that leave the new-style flag clear are reported as
// errors, since they cannot name a Pi 4 or 5.
func ParseRevision(s string) (Revision, error) {
	s = strings.TrimSpace(s)
	v, err := strconv.ParseUint(strings.TrimPrefix(strings.ToLower(s), "0x"), 16, 32)
	if err != nil {
		return Revision{}, fmt.Errorf("rpi: revision code %q is not hexadecimal", s)
	}
	code := uint32(v)
	if code&(1<<23) == 0 {
		return Revision{}, fmt.Errorf("rpi: revision code %q is old-style (pre Pi 2)", s)
	}
	r := Revision{
		Code:     code,
		Type:     (code >> 4) & 0xff,
		PCBRev:   code & 0xf,
		MemoryMB: 256 << ((code >> 20) & 7),
	}
	if p := (code >> 12) & 0xf; int(p) < len(processors) {
		r.Processor = processors[p]
	} else {
		r.Processor = SoC(fmt.Sprintf("processor %d", p))
	}
	return r, nil
}

// SoCFromCompatible returns the SoC named by a device-tree "compatible" list
// (the NUL-separated strings of /proc/device-tree/compatible), or "" when it
// names none bsnn has a profile for.
func SoCFromCompatible(compatible []string) SoC {
	for _, c := range compatible {
		switch strings.TrimSpace(c) {
		case "brcm,bcm2711":
			return BCM2711
		case "brcm,bcm2712":
			return BCM2712
		}
	}
	return ""
}

// SoCFromModel returns the SoC of a device-tree or cpuinfo model string such
// as "Raspberry Pi 4 Model B Rev 1.4", or "" when the model is not a Pi 4 or
// Pi 5 family board.
func SoCFromModel(model string) SoC {
	m, ok := strings.CutPrefix(strings.TrimSpace(model), "Raspberry Pi ")
	if !ok {
		return ""
	}
	m = strings.TrimPrefix(m, "Compute Module ")
	// "4 Model B", "400", "4S", "5 Model B", "500", "5 Lite": the family is
	// the first digit of the first word.
	word, _, _ := strings.Cut(m, " ")
	switch {
	case strings.HasPrefix(word, "4"):
		return BCM2711
	case strings.HasPrefix(word, "5"):
		return BCM2712
	}
	return ""
}

// HeaderPin is one GPIO of the 40-pin header (J8, called P1 on older boards).
type HeaderPin struct {
	GPIO     int    // Broadcom (BCM) number, as in "GPIO17"
	Physical int    // physical pin number on the header, 1..40
	Note     string // default alternate function worth knowing before wiring
}

// Name returns the periph/kernel line name of the pin, e.g. "GPIO17".
func (p HeaderPin) Name() string { return "GPIO" + strconv.Itoa(p.GPIO) }

// Header lists the 28 GPIOs of the 40-pin header, identical on every board
// from the Pi 1 B+ to the Pi 5, in physical pin order.
var Header = []HeaderPin{
	{2, 3, "I2C1 SDA, 1.8 kΩ pull-up"}, {3, 5, "I2C1 SCL, 1.8 kΩ pull-up"}, {4, 7, "GPCLK0"},
	{14, 8, "UART TX"}, {15, 10, "UART RX"}, {17, 11, ""}, {18, 12, "PCM CLK / PWM0"},
	{27, 13, ""}, {22, 15, ""}, {23, 16, ""}, {24, 18, ""}, {10, 19, "SPI0 MOSI"},
	{9, 21, "SPI0 MISO"}, {25, 22, ""}, {11, 23, "SPI0 SCLK"}, {8, 24, "SPI0 CE0"},
	{7, 26, "SPI0 CE1"}, {0, 27, "ID EEPROM SDA: reserved for HATs"},
	{1, 28, "ID EEPROM SCL: reserved for HATs"}, {5, 29, ""}, {6, 31, ""},
	{12, 32, "PWM0"}, {13, 33, "PWM1"}, {19, 35, "PCM FS / PWM1"}, {16, 36, ""},
	{26, 37, ""}, {20, 38, "PCM DIN"}, {21, 40, "PCM DOUT"},
}
