package data

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// The fixtures in testdata were written by numpy 1.24 (Debian python3):
//
//	ev = [(3, 4, 1000, 1), (33, 0, 1500, 0), (0, 33, 8388607, 1)]
//	np.save("events_struct.npy", np.array(ev, dtype=[("x", "<i8"), ("y", "<i8"), ("t", "<i8"), ("p", "<i8")]))
//	np.save("events_struct2.npy", np.array([(t, x, y, bool(p), 7) for x, y, t, p in ev],
//	    dtype=[("timestamp", "<u4"), ("x", "<u2"), ("y", "<u2"), ("polarity", "|b1"), ("extra", "<f4")]))
//	np.save("events_fortran.npy", np.asfortranarray(np.array([[x, y, t, 1 if p else -1] for x, y, t, p in ev], dtype="<f8")))
func TestReadEventsNPYNumpyFiles(t *testing.T) {
	want := []Event{{X: 3, Y: 4, T: 1000, P: 1}, {X: 33, Y: 0, T: 1500, P: 0}, {X: 0, Y: 33, T: 8388607, P: 1}}
	for _, name := range []string{"events_struct.npy", "events_struct2.npy", "events_fortran.npy"} {
		ev, err := ReadEventFile("testdata/" + name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !slices.Equal(ev, want) {
			t.Errorf("%s: %+v, want %+v", name, ev, want)
		}
	}
}

// npyFile builds a version-1 .npy file.
func npyFile(header string, data []byte) []byte {
	h := header + "\n"
	var b bytes.Buffer
	b.WriteString("\x93NUMPY\x01\x00")
	binary.Write(&b, binary.LittleEndian, uint16(len(h)))
	b.WriteString(h)
	b.Write(data)
	return b.Bytes()
}

func TestReadEventsNPY(t *testing.T) {
	// Big-endian int16 rows of x, y, t, p in C order.
	var d bytes.Buffer
	binary.Write(&d, binary.BigEndian, []int16{1, 2, 300, 1, 5, 6, 700, 0})
	ev, err := ReadEventsNPY(bytes.NewReader(npyFile("{'descr': '>i2', 'fortran_order': False, 'shape': (2, 4), }", d.Bytes())))
	if err != nil {
		t.Fatal(err)
	}
	if want := []Event{{X: 1, Y: 2, T: 300, P: 1}, {X: 5, Y: 6, T: 700}}; !slices.Equal(ev, want) {
		t.Errorf("%+v", ev)
	}
	// An aligned structured dtype has '|V' padding fields: skipped.
	var pd bytes.Buffer
	pd.Write([]byte{9, 0xee, 0xee, 0xee})
	binary.Write(&pd, binary.LittleEndian, []int32{10, 11, 12345})
	pd.Write([]byte{1, 0xee, 0xee, 0xee})
	ev, err = ReadEventsNPY(bytes.NewReader(npyFile("{'descr': [('p', '|u1'), ('', '|V3'), ('x', '<i4'), ('y', '<i4'), ('t', '<i4'), ('q', '|u1'), ('', '|V3')], 'fortran_order': False, 'shape': (1,), }", pd.Bytes())))
	if err == nil || !strings.Contains(err.Error(), "polarity 9") {
		t.Errorf("padded struct: %v %+v", err, ev)
	}
	row := func(vals ...float32) []byte {
		var b bytes.Buffer
		binary.Write(&b, binary.LittleEndian, vals)
		return b.Bytes()
	}
	for _, c := range []struct {
		file []byte
		want string
	}{
		{[]byte("NUMPY"), "header"},
		{[]byte("\x93NUMPX\x01\x00\x00\x00"), "bad magic"},
		{[]byte("\x93NUMPY\x04\x00\x00\x00"), "version 4.0"},
		{npyFile("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 3), }", row(1, 2, 3)), "expected N×4"},
		{npyFile("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 4), }", row(1, 2, 3, 1)), "truncated"},
		{npyFile("{'descr': '<c8', 'fortran_order': False, 'shape': (1, 4), }", nil), "not supported"},
		{npyFile("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 4), }", row(1.5, 2, 3, 1)), "coordinates must be integers"},
		{npyFile("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 4), }", row(1, 2, 3, 2)), "polarity 2"},
		{npyFile("{'descr': [('x', '<f4'), ('y', '<f4'), ('p', '<f4')], 'fortran_order': False, 'shape': (1,), }", row(1, 2, 1)), "lacks a field for t"},
		{npyFile("{'descr': [('x', '<f4', (2,)), ('y', '<f4')], 'fortran_order': False, 'shape': (1,), }", nil), "sub-array"},
		{npyFile("{'fortran_order': False, 'shape': (1, 4), }", nil), "no descr"},
	} {
		_, err := ReadEventsNPY(bytes.NewReader(c.file))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q…: %v, want %q", fmt.Sprintf("%.40s", c.file), err, c.want)
		}
	}
}
