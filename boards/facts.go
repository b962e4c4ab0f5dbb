package boards

import (
	"bufio"
	"fmt"
	"io/fs"
	"runtime"
	"strconv"
	"strings"
)

// Facts is what detection reads about a host. Every field may be zero when
// the file behind it is missing or unreadable (a container without /sys, a
// non-Linux OS): detection degrades to a less specific profile instead of
// failing.
type Facts struct {
	OS, Arch string // GOOS/GOARCH the binary runs as

	// Model is the most specific board name found: the device-tree model
	// ("Raspberry Pi 4 Model B Rev 1.4"), the cpuinfo Model line, the DMI
	// vendor and product ("Intel(R) Client Systems NUC11TNHi5"), or the CPU
	// name, in that order.
	Model string
	// Compatible is the device-tree compatible list, most specific first.
	Compatible []string
	// Revision is the Raspberry Pi revision code from /proc/cpuinfo ("c03114").
	Revision string

	CPU           string // CPU summary: "Intel(R) N100" or "4× Cortex-A76 + 4× Cortex-A55"
	Cores         int    // logical CPUs listed in /proc/cpuinfo
	PhysicalCores int    // distinct (physical id, core id) pairs; Cores when not listed
	BigCores      int    // arm: cores other than in-order A35/A53/A55/A510/A520; Cores when uniform
	MemTotal      uint64 // bytes, from /proc/meminfo

	flags map[string]bool // x86 "flags" or arm "Features"; nil when not read
}

// HasFlag reports whether /proc/cpuinfo lists the CPU feature (x86 "flags",
// arm "Features"), e.g. "avx2" or "asimd".
func (f *Facts) HasFlag(name string) bool { return f.flags[name] }

// Device-tree files: /proc/device-tree is a symlink to the second path, but
// either may be hidden in a container, so both are tried.
var dtDirs = []string{"proc/device-tree", "sys/firmware/devicetree/base"}

// readFacts reads a root file system laid out like Linux's ("proc/cpuinfo",
// no leading slash, as fs.FS requires). Only Linux has these files; for other
// GOOS values nothing is read.
func readFacts(root fs.FS, goos, goarch string) Facts {
	f := Facts{OS: goos, Arch: goarch}
	if goos != "linux" || root == nil {
		return f
	}
	for _, dir := range dtDirs {
		if b, err := fs.ReadFile(root, dir+"/model"); err == nil && f.Model == "" {
			f.Model = cString(b)
		}
		if b, err := fs.ReadFile(root, dir+"/compatible"); err == nil && f.Compatible == nil {
			for _, s := range strings.Split(string(b), "\x00") {
				if s = strings.TrimSpace(s); s != "" {
					f.Compatible = append(f.Compatible, s)
				}
			}
		}
	}
	if b, err := fs.ReadFile(root, "proc/cpuinfo"); err == nil {
		f.parseCPUInfo(string(b))
	}
	if f.Model == "" {
		f.Model = dmiModel(root)
	}
	if f.Model == "" {
		f.Model = f.CPU
	}
	if b, err := fs.ReadFile(root, "proc/meminfo"); err == nil {
		f.MemTotal = memTotal(string(b))
	}
	return f
}

// cString returns a device-tree string property without its NUL terminator.
func cString(b []byte) string {
	s, _, _ := strings.Cut(string(b), "\x00")
	return strings.TrimSpace(s)
}

// parseCPUInfo reads the per-processor blocks of /proc/cpuinfo (x86 and arm
// spell their fields differently) and the board lines that arm kernels append.
func (f *Facts) parseCPUInfo(text string) {
	type core struct{ pkg, id, implementer, part string }
	var cores []core
	var cur *core
	modelName := ""
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024) // x86 flags lines are long
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		key, val = strings.TrimSpace(key), strings.TrimSpace(val)
		switch key {
		case "processor":
			cores = append(cores, core{})
			cur = &cores[len(cores)-1]
		case "physical id":
			if cur != nil {
				cur.pkg = val
			}
		case "core id":
			if cur != nil {
				cur.id = val
			}
		case "CPU implementer":
			if cur != nil {
				cur.implementer = val
			}
		case "CPU part":
			if cur != nil {
				cur.part = val
			}
		case "model name":
			if modelName == "" {
				modelName = val
			}
		case "flags", "Features":
			if f.flags == nil {
				f.flags = map[string]bool{}
				for _, fl := range strings.Fields(val) {
					f.flags[fl] = true
				}
			}
		case "Revision":
			f.Revision = val
		case "Model":
			if f.Model == "" {
				f.Model = val
			}
		}
	}
	f.Cores = len(cores)
	physical := map[[2]string]bool{}
	var parts []string // arm core names in order of first appearance
	count := map[string]int{}
	for _, c := range cores {
		if c.pkg != "" || c.id != "" {
			physical[[2]string{c.pkg, c.id}] = true
		}
		if c.part != "" {
			name := armCoreName(c.implementer, c.part)
			if count[name] == 0 {
				parts = append(parts, name)
			}
			count[name]++
			if !littleCores[name] {
				f.BigCores++
			}
		}
	}
	f.PhysicalCores = len(physical)
	if f.PhysicalCores == 0 {
		f.PhysicalCores = f.Cores
	}
	if f.BigCores == 0 || len(parts) < 2 {
		// Uniform clusters (all A53 on a Pi 3, say) are all "big" for
		// scheduling purposes: no core is slower than its peers.
		f.BigCores = f.Cores
	}
	switch {
	case modelName != "":
		f.CPU = modelName
	case len(parts) > 0:
		var b strings.Builder
		for i, p := range parts {
			if i > 0 {
				b.WriteString(" + ")
			}
			fmt.Fprintf(&b, "%d× %s", count[p], p)
		}
		f.CPU = b.String()
	}
}

// armParts names the Arm Ltd. (implementer 0x41) cores seen on edge boards.
var armParts = map[string]string{
	"0xd03": "Cortex-A53", "0xd04": "Cortex-A35", "0xd05": "Cortex-A55", "0xd07": "Cortex-A57",
	"0xd08": "Cortex-A72", "0xd09": "Cortex-A73", "0xd0a": "Cortex-A75", "0xd0b": "Cortex-A76",
	"0xd0c": "Neoverse-N1", "0xd0d": "Cortex-A77", "0xd40": "Neoverse-V1", "0xd41": "Cortex-A78",
	"0xd44": "Cortex-X1", "0xd46": "Cortex-A510", "0xd47": "Cortex-A710", "0xd48": "Cortex-X2",
	"0xd49": "Neoverse-N2", "0xd4d": "Cortex-A715", "0xd4f": "Neoverse-V2", "0xd80": "Cortex-A520",
	"0xd81": "Cortex-A720", "0xd82": "Cortex-X4",
}

// littleCores are the in-order efficiency cores of big.LITTLE designs. A
// layer split evenly over threads waits for its slowest thread, so they are
// left out of the recommended thread count when big cores exist.
var littleCores = map[string]bool{
	"Cortex-A35": true, "Cortex-A53": true, "Cortex-A55": true, "Cortex-A510": true, "Cortex-A520": true,
}

func armCoreName(implementer, part string) string {
	if implementer == "0x41" {
		if n, ok := armParts[part]; ok {
			return n
		}
	}
	return "CPU " + implementer + "/" + part
}

// dmiJunk are placeholder DMI strings that firmware vendors leave in.
var dmiJunk = map[string]bool{
	"": true, "Default string": true, "To Be Filled By O.E.M.": true, "System Product Name": true,
	"System manufacturer": true, "Not Applicable": true, "None": true,
}

// dmiModel returns "vendor product" from the x86 DMI tables, skipping
// placeholders, or "".
func dmiModel(root fs.FS) string {
	var words []string
	for _, name := range []string{"sys_vendor", "product_name"} {
		b, err := fs.ReadFile(root, "sys/class/dmi/id/"+name)
		if err != nil {
			continue
		}
		if s := strings.TrimSpace(string(b)); !dmiJunk[s] {
			words = append(words, s)
		}
	}
	return strings.Join(words, " ")
}

// memTotal returns MemTotal from /proc/meminfo in bytes, or 0.
func memTotal(text string) uint64 {
	for line := range strings.Lines(text) {
		if rest, ok := strings.CutPrefix(line, "MemTotal:"); ok {
			fields := strings.Fields(rest)
			if len(fields) == 2 && fields[1] == "kB" {
				if kb, err := strconv.ParseUint(fields[0], 10, 64); err == nil {
					return kb * 1024
				}
			}
			return 0
		}
	}
	return 0
}

// hostFacts reads the running host. On non-Linux systems only the CPU count
// from the Go runtime is known.
func hostFacts(root fs.FS) Facts {
	f := readFacts(root, runtime.GOOS, runtime.GOARCH)
	if f.Cores == 0 {
		f.Cores = runtime.NumCPU()
		f.PhysicalCores, f.BigCores = f.Cores, f.Cores
	}
	return f
}
