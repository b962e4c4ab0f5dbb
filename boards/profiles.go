package boards

import "github.com/bsnn/bsnn/boards/rpi"

// profiles is the detection order: specific boards before the generic
// profiles that would also match them. It is read-only after init.
var profiles = []*Profile{
	{
		ID: "rpi5", Name: "Raspberry Pi 5", SoC: "BCM2712 @ 2.4 GHz",
		NominalCores: 4, GPIO: piHeader(), match: piMatch(rpi.BCM2712),
	},
	{
		ID: "rpi4", Name: "Raspberry Pi 4", SoC: "BCM2711 @ 1.5-1.8 GHz",
		NominalCores: 4, GPIO: piHeader(), match: piMatch(rpi.BCM2711),
	},
	{
		ID: "arm64", Name: "Generic arm64 Linux",
		match: func(f *Facts) bool { return f.OS == "linux" && f.Arch == "arm64" },
	},
	{
		ID: "x86", Name: "x86 edge box",
		match: func(f *Facts) bool { return f.OS == "linux" && (f.Arch == "amd64" || f.Arch == "386") },
	},
	{
		ID: "other", Name: "Unknown board",
		match: func(*Facts) bool { return true },
	},
}

func piHeader() []HeaderPin {
	pins := make([]HeaderPin, len(rpi.Header))
	for i, h := range rpi.Header {
		pins[i] = HeaderPin{Name: h.Name(), Physical: h.Physical, Note: h.Note}
	}
	return pins
}

// piMatch recognises a Pi family from the strongest evidence available: the
// device-tree compatible list, then the model string, then the revision
// code. Each can be missing in a container, so all three are tried. A 32-bit
// userland (GOARCH=arm) on the same board is still that board.
func piMatch(soc rpi.SoC) func(f *Facts) bool {
	return func(f *Facts) bool {
		if f.OS != "linux" || (f.Arch != "arm64" && f.Arch != "arm") {
			return false
		}
		if s := rpi.SoCFromCompatible(f.Compatible); s != "" {
			return s == soc
		}
		if len(f.Compatible) > 0 {
			return false // a device tree naming another SoC (a Pi 3, a Rockchip board)
		}
		if s := rpi.SoCFromModel(f.Model); s != "" {
			return s == soc
		}
		if r, err := rpi.ParseRevision(f.Revision); err == nil {
			return r.Processor == soc
		}
		return false
	}
}
