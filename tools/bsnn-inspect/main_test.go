package main

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bsnn/bsnn/model"
	"github.com/bsnn/bsnn/model/modeltest"
)

func TestInspectMNIST(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mnist.bsnn")
	if err := model.Save(path, modeltest.MNIST(rand.New(rand.NewPCG(1, 2)))); err != nil {
		t.Fatal(err)
	}
	r, err := inspect(path)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if r.FileBytes != fi.Size() || r.FormatMajor != model.FormatVersion || len(r.Layers) != 13 {
		t.Fatalf("report header %+v", r)
	}
	// Layer 0: fp32 conv 1→32 3×3: 288 weights + 64 scale/bias, 4 bytes each.
	// Layer 2: binary conv 32→64 3×3: 64 rows of 9 words, + 128 floats.
	for _, want := range []Row{
		{Index: 0, Params: 288 + 64, Bytes: 4 * (288 + 64)},
		{Index: 1, Params: 2, Bytes: 8},
		{Index: 2, Params: 64*32*9 + 128, Bytes: 64*9*8 + 4*128},
		{Index: 3, Params: 4, Bytes: 16},
		{Index: 5, Params: 0, Bytes: 0},
		{Index: 11, Params: 3136*10 + 20, Bytes: 4 * (3136*10 + 20)},
	} {
		got := r.Layers[want.Index]
		if got.Params != want.Params || got.Bytes != want.Bytes {
			t.Errorf("layer %d (%s): %d params in %d bytes, want %d in %d", want.Index, got.Op, got.Params, got.Bytes, want.Params, want.Bytes)
		}
	}
	var params, stored int64
	for _, row := range r.Layers {
		params += row.Params
		stored += row.Bytes
	}
	if r.Params != params || r.ParamBytes != stored || r.Float32Bytes != 4*params {
		t.Errorf("totals %d/%d/%d, rows add up to %d/%d", r.Params, r.ParamBytes, r.Float32Bytes, params, stored)
	}

	var text bytes.Buffer
	if err := r.print(&text); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"1×28×28, direct encoding, T = 4", "conv2d", "binary", "64×14×14", "file bytes", "dataset          mnist", "accuracy         unknown"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, text.String())
		}
	}
	js, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(js, &back); err != nil || back.Params != r.Params || len(back.Layers) != 13 {
		t.Errorf("JSON round trip: %v, %+v", err, back)
	}
}

func TestInspectBadFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.bsnn")
	if err := os.WriteFile(path, []byte("not a model at all"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := inspect(path); err == nil || !strings.Contains(err.Error(), "not a .bsnn file") {
		t.Errorf("err = %v", err)
	}
}
