package main

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/bsnn/bsnn/data"
	"github.com/bsnn/bsnn/model"
)

// dataSets is what -data (and its subset, transform and encoding flags)
// resolves to.
type dataSets struct {
	name        string // for provenance: "mnist", "fashion", "folder:DIR" + transform
	train, test data.Dataset
	shape       model.Shape // one frame
	steps       int         // frames per sample: 1 for images, T for events
	events      bool
	mean, std   []float32 // normalization of image input (nil for events)
}

// Normalization constants of the two built-in image sets (their training
// splits' pixel mean and standard deviation).
var (
	mnistMean, mnistStd     = []float32{0.1307}, []float32{0.3081}
	fashionMean, fashionStd = []float32{0.2860}, []float32{0.3530}
)

// dataKind returns the kind part of a -data value, checking it.
func dataKind(s string) (string, error) {
	kind, arg, hasArg := strings.Cut(s, ":")
	switch kind {
	case "mnist", "fashion", "dvs-mnist":
		if hasArg {
			return "", fmt.Errorf("-data %q: %s takes no directory (set $%s or $%s to move the files)", s, kind, data.EnvMNISTDir, data.EnvFashionDir)
		}
	case "nmnist":
		// nmnist alone reads $BSNN_NMNIST_DIR.
		if hasArg && arg == "" {
			return "", fmt.Errorf("-data %q: want nmnist:DIR, or nmnist with $%s set", s, data.EnvNMNISTDir)
		}
	case "folder":
		if arg == "" {
			return "", fmt.Errorf("-data %q: want folder:DIR", s)
		}
	default:
		return "", fmt.Errorf("-data %q: want mnist, fashion, folder:DIR, nmnist:DIR or dvs-mnist", s)
	}
	return kind, nil
}

func parseBin(s string) (data.BinMode, error) {
	switch s {
	case "binary":
		return data.BinBinary, nil
	case "count":
		return data.BinCount, nil
	}
	return 0, fmt.Errorf("-bin %q: want binary or count", s)
}

// transform is a domain shift (-transform).
type transform struct {
	invert bool
	rotate float64 // degrees, counter-clockwise
}

func parseTransform(s string) (transform, error) {
	switch {
	case s == "none" || s == "":
		return transform{}, nil
	case s == "invert":
		return transform{invert: true}, nil
	case strings.HasPrefix(s, "rotate="):
		d, err := strconv.ParseFloat(strings.TrimPrefix(s, "rotate="), 64)
		if err != nil || math.IsNaN(d) || math.IsInf(d, 0) {
			return transform{}, fmt.Errorf("-transform %q: the angle is not a number", s)
		}
		return transform{rotate: d}, nil
	}
	return transform{}, fmt.Errorf("-transform %q: want none, invert or rotate=DEG", s)
}

func (t transform) apply(d data.Dataset) data.Dataset {
	if t.rotate != 0 {
		d = data.Rotate(d, t.rotate)
	}
	if t.invert {
		d = data.Invert(d)
	}
	return d
}

// trainSubsetSeed draws the -train-n subset. It is fixed, not -seed, so
// runs that differ only in their seed train on the same samples.
const trainSubsetSeed = 0x5eed

// loadData loads -data. T is the number of time steps (event sets bin into
// T frames); shape is the input shape for image folders.
func loadData(o *options, T int, shape model.Shape) (*dataSets, error) {
	kind, _ := dataKind(o.Data)
	_, arg, _ := strings.Cut(o.Data, ":")
	tf, _ := parseTransform(o.Transform)
	bin, _ := parseBin(o.Bin)
	ds := &dataSets{name: o.Data, steps: 1}
	if o.Transform != "none" && o.Transform != "" {
		ds.name += " (" + o.Transform + ")"
	}
	var err error
	switch kind {
	case "mnist", "dvs-mnist", "fashion":
		name := "mnist"
		ds.mean, ds.std = mnistMean, mnistStd
		if kind == "fashion" {
			name = "fashion"
			ds.mean, ds.std = fashionMean, fashionStd
		}
		if ds.train, err = loadIDXSet(name, data.Train); err != nil {
			return nil, err
		}
		if ds.test, err = loadIDXSet(name, data.Test); err != nil {
			return nil, err
		}
	case "folder":
		if o.Shape != "" {
			shape, _ = parseShape(o.Shape)
		}
		trainDir, testDir := filepath.Join(arg, "train"), filepath.Join(arg, "test")
		if isDir(trainDir) && isDir(testDir) {
			if ds.train, err = data.LoadImageFolder(trainDir, shape); err != nil {
				return nil, err
			}
			if ds.test, err = data.LoadImageFolder(testDir, shape); err != nil {
				return nil, err
			}
			if a, b := ds.train.Classes(), ds.test.Classes(); strings.Join(a, "\x00") != strings.Join(b, "\x00") {
				return nil, fmt.Errorf("-data %s: train classes %q differ from test classes %q", o.Data, a, b)
			}
		} else {
			all, err := data.LoadImageFolder(arg, shape)
			if err != nil {
				return nil, err
			}
			if ds.train, ds.test, err = data.TrainTest(all, o.TestFraction, trainSubsetSeed); err != nil {
				return nil, err
			}
		}
	case "nmnist":
		if tf != (transform{}) {
			return nil, fmt.Errorf("-transform %s: applies to images, not to N-MNIST's recorded events", o.Transform)
		}
		if ds.train, err = data.LoadNMNIST(arg, data.Train, T, bin); err != nil {
			return nil, err
		}
		if ds.test, err = data.LoadNMNIST(arg, data.Test, T, bin); err != nil {
			return nil, err
		}
		ds.events, ds.steps = true, T
	}
	// Subsets first: only the samples used are kept in memory (compact)
	// and ever converted by the (costly, lazy) event emulation.
	if o.TrainN > 0 && o.TrainN < ds.train.Len() {
		ds.train = compact(data.Random(ds.train, o.TrainN, trainSubsetSeed))
	}
	if o.TestN > 0 && o.TestN < ds.test.Len() {
		ds.test = compact(data.First(ds.test, o.TestN))
	}
	if !ds.events {
		ds.train, ds.test = tf.apply(ds.train), tf.apply(ds.test)
	}
	if kind == "dvs-mnist" {
		if ds.train, err = data.NewSaccadeSet(ds.train, T, bin, data.SaccadeConfig{}); err != nil {
			return nil, err
		}
		if ds.test, err = data.NewSaccadeSet(ds.test, T, bin, data.SaccadeConfig{}); err != nil {
			return nil, err
		}
		ds.events, ds.steps = true, T
		ds.mean, ds.std = nil, nil
	}
	ds.shape = ds.train.Shape()
	if kind == "folder" {
		ds.mean, ds.std = meanStd(ds.train)
	}
	if ds.train.Len() == 0 || ds.test.Len() == 0 {
		return nil, fmt.Errorf("-data %s: %d training and %d test samples; both must be non-empty", o.Data, ds.train.Len(), ds.test.Len())
	}
	return ds, nil
}

// idxCache keeps the built-in data sets loaded across the runs of one
// process (the study runs many; tests too). Off by default: a single run
// frees the full set once its subset is copied out.
var idxCache struct {
	sync.Mutex
	on   bool
	sets map[string]*data.Images
}

// cacheData turns the cache on.
func cacheData() {
	idxCache.Lock()
	idxCache.on = true
	idxCache.Unlock()
}

func loadIDXSet(name string, split data.Split) (*data.Images, error) {
	idxCache.Lock()
	defer idxCache.Unlock()
	key := name + "/" + split.String()
	if d, ok := idxCache.sets[key]; ok {
		return d, nil
	}
	load := data.LoadMNIST
	if name == "fashion" {
		load = data.LoadFashionMNIST
	}
	d, err := load("", split)
	if err != nil {
		return nil, err
	}
	if idxCache.on {
		if idxCache.sets == nil {
			idxCache.sets = map[string]*data.Images{}
		}
		idxCache.sets[key] = d
	}
	return d, nil
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

// meanStd computes the per-channel mean and standard deviation of an image
// set, for the network's input normalization (float64 sums in sample order,
// so the result is the same on every machine).
func meanStd(d data.Dataset) (mean, std []float32) {
	s := d.Shape()
	plane := s.H * s.W
	sum := make([]float64, s.C)
	sq := make([]float64, s.C)
	buf := make([]float32, data.SampleSize(d))
	n := 0
	for i := 0; i < d.Len(); i++ {
		if _, err := d.Get(i, buf); err != nil {
			continue
		}
		n++
		for c := 0; c < s.C; c++ {
			for _, v := range buf[c*plane : (c+1)*plane] {
				sum[c] += float64(v)
				sq[c] += float64(v) * float64(v)
			}
		}
	}
	mean, std = make([]float32, s.C), make([]float32, s.C)
	for c := range mean {
		cnt := float64(n * plane)
		m := sum[c] / cnt
		v := sq[c]/cnt - m*m
		mean[c] = float32(m)
		std[c] = float32(math.Sqrt(max(v, 1e-6)))
	}
	return mean, std
}

// compact copies a subset of an 8-bit image set into its own memory, so
// the full set it was drawn from can be freed (MNIST's training split is
// 47 MB; the fine-tuning scenario uses 2,000 of its 60,000 images). Sets
// that are not 8-bit single-step images are returned as they are.
func compact(d data.Dataset) data.Dataset {
	if d.Steps() != 1 {
		return d
	}
	size := data.SampleSize(d)
	pix := make([]uint8, d.Len()*size)
	labels := make([]uint8, d.Len())
	buf := make([]float32, size)
	for i := 0; i < d.Len(); i++ {
		l, err := d.Get(i, buf)
		if err != nil || l < 0 || l > 255 {
			return d
		}
		labels[i] = uint8(l)
		for j, v := range buf {
			q := math.Round(float64(v) * 255)
			if q < 0 || q > 255 || float32(q)/255 != v {
				return d // not 8-bit values: keep the original
			}
			pix[i*size+j] = uint8(q)
		}
	}
	img, err := data.NewImages(d.Shape(), d.Classes(), pix, labels)
	if err != nil {
		return d
	}
	return img
}

// augmenters returns the -aug-* augmentations.
func (o *options) augmenters() []data.Augmenter {
	var a []data.Augmenter
	if o.AugShift > 0 {
		a = append(a, data.RandomShift{Max: o.AugShift})
	}
	if o.AugRotate > 0 {
		a = append(a, data.RandomRotation{MaxDegrees: o.AugRotate})
	}
	if o.AugFlip {
		a = append(a, data.RandomFlip{})
	}
	return a
}
