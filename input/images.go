package input

import (
	"fmt"
	"image"
	_ "image/jpeg" // register JPEG for image.Decode
	_ "image/png"  // register PNG for image.Decode
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/bsnn/bsnn/data"
)

// imageSource yields image files one by one.
type imageSource struct {
	root     string
	files    []string // relative to root (or a base name for a single file)
	next     int
	channels int
	clock    clock
	sample   Sample
}

// NewImages yields one PNG or JPEG file, or every .png/.jpg/.jpeg file under
// a folder (recursively, depth first, sorted by name within each folder;
// hidden entries are skipped). Sample.Name is the path relative to the folder, so a labelled
// folder (one subfolder per class) names each sample's class. A file that
// does not decode is an error naming it; Next may be called again to go on
// with the next file.
func NewImages(path string, opt Options) (Source, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	s := &imageSource{channels: opt.channels(), clock: newClock(opt.FrameRate)}
	if !st.IsDir() {
		if !data.ImageExt(path) {
			return nil, fmt.Errorf("%s: not a .png, .jpg or .jpeg file", path)
		}
		s.root, s.files = filepath.Dir(path), []string{filepath.Base(path)}
		return s, nil
	}
	s.root = path
	err = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != path && strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.IsDir() && data.ImageExt(p) {
			rel, _ := filepath.Rel(path, p)
			s.files = append(s.files, rel)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(s.files) == 0 {
		return nil, fmt.Errorf("%s: no .png, .jpg or .jpeg files in this folder or below", path)
	}
	return s, nil
}

func (s *imageSource) Kind() Kind { return Frames }

func (s *imageSource) Next() (*Sample, error) {
	if s.next >= len(s.files) {
		return nil, io.EOF
	}
	name := s.files[s.next]
	seq := s.next
	s.next++
	p := filepath.Join(s.root, name)
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		return nil, fmt.Errorf("%s: cannot decode image: %w", p, err)
	}
	if err := imageToFrame(&s.sample.Frame, img, s.channels); err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	s.sample.Seq, s.sample.Time, s.sample.Name = seq, s.clock.at(seq), name
	return &s.sample, nil
}

func (s *imageSource) Close() error { return nil }
