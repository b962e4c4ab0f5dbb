package data

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/bsnn/bsnn/model"
)

// ReadEventFile reads an event file by its extension: .bin (N-MNIST format),
// .csv / .txt (plain event list) or .npy (numpy array, see ReadEventsNPY).
func ReadEventFile(path string) ([]Event, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var ev []Event
	switch strings.ToLower(filepath.Ext(path)) {
	case ".bin":
		ev, err = ReadNMNIST(f)
	case ".csv", ".txt":
		ev, err = ReadEventsCSV(f)
	case ".npy":
		ev, err = ReadEventsNPY(f)
	default:
		return nil, fmt.Errorf("%s: unknown event file extension (want .bin for N-MNIST, .csv or .txt for an event list, .npy for a numpy array)", path)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return ev, nil
}

// EventFolder is an event data set read lazily from disk: one subfolder per
// class holding event files (.bin in N-MNIST format, .csv or .txt lists,
// .npy arrays),
// the layout of N-MNIST's Train and Test folders. Each sample is binned into
// T frames over its own span of events (Binning.Duration 0) unless Duration
// is set. Only file names are held in memory.
type EventFolder struct {
	files   []string
	labels  []uint8
	classes []string
	bin     Binning
}

// LoadEventFolder indexes an event folder for a W×H sensor, binned into T
// frames with the given mode over `duration` µs from each sample's first
// event (0: each sample's own span).
func LoadEventFolder(dir string, w, h, T int, mode BinMode, duration int64) (*EventFolder, error) {
	if w <= 0 || h <= 0 || T <= 0 {
		return nil, fmt.Errorf("data: event folder %s: sensor %dx%d, T = %d", dir, w, h, T)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("data: event folder: %w", err)
	}
	d := &EventFolder{bin: Binning{T: T, W: w, H: h, Mode: mode, Duration: duration}}
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), ".") && e.IsDir() {
			d.classes = append(d.classes, e.Name())
		}
	}
	slices.Sort(d.classes)
	if len(d.classes) == 0 || len(d.classes) > 256 {
		return nil, fmt.Errorf("data: event folder %s has %d class subfolders; need 1..256", dir, len(d.classes))
	}
	for ci, c := range d.classes {
		ents, err := os.ReadDir(filepath.Join(dir, c))
		if err != nil {
			return nil, fmt.Errorf("data: event folder: %w", err)
		}
		n := 0
		for _, e := range ents {
			switch strings.ToLower(filepath.Ext(e.Name())) {
			case ".bin", ".csv", ".txt", ".npy":
				if !e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
					d.files = append(d.files, filepath.Join(dir, c, e.Name()))
					d.labels = append(d.labels, uint8(ci))
					n++
				}
			}
		}
		if n == 0 {
			return nil, fmt.Errorf("data: event folder: class folder %s holds no .bin/.csv/.txt/.npy event files", filepath.Join(dir, c))
		}
	}
	return d, nil
}

// EnvNMNISTDir names a directory holding N-MNIST's Train and Test folders.
const EnvNMNISTDir = "BSNN_NMNIST_DIR"

// LoadNMNIST indexes the real N-MNIST data set (Orchard et al., 2015): dir
// holds the unzipped Train and Test folders ("" uses $BSNN_NMNIST_DIR). The
// sensor is 34×34; each sample is binned over its own span into T frames.
func LoadNMNIST(dir string, split Split, T int, mode BinMode) (*EventFolder, error) {
	if dir == "" {
		dir = os.Getenv(EnvNMNISTDir)
	}
	sub := "Train"
	if split == Test {
		sub = "Test"
	}
	if dir == "" {
		return nil, fmt.Errorf("data: N-MNIST: no directory given and $%s is unset (%w); N-MNIST is not packaged: "+
			"copy its Train.zip and Test.zip (https://www.garrickorchard.com/datasets/n-mnist) to the device, unzip them into one directory "+
			"and set %s to it, or use the saccade emulator on MNIST (NewSaccadeSet)", EnvNMNISTDir, ErrMissing, EnvNMNISTDir)
	}
	p := filepath.Join(dir, sub)
	if _, err := os.Stat(p); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("data: N-MNIST: tried %s: no such directory (%w); unzip N-MNIST's %s.zip into %s", p, ErrMissing, sub, dir)
	}
	return LoadEventFolder(p, 34, 34, T, mode, 0)
}

// Len returns the number of samples.
func (d *EventFolder) Len() int { return len(d.files) }

// Shape returns 2 × H × W.
func (d *EventFolder) Shape() model.Shape { return model.Shape{C: 2, H: d.bin.H, W: d.bin.W} }

// Steps returns T.
func (d *EventFolder) Steps() int { return d.bin.T }

// Classes returns the class folder names, sorted.
func (d *EventFolder) Classes() []string { return d.classes }

// Label returns sample i's label.
func (d *EventFolder) Label(i int) int { return int(d.labels[i]) }

// Path returns sample i's file.
func (d *EventFolder) Path(i int) string { return d.files[i] }

// Get reads sample i's file and writes its binned frames into dst.
func (d *EventFolder) Get(i int, dst []float32) (int, error) {
	ev, err := ReadEventFile(d.files[i])
	if err != nil {
		return 0, err
	}
	b := d.bin
	if b.Duration > 0 && len(ev) > 0 {
		b.Start = ev[0].T
		for _, e := range ev {
			b.Start = min(b.Start, e.T)
		}
	}
	_, err = b.Bin(dst, ev)
	return int(d.labels[i]), err
}
