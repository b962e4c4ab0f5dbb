package torchload

import (
	"encoding/binary"
	"fmt"
)

// Caps on one pickle stream. A state_dict pickle costs about 30 opcodes and
// 2 MARKs per tensor, so these admit tens of thousands of tensors while
// bounding what the unpickler can allocate (a few hundred bytes per opcode).
const (
	maxPickleBytes = 32 << 20
	maxPickleOps   = 1 << 20
	maxPickleMarks = 1 << 17
)

// scanPickle walks one pickle opcode stream in data without running it and
// returns the offset just past its STOP. It rejects what the unpickler must
// never see: an unknown opcode, an argument or length prefix running past the
// data (which would make gopickle allocate a buffer of the claimed size),
// extension-registry and out-of-band-buffer opcodes, and streams with more
// opcodes or MARKs than the caps above. Every allocation gopickle makes is
// then bounded by the bytes actually present.
func scanPickle(data []byte) (int, error) {
	ops, marks := 0, 0
	i := 0
	need := func(op byte, at, n int) error {
		if n < 0 || n > len(data)-i {
			return fmt.Errorf("pickle truncated: opcode 0x%02x at byte %d needs %d more bytes, %d left", op, at, n, len(data)-i)
		}
		return nil
	}
	line := func(op byte, at int) error {
		for j := i; j < len(data); j++ {
			if data[j] == '\n' {
				i = j + 1
				return nil
			}
		}
		return fmt.Errorf("pickle truncated: opcode 0x%02x at byte %d has no end of line", op, at)
	}
	for {
		if i >= len(data) {
			return 0, fmt.Errorf("pickle truncated: no STOP opcode in %d bytes", len(data))
		}
		ops++
		if ops > maxPickleOps {
			return 0, fmt.Errorf("pickle has more than %d opcodes", maxPickleOps)
		}
		at := i
		op := data[i]
		i++
		// n is a fixed argument size; lenBytes > 0 means a little-endian
		// length prefix of that size followed by that many bytes.
		n, lenBytes := 0, 0
		switch op {
		case '.': // STOP
			return i, nil
		case '(':
			marks++
			if marks > maxPickleMarks {
				return 0, fmt.Errorf("pickle has more than %d MARK opcodes", maxPickleMarks)
			}
		case '0', '1', '2', 'N', 'Q', 'R', 'a', 'b', 'd', '}', 'e', 'l', ']', 'o', 's', 't', ')', 'u',
			0x81, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8f, 0x90, 0x91, 0x92, 0x93, 0x94, 0x98:
			// no argument
		case 'F', 'I', 'L', 'P', 'S', 'V', 'g', 'p':
			if err := line(op, at); err != nil {
				return 0, err
			}
		case 'c', 'i': // GLOBAL, INST: module and name lines
			if err := line(op, at); err != nil {
				return 0, err
			}
			if err := line(op, at); err != nil {
				return 0, err
			}
		case 'K', 'h', 'q', 0x80: // BININT1, BINGET, BINPUT, PROTO
			n = 1
		case 'M':
			n = 2
		case 'J', 'j', 'r':
			n = 4
		case 'G':
			n = 8
		case 0x95: // FRAME: the frame's bytes are ordinary opcodes
			n = 8
			if err := need(op, at, n); err != nil {
				return 0, err
			}
			size := binary.LittleEndian.Uint64(data[i:])
			if size > uint64(len(data)-i-8) {
				return 0, fmt.Errorf("pickle truncated: frame at byte %d claims %d bytes, %d left", at, size, len(data)-i-8)
			}
		case 'U', 'C', 0x8a, 0x8c: // SHORT_BINSTRING, SHORT_BINBYTES, LONG1, SHORT_BINUNICODE
			lenBytes = 1
		case 'T', 'X', 'B', 0x8b: // BINSTRING, BINUNICODE, BINBYTES, LONG4
			lenBytes = 4
		case 0x8d, 0x8e, 0x96: // BINUNICODE8, BINBYTES8, BYTEARRAY8
			lenBytes = 8
		case 0x82, 0x83, 0x84:
			return 0, fmt.Errorf("pickle uses the extension registry (opcode 0x%02x at byte %d), which checkpoints never need", op, at)
		case 0x97:
			return 0, fmt.Errorf("pickle uses out-of-band buffers (opcode 0x97 at byte %d), which checkpoints never need", at)
		default:
			return 0, fmt.Errorf("pickle has unknown opcode 0x%02x at byte %d", op, at)
		}
		if lenBytes > 0 {
			if err := need(op, at, lenBytes); err != nil {
				return 0, err
			}
			var size uint64
			switch lenBytes {
			case 1:
				size = uint64(data[i])
			case 4:
				// BINSTRING and LONG4 lengths are signed; a negative one reads
				// as huge here and fails the check below.
				size = uint64(binary.LittleEndian.Uint32(data[i:]))
				if op == 'T' || op == 0x8b {
					size = uint64(int64(int32(uint32(size))))
				}
			case 8:
				size = binary.LittleEndian.Uint64(data[i:])
			}
			i += lenBytes
			if size > uint64(len(data)-i) {
				return 0, fmt.Errorf("pickle truncated: opcode 0x%02x at byte %d claims %d bytes, %d left", op, at, size, len(data)-i)
			}
			n = int(size)
		}
		if err := need(op, at, n); err != nil {
			return 0, err
		}
		i += n
	}
}
