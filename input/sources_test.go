package input

import (
	"bytes"
	"encoding/binary"
	"io"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bsnn/bsnn/data"
)

func TestImageSource(t *testing.T) {
	dir := t.TempDir()
	img := pattern(12, 10)
	write(t, filepath.Join(dir, "cat", "b.png"), encodePNG(t, img))
	write(t, filepath.Join(dir, "cat", "a.jpg"), encodeJPEG(t, img, 95))
	write(t, filepath.Join(dir, "dog", "c.JPEG"), encodeJPEG(t, img, 95))
	write(t, filepath.Join(dir, "dog", "broken.png"), []byte("not a png"))
	write(t, filepath.Join(dir, "dog", "notes.txt"), []byte("skip"))
	write(t, filepath.Join(dir, ".git", "x.png"), encodePNG(t, img))

	src, err := NewImages(dir, Options{Channels: 3})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	var errs []string
	for {
		smp, err := src.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			errs = append(errs, err.Error())
			continue
		}
		names = append(names, smp.Name)
		tol := 1e-6
		if strings.HasSuffix(strings.ToLower(smp.Name), "g") && !strings.HasSuffix(smp.Name, ".png") {
			tol = 0.08 // JPEG
		}
		if d := maxDiff(&smp.Frame, img); d > tol {
			t.Errorf("%s: max error %v", smp.Name, d)
		}
	}
	want := []string{filepath.Join("cat", "a.jpg"), filepath.Join("cat", "b.png"), filepath.Join("dog", "c.JPEG")}
	if !slices.Equal(names, want) {
		t.Errorf("names %v, want %v", names, want)
	}
	if len(errs) != 1 || !strings.Contains(errs[0], "broken.png: cannot decode image") {
		t.Errorf("errors %v", errs)
	}
	// A single file.
	one, err := NewImages(filepath.Join(dir, "cat", "b.png"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := drain(t, one); len(got) != 1 || got[0].Name != "b.png" || got[0].Frame.Shape.C != 1 {
		t.Errorf("single file: %d samples", len(got))
	}
	if _, err := NewImages(t.TempDir(), Options{}); err == nil || !strings.Contains(err.Error(), "no .png, .jpg or .jpeg files") {
		t.Errorf("empty folder: %v", err)
	}
}

func needFFmpeg(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Skip("ffmpeg not on PATH (apt-get install ffmpeg): video tests skipped")
	}
	if testing.Short() {
		t.Skip("ffmpeg tests skipped under -short (slow under qemu)")
	}
}

// ffmpegMake runs ffmpeg to produce a test file.
func ffmpegMake(t *testing.T, args ...string) []byte {
	t.Helper()
	cmd := exec.Command("ffmpeg", append([]string{"-nostdin", "-v", "error", "-y"}, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("ffmpeg %v: %v: %s", args, err, errb.String())
	}
	return out.Bytes()
}

func TestFFmpegVideo(t *testing.T) {
	needFFmpeg(t)
	dir := t.TempDir()
	// 6 frames at 10 fps of a half-white, half-black picture: left half
	// white, right half black, in an MPEG-4 file.
	video := filepath.Join(dir, "clip.mp4")
	ffmpegMake(t, "-f", "lavfi", "-i", "color=c=black:s=32x24:r=10:d=0.6", "-f", "lavfi", "-i", "color=c=white:s=16x24:r=10:d=0.6",
		"-filter_complex", "[0][1]overlay=0:0", "-c:v", "mpeg4", "-q:v", "2", video)
	for _, ch := range []int{1, 3} {
		src, err := Open(video, Options{Channels: ch})
		if err != nil {
			t.Fatal(err)
		}
		got := drain(t, src)
		src.Close()
		if len(got) != 6 {
			t.Fatalf("%d frames, want 6", len(got))
		}
		if got[5].Time != 500*time.Millisecond {
			t.Errorf("frame 5 at %v", got[5].Time)
		}
		f := got[3].Frame
		if f.Shape.C != ch || f.Shape.W != 32 || f.Shape.H != 24 {
			t.Fatalf("shape %v", f.Shape)
		}
		for c := range ch {
			left, right := f.Pix[c*768+12*32+4], f.Pix[c*768+12*32+28]
			if left < 0.9 || right > 0.1 {
				t.Errorf("channel %d: left %v right %v, want white and black", c, left, right)
			}
		}
	}

	// Closing early kills ffmpeg without waiting for the whole video.
	long := filepath.Join(dir, "long.mkv")
	ffmpegMake(t, "-f", "lavfi", "-i", "testsrc=s=64x48:r=25:d=20", "-c:v", "mpeg4", long)
	src, err := Open(long, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := src.Next(); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	src.Close()
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Close took %v", d)
	}

	// A corrupt video: the error quotes ffmpeg.
	bad := write(t, filepath.Join(dir, "bad.mp4"), []byte("this is not a video"))
	if _, err := Open(bad, Options{}); err == nil || !strings.Contains(err.Error(), "ffmpeg") || !strings.Contains(err.Error(), "bad.mp4") {
		t.Errorf("corrupt video: %v", err)
	}
	// No ffmpeg: the error says how to get it.
	if _, err := NewFFmpeg(video, Options{FFmpeg: filepath.Join(dir, "no-ffmpeg")}); err == nil || !strings.Contains(err.Error(), "apt-get install ffmpeg") {
		t.Errorf("missing ffmpeg: %v", err)
	}
}

func TestStdinFromFFmpeg(t *testing.T) {
	needFFmpeg(t)
	// What `ffmpeg … -f yuv4mpegpipe -` and `ffmpeg … -f mjpeg -` (or
	// rpicam-vid --codec mjpeg -o -) write to a pipe.
	y4m := ffmpegMake(t, "-f", "lavfi", "-i", "color=c=white:s=16x8:r=5:d=0.6", "-pix_fmt", "yuv420p", "-f", "yuv4mpegpipe", "-")
	mjpeg := ffmpegMake(t, "-f", "lavfi", "-i", "color=c=white:s=16x8:r=5:d=0.6", "-q:v", "2", "-f", "mjpeg", "-")
	for name, stream := range map[string][]byte{"y4m": y4m, "mjpeg": mjpeg} {
		src, err := Open("-", Options{Stdin: bytes.NewReader(stream), FrameRate: 5})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got := drain(t, src)
		if len(got) != 3 {
			t.Fatalf("%s: %d frames, want 3", name, len(got))
		}
		// White is white whatever range the stream used.
		for _, v := range got[2].Frame.Pix {
			if v < 0.97 {
				t.Fatalf("%s: white frame has value %v", name, v)
			}
		}
		if got[2].Time != 400*time.Millisecond {
			t.Errorf("%s: frame 2 at %v", name, got[2].Time)
		}
	}
	if _, err := Open("-", Options{Stdin: strings.NewReader("RIFF....")}); err == nil || !strings.Contains(err.Error(), "raw:FORMAT:WxH:-") {
		t.Errorf("unknown stdin: %v", err)
	}
}

func TestEventFileSource(t *testing.T) {
	dir := t.TempDir()
	ev := []data.Event{{T: 1000, X: 1, Y: 2, P: 1}, {T: 1500, X: 3, Y: 4}, {T: 2600, X: 5, Y: 6, P: 1}, {T: 5200, X: 7, Y: 8}}
	var b bytes.Buffer
	if err := data.WriteNMNIST(&b, ev); err != nil {
		t.Fatal(err)
	}
	bin := write(t, filepath.Join(dir, "s.bin"), b.Bytes())
	b.Reset()
	data.WriteEventsCSV(&b, []data.Event{ev[2], ev[0], ev[3], ev[1]}) // out of order
	csv := write(t, filepath.Join(dir, "s.csv"), b.Bytes())

	// An N×4 int64 numpy array (np.save of [[x, y, t, p], …]).
	b.Reset()
	hdr := "{'descr': '<i8', 'fortran_order': False, 'shape': (4, 4), }\n"
	b.WriteString("\x93NUMPY\x01\x00")
	binary.Write(&b, binary.LittleEndian, uint16(len(hdr)))
	b.WriteString(hdr)
	for _, e := range ev {
		binary.Write(&b, binary.LittleEndian, []int64{int64(e.X), int64(e.Y), e.T, int64(e.P)})
	}
	npy := write(t, filepath.Join(dir, "s.npy"), b.Bytes())

	for _, uri := range []string{"nmnist:" + bin, bin, "events:" + csv, csv, "events:" + npy, npy} {
		src, err := Open(uri, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if src.Kind() != Events {
			t.Fatalf("%s: kind %v", uri, src.Kind())
		}
		got := drain(t, src)
		if len(got) != 1 || !slices.Equal(got[0].Events.Events, ev) {
			t.Fatalf("%s: %d batches %v", uri, len(got), got)
		}
		eb := got[0].Events
		wantW := 8 // CSV: largest x + 1
		if strings.HasSuffix(uri, ".bin") {
			wantW = 34
		}
		if eb.Start != 1000 || eb.End != 5201 || eb.Width != wantW {
			t.Errorf("%s: window [%d,%d) on %dx%d", uri, eb.Start, eb.End, eb.Width, eb.Height)
		}
	}
	// 1 ms windows from the first event: [1000,2000) [2000,3000) [3000,4000) [4000,5000) [5000,6000).
	src, err := Open(bin, Options{EventWindow: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	got := drain(t, src)
	var counts []int
	for _, g := range got {
		counts = append(counts, len(g.Events.Events))
	}
	if !slices.Equal(counts, []int{2, 1, 0, 0, 1}) || got[4].Time != 4*time.Millisecond || got[4].Events.Start != 5000 {
		t.Errorf("window counts %v, last at %v", counts, got[len(got)-1].Time)
	}
	empty := write(t, filepath.Join(dir, "empty.csv"), []byte("x,y,t,p\n"))
	if _, err := Open(empty, Options{}); err == nil || !strings.Contains(err.Error(), "no events") {
		t.Errorf("empty: %v", err)
	}
}

func TestDVSSource(t *testing.T) {
	// A bright bar moves right by one pixel per frame on a dark 8×4 frame.
	var frames []Frame
	for k := range 4 {
		f := constFrame(1, 4, 8, 0.05)
		for y := range 4 {
			f.Pix[y*8+2+k] = 0.9
		}
		frames = append(frames, f)
	}
	in := &frameSlice{frames: frames}
	src, err := NewDVS(in, DVSOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got := drain(t, src)
	if len(got) != 3 {
		t.Fatalf("%d batches from 4 frames, want 3 (the first frame sets references)", len(got))
	}
	for k, g := range got {
		b := g.Events
		if b.Width != 8 || b.Height != 4 || b.Start != int64(k)*10000+1 || b.End != int64(k+1)*10000+1 {
			t.Errorf("batch %d: %dx%d [%d,%d)", k, b.Width, b.Height, b.Start, b.End)
		}
		// The bar's new column brightens (ON), its old one darkens (OFF).
		for _, e := range b.Events {
			wantP := uint8(0)
			if int(e.X) == 3+k {
				wantP = 1
			} else if int(e.X) != 2+k {
				t.Errorf("batch %d: event at column %d", k, e.X)
			}
			if e.P != wantP || e.T < b.Start || e.T >= b.End {
				t.Errorf("batch %d: event %+v", k, e)
			}
		}
		if len(b.Events) == 0 {
			t.Errorf("batch %d has no events", k)
		}
	}
	src.Close()
	if !in.closed {
		t.Error("closing the DVS source left its frame source open")
	}
	// 15 ms windows group the frames at 10 and 20 ms, then the end of the
	// stream closes a short window holding the frame at 30 ms; resizing
	// to 4×4 crops the centre.
	in = &frameSlice{frames: frames}
	src, _ = NewDVS(in, DVSOptions{Width: 4, Height: 4, Window: 15 * time.Millisecond})
	got = drain(t, src)
	if len(got) != 2 || got[0].Events.Width != 4 || got[0].Events.End != 20001 || got[1].Events.Start != 20001 || got[1].Events.End != 30001 {
		t.Errorf("windows: %d batches %+v", len(got), got)
	}
	if _, err := NewDVS(&eventFileSource{}, DVSOptions{}); err == nil {
		t.Error("DVS over an event source accepted")
	}
}

func TestOpenURIs(t *testing.T) {
	dir := t.TempDir()
	png := write(t, filepath.Join(dir, "a.png"), encodePNG(t, pattern(4, 4)))
	y4m := write(t, filepath.Join(dir, "v.y4m"), y4mStream("YUV4MPEG2 W2 H2 F10:1 Cmono", []byte{1, 2, 3, 4}))
	mj := write(t, filepath.Join(dir, "v.mjpeg"), encodeJPEG(t, pattern(4, 4), 90))
	raw := write(t, filepath.Join(dir, "v.raw"), bytes.Repeat([]byte{255}, 2*2*3*2))
	odd := write(t, filepath.Join(dir, "x:y.png"), encodePNG(t, pattern(4, 4)))

	for _, c := range []struct {
		uri    string
		kind   Kind
		frames int
	}{
		{png, Frames, 1},
		{dir, Frames, 2}, // a.png and x:y.png
		{y4m, Frames, 1},
		{"y4m:" + y4m, Frames, 1},
		{mj, Frames, 1},
		{"mjpeg:" + mj, Frames, 1},
		{"raw:rgb24:2x2:" + raw, Frames, 2},
		{"raw:i420:2x2:full:" + raw, Frames, 4}, // 6-byte frames
		{"dvs:" + y4m, Events, 0},
		{odd, Frames, 1},
	} {
		src, err := Open(c.uri, Options{})
		if err != nil {
			t.Errorf("%s: %v", c.uri, err)
			continue
		}
		if src.Kind() != c.kind {
			t.Errorf("%s: kind %v", c.uri, src.Kind())
		}
		if n := len(drain(t, src)); n != c.frames {
			t.Errorf("%s: %d samples, want %d", c.uri, n, c.frames)
		}
		src.Close()
	}
	for _, c := range []struct{ uri, want string }{
		{"nope:thing", `unknown scheme "nope"`},
		{filepath.Join(dir, "missing.png"), "no such file"},
		{write(t, filepath.Join(dir, "x.dat"), []byte{1}), `extension ".dat"`},
		{"raw:rgb24:2by2:" + raw, "is not WIDTHxHEIGHT"},
		{"raw:rgb24", "too few fields"},
		{"raw:bgr:2x2:" + raw, "unknown pixel format"},
		{"v4l2:", "no device path"},
		{"v4l2:/dev/video9?size=big", `size "big"`},
		{"v4l2:/dev/video9?fps=30", `unknown parameter "fps"`},
		{"v4l2:/dev/nonexistent-video", "nonexistent-video"},
		{"dvs:", "needs a source"},
		{"y4m:" + png, "does not start with YUV4MPEG2"},
		{"dvs:dvs:" + y4m, "yields events, not frames"},
	} {
		_, err := Open(c.uri, Options{})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.uri, err, c.want)
		}
	}
}
