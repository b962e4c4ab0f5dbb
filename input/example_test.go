package input_test

import (
	"bytes"
	"fmt"
	"io"
	"log"

	"github.com/bsnn/bsnn/data"
	"github.com/bsnn/bsnn/input"
	"github.com/bsnn/bsnn/model"
)

// Reading frames from a pipe (here a two-frame 4×2 gray Y4M stream, as
// `ffmpeg ... -f yuv4mpegpipe -pix_fmt gray -` writes it) and turning each
// into a 2×2 model input.
func Example() {
	var stream bytes.Buffer
	stream.WriteString("YUV4MPEG2 W4 H2 F10:1 Cmono\n")
	for _, v := range []byte{0, 255} {
		stream.WriteString("FRAME\n")
		stream.Write(bytes.Repeat([]byte{v}, 8))
	}

	spec := model.InputSpec{Shape: model.Shape{C: 1, H: 2, W: 2}, Encoding: model.EncodingDirect, Timesteps: 4}
	src, err := input.Open("-", input.Options{Stdin: &stream})
	if err != nil {
		log.Fatal(err)
	}
	defer src.Close()
	pre, err := input.NewPreprocessor(spec, data.BinBinary)
	if err != nil {
		log.Fatal(err)
	}
	x := make([]float32, pre.Len())
	for {
		s, err := src.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			log.Fatal(err)
		}
		if err := pre.Convert(x, src.Kind(), s); err != nil {
			log.Fatal(err)
		}
		fmt.Println(s.Seq, s.Time, s.Frame.Shape, x)
	}
	// Output:
	// 0 0s 1×2×4 [0 0 0 0]
	// 1 100ms 1×2×4 [1 1 1 1]
}
