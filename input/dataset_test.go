package input

import (
	"errors"
	"io"
	"testing"
)

func TestDatasetSource(t *testing.T) {
	src, err := Open("dataset:mnist:test?n=3", Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	// The first MNIST test digits are 7, 2, 1.
	for i, want := range []string{"7/00000", "2/00001", "1/00002"} {
		s, err := src.Next()
		if err != nil {
			t.Fatal(err)
		}
		if s.Name != want || s.Seq != i {
			t.Errorf("sample %d: name %q seq %d, want %q", i, s.Name, s.Seq, want)
		}
		if sh := s.Frame.Shape; sh.C != 1 || sh.H != 28 || sh.W != 28 || len(s.Frame.Pix) != 784 {
			t.Fatalf("sample %d: shape %v with %d values", i, sh, len(s.Frame.Pix))
		}
		var sum float32
		for _, v := range s.Frame.Pix {
			if v < 0 || v > 1 {
				t.Fatalf("pixel %v outside [0,1]", v)
			}
			sum += v
		}
		if sum < 10 {
			t.Errorf("sample %d is nearly blank (sum %v)", i, sum)
		}
	}
	if _, err := src.Next(); !errors.Is(err, io.EOF) {
		t.Errorf("after n samples: %v, want io.EOF", err)
	}

	rgb, err := Open("dataset:mnist?n=1", Options{Channels: 3})
	if err != nil {
		t.Fatal(err)
	}
	s, err := rgb.Next()
	if err != nil {
		t.Fatal(err)
	}
	if s.Frame.Shape.C != 3 || len(s.Frame.Pix) != 3*784 || s.Frame.Pix[400] != s.Frame.Pix[784+400] {
		t.Errorf("gray to RGB: shape %v", s.Frame.Shape)
	}
}

func TestDatasetSourceErrors(t *testing.T) {
	for _, uri := range []string{"dataset:cifar", "dataset:mnist:val", "dataset:mnist?n=0", "dataset:mnist?count=3"} {
		if _, err := Open(uri, Options{}); err == nil {
			t.Errorf("%s: no error", uri)
		}
	}
}
