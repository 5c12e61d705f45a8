//go:build linux && !purego

package zerocopy

import (
	"errors"
	"fmt"
	"io"

	"github.com/zerocopy-go/zerocopy/internal/splicer"
	"github.com/zerocopy-go/zerocopy/internal/sys"
)

// kernel moves s to dst inside the kernel where both sides have
// descriptors: splice from a stream socket or pipe (splice_linux.go),
// copy_file_range or sendfile from a regular file (filecopy_linux.go).
// Both ends are described once by splicer.Open. When it returns unhandled,
// the buffered path resumes at the exact next byte (s has been moved past
// what moved); the tally says why a side was passed over.
func (k *call) kernel(dst io.Writer, s *source) (int64, bool, error) {
	if s.holder == nil {
		return 0, false, nil
	}
	src, serr := openSource(s)
	d, derr := splicer.Open(dst, true)
	if serr != nil || derr != nil {
		k.passOver(dst, s.holder, derr, serr)
		return 0, false, nil
	}
	var n int64
	var handled bool
	var err error
	switch {
	case src.Kind == sys.KindStream, src.Kind == sys.KindPipe:
		n, handled, err = k.spliceFrom(d, src, s.remain)
	case s.at || src.Size > 0:
		// A file read at its own offset that reports size 0 may be a
		// pseudo-file (/proc) that copies as empty: the buffered path.
		n, handled, err = k.fromFile(d, src, s)
	}
	s.skip(n)
	return n, handled, err
}

// openSource describes s's holder as a source. One read at explicit
// offsets (SendFile, a SectionReader) is taken for a regular file without
// asking (no fstat on that path: the kernel refuses anything else itself,
// and a 0 return is checked against fstat before it is taken as EOF).
func openSource(s *source) (splicer.End, error) {
	if !s.at {
		return splicer.Open(s.holder, false)
	}
	rc, ok := sys.RawConn(s.holder)
	if !ok {
		return splicer.End{}, splicer.ErrNoDescriptor
	}
	e := splicer.End{RC: rc}
	e.Kind = sys.KindFile
	return e, nil
}

// passOver notes why the kernel paths were passed over, where the Report
// should say so: an O_APPEND destination, or one side without a
// descriptor while the other has one (a wrapper hiding its conn or file).
// A closed value is not noted: the buffered path reports it in io.Copy's
// words. Nor is a pair no kernel path could serve (a datagram socket, a
// directory, an in-memory buffer).
func (k *call) passOver(dst io.Writer, holder any, derr, serr error) {
	switch {
	case errors.Is(derr, splicer.ErrAppend):
		k.t.note(fmt.Errorf("zerocopy: dst %T: %w", dst, derr))
	case errors.Is(derr, splicer.ErrNoDescriptor) && serr == nil && !inMemory(dst):
		k.t.note(noDescriptor("dst", dst))
	case errors.Is(serr, splicer.ErrNoDescriptor) && derr == nil && !inMemory(holder):
		k.t.note(noDescriptor("src", holder))
	}
}
