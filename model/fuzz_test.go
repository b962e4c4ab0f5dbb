package model_test

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/bsnn/bsnn/model"
	"github.com/bsnn/bsnn/model/modeltest"
)

// FuzzLoad feeds arbitrary bytes to the parser without its recover
// boundary: any panic is a failure, any accepted input must be a valid model
// that re-encodes and parses again, any error must wrap ErrInvalid (see
// parseChecked). Seeds: small valid files, the small golden files, and a
// few mutations of them. Crashers found are kept in testdata/fuzz/FuzzLoad.
//
//	go test -run='^$' -fuzz=FuzzLoad -fuzztime=60s -fuzzminimizetime=5s ./model/
//
// Seeds stay small because Go's minimizer tries O(n²) byte-range removals
// on every new-coverage input and pauses fuzzing meanwhile (up to
// -fuzzminimizetime, 60 s by default).
func FuzzLoad(f *testing.F) {
	const maxSeed = 4096
	small := smallFile(f)
	seeds := [][]byte{small}
	for i := range 3 {
		rng := rand.New(rand.NewPCG(uint64(i), 7))
		m := modeltest.Random(rng, modeltest.Options{Input: model.Shape{C: 1, H: 4, W: 4}, Blocks: 2, MaxChannels: 5})
		seeds = append(seeds, mustEncode(f, m))
	}
	golden, _ := filepath.Glob(filepath.Join("testdata", "v1", "*.bsnn"))
	for _, path := range golden {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		if len(data) <= maxSeed {
			seeds = append(seeds, data)
		}
	}
	for _, s := range seeds {
		if len(s) > maxSeed {
			f.Fatalf("seed of %d bytes: keep seeds under %d", len(s), maxSeed)
		}
		f.Add(s)
	}
	f.Add(small[:len(small)/2])
	flipped := bytes.Clone(small)
	flipped[len(flipped)/3] ^= 0x40
	f.Add(flipped)
	f.Add([]byte("BSNN"))
	f.Fuzz(func(t *testing.T, data []byte) {
		parseChecked(t, data)
	})
}
