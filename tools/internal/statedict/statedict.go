// Package statedict writes a network trained by bsnn's trainer (finetune) as
// the state_dict of its PyTorch twin in tools/pyref/presets.py: the latent
// weights, BatchNorm affine terms and running statistics, and AGMM α, under
// the PyTorch key names. tools/pyref/roundtrip.py loads the dump into the twin
// and torch.saves it, so a net trained by bsnn-train can be converted back by
// bsnn-convert and compared with what the trainer exports (the round trip
// test of bsnn-convert).
//
// Naming: a trainer parameter "<layer>.<what>" keeps its name, except that a
// conv's BatchNorm "<p>conv<k>.bn.<what>" becomes "<p>bn<k>.<what>"
// (arch.BatchNormName: presets.py keeps the BN beside its conv, conv2 → bn2).
//
// The public finetune API has no accessor for BatchNorm running statistics,
// so they are read from a checkpoint file written by Net.SaveCheckpoint
// (CheckpointStats; the layout is the one documented in finetune/checkpoint.go).
// Every other tensor of that file that names a parameter is checked against
// Net.Params, so a change of the layout cannot go unnoticed.
package statedict

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"math"
	"os"
	"strings"

	"github.com/bsnn/bsnn/finetune"
	"github.com/bsnn/bsnn/model/arch"
)

// Tensor is one float32 state_dict entry.
type Tensor struct {
	Shape []int
	Data  []float32
}

// StateDict is a PyTorch state_dict in the twin's key names, in the trainer's
// layer order.
type StateDict struct {
	Keys    []string
	Tensors map[string]*Tensor
	Meta    Meta
}

// Meta describes the network the state_dict belongs to, for the script that
// builds the PyTorch twin.
type Meta struct {
	Preset    string    `json:"preset"`    // finetune preset (the twin's presets.PRESETS key)
	Widths    []int     `json:"widths"`    // channel widths of the preset's convs
	Classes   int       `json:"classes"`   // classifier outputs
	Timesteps int       `json:"timesteps"` // T
	Mean      []float32 `json:"mean"`      // input normalization
	Std       []float32 `json:"std"`
	Step      int64     `json:"step"` // training steps taken (PyTorch's num_batches_tracked)
	// BNEps and BNMomentum are the trainer's BatchNorm constants.
	BNEps      float32 `json:"bn_eps"`
	BNMomentum float32 `json:"bn_momentum"`
	// LIF constants and AGMM statistic of every layer.
	Lambda float32 `json:"lambda"`
	Vth    float32 `json:"vth"`
	Reset  string  `json:"reset"`
	Stat   string  `json:"agmm_stat"`
}

// bnKey maps a trainer BatchNorm name "<layer>.bn.<what>" onto the twin's
// "<p>bn<k>.<what>", where layer is "<p>conv<k>".
func bnKey(layer, what string) (string, error) {
	i := strings.LastIndex(layer, "conv")
	if i < 0 || strings.Contains(layer[i:], ".") {
		return "", fmt.Errorf("statedict: layer %q has a BatchNorm but is not named <prefix>conv<k>, so it has no PyTorch BN name", layer)
	}
	return arch.BatchNormName(layer) + "." + what, nil
}

// PyTorchKey returns the twin's state_dict key of a trainer parameter or
// running statistic ("conv2.bn.running_var" → "bn2.running_var").
func PyTorchKey(name string) (string, error) {
	if i := strings.LastIndex(name, ".bn."); i >= 0 {
		return bnKey(name[:i], name[i+len(".bn."):])
	}
	return name, nil
}

// FromNet maps n's parameters and the BatchNorm running statistics stats
// (keyed "<layer>.bn.running_mean" and "<layer>.bn.running_var", as
// CheckpointStats returns them) onto the twin's state_dict. Every BatchNorm
// must have both statistics and stats may hold nothing else.
func FromNet(n *finetune.Net, stats map[string][]float32) (*StateDict, error) {
	cfg := n.Config()
	in := cfg.Input
	sd := &StateDict{Tensors: map[string]*Tensor{}, Meta: Meta{
		Preset: cfg.Preset, Widths: append([]int(nil), cfg.Widths...), Classes: cfg.Classes,
		Timesteps: in.Timesteps, Mean: in.Mean, Std: in.Std, Step: n.Step(),
		BNEps: cfg.BN.Eps, BNMomentum: cfg.BN.Momentum,
		Lambda: cfg.LIF.Lambda, Vth: cfg.LIF.Vth, Reset: cfg.LIF.Reset.String(), Stat: cfg.AGMM.Stat.String(),
	}}
	add := func(name string, shape []int, data []float32) error {
		k, err := PyTorchKey(name)
		if err != nil {
			return err
		}
		if sd.Tensors[k] != nil {
			return fmt.Errorf("statedict: %s and another tensor both map to key %q", name, k)
		}
		size := 1
		for _, d := range shape {
			size *= d
		}
		if size != len(data) {
			return fmt.Errorf("statedict: %s has %d values, shape %v", name, len(data), shape)
		}
		sd.Keys = append(sd.Keys, k)
		sd.Tensors[k] = &Tensor{Shape: append([]int(nil), shape...), Data: append([]float32(nil), data...)}
		return nil
	}
	used := map[string]bool{}
	for _, p := range n.Params() {
		if err := add(p.Name, p.Shape, p.Data); err != nil {
			return nil, err
		}
		// The running statistics follow the BN's bias, PyTorch's order.
		if layer, ok := strings.CutSuffix(p.Name, ".bn.bias"); ok {
			for _, what := range []string{"running_mean", "running_var"} {
				name := layer + ".bn." + what
				s, ok := stats[name]
				if !ok {
					return nil, fmt.Errorf("statedict: no %s among the running statistics", name)
				}
				if err := add(name, p.Shape, s); err != nil {
					return nil, err
				}
				used[name] = true
			}
		}
	}
	for k := range stats {
		if !used[k] {
			return nil, fmt.Errorf("statedict: running statistic %q belongs to no BatchNorm of the network", k)
		}
	}
	if sd.Meta.Widths == nil {
		// The preset's default widths.
		a, err := arch.Lookup(sd.Meta.Preset)
		if err != nil {
			return nil, fmt.Errorf("statedict: %w", err)
		}
		sd.Meta.Widths = a.Widths
	}
	return sd, nil
}

// Checkpoint layout (finetune/checkpoint.go): magic, format version, header
// length, JSON header naming every float32 tensor that follows, the tensors,
// CRC-32 (Castagnoli) of everything before it.
const (
	ckptMagic   = "BSNNCKPT"
	ckptVersion = 1
)

// CheckpointStats returns the BatchNorm running statistics stored in a
// checkpoint written by finetune's Net.SaveCheckpoint, keyed
// "<layer>.bn.running_mean" and "<layer>.bn.running_var". If n is not nil,
// every tensor of the file named like one of n's parameters must hold
// exactly that parameter's values: the check that this reader and the
// trainer agree on the layout.
func CheckpointStats(path string, n *finetune.Net) (map[string][]float32, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	bad := func(format string, a ...any) error {
		return fmt.Errorf("statedict: checkpoint %s: %s", path, fmt.Sprintf(format, a...))
	}
	const fixed = len(ckptMagic) + 8
	if len(b) < fixed+4 || string(b[:len(ckptMagic)]) != ckptMagic {
		return nil, bad("not a finetune checkpoint")
	}
	if v := binary.LittleEndian.Uint32(b[len(ckptMagic):]); v != ckptVersion {
		return nil, bad("format version %d; this reader knows version %d (finetune/checkpoint.go)", v, ckptVersion)
	}
	if crc32.Checksum(b[:len(b)-4], crc32.MakeTable(crc32.Castagnoli)) != binary.LittleEndian.Uint32(b[len(b)-4:]) {
		return nil, bad("CRC mismatch (corrupt or truncated)")
	}
	hl := int(binary.LittleEndian.Uint32(b[len(ckptMagic)+4:]))
	if hl < 0 || fixed+hl+4 > len(b) {
		return nil, bad("header length %d exceeds the file", hl)
	}
	var h struct {
		Tensors []struct {
			Name string `json:"name"`
			Len  int    `json:"len"`
		} `json:"tensors"`
	}
	if err := json.Unmarshal(b[fixed:fixed+hl], &h); err != nil {
		return nil, bad("header: %v", err)
	}
	params := map[string][]float32{}
	if n != nil {
		for _, p := range n.Params() {
			params[p.Name] = p.Data
		}
	}
	off := fixed + hl
	stats := map[string][]float32{}
	checked := 0
	for _, t := range h.Tensors {
		if t.Len < 0 || off+4*t.Len > len(b)-4 {
			return nil, bad("tensor %s (%d values) exceeds the file", t.Name, t.Len)
		}
		v := make([]float32, t.Len)
		for i := range v {
			v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[off+4*i:]))
		}
		off += 4 * t.Len
		if strings.HasSuffix(t.Name, ".bn.running_mean") || strings.HasSuffix(t.Name, ".bn.running_var") {
			stats[t.Name] = v
		}
		if p, ok := params[t.Name]; ok {
			for i := range p {
				if len(v) != len(p) || math.Float32bits(v[i]) != math.Float32bits(p[i]) {
					return nil, bad("tensor %s differs from the network's parameter: the layout is not the one this reader knows", t.Name)
				}
			}
			checked++
		}
	}
	if off != len(b)-4 {
		return nil, bad("%d bytes after the tensors", len(b)-4-off)
	}
	if checked != len(params) {
		return nil, bad("holds %d of the network's %d parameters", checked, len(params))
	}
	return stats, nil
}

// FromCheckpoint loads a checkpoint written by finetune (bsnn-train's
// -run-dir checkpoint) and returns the network and its twin's state_dict.
func FromCheckpoint(path string) (*finetune.Net, *StateDict, error) {
	n, err := finetune.LoadCheckpoint(path, 1, nil)
	if err != nil {
		return nil, nil, err
	}
	stats, err := CheckpointStats(path, n)
	if err != nil {
		return nil, nil, err
	}
	sd, err := FromNet(n, stats)
	if err != nil {
		return nil, nil, err
	}
	return n, sd, nil
}

// NPZ returns the state_dict as a .npz archive (numpy.load reads it): one
// little-endian float32 .npy per key, named "<key>.npy", plus meta.json.
// Entries have fixed dates, so equal state_dicts give equal bytes.
func (sd *StateDict) NPZ() ([]byte, error) {
	var buf bytes.Buffer
	z := zip.NewWriter(&buf)
	put := func(name string, data []byte) error {
		w, err := z.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate})
		if err != nil {
			return err
		}
		_, err = w.Write(data)
		return err
	}
	for _, k := range sd.Keys {
		if err := put(k+".npy", NPY(sd.Tensors[k])); err != nil {
			return nil, err
		}
	}
	meta, err := json.MarshalIndent(sd.Meta, "", " ")
	if err != nil {
		return nil, err
	}
	if err := put("meta.json", append(meta, '\n')); err != nil {
		return nil, err
	}
	if err := z.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// NPY encodes a tensor as a version 1.0 .npy file ('<f4', C order), its
// header padded so the data starts at a multiple of 64 bytes.
func NPY(t *Tensor) []byte {
	var shape strings.Builder
	shape.WriteByte('(')
	for i, d := range t.Shape {
		if i > 0 {
			shape.WriteString(", ")
		}
		fmt.Fprintf(&shape, "%d", d)
	}
	if len(t.Shape) == 1 {
		shape.WriteByte(',')
	}
	shape.WriteByte(')')
	hdr := fmt.Sprintf("{'descr': '<f4', 'fortran_order': False, 'shape': %s, }", shape.String())
	pad := 64 - (10+len(hdr)+1)%64
	if pad == 64 {
		pad = 0
	}
	hdr += strings.Repeat(" ", pad) + "\n"
	out := make([]byte, 0, 10+len(hdr)+4*len(t.Data))
	out = append(out, "\x93NUMPY\x01\x00"...)
	out = binary.LittleEndian.AppendUint16(out, uint16(len(hdr)))
	out = append(out, hdr...)
	for _, v := range t.Data {
		out = binary.LittleEndian.AppendUint32(out, math.Float32bits(v))
	}
	return out
}
