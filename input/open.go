package input

import (
	"bufio"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/bsnn/bsnn/data"
)

// Usage describes the source URIs Open accepts, for -help texts.
const Usage = `input sources:
  v4l2:/dev/video0[?size=WxH&format=yuyv|mjpeg]   V4L2 camera (also a bare /dev/videoN)
  -                                  stdin: Y4M or MJPEG, told apart by the first bytes
                                     (rpicam-vid --codec mjpeg -o -, ffmpeg -f yuv4mpegpipe -)
  y4m:PATH, mjpeg:PATH               a Y4M or MJPEG stream from a file or - (stdin)
  raw:FMT:WxH[:full|:limited]:PATH   raw frames (FMT gray, rgb24, yuyv, i420, nv12; PATH or -)
  ffmpeg:INPUT                       anything ffmpeg opens (file, device, rtsp:// URL)
  FILE.mp4|.mkv|.avi|.mov|.webm|…    a video file, decoded by ffmpeg
  FILE.y4m, FILE.mjpeg               read directly
  FILE.png|.jpg|.jpeg, or FOLDER     images (a folder is walked recursively)
  nmnist:FILE, events:FILE.csv|.npy  event files (also a bare .bin, .csv or .npy path)
  dvs:SOURCE                         a simulated DVS turning SOURCE's frames into events
  dataset:mnist|fashion[:train|test][?n=N]  images of a built-in data set, named CLASS/INDEX

Luma range of Y'CbCr streams (-range auto): a Y4M stream's XCOLORRANGE tag,
else full for Y4M mono and limited for colour Y4M (ffmpeg's untagged yuv420p
is limited: 16 black, 235 white); raw i420/nv12/yuyv limited and raw gray
full unless the URI says :full or :limited; V4L2 by its quantization. JPEG is
always full range.`

var videoExts = map[string]bool{
	".mp4": true, ".m4v": true, ".mkv": true, ".avi": true, ".mov": true, ".webm": true,
	".mpg": true, ".mpeg": true, ".ts": true, ".flv": true, ".wmv": true, ".ogv": true,
	".h264": true, ".264": true, ".h265": true, ".hevc": true, ".gif": true, ".3gp": true,
}

// Open opens the source an -input value names (see Usage).
func Open(uri string, opt Options) (Source, error) {
	scheme, rest, hasScheme := strings.Cut(uri, ":")
	if !hasScheme || len(scheme) < 2 { // "C:\…" is a path, not a scheme
		scheme, rest = "", uri
	}
	switch scheme {
	case "dvs":
		if rest == "" {
			return nil, fmt.Errorf("input %q: dvs: needs a source, e.g. dvs:v4l2:/dev/video0", uri)
		}
		inner := opt
		inner.Luma = false // the DVS reads float frames
		src, err := Open(rest, inner)
		if err != nil {
			return nil, err
		}
		d, err := NewDVS(src, opt.DVS)
		if err != nil {
			src.Close()
			return nil, fmt.Errorf("input %q: %w", uri, err)
		}
		return d, nil
	case "dataset":
		return NewDataset(rest, opt)
	case "v4l2":
		return openV4L2(rest, opt)
	case "y4m", "mjpeg":
		r, err := openStream(rest, opt)
		if err != nil {
			return nil, err
		}
		if scheme == "mjpeg" {
			return NewMJPEG(r, opt), nil
		}
		s, err := NewY4M(r, opt)
		if err != nil {
			r.Close()
			return nil, fmt.Errorf("%s: %w", rest, err)
		}
		return s, nil
	case "raw":
		return openRaw(uri, rest, opt)
	case "ffmpeg":
		return NewFFmpeg(rest, opt)
	case "nmnist":
		return NewEventFile(rest, "nmnist", opt)
	case "events":
		format := "csv"
		switch strings.ToLower(filepath.Ext(rest)) {
		case ".bin":
			format = "nmnist"
		case ".npy":
			format = "npy"
		}
		return NewEventFile(rest, format, opt)
	case "":
	default:
		if _, err := os.Stat(uri); err != nil {
			return nil, fmt.Errorf("input %q: unknown scheme %q\n%s", uri, scheme, Usage)
		}
		// A file name with a colon in it.
	}

	if uri == "-" {
		return openStdin(opt)
	}
	if strings.HasPrefix(uri, "/dev/video") {
		return openV4L2(uri, opt)
	}
	st, err := os.Stat(uri)
	if err != nil {
		return nil, fmt.Errorf("input %q: %w\n%s", uri, err, Usage)
	}
	if st.IsDir() {
		return NewImages(uri, opt)
	}
	ext := strings.ToLower(filepath.Ext(uri))
	switch {
	case data.ImageExt(uri):
		return NewImages(uri, opt)
	case ext == ".y4m":
		return Open("y4m:"+uri, opt)
	case ext == ".mjpeg" || ext == ".mjpg":
		return Open("mjpeg:"+uri, opt)
	case ext == ".bin":
		return NewEventFile(uri, "nmnist", opt)
	case ext == ".csv":
		return NewEventFile(uri, "csv", opt)
	case ext == ".npy":
		return NewEventFile(uri, "npy", opt)
	case videoExts[ext]:
		return NewFFmpeg(uri, opt)
	}
	return nil, fmt.Errorf("input %q: cannot tell what kind of file this is from its extension %q; use ffmpeg:%s for video\n%s", uri, ext, uri, Usage)
}

// openStream opens a file, or stdin for "-".
func openStream(path string, opt Options) (io.ReadCloser, error) {
	if path == "-" {
		var in io.Reader = os.Stdin
		if opt.Stdin != nil {
			in = opt.Stdin
		}
		if f, ok := in.(*os.File); ok {
			growPipe(f)
		}
		return io.NopCloser(in), nil
	}
	return os.Open(path)
}

// openStdin sniffs stdin's format from its first bytes.
func openStdin(opt Options) (Source, error) {
	in, _ := openStream("-", opt)
	br := bufio.NewReaderSize(in, 1<<16)
	head, err := br.Peek(9)
	if err != nil && len(head) == 0 {
		return nil, fmt.Errorf("input -: nothing on stdin: %w", err)
	}
	format, err := sniff(head)
	if err != nil {
		return nil, fmt.Errorf("input -: %w", err)
	}
	if format == "y4m" {
		return NewY4M(br, opt)
	}
	return NewMJPEG(br, opt), nil
}

// openRaw parses raw:FMT:WxH[:full|:limited]:PATH.
func openRaw(uri, rest string, opt Options) (Source, error) {
	parts := strings.SplitN(rest, ":", 4)
	bad := func(why string) error {
		return fmt.Errorf("input %q: %s; expected raw:FORMAT:WIDTHxHEIGHT[:full]:PATH (FORMAT one of %s, PATH a file or -)", uri, why, strings.Join(RawFormats, ", "))
	}
	if len(parts) < 3 {
		return nil, bad("too few fields")
	}
	format := parts[0]
	ws, hs, ok := strings.Cut(parts[1], "x")
	w, e1 := strconv.Atoi(ws)
	h, e2 := strconv.Atoi(hs)
	if !ok || e1 != nil || e2 != nil {
		return nil, bad(fmt.Sprintf("size %q is not WIDTHxHEIGHT", parts[1]))
	}
	full := false
	path := strings.Join(parts[2:], ":")
	if len(parts) == 4 && (parts[2] == "full" || parts[2] == "limited") {
		// The URI's own range is more specific than Options.Range.
		full, path = parts[2] == "full", parts[3]
		opt.Range = RangeLimited
		if full {
			opt.Range = RangeFull
		}
	}
	r, err := openStream(path, opt)
	if err != nil {
		return nil, err
	}
	s, err := NewRaw(r, format, w, h, full, opt)
	if err != nil {
		r.Close()
		return nil, fmt.Errorf("input %q: %w", uri, err)
	}
	return s, nil
}

// openV4L2 parses /dev/videoN[?size=WxH&format=F&buffers=N] and opens it.
func openV4L2(rest string, opt Options) (Source, error) {
	path, query, _ := strings.Cut(rest, "?")
	if path == "" {
		return nil, fmt.Errorf("input v4l2:%s: no device path (e.g. v4l2:/dev/video0)", rest)
	}
	q, err := url.ParseQuery(query)
	if err != nil {
		return nil, fmt.Errorf("input v4l2:%s: %w", rest, err)
	}
	for k, v := range q {
		val := v[len(v)-1]
		switch k {
		case "size":
			ws, hs, ok := strings.Cut(val, "x")
			w, e1 := strconv.Atoi(ws)
			h, e2 := strconv.Atoi(hs)
			if !ok || e1 != nil || e2 != nil || w <= 0 || h <= 0 {
				return nil, fmt.Errorf("input v4l2:%s: size %q is not WIDTHxHEIGHT", rest, val)
			}
			opt.Width, opt.Height = w, h
		case "format":
			opt.PixelFormat = val
		case "buffers":
			n, err := strconv.Atoi(val)
			if err != nil || n <= 0 {
				return nil, fmt.Errorf("input v4l2:%s: buffers %q", rest, val)
			}
			opt.Buffers = n
		default:
			return nil, fmt.Errorf("input v4l2:%s: unknown parameter %q (size, format, buffers)", rest, k)
		}
	}
	dev, err := OpenDevice(path)
	if err != nil {
		return nil, err
	}
	return NewV4L2(dev, path, opt)
}
