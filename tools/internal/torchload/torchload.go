// Package torchload reads PyTorch checkpoints (torch.save files) in pure Go,
// so that converting a model needs no Python.
//
// Both layouts torch.save has written since PyTorch 0.4 are read: the zip
// archive (data.pkl plus one entry per storage; the default since 1.6) and
// the legacy stream (five pickles followed by raw storages, written with
// _use_new_zipfile_serialization=False). Tensors may be float32, float16,
// bfloat16, float64 or integer; they are read lazily, when converted.
//
// Checkpoints are untrusted input. The pickle is checked opcode by opcode
// before it is run (every length within the bytes present, opcode and MARK
// counts capped, no extension or out-of-band opcodes), only allow-listed
// globals resolve (torch tensor rebuild functions, torch.*Storage,
// collections.OrderedDict and a few inert data types) and nothing is ever
// executed: gopickle interprets the stream in Go. Every storage's claimed
// size is checked against the bytes the file holds before it is allocated,
// and a recover boundary turns any unexpected panic into an error.
package torchload

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"os"
	"sort"
	"strings"

	"github.com/nlpodyssey/gopickle/pickle"
	"github.com/nlpodyssey/gopickle/types"
)

// Checkpoint is a loaded torch.save file. Tensor data stays in the file until
// a tensor is converted, so the Checkpoint must be closed after use.
type Checkpoint struct {
	Format string      // "zip" or "legacy"
	Root   interface{} // the unpickled object: *types.Dict, *types.OrderedDict, *Tensor, ...
	closer io.Closer
}

// Close releases the file.
func (c *Checkpoint) Close() error {
	if c.closer == nil {
		return nil
	}
	return c.closer.Close()
}

// Open reads the structure of the checkpoint at path.
func Open(path string) (*Checkpoint, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	c, err := Read(f, fi.Size())
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	c.closer = f
	return c, nil
}

// Read reads the structure of a checkpoint of the given size from r. r must
// stay readable while tensors are converted.
func Read(r io.ReaderAt, size int64) (*Checkpoint, error) {
	var head [512]byte
	n, err := r.ReadAt(head[:], 0)
	if err != nil && err != io.EOF {
		return nil, err
	}
	h := head[:n]
	switch {
	case n < 8:
		return nil, fmt.Errorf("not a PyTorch checkpoint: only %d bytes", n)
	case bytes.HasPrefix(h, []byte("PK\x03\x04")), bytes.HasPrefix(h, []byte("PK\x05\x06")):
		return readZip(r, size)
	case h[0] == 0x80 && h[1] <= pickle.HighestProtocol:
		return readLegacy(r, size)
	case n >= 262 && string(h[257:262]) == "ustar":
		return nil, errors.New("tar-format checkpoint (PyTorch before 0.4) is not supported; re-save it with a current torch.save")
	case string(h[4:8]) == "BSNN":
		return nil, errors.New("not a PyTorch checkpoint: this is a .bsnn model")
	}
	return nil, fmt.Errorf("not a PyTorch checkpoint: starts with bytes % x, want a zip archive or a pickle", h[:8])
}

// unpickle runs one pickle that scanPickle accepted.
func unpickle(data []byte, persistent func(interface{}) (interface{}, error)) (v interface{}, err error) {
	u := pickle.NewUnpickler(bytes.NewReader(data))
	u.FindClass = findClass
	u.PersistentLoad = persistent
	if persistent == nil {
		u.PersistentLoad = func(interface{}) (interface{}, error) {
			return nil, errors.New("unexpected persistent id")
		}
	}
	defer func() {
		if r := recover(); r != nil {
			v, err = nil, fmt.Errorf("malformed pickle: %v", r)
		}
	}()
	v, err = u.Load()
	if err != nil {
		var ug *UnknownGlobalError
		if !errors.As(err, &ug) {
			err = fmt.Errorf("malformed pickle: %w", err)
		}
	}
	return v, err
}

// storages collects the persistent storages of one checkpoint and enforces
// the total-size cap.
type storages struct {
	byKey map[string]*storage
	total int64
}

// persistentLoad returns the unpickler's persistent-ID hook: it parses a
// storage reference, returns the storage already made for its key (which
// must agree in type and size), or makes one with create and adds it under
// the size caps.
func (s *storages) persistentLoad(legacy bool, create func(dt DType, key string, numel int64) (*storage, error)) func(pid interface{}) (interface{}, error) {
	return func(pid interface{}) (interface{}, error) {
		dt, key, numel, err := parsePID(pid, legacy)
		if err != nil {
			return nil, err
		}
		if old := s.byKey[key]; old != nil {
			if old.dtype != dt || old.numel != numel {
				return nil, fmt.Errorf("storage %q is referenced as %v×%d and as %v×%d", key, old.dtype, old.numel, dt, numel)
			}
			return old, nil
		}
		st, err := create(dt, key, numel)
		if err != nil {
			return nil, err
		}
		return st, s.add(st)
	}
}

func (s *storages) add(st *storage) error {
	n := st.numel * int64(st.dtype.Size())
	if n > maxStorageBytes || uint64(n) > uint64(math.MaxInt) {
		return fmt.Errorf("storage %q holds %d bytes, at most %d", st.key, n, int64(maxStorageBytes))
	}
	s.total += n
	if s.total > maxTotalBytes {
		return fmt.Errorf("storages hold more than %d bytes", int64(maxTotalBytes))
	}
	s.byKey[st.key] = st
	return nil
}

// parsePID checks a ('storage', class, key, location, numel[, view]) id.
func parsePID(pid interface{}, legacy bool) (dt DType, key string, numel int64, err error) {
	t, ok := pid.(*types.Tuple)
	if !ok || t.Len() < 1 {
		return 0, "", 0, fmt.Errorf("persistent id is %T, want a tuple", pid)
	}
	if kind, _ := t.Get(0).(string); kind != "storage" {
		if kind == "module" {
			return 0, "", 0, errors.New("checkpoint holds a pickled module class; save the weights with torch.save(model.state_dict(), path)")
		}
		return 0, "", 0, fmt.Errorf("persistent id of kind %v, want 'storage'", t.Get(0))
	}
	want := 5
	if legacy {
		want = 6
	}
	if t.Len() != want {
		return 0, "", 0, fmt.Errorf("storage persistent id has %d fields, want %d", t.Len(), want)
	}
	sc, ok := t.Get(1).(*storageClass)
	if !ok {
		return 0, "", 0, fmt.Errorf("storage type is %T, want a torch.*Storage class", t.Get(1))
	}
	key, ok = t.Get(2).(string)
	if !ok {
		return 0, "", 0, fmt.Errorf("storage key is %T, want a string", t.Get(2))
	}
	if numel, err = toInt(t.Get(4), "storage size"); err != nil {
		return 0, "", 0, err
	}
	if numel < 0 || numel > maxStorageBytes/int64(sc.dtype.Size()) {
		return 0, "", 0, fmt.Errorf("storage %q has %d elements, want 0..%d", key, numel, maxStorageBytes/int64(sc.dtype.Size()))
	}
	if legacy && t.Get(5) != nil {
		return 0, "", 0, fmt.Errorf("storage %q is a view of another storage (pre-1.0 checkpoint), not supported", key)
	}
	return sc.dtype, key, numel, nil
}

// maxDeflateRatio bounds the uncompressed size a deflated zip entry may claim
// (deflate cannot expand data more than ~1032:1), so a lying header cannot
// make us allocate far beyond the file's size.
const maxDeflateRatio = 1100

func readZip(r io.ReaderAt, size int64) (*Checkpoint, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return nil, fmt.Errorf("truncated or corrupt zip archive: %v", err)
	}
	entries := make(map[string]*zip.File, len(zr.File))
	var pkl *zip.File
	for _, f := range zr.File {
		entries[f.Name] = f
		if f.Name == "data.pkl" || (strings.HasSuffix(f.Name, "/data.pkl") && strings.Count(f.Name, "/") == 1) {
			pkl = f
		}
	}
	if pkl == nil {
		return nil, errors.New("zip archive without data.pkl: not a torch.save checkpoint")
	}
	prefix := strings.TrimSuffix(pkl.Name, "data.pkl")
	if entries[prefix+"constants.pkl"] != nil {
		return nil, errors.New("TorchScript archive, not a torch.save checkpoint; save the weights with torch.save(model.state_dict(), path)")
	}
	swap := false
	if bo := entries[prefix+"byteorder"]; bo != nil {
		b, err := readEntry(bo, 16)
		if err != nil {
			return nil, err
		}
		switch string(b) {
		case "little":
		case "big":
			swap = true
		default:
			return nil, fmt.Errorf("zip entry %s holds %q, want little or big", bo.Name, b)
		}
	}
	if pkl.UncompressedSize64 > maxPickleBytes {
		return nil, fmt.Errorf("data.pkl is %d bytes, at most %d", pkl.UncompressedSize64, maxPickleBytes)
	}
	data, err := readEntry(pkl, maxPickleBytes)
	if err != nil {
		return nil, err
	}
	if _, err := scanPickle(data); err != nil {
		return nil, fmt.Errorf("data.pkl: %w", err)
	}
	st := &storages{byKey: map[string]*storage{}}
	persistent := st.persistentLoad(false, func(dt DType, key string, numel int64) (*storage, error) {
		f := entries[prefix+"data/"+key]
		if f == nil {
			return nil, fmt.Errorf("storage %q has no zip entry %sdata/%s (truncated archive?)", key, prefix, key)
		}
		need := numel * int64(dt.Size())
		if err := entryFits(f, need, size); err != nil {
			return nil, err
		}
		s := &storage{key: key, dtype: dt, numel: numel, read: func() ([]byte, error) {
			b, err := readEntryN(f, need)
			if err == nil && swap {
				byteswap(b, dt.Size())
			}
			return b, err
		}}
		return s, nil
	})
	root, err := unpickle(data, persistent)
	if err != nil {
		return nil, fmt.Errorf("data.pkl: %w", err)
	}
	return &Checkpoint{Format: "zip", Root: root}, nil
}

// entryFits checks, before anything is allocated, that zip entry f can hold
// need bytes and that its claimed size is possible for an archive of
// archiveSize bytes.
func entryFits(f *zip.File, need, archiveSize int64) error {
	if uint64(need) > f.UncompressedSize64 {
		return fmt.Errorf("storage entry %s holds %d bytes, the tensor metadata needs %d", f.Name, f.UncompressedSize64, need)
	}
	off, err := f.DataOffset()
	if err != nil {
		return fmt.Errorf("zip entry %s: %v", f.Name, err)
	}
	if f.CompressedSize64 > uint64(archiveSize) || uint64(off) > uint64(archiveSize)-f.CompressedSize64 {
		return fmt.Errorf("zip entry %s claims %d bytes past the end of the archive (truncated file?)", f.Name, f.CompressedSize64)
	}
	if f.Method != zip.Store && f.UncompressedSize64/maxDeflateRatio > f.CompressedSize64 {
		return fmt.Errorf("zip entry %s claims %d bytes from %d compressed bytes", f.Name, f.UncompressedSize64, f.CompressedSize64)
	}
	return nil
}

// readEntry reads a whole small entry (checking its CRC).
func readEntry(f *zip.File, max int64) ([]byte, error) {
	rc, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("zip entry %s: %v", f.Name, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, max+1))
	if err != nil {
		return nil, fmt.Errorf("zip entry %s: %v", f.Name, err)
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("zip entry %s is larger than %d bytes", f.Name, max)
	}
	return b, nil
}

// readEntryN reads the first n bytes of an entry and drains the rest, so the
// CRC is checked.
func readEntryN(f *zip.File, n int64) ([]byte, error) {
	rc, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("zip entry %s: %v", f.Name, err)
	}
	defer rc.Close()
	b := make([]byte, n)
	if _, err := io.ReadFull(rc, b); err != nil {
		return nil, fmt.Errorf("zip entry %s: %v", f.Name, err)
	}
	if _, err := io.Copy(io.Discard, rc); err != nil {
		return nil, fmt.Errorf("zip entry %s: %v", f.Name, err)
	}
	return b, nil
}

func byteswap(b []byte, size int) {
	if size == 1 {
		return
	}
	for i := 0; i+size <= len(b); i += size {
		e := b[i : i+size]
		for j, k := 0, size-1; j < k; j, k = j+1, k-1 {
			e[j], e[k] = e[k], e[j]
		}
	}
}

// legacyMagic is the number the legacy format starts with.
var legacyMagic, _ = new(big.Int).SetString("1950a86a20f9469cfc6c", 16)

const legacyProtocol = 1001

func readLegacy(r io.ReaderAt, size int64) (*Checkpoint, error) {
	headLen := size
	if headLen > 2*maxPickleBytes {
		headLen = 2 * maxPickleBytes
	}
	buf := make([]byte, headLen)
	if _, err := r.ReadAt(buf, 0); err != nil && err != io.EOF {
		return nil, err
	}
	pos := 0
	next := func(what string, persistent func(interface{}) (interface{}, error)) (interface{}, error) {
		n, err := scanPickle(buf[pos:])
		if err != nil {
			if headLen < size {
				return nil, fmt.Errorf("legacy checkpoint %s: %w (or the pickle exceeds %d bytes)", what, err, headLen)
			}
			return nil, fmt.Errorf("legacy checkpoint %s: %w", what, err)
		}
		v, err := unpickle(buf[pos:pos+n], persistent)
		if err != nil {
			return nil, fmt.Errorf("legacy checkpoint %s: %w", what, err)
		}
		pos += n
		return v, nil
	}
	magic, err := next("magic number", nil)
	if err != nil {
		return nil, err
	}
	if m, ok := magic.(*big.Int); !ok || m.Cmp(legacyMagic) != 0 {
		return nil, errors.New("not a PyTorch checkpoint: a pickle without the torch.save magic number")
	}
	proto, err := next("protocol version", nil)
	if err != nil {
		return nil, err
	}
	if p, ok := proto.(int); !ok || p != legacyProtocol {
		return nil, fmt.Errorf("legacy checkpoint protocol %v, want %d", proto, legacyProtocol)
	}
	info, err := next("system info", nil)
	if err != nil {
		return nil, err
	}
	swap := false
	if d, ok := info.(*types.Dict); ok {
		if le, ok := d.Get("little_endian"); ok && le == false {
			swap = true
		}
	}
	st := &storages{byKey: map[string]*storage{}}
	persistent := st.persistentLoad(true, func(dt DType, key string, numel int64) (*storage, error) {
		if numel*int64(dt.Size()) > size {
			return nil, fmt.Errorf("storage %q claims %d bytes, the file holds %d (truncated file?)", key, numel*int64(dt.Size()), size)
		}
		return &storage{key: key, dtype: dt, numel: numel}, nil
	})
	root, err := next("object", persistent)
	if err != nil {
		return nil, err
	}
	keysObj, err := next("storage key list", nil)
	if err != nil {
		return nil, err
	}
	list, ok := keysObj.(*types.List)
	if !ok {
		return nil, fmt.Errorf("legacy checkpoint storage key list is %T, want a list", keysObj)
	}
	// The raw storages follow in key-list order, each as an int64 element
	// count and the elements.
	off := int64(pos)
	seen := map[string]bool{}
	for _, k := range *list {
		key, ok := k.(string)
		if !ok {
			return nil, fmt.Errorf("legacy checkpoint storage key is %T, want a string", k)
		}
		s := st.byKey[key]
		if s == nil || seen[key] {
			return nil, fmt.Errorf("legacy checkpoint lists storage %q that no tensor uses (or twice)", key)
		}
		seen[key] = true
		var hdr [8]byte
		if _, err := r.ReadAt(hdr[:], off); err != nil {
			return nil, fmt.Errorf("legacy checkpoint truncated: storage %q header at byte %d: %v", key, off, err)
		}
		if got := int64(binary.LittleEndian.Uint64(hdr[:])); got != s.numel && !(swap && int64(binary.BigEndian.Uint64(hdr[:])) == s.numel) {
			return nil, fmt.Errorf("legacy checkpoint storage %q has %d elements in the data, %d in the pickle", key, got, s.numel)
		}
		n := s.numel * int64(s.dtype.Size())
		start := off + 8
		if n > size-start {
			return nil, fmt.Errorf("legacy checkpoint truncated: storage %q needs %d bytes at byte %d, the file holds %d", key, n, start, size)
		}
		dsize := s.dtype.Size()
		s.read = func() ([]byte, error) {
			b := make([]byte, n)
			if _, err := r.ReadAt(b, start); err != nil {
				return nil, err
			}
			if swap {
				byteswap(b, dsize)
			}
			return b, nil
		}
		off = start + n
	}
	if len(seen) != len(st.byKey) {
		var missing []string
		for k := range st.byKey {
			if !seen[k] {
				missing = append(missing, k)
			}
		}
		sort.Strings(missing)
		return nil, fmt.Errorf("legacy checkpoint has no data for storages %v", missing)
	}
	return &Checkpoint{Format: "legacy", Root: root}, nil
}
