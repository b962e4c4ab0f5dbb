package finetune

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"math"
	"os"

	"github.com/bsnn/bsnn/bitops"
	"github.com/bsnn/bsnn/internal/atomicfile"
)

// Checkpoint file layout (little-endian):
//
//	"BSNNCKPT"  magic, 8 bytes
//	uint32      format version (checkpointVersion)
//	uint32      header length h
//	h bytes     JSON header (ckptHeader): configuration, layer specs,
//	            counters, generator state, and the name and length of
//	            every tensor that follows
//	float32s    the tensors, in header order
//	uint32      CRC-32 (Castagnoli) of everything before it
const (
	checkpointMagic   = "BSNNCKPT"
	checkpointVersion = 1
	maxHeader         = 64 << 20
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

type ckptTensor struct {
	Name string `json:"name"`
	Len  int    `json:"len"`
}

type ckptHeader struct {
	Config Config            `json:"config"`
	Specs  []nodeSpec        `json:"specs"`
	Step   int64             `json:"step"`
	Epoch  int               `json:"epoch"`
	Batch  int               `json:"batch"`
	RNG    []byte            `json:"rng"`
	Steps  map[string]int64  `json:"optimizer_steps"`
	Meta   map[string]string `json:"meta,omitempty"`
	Tensor []ckptTensor      `json:"tensors"`
}

// CheckpointError is a checkpoint that cannot be used: unreadable, corrupt,
// truncated, or written for another architecture.
type CheckpointError struct {
	Path string
	Msg  string
}

func (e *CheckpointError) Error() string {
	return fmt.Sprintf("finetune: checkpoint %s: %s", e.Path, e.Msg)
}

// Position returns where the trainer is: the epoch and the index of the
// next batch within it.
func (n *Net) Position() (epoch, batch int) { return n.epoch, n.batch }

// SetPosition records the trainer's position (saved in checkpoints).
func (n *Net) SetPosition(epoch, batch int) { n.epoch, n.batch = epoch, batch }

// state lists every tensor of the training state with its name.
func (n *Net) state() (names []string, ts [][]float32) {
	add := func(name string, t []float32) {
		names, ts = append(names, name), append(ts, t)
	}
	for i, p := range n.params {
		add(p.Name, p.Data)
		add(p.Name+"#m", n.opt.m[i])
		if n.opt.v[i] != nil {
			add(p.Name+"#v", n.opt.v[i])
		}
	}
	idx, bns := n.batchNorms()
	for k, i := range idx {
		add(n.specs[i].Name+".bn.running_mean", bns[k].runMean)
		add(n.specs[i].Name+".bn.running_var", bns[k].runVar)
	}
	return names, ts
}

// SaveCheckpoint writes the full training state (weights, BatchNorm running
// statistics, optimizer state, step, position, generator state, config and
// architecture, n.Meta) to path atomically: a temporary file in the same
// directory, synced, then renamed over path. A failed write never touches
// an existing checkpoint at path.
func (n *Net) SaveCheckpoint(path string) error {
	rng, err := n.rng.MarshalBinary()
	if err != nil {
		return err
	}
	h := ckptHeader{Config: n.cfg, Specs: n.specs, Step: n.step, Epoch: n.epoch, Batch: n.batch, RNG: rng,
		Steps: map[string]int64{}, Meta: n.Meta}
	for i, p := range n.params {
		h.Steps[p.Name] = n.opt.steps[i]
	}
	names, ts := n.state()
	for i, t := range ts {
		h.Tensor = append(h.Tensor, ckptTensor{names[i], len(t)})
	}
	hdr, err := json.Marshal(h)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	buf.WriteString(checkpointMagic)
	_ = binary.Write(&buf, binary.LittleEndian, uint32(checkpointVersion))
	_ = binary.Write(&buf, binary.LittleEndian, uint32(len(hdr)))
	buf.Write(hdr)
	var w [4]byte
	for _, t := range ts {
		for _, v := range t {
			binary.LittleEndian.PutUint32(w[:], math.Float32bits(v))
			buf.Write(w[:])
		}
	}
	_ = binary.Write(&buf, binary.LittleEndian, crc32.Checksum(buf.Bytes(), crcTable))
	return writeAtomic(path, buf.Bytes())
}

// writeAtomic writes a checkpoint through atomicfile, so a failed write
// never replaces the last good checkpoint.
func writeAtomic(path string, data []byte) error {
	if err := atomicfile.WriteFile(path, data, 0o600); err != nil {
		return fmt.Errorf("finetune: writing checkpoint %s: %w", path, err)
	}
	return nil
}

// readCheckpoint reads and verifies a checkpoint file.
func readCheckpoint(path string) (*ckptHeader, map[string][]float32, error) {
	fail := func(format string, a ...any) (*ckptHeader, map[string][]float32, error) {
		return nil, nil, &CheckpointError{Path: path, Msg: fmt.Sprintf(format, a...)}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("finetune: %w", err)
	}
	const fixed = len(checkpointMagic) + 8
	if len(b) < fixed+4 || string(b[:len(checkpointMagic)]) != checkpointMagic {
		if len(b) < len(checkpointMagic) || string(b[:len(checkpointMagic)]) != checkpointMagic {
			return fail("not a bsnn checkpoint (bad magic)")
		}
		return fail("truncated: %d bytes", len(b))
	}
	if v := binary.LittleEndian.Uint32(b[8:]); v != checkpointVersion {
		return fail("format version %d, this build reads version %d", v, checkpointVersion)
	}
	hl := int(binary.LittleEndian.Uint32(b[12:]))
	if hl > maxHeader || fixed+hl+4 > len(b) {
		return fail("truncated: %d bytes, the header alone claims %d", len(b), fixed+hl+4)
	}
	var h ckptHeader
	herr := json.Unmarshal(b[fixed:fixed+hl], &h)
	total := 0
	for _, t := range h.Tensor {
		if t.Len < 0 || t.Len > len(b) {
			herr = fmt.Errorf("tensor %s has length %d", t.Name, t.Len)
			break
		}
		total += t.Len
	}
	if want := fixed + hl + 4*total + 4; herr == nil && len(b) < want {
		return fail("truncated: %d bytes, want %d", len(b), want)
	}
	if crc32.Checksum(b[:len(b)-4], crcTable) != binary.LittleEndian.Uint32(b[len(b)-4:]) {
		return fail("corrupt: checksum mismatch")
	}
	// The checksum matches: what follows are writer bugs, not damage.
	if herr != nil {
		return fail("corrupt header: %v", herr)
	}
	if want := fixed + hl + 4*total + 4; len(b) != want {
		return fail("%d bytes of trailing data", len(b)-want)
	}
	ts := make(map[string][]float32, len(h.Tensor))
	off := fixed + hl
	for _, t := range h.Tensor {
		v := make([]float32, t.Len)
		for i := range v {
			v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[off+4*i:]))
		}
		off += 4 * t.Len
		ts[t.Name] = v
	}
	return &h, ts, nil
}

// LoadCheckpoint rebuilds a network and its whole training state from a
// checkpoint. threads and kernels are not part of the state (nil kernels:
// bitops.Best()); results do not depend on them.
func LoadCheckpoint(path string, threads int, kernels *bitops.Kernels) (*Net, error) {
	h, ts, err := readCheckpoint(path)
	if err != nil {
		return nil, err
	}
	cfg := h.Config
	cfg.Threads, cfg.Kernels = threads, kernels
	n, err := buildNet(cfg, h.Specs)
	if err != nil {
		return nil, &CheckpointError{Path: path, Msg: fmt.Sprintf("cannot rebuild its network: %v", err)}
	}
	if err := n.restore(path, h, ts); err != nil {
		return nil, err
	}
	return n, nil
}

// Restore loads a checkpoint into n. The checkpoint must have been written
// by a network of the same architecture; the configuration of n is replaced
// by the checkpoint's (threads and kernels stay).
func (n *Net) Restore(path string) error {
	h, ts, err := readCheckpoint(path)
	if err != nil {
		return err
	}
	if len(h.Specs) != len(n.specs) {
		return &CheckpointError{Path: path, Msg: fmt.Sprintf("was written by a different architecture: %d layers, this network has %d", len(h.Specs), len(n.specs))}
	}
	for i := range h.Specs {
		if !sameSpec(&h.Specs[i], &n.specs[i]) {
			return &CheckpointError{Path: path, Msg: fmt.Sprintf("was written by a different architecture: layer %d is %s in the checkpoint, %s here", i, h.Specs[i].Describe(), n.specs[i].Describe())}
		}
	}
	if h.Config.Input.Timesteps != n.cfg.Input.Timesteps || h.Config.Input.Shape != n.cfg.Input.Shape || h.Config.Input.Encoding != n.cfg.Input.Encoding {
		return &CheckpointError{Path: path, Msg: fmt.Sprintf("was written for input %v, T=%d, %v encoding; this network takes %v, T=%d, %v", h.Config.Input.Shape, h.Config.Input.Timesteps, h.Config.Input.Encoding, n.cfg.Input.Shape, n.cfg.Input.Timesteps, n.cfg.Input.Encoding)}
	}
	cfg := h.Config
	cfg.Threads, cfg.Kernels = n.cfg.Threads, n.cfg.Kernels
	m, err := buildNet(cfg, n.specs)
	if err != nil {
		return &CheckpointError{Path: path, Msg: err.Error()}
	}
	if err := m.restore(path, h, ts); err != nil {
		return err
	}
	*n = *m
	return nil
}

// restore copies a checkpoint's state into a freshly built n.
func (n *Net) restore(path string, h *ckptHeader, ts map[string][]float32) error {
	fail := func(format string, a ...any) error {
		return &CheckpointError{Path: path, Msg: fmt.Sprintf(format, a...)}
	}
	names, dst := n.state()
	for i, name := range names {
		v, ok := ts[name]
		if !ok {
			return fail("has no tensor %s (a different architecture or optimizer?)", name)
		}
		if len(v) != len(dst[i]) {
			return fail("tensor %s holds %d values, this network needs %d (a different architecture?)", name, len(v), len(dst[i]))
		}
		copy(dst[i], v)
	}
	if len(ts) != len(names) {
		return fail("holds %d tensors, this network has %d (a different architecture or optimizer?)", len(ts), len(names))
	}
	for i, p := range n.params {
		n.opt.steps[i] = h.Steps[p.Name]
	}
	if err := n.rng.UnmarshalBinary(h.RNG); err != nil {
		return fail("corrupt generator state: %v", err)
	}
	n.step, n.epoch, n.batch, n.Meta = h.Step, h.Epoch, h.Batch, h.Meta
	return nil
}
