package rpi

import (
	"strings"
	"testing"
)

func TestParseRevision(t *testing.T) {
	tests := []struct {
		code  string
		model string
		soc   SoC
		mb    int
		pcb   uint32
	}{
		{"c03114", "Raspberry Pi 4 Model B", BCM2711, 4096, 4},
		{"d03115", "Raspberry Pi 4 Model B", BCM2711, 8192, 5},
		{"a03111", "Raspberry Pi 4 Model B", BCM2711, 1024, 1},
		{"c03130", "Raspberry Pi 400", BCM2711, 4096, 0},
		{"b03140", "Raspberry Pi Compute Module 4", BCM2711, 2048, 0},
		{"d04170", "Raspberry Pi 5", BCM2712, 8192, 0},
		{"0xe04171", "Raspberry Pi 5", BCM2712, 16384, 1},
		{"c04190", "Raspberry Pi 500", BCM2712, 4096, 0},
		{"a020d3", "Raspberry Pi 3 Model B+", "BCM2837", 1024, 3},
		{"902120", "Raspberry Pi Zero 2 W", "BCM2837", 512, 0},
		{"a21041", "Raspberry Pi type 0x04", "BCM2836", 1024, 1},
	}
	for _, tt := range tests {
		r, err := ParseRevision(tt.code)
		if err != nil {
			t.Errorf("ParseRevision(%q): %v", tt.code, err)
			continue
		}
		if r.Model() != tt.model || r.Processor != tt.soc || r.MemoryMB != tt.mb || r.PCBRev != tt.pcb {
			t.Errorf("ParseRevision(%q) = %s %s %d MB rev %d; want %s %s %d MB rev %d",
				tt.code, r.Model(), r.Processor, r.MemoryMB, r.PCBRev, tt.model, tt.soc, tt.mb, tt.pcb)
		}
	}
	for code, want := range map[string]string{
		"000e": "old-style", "0000": "old-style", "": "not hexadecimal", "c03114x": "not hexadecimal", "1c03114ff": "not hexadecimal",
	} {
		if _, err := ParseRevision(code); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseRevision(%q) error %v, want %q", code, err, want)
		}
	}
}

func TestSoCFromModel(t *testing.T) {
	for model, want := range map[string]SoC{
		"Raspberry Pi 4 Model B Rev 1.4":         BCM2711,
		"Raspberry Pi 400 Rev 1.0":               BCM2711,
		"Raspberry Pi Compute Module 4 Rev 1.0":  BCM2711,
		"Raspberry Pi Compute Module 4S Rev 1.0": BCM2711,
		"Raspberry Pi 5 Model B Rev 1.0":         BCM2712,
		"Raspberry Pi 500 Rev 1.0":               BCM2712,
		"Raspberry Pi Compute Module 5 Rev 1.0":  BCM2712,
		"Raspberry Pi 3 Model B Plus Rev 1.3":    "",
		"Raspberry Pi Zero 2 W Rev 1.0":          "",
		"Raspberry Pi Compute Module 3 Plus":     "",
		"Radxa ROCK 5B":                          "",
		"Orange Pi 5":                            "",
		"":                                       "",
	} {
		if got := SoCFromModel(model); got != want {
			t.Errorf("SoCFromModel(%q) = %q, want %q", model, got, want)
		}
	}
}

func TestSoCFromCompatible(t *testing.T) {
	tests := []struct {
		compatible []string
		want       SoC
	}{
		{[]string{"raspberrypi,4-model-b", "brcm,bcm2711"}, BCM2711},
		{[]string{"raspberrypi,5-model-b", "brcm,bcm2712"}, BCM2712},
		{[]string{"raspberrypi,3-model-b-plus", "brcm,bcm2837"}, ""},
		{[]string{"radxa,rock-5b", "rockchip,rk3588"}, ""},
		{nil, ""},
	}
	for _, tt := range tests {
		if got := SoCFromCompatible(tt.compatible); got != tt.want {
			t.Errorf("SoCFromCompatible(%q) = %q, want %q", tt.compatible, got, tt.want)
		}
	}
}

// TestHeader checks the table's shape: GPIO0..27 each once, on distinct
// physical pins of the 40-pin header, in physical order.
func TestHeader(t *testing.T) {
	if len(Header) != 28 {
		t.Fatalf("%d header GPIOs, want 28", len(Header))
	}
	gpios := map[int]bool{}
	last := 0
	for _, p := range Header {
		if p.GPIO < 0 || p.GPIO > 27 || gpios[p.GPIO] {
			t.Errorf("GPIO%d out of range or repeated", p.GPIO)
		}
		gpios[p.GPIO] = true
		if p.Physical <= last || p.Physical > 40 {
			t.Errorf("%s on physical pin %d: not increasing within 1..40", p.Name(), p.Physical)
		}
		last = p.Physical
	}
	// The power and ground pins carry no GPIO.
	for _, phys := range []int{1, 2, 4, 6, 9, 14, 17, 20, 25, 30, 34, 39} {
		for _, p := range Header {
			if p.Physical == phys {
				t.Errorf("physical pin %d is power or ground, not %s", phys, p.Name())
			}
		}
	}
}
