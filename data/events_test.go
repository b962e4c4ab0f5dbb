package data

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// encodeNMNIST is an encoder written from the format description alone
// (40-bit big-endian records: x, y, polarity bit, 23-bit time), independent
// of WriteNMNIST.
func encodeNMNIST(ev []Event) []byte {
	var out []byte
	for _, e := range ev {
		v := uint64(e.X)<<32 | uint64(e.Y)<<24 | uint64(e.P)<<23 | uint64(e.T)
		out = append(out, byte(v>>32), byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
	}
	return out
}

func randomEvents(n int, seed uint64) []Event {
	r := rand.New(rand.NewPCG(seed, 1))
	ev := make([]Event, n)
	var t int64
	for i := range ev {
		t += int64(r.IntN(300))
		ev[i] = Event{T: t, X: uint16(r.IntN(34)), Y: uint16(r.IntN(34)), P: uint8(r.IntN(2))}
	}
	return ev
}

func TestNMNISTRoundTrip(t *testing.T) {
	ev := randomEvents(500, 1)
	ev = append(ev, Event{T: 1<<23 - 1, X: 255, Y: 239, P: 1}) // extremes of the format
	got, err := ReadNMNIST(bytes.NewReader(encodeNMNIST(ev)))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, ev) {
		t.Fatal("decoded events differ from the encoded ones")
	}
	var buf bytes.Buffer
	if err := WriteNMNIST(&buf, ev); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), encodeNMNIST(ev)) {
		t.Error("WriteNMNIST differs from the reference encoder")
	}
	// A hand-assembled record: x=3, y=4, ON, t=0x012345.
	got, _ = ReadNMNIST(bytes.NewReader([]byte{3, 4, 0x81, 0x23, 0x45}))
	if want := (Event{X: 3, Y: 4, P: 1, T: 0x012345}); len(got) != 1 || got[0] != want {
		t.Errorf("hand record: %+v, want %+v", got, want)
	}
}

func TestNMNISTOverflowAndErrors(t *testing.T) {
	in := encodeNMNIST([]Event{{T: 100, X: 1, Y: 2}})
	in = append(in, 0, 240, 0, 0, 0) // overflow marker
	in = append(in, encodeNMNIST([]Event{{T: 50, X: 3, Y: 4, P: 1}})...)
	got, err := ReadNMNIST(bytes.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[1].T != 50+8192 || got[1].X != 3 {
		t.Errorf("overflow: %+v", got)
	}
	if _, err := ReadNMNIST(bytes.NewReader(in[:7])); err == nil || !strings.Contains(err.Error(), "7 bytes") {
		t.Errorf("truncated: %v", err)
	}
	for _, e := range []Event{{X: 256}, {Y: 240}, {T: 1 << 23}, {T: -1}} {
		if err := WriteNMNIST(&bytes.Buffer{}, []Event{e}); err == nil {
			t.Errorf("WriteNMNIST accepted %+v", e)
		}
	}
}

func TestEventsCSV(t *testing.T) {
	ev := randomEvents(50, 2)
	var buf bytes.Buffer
	if err := WriteEventsCSV(&buf, ev); err != nil {
		t.Fatal(err)
	}
	got, err := ReadEventsCSV(&buf)
	if err != nil || !slices.Equal(got, ev) {
		t.Fatalf("round trip: %v", err)
	}
	// Headerless, space separated, comments, OFF as −1.
	got, err = ReadEventsCSV(strings.NewReader("# a comment\n\n1 2 30 1\n4 5 60 -1\n"))
	if err != nil || len(got) != 2 || got[1] != (Event{X: 4, Y: 5, T: 60, P: 0}) {
		t.Errorf("plain: %+v %v", got, err)
	}
	// A header in another order, with an extra column.
	got, err = ReadEventsCSV(strings.NewReader("timestamp,polarity,x,y,extra\n7,1,8,9,zzz\n"))
	if err != nil || len(got) != 1 || got[0] != (Event{X: 8, Y: 9, T: 7, P: 1}) {
		t.Errorf("header: %+v %v", got, err)
	}
	for _, c := range []struct{ in, want string }{
		{"1,2,3\n", "line 1: 3 fields"},
		{"x,y,t,p\n1,2,3,4\n", "line 2: polarity 4"},
		{"1,2,3.5,1\n", `"3.5" is not an integer`},
		{"x,y,t\n", "lacks a column for p"},
		{"x,y,t,p,x\n", "names column \"x\" twice"},
		{"1,-2,3,1\n", "out of range"},
	} {
		_, err := ReadEventsCSV(strings.NewReader(c.in))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want %q", c.in, err, c.want)
		}
	}
}

func TestBinning(t *testing.T) {
	ev := []Event{
		{T: 0, X: 0, Y: 0, P: 1},
		{T: 10, X: 0, Y: 0, P: 1},
		{T: 49, X: 1, Y: 0, P: 0},
		{T: 50, X: 1, Y: 1, P: 1},
		{T: 99, X: 1, Y: 1, P: 1},
		{T: 100, X: 0, Y: 0, P: 1}, // outside [0,100)
		{T: 20, X: 2, Y: 0, P: 1},  // outside the 2×2 sensor
	}
	b := Binning{T: 2, W: 2, H: 2, Mode: BinCount, Start: 0, Duration: 100}
	dst := make([]float32, b.Size())
	for i := range dst {
		dst[i] = 7 // must be overwritten
	}
	kept, err := b.Bin(dst, ev)
	if err != nil {
		t.Fatal(err)
	}
	if kept != 5 {
		t.Errorf("kept %d events, want 5", kept)
	}
	// [t][p][y][x]
	want := []float32{
		0, 1, 0, 0, // t0 OFF
		2, 0, 0, 0, // t0 ON
		0, 0, 0, 0, // t1 OFF
		0, 0, 0, 2, // t1 ON
	}
	if !equalF(dst, want) {
		t.Errorf("count bins %v, want %v", dst, want)
	}
	b.Mode = BinBinary
	b.Bin(dst, ev)
	for i := range want {
		want[i] = min(want[i], 1)
	}
	if !equalF(dst, want) {
		t.Errorf("binary bins %v, want %v", dst, want)
	}
	// Duration 0: the events' own span [0, 100] → the event at 100 counts.
	b.Duration = 0
	if kept, _ := b.Bin(dst, ev); kept != 6 {
		t.Errorf("span binning kept %d, want 6", kept)
	}
	if _, err := b.Bin(dst[:3], ev); err == nil {
		t.Error("short dst accepted")
	}
}

func TestEventFolder(t *testing.T) {
	dir := t.TempDir()
	a := []Event{{T: 1000, X: 1, Y: 1, P: 1}, {T: 2000, X: 2, Y: 2, P: 0}}
	writeFile(t, filepath.Join(dir, "Train", "0", "00001.bin"), encodeNMNIST(a))
	var buf bytes.Buffer
	WriteEventsCSV(&buf, []Event{{T: 5, X: 33, Y: 33, P: 1}})
	writeFile(t, filepath.Join(dir, "Train", "1", "x.csv"), buf.Bytes())
	d, err := LoadNMNIST(dir, Train, 2, BinBinary)
	if err != nil {
		t.Fatal(err)
	}
	if d.Len() != 2 || d.Steps() != 2 || d.Shape().C != 2 || d.Shape().W != 34 || d.Classes()[1] != "1" {
		t.Fatalf("len %d steps %d shape %v classes %v", d.Len(), d.Steps(), d.Shape(), d.Classes())
	}
	x := make([]float32, SampleSize(d))
	l, err := d.Get(0, x)
	if err != nil || l != 0 {
		t.Fatal(l, err)
	}
	plane := 34 * 34
	if x[1*plane+1*34+1] != 1 || x[2*plane+0*plane+2*34+2] != 1 {
		t.Error("event 0 should be ON in bin 0, event 1 OFF in bin 1")
	}
	var sum float32
	for _, v := range x {
		sum += v
	}
	if sum != 2 {
		t.Errorf("%v events binned, want 2", sum)
	}
	if _, err := LoadNMNIST(dir, Test, 2, BinBinary); err == nil || !errors.Is(err, ErrMissing) || !strings.Contains(err.Error(), filepath.Join(dir, "Test")) {
		t.Errorf("missing Test: %v", err)
	}
	t.Setenv(EnvNMNISTDir, "")
	if _, err := LoadNMNIST("", Train, 2, BinBinary); err == nil || !strings.Contains(err.Error(), EnvNMNISTDir) {
		t.Errorf("no dir: %v", err)
	}
	os.WriteFile(filepath.Join(dir, "Train", "1", "bad.bin"), []byte{1, 2, 3}, 0o644)
	d, _ = LoadNMNIST(dir, Train, 2, BinBinary)
	if _, err := d.Get(1, x); err == nil || !strings.Contains(err.Error(), "bad.bin") {
		t.Errorf("bad file: %v", err)
	}
}
