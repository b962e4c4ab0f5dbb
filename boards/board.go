package boards

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
)

// isArm and isLinux are compile-time constants, so the Raspberry Pi checks
// compile everywhere and fold away on builds that can never run on a Pi.
const (
	isArm   = runtime.GOARCH == "arm" || runtime.GOARCH == "arm64"
	isLinux = runtime.GOOS == "linux"
)

// HeaderPin is one GPIO on a board's header.
type HeaderPin struct {
	Name     string // line name periph registers, e.g. "GPIO17"
	Physical int    // position on the header, 0 when the board has no fixed header
	Note     string // alternate function or caution worth knowing before wiring
}

// Profile describes a family of boards: what bsnn expects of it and how to
// recognise it. The built-in profiles are listed by [Profiles].
type Profile struct {
	ID   string // short stable name: "rpi4", "rpi5", "arm64", "x86", "other"
	Name string // human name: "Raspberry Pi 4"
	SoC  string // chip summary; "" when the profile covers many chips

	// NominalCores is the core count every board of the family has; 0 when
	// it varies and only the host can say.
	NominalCores int

	// GPIO lists the header pins usable as outputs, in header order. Nil
	// means the profile has no fixed header: any line name periph registers
	// on the host is accepted as is.
	GPIO []HeaderPin

	// match reports whether facts describe a board of this family. Facts of
	// the real host or of a fake file system go through the same function.
	match func(f *Facts) bool
}

// Present reports whether this process runs on a board of this family. It
// reads the host's /proc and /sys files each time it is called; the Pi
// profiles are false without reading anything unless built for arm or arm64.
func (p *Profile) Present() bool {
	if !isLinux && p.ID != "other" {
		return false
	}
	if strings.HasPrefix(p.ID, "rpi") && !isArm {
		return false
	}
	f := hostFacts(os.DirFS("/"))
	return p.match(&f)
}

// Header returns the header pin with the given name: its line name
// ("GPIO17", any case) or, on boards with a numbered header, "P1_<n>" or
// "J8_<n>" for physical pin n. It reports false when the profile has no such
// pin or no fixed header.
func (p *Profile) Header(name string) (HeaderPin, bool) {
	u := strings.ToUpper(strings.TrimSpace(name))
	for _, pin := range p.GPIO {
		if u == strings.ToUpper(pin.Name) ||
			(pin.Physical > 0 && (u == fmt.Sprintf("P1_%d", pin.Physical) || u == fmt.Sprintf("J8_%d", pin.Physical))) {
			return pin, true
		}
	}
	return HeaderPin{}, false
}

// Board is a detected board: the matching profile, the facts read from the
// host, and what bsnn should expect and use there.
type Board struct {
	*Profile
	Facts

	// Kernels lists the bitops kernel sets this CPU should offer, best
	// first, always ending in "generic": "neon" on arm64, "avx512" and/or
	// "avx2" on x86-64 by the cpuinfo flags. Empty when the CPU's features
	// could not be read (x86-64 outside Linux). It is an expectation from
	// the CPU alone: a purego or noasm build offers only "generic", so
	// callers compare it with the set bitops actually picked.
	Kernels []string

	// Threads is the recommended number of worker threads: the physical
	// cores, without SMT siblings (they share the popcount units) and
	// without little cores on big.LITTLE chips (an evenly split layer waits
	// for its slowest thread), capped by GOMAXPROCS on the live host. It is
	// a starting point for bsnn-bench to confirm, not a measurement.
	Threads int
}

// ExpectedKernels returns the kernel set name bsnn should pick on this board
// ("neon", "avx512", "avx2", "generic"), or "" when unknown.
func (b *Board) ExpectedKernels() string {
	if len(b.Kernels) == 0 {
		return ""
	}
	return b.Kernels[0]
}

// Profiles returns the built-in profiles in detection order, most specific
// first. The last one, "other", matches any host.
func Profiles() []*Profile {
	return append([]*Profile(nil), profiles...)
}

// Lookup returns the built-in profile with the given ID.
func Lookup(id string) (*Profile, error) {
	var ids []string
	for _, p := range profiles {
		if p.ID == id {
			return p, nil
		}
		ids = append(ids, p.ID)
	}
	return nil, fmt.Errorf("boards: no profile %q (have %s)", id, strings.Join(ids, ", "))
}

// Detect identifies the board described by a Linux-style root file system
// (paths like "proc/cpuinfo", "proc/device-tree/model",
// "sys/firmware/devicetree/base/compatible") for the given GOOS and GOARCH.
// Tests pass an fstest.MapFS or a fixture of package boardtest; [DetectHost] passes
// the real root. Detection never fails: missing files lead to a less
// specific profile, at worst "other".
func Detect(root fs.FS, goos, goarch string) *Board {
	f := readFacts(root, goos, goarch)
	return newBoard(f)
}

// DetectHost identifies the board this process runs on. Its recommended
// thread count is capped by runtime.GOMAXPROCS, which follows CPU affinity
// and cgroup limits.
func DetectHost() *Board {
	b := newBoard(hostFacts(os.DirFS("/")))
	if n := runtime.GOMAXPROCS(0); b.Threads > n {
		b.Threads = n
	}
	return b
}

func newBoard(f Facts) *Board {
	b := &Board{Facts: f}
	for _, p := range profiles {
		if p.match(&b.Facts) {
			b.Profile = p
			break
		}
	}
	b.Kernels = expectedKernels(&b.Facts)
	b.Threads = recommendedThreads(b.Profile, &b.Facts)
	return b
}

// expectedKernels mirrors bitops' dispatch rules from the CPU facts alone,
// since boards may not import bitops.
func expectedKernels(f *Facts) []string {
	switch f.Arch {
	case "arm64":
		return []string{"neon", "generic"} // NEON is baseline on arm64
	case "amd64":
		if f.flags == nil {
			return nil
		}
		var k []string
		if f.HasFlag("avx512f") && f.HasFlag("avx512bw") && f.HasFlag("avx512_vpopcntdq") {
			k = append(k, "avx512")
		}
		if f.HasFlag("avx2") {
			k = append(k, "avx2")
		}
		return append(k, "generic")
	}
	return []string{"generic"}
}

func recommendedThreads(p *Profile, f *Facts) int {
	n := f.Cores
	switch {
	case f.Arch == "amd64" || f.Arch == "386":
		n = f.PhysicalCores
	case f.BigCores > 0:
		n = f.BigCores
	}
	if n == 0 {
		n = p.NominalCores
	}
	return max(n, 1)
}

// String returns the multi-line profile that bsnn-run prints at start-up.
func (b *Board) String() string {
	var s strings.Builder
	fmt.Fprintf(&s, "board    %s (%s)", b.Profile.Name, b.ID)
	if b.Model != "" && b.Model != b.Profile.Name && b.Model != b.CPU {
		fmt.Fprintf(&s, ": %s", b.Model)
	}
	cpu := fmt.Sprintf("%s/%s, %d cores", b.OS, b.Arch, b.Cores)
	if b.PhysicalCores != b.Cores {
		cpu += fmt.Sprintf(" (%d physical)", b.PhysicalCores)
	}
	if b.CPU != "" {
		cpu += ": " + b.CPU
	}
	fmt.Fprintf(&s, "\ncpu      %s", cpu)
	if b.SoC != "" {
		fmt.Fprintf(&s, " (%s)", b.SoC)
	}
	mem := "unknown"
	if b.MemTotal > 0 {
		mem = fmt.Sprintf("%.1f GiB", float64(b.MemTotal)/(1<<30))
	}
	fmt.Fprintf(&s, "\nmemory   %s", mem)
	kern := "unknown (CPU features not readable; bsnn-bench lists what runs)"
	if len(b.Kernels) > 0 {
		kern = strings.Join(b.Kernels, " > ")
	}
	fmt.Fprintf(&s, "\nkernels  %s", kern)
	fmt.Fprintf(&s, "\nthreads  %d recommended", b.Threads)
	if len(b.GPIO) == 0 {
		s.WriteString("\ngpio     no fixed header: any line name periph finds on this host")
	} else {
		fmt.Fprintf(&s, "\ngpio     %d header GPIOs: %s", len(b.GPIO), pinRanges(b.GPIO))
		if b.GPIO[0].Physical > 0 {
			s.WriteString("; P1_<n> names physical pin n")
		}
	}
	return s.String()
}

// pinRanges lists pin names sorted, with runs of GPIO<n> numbers shortened
// to "GPIO2-27".
func pinRanges(pins []HeaderPin) string {
	var nums []int
	var other []string
	for _, p := range pins {
		if n, err := strconv.Atoi(strings.TrimPrefix(p.Name, "GPIO")); err == nil && strings.HasPrefix(p.Name, "GPIO") {
			nums = append(nums, n)
		} else {
			other = append(other, p.Name)
		}
	}
	slices.Sort(nums)
	slices.Sort(other)
	var parts []string
	for i := 0; i < len(nums); {
		j := i
		for j+1 < len(nums) && nums[j+1] == nums[j]+1 {
			j++
		}
		if j > i {
			parts = append(parts, fmt.Sprintf("GPIO%d-%d", nums[i], nums[j]))
		} else {
			parts = append(parts, fmt.Sprintf("GPIO%d", nums[i]))
		}
		i = j + 1
	}
	return strings.Join(append(parts, other...), " ")
}

// ErrNoPin is wrapped by the errors of [Board.PinName] and [Board.Pin] for
// names the board's header or the host's GPIO drivers do not have.
var ErrNoPin = errors.New("boards: no GPIO")
