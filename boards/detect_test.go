package boards_test

import (
	"errors"
	"io/fs"
	"runtime"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/bsnn/bsnn/boards"
	"github.com/bsnn/bsnn/boards/boardtest"
)

func fixture(t *testing.T, name string) fs.FS {
	t.Helper()
	root, err := boardtest.Fixture(name)
	if err != nil {
		t.Fatal(err)
	}
	return root
}

func TestDetectFixtures(t *testing.T) {
	const gib = 1 << 30
	tests := []struct {
		fixture, goos, goarch string
		id, model, cpu        string
		cores, physical       int
		threads               int
		kernels               string
		mem                   uint64
		gpio                  int
	}{
		{"rpi4", "linux", "arm64", "rpi4", "Raspberry Pi 4 Model B Rev 1.4", "4× Cortex-A72", 4, 4, 4, "neon generic", 3882780 * 1024, 28},
		{"rpi4", "linux", "arm", "rpi4", "Raspberry Pi 4 Model B Rev 1.4", "4× Cortex-A72", 4, 4, 4, "generic", 3882780 * 1024, 28},
		{"rpi5", "linux", "arm64", "rpi5", "Raspberry Pi 5 Model B Rev 1.0", "4× Cortex-A76", 4, 4, 4, "neon generic", 8245632 * 1024, 28},
		{"rpi3", "linux", "arm64", "arm64", "Raspberry Pi 3 Model B Plus Rev 1.3", "4× Cortex-A53", 4, 4, 4, "neon generic", 929536 * 1024, 0},
		{"rock5b", "linux", "arm64", "arm64", "Radxa ROCK 5B", "4× Cortex-A55 + 4× Cortex-A76", 8, 8, 4, "neon generic", 16102400 * 1024, 0},
		{"x86-n100", "linux", "amd64", "x86", "Intel(R) N100", "Intel(R) N100", 4, 4, 4, "avx2 generic", 16063740 * 1024, 0},
		{"x86-nuc11", "linux", "amd64", "x86", "Intel(R) Client Systems NUC11TNHi5", "11th Gen Intel(R) Core(TM) i5-1135G7 @ 2.40GHz", 8, 4, 4, "avx512 avx2 generic", 32594540 * 1024, 0},
		// Pi files seen by an amd64 binary cannot be a Pi: the arch decides.
		{"rpi4", "linux", "amd64", "x86", "Raspberry Pi 4 Model B Rev 1.4", "4× Cortex-A72", 4, 4, 4, "generic", 3882780 * 1024, 0},
		// Outside Linux nothing is read.
		{"rpi4", "darwin", "arm64", "other", "", "", 0, 0, 1, "neon generic", 0, 0},
		{"x86-nuc11", "windows", "amd64", "other", "", "", 0, 0, 1, "", 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.fixture+"/"+tt.goos+"/"+tt.goarch, func(t *testing.T) {
			b := boards.Detect(fixture(t, tt.fixture), tt.goos, tt.goarch)
			if b.ID != tt.id || b.Model != tt.model || b.CPU != tt.cpu {
				t.Errorf("got id %q model %q cpu %q; want %q %q %q", b.ID, b.Model, b.CPU, tt.id, tt.model, tt.cpu)
			}
			if b.Cores != tt.cores || b.PhysicalCores != tt.physical || b.Threads != tt.threads {
				t.Errorf("got cores %d physical %d threads %d; want %d %d %d", b.Cores, b.PhysicalCores, b.Threads, tt.cores, tt.physical, tt.threads)
			}
			if got := strings.Join(b.Kernels, " "); got != tt.kernels {
				t.Errorf("kernels %q, want %q", got, tt.kernels)
			}
			if b.MemTotal != tt.mem {
				t.Errorf("memory %.2f GiB, want %.2f", float64(b.MemTotal)/gib, float64(tt.mem)/gib)
			}
			if len(b.GPIO) != tt.gpio {
				t.Errorf("%d header pins, want %d", len(b.GPIO), tt.gpio)
			}
		})
	}
}

// TestDetectPiEvidence removes the stronger evidence step by step: a
// container may hide the device tree, or both it and the cpuinfo Model line.
func TestDetectPiEvidence(t *testing.T) {
	pi4 := "processor\t: 0\nCPU implementer\t: 0x41\nCPU part\t: 0xd08\n\n"
	tests := []struct {
		name  string
		files fstest.MapFS
		want  string
	}{
		{"compatible only", fstest.MapFS{
			"proc/device-tree/compatible": {Data: []byte("raspberrypi,5-model-b\x00brcm,bcm2712\x00")},
		}, "rpi5"},
		{"cpuinfo Model line", fstest.MapFS{
			"proc/cpuinfo": {Data: []byte(pi4 + "Revision\t: 0000\nModel\t\t: Raspberry Pi 4 Model B Rev 1.1\n")},
		}, "rpi4"},
		{"Pi 400 model", fstest.MapFS{
			"proc/device-tree/model": {Data: []byte("Raspberry Pi 400 Rev 1.0\x00")},
		}, "rpi4"},
		{"Compute Module 5 model", fstest.MapFS{
			"proc/device-tree/model": {Data: []byte("Raspberry Pi Compute Module 5 Rev 1.0\x00")},
		}, "rpi5"},
		{"revision code only, Pi 5", fstest.MapFS{
			"proc/cpuinfo": {Data: []byte(pi4 + "Revision\t: c04170\n")},
		}, "rpi5"},
		{"revision code only, Pi 4", fstest.MapFS{
			"proc/cpuinfo": {Data: []byte(pi4 + "Revision\t: b03115\n")},
		}, "rpi4"},
		{"old-style revision", fstest.MapFS{
			"proc/cpuinfo": {Data: []byte(pi4 + "Revision\t: 000e\n")},
		}, "arm64"},
		{"other SoC beats a Pi-like model", fstest.MapFS{
			"proc/device-tree/compatible": {Data: []byte("radxa,rock-5b\x00rockchip,rk3588\x00")},
			"proc/cpuinfo":                {Data: []byte(pi4 + "Model\t\t: Raspberry Pi 4 Model B\n")},
		}, "arm64"},
		{"nothing readable", fstest.MapFS{}, "arm64"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if b := boards.Detect(tt.files, "linux", "arm64"); b.ID != tt.want {
				t.Errorf("detected %q (model %q), want %q", b.ID, b.Model, tt.want)
			}
		})
	}
}

func TestBoardString(t *testing.T) {
	b := boards.Detect(fixture(t, "x86-nuc11"), "linux", "amd64")
	want := `board    x86 edge box (x86): Intel(R) Client Systems NUC11TNHi5
cpu      linux/amd64, 8 cores (4 physical): 11th Gen Intel(R) Core(TM) i5-1135G7 @ 2.40GHz
memory   31.1 GiB
kernels  avx512 > avx2 > generic
threads  4 recommended
gpio     no fixed header: any line name periph finds on this host`
	if got := b.String(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	u := boards.Detect(nil, "windows", "amd64").String()
	if !strings.Contains(u, "kernels  unknown") || !strings.Contains(u, "memory   unknown") {
		t.Errorf("unknown facts not shown as unknown:\n%s", u)
	}
}

func TestLookup(t *testing.T) {
	var ids []string
	for _, p := range boards.Profiles() {
		q, err := boards.Lookup(p.ID)
		if err != nil || q != p {
			t.Errorf("Lookup(%q) = %v, %v", p.ID, q, err)
		}
		ids = append(ids, p.ID)
	}
	if want := []string{"rpi5", "rpi4", "arm64", "x86", "other"}; !slices.Equal(ids, want) {
		t.Errorf("profiles %v, want %v", ids, want)
	}
	_, err := boards.Lookup("jetson")
	if err == nil || !strings.Contains(err.Error(), `"jetson"`) || !strings.Contains(err.Error(), "rpi4") {
		t.Errorf("Lookup(jetson) error %v does not name the id and the choices", err)
	}
}

func TestPinName(t *testing.T) {
	pi := boards.Detect(fixture(t, "rpi5"), "linux", "arm64")
	for in, want := range map[string]string{
		"GPIO17": "GPIO17", "gpio17": "GPIO17", " GPIO4 ": "GPIO4", "P1_11": "GPIO17", "j8_40": "GPIO21", "P1_27": "GPIO0",
	} {
		if got, err := pi.PinName(in); got != want || err != nil {
			t.Errorf("PinName(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"GPIO28", "GPIO017", "P1_1", "P1_41", "17", "LED0", ""} {
		_, err := pi.PinName(bad)
		if !errors.Is(err, boards.ErrNoPin) || !strings.Contains(err.Error(), "GPIO27") {
			t.Errorf("PinName(%q) error %v: want ErrNoPin listing the header", bad, err)
		}
	}
	// Without a fixed header the host's line names pass through untouched.
	x86 := boards.Detect(fixture(t, "x86-n100"), "linux", "amd64")
	if got, err := x86.PinName("INT34C6:00-GPP_E2"); got != "INT34C6:00-GPP_E2" || err != nil {
		t.Errorf("x86 PinName = %q, %v", got, err)
	}
}

// TestHostPin opens GPIO through periph on whatever host runs the test. On
// a machine without GPIO (CI) the pin is missing and the error says so.
func TestHostPin(t *testing.T) {
	b := boards.DetectHost()
	if _, err := b.Pin("NO_SUCH_LINE_bsnn"); err != nil && !errors.Is(err, boards.ErrNoPin) {
		// A header board rejects the name before periph; elsewhere periph
		// must have initialised and then not found the line.
		t.Fatalf("Pin: %v", err)
	} else if err == nil {
		t.Fatal("Pin found a line that cannot exist")
	}
	if err := b.Open(); err != nil {
		t.Fatalf("Open after Pin: %v", err)
	}
}

func TestDetectHost(t *testing.T) {
	b := boards.DetectHost()
	if b.Profile == nil || b.OS != runtime.GOOS || b.Arch != runtime.GOARCH {
		t.Fatalf("DetectHost: %+v", b)
	}
	if b.Threads < 1 || b.Threads > runtime.GOMAXPROCS(0) {
		t.Errorf("threads %d outside 1..GOMAXPROCS(%d)", b.Threads, runtime.GOMAXPROCS(0))
	}
	if b.Cores < 1 {
		t.Errorf("cores %d", b.Cores)
	}
	if !b.Present() {
		t.Errorf("profile %q detected but not Present", b.ID)
	}
	if runtime.GOOS == "linux" && runtime.GOARCH == "amd64" {
		if b.ID != "x86" || len(b.Kernels) == 0 || b.Kernels[len(b.Kernels)-1] != "generic" {
			t.Errorf("linux/amd64 host: id %q kernels %v", b.ID, b.Kernels)
		}
	}
	for _, p := range boards.Profiles() {
		if strings.HasPrefix(p.ID, "rpi") && runtime.GOARCH != "arm" && runtime.GOARCH != "arm64" && p.Present() {
			t.Errorf("%s Present on %s", p.ID, runtime.GOARCH)
		}
	}
	t.Logf("this host:\n%s", b)
}
