// Package input holds the sources bsnn-run reads: cameras (V4L2), raw, Y4M
// and MJPEG streams on any reader (stdin from rpicam-vid or ffmpeg), video
// files through an ffmpeg subprocess, image files and folders, event files
// (N-MNIST binary, CSV), and a simulated DVS that turns any frame source
// into ON/OFF events. Open parses the -input URI; a Preprocessor turns what
// a source yields into the floats a model's InputSpec asks for.
//
// Frames are planar float32 [C][H][W] in [0,1], gray (C = 1) or RGB (C = 3),
// at the source's own resolution: cropping, resizing, channel conversion and
// event binning happen in the Preprocessor. Normalization by the model's
// Mean/Std is not done here: the runtime applies (x − Mean)/Std itself for
// EncodingDirect (see runtime's package doc), so this package hands it
// values in [0,1].
//
// Y'CbCr sources are converted with the BT.601 matrix; the luma range
// (full 0-255 or limited 16-235) is Options.Range if set, else comes from
// the stream where it says (Y4M's XCOLORRANGE, V4L2's quantization), else
// from the convention of the format (JPEG, Y4M mono and raw gray: full;
// other Y4M, raw Y'CbCr and V4L2 YUYV: limited, so an untagged colour Y4M
// stream is read as limited range).
//
// For gray models a stream can skip the float frame: with Options.Luma,
// Y4M and raw sources hand out their luma bytes (Sample.Luma) and
// Preprocessor.Luma area-resizes them in integers, so the per-frame path
// reads into one reused buffer and allocates nothing.
package input

import (
	"io"
	"time"

	"github.com/bsnn/bsnn/data"
	"github.com/bsnn/bsnn/model"
)

// Kind says what a source yields.
type Kind uint8

// Source kinds.
const (
	Frames Kind = iota // Sample.Frame is set
	Events             // Sample.Events is set
)

// String returns "frames" or "events".
func (k Kind) String() string {
	if k == Events {
		return "events"
	}
	return "frames"
}

// Frame is one image: Shape.C planes of Shape.H×Shape.W values in [0,1].
type Frame struct {
	Shape model.Shape
	Pix   []float32
}

// EventBatch is the events of one time window [Start, End) µs on a
// Width×Height sensor, in time order.
type EventBatch struct {
	Width, Height int
	Start, End    int64
	Events        []data.Event
}

// Sample is one item from a source.
type Sample struct {
	Seq    int           // 0, 1, 2, … in the order the source yields them
	Time   time.Duration // capture time (frames) or window start (events), from the source's start
	Name   string        // the file a sample came from (image folders and files), else ""
	Frame  Frame         // for Frames sources
	Luma   Luma          // instead of Frame, from sources in luma mode (Options.Luma)
	Events EventBatch    // for Events sources
}

// Source yields frames or event batches. Next returns io.EOF after the last
// sample; the returned *Sample and its slices are reused by the following
// call, so copy what must outlive it. Sources are not safe for concurrent
// use.
type Source interface {
	Kind() Kind
	Next() (*Sample, error)
	Close() error
}

// Options tune the sources Open builds. The zero value is usable.
type Options struct {
	// Channels asks frame sources for gray (1) or RGB (3) frames; 0 means
	// 1. Set it from the model's input so conversion happens once.
	Channels int
	// Stdin is what "-" reads (nil: os.Stdin).
	Stdin io.Reader
	// FFmpeg is the ffmpeg binary for video files ("" : "ffmpeg" on PATH).
	FFmpeg string
	// FrameRate stamps frames of streams that carry no timing (MJPEG, raw)
	// as Seq/FrameRate; 0 stamps them with the time they were read.
	FrameRate float64
	// V4L2 capture settings: frame size (0: 640×480), pixel format ("yuyv",
	// "mjpeg" or "": YUYV, else MJPEG), and the number of buffers (0: 4).
	Width, Height int
	PixelFormat   string
	Buffers       int
	// EventWindow cuts event files into batches of this length; 0 yields
	// each file as one batch (one N-MNIST sample).
	EventWindow time.Duration
	// SensorWidth and SensorHeight set an event file's sensor size; 0 uses
	// 34×34 for N-MNIST files and the largest coordinate + 1 for CSV.
	SensorWidth, SensorHeight int
	// Luma asks the 8-bit Y'CbCr stream sources (Y4M, ffmpeg, raw gray,
	// i420, nv12 and yuyv) to yield each frame's luma plane in Sample.Luma,
	// in place in their read buffer, instead of a float Sample.Frame: for
	// gray models, whose Preprocessor.Luma then crops, resizes and maps it
	// in one pass. Other sources ignore it and yield frames.
	Luma bool
	// Range overrides the luma range of Y'CbCr streams (Y4M, ffmpeg, raw,
	// V4L2 YUYV and GREY); RangeAuto keeps the stream's tag or its format's
	// convention (see RangeAuto). JPEG is always full range.
	Range Range
	// DVS configures "dvs:" sources.
	DVS DVSOptions
}

// DVSOptions configure the simulated DVS that "dvs:" puts in front of a
// frame source.
type DVSOptions struct {
	Config data.DVSConfig
	// Width and Height resize (centre crop, bilinear) frames before the
	// sensor sees them; 0 keeps the frame size. bsnn-run sets the model's
	// input size, so events land on the model's grid.
	Width, Height int
	// Window groups the events of consecutive frames into batches of this
	// length; 0 yields one batch per frame.
	Window time.Duration
}

func (o *Options) channels() int {
	if o.Channels == 3 {
		return 3
	}
	return 1
}
