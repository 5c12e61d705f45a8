package zerocopy

import (
	"io"
	"os"

	"github.com/zerocopy-go/zerocopy/internal/sys"
)

// noLimit is a range without a byte limit (sys.NoLimit: math.MaxInt64, as
// the stdlib writes it).
const noLimit = sys.NoLimit

// source is what a transfer reads, looked through once: the value that may
// hold the descriptor (behind an *io.LimitedReader and an
// *io.SectionReader), the range, and the wrappers to move past what the
// kernel moved without them.
type source struct {
	// r is the caller's reader, which the buffered path reads; nil for
	// SendFile, whose file is read at off with ReadAt.
	r io.Reader
	// holder is the value that may hold the descriptor: r, or the value a
	// LimitedReader or SectionReader wraps. nil when no kernel path may
	// read it (a section at a negative offset: the ReaderAt reports it).
	holder any
	at     bool  // read at explicit offsets from off; else at holder's own offset
	off    int64 // the next offset, when at
	remain int64 // bytes still wanted; noLimit: to EOF

	lr *io.LimitedReader // advanced past what moved without it
	sr *io.SectionReader // likewise
}

// newSource looks through r's wrappers for a transfer of at most limit
// bytes (noLimit: to EOF). A LimitedReader's N and a SectionReader's
// position lower the limit; remain 0 means there is nothing to copy.
func newSource(r io.Reader, limit int64) source {
	s := source{r: r, holder: r, remain: limit}
	if lr, ok := r.(*io.LimitedReader); ok {
		s.lr, s.holder, s.remain = lr, lr.R, min(limit, max(lr.N, 0))
	}
	if sr, ok := s.holder.(*io.SectionReader); ok {
		ra, base, _ := sr.Outer()
		// Size, not Outer's n: NewSectionReader turns an n that overflows
		// base+n into "to the end of the offsets" (its limit), and so must
		// we.
		pos, _ := sr.Seek(0, io.SeekCurrent) // never fails for SeekCurrent
		s.remain = min(s.remain, max(sr.Size()-pos, 0))
		s.holder, s.sr, s.at, s.off = ra, sr, true, base+pos
		if s.off < 0 {
			// A negative section offset is the ReaderAt's error to report
			// ("negative offset"), through the buffered path.
			s.holder, s.sr = nil, nil
		}
	}
	return s
}

// fileSource is SendFile's range: count bytes of f from off (noLimit: to
// EOF), never through f's own offset.
func fileSource(f *os.File, off, count int64) source {
	return source{holder: f, at: true, off: off, remain: count}
}

// Read reads the next bytes of the range through the caller's reader (or,
// for SendFile, with ReadAt), for the buffered path and for a wrapper that
// copies through its own buffer.
func (s *source) Read(p []byte) (n int, err error) {
	if s.remain <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > s.remain {
		p = p[:s.remain]
	}
	if s.r != nil {
		n, err = s.r.Read(p) // advances the wrappers itself
	} else {
		n, err = s.holder.(*os.File).ReadAt(p, s.off)
		if err == io.EOF && n > 0 {
			err = nil
		}
	}
	if n > 0 {
		s.remain -= int64(n)
		if s.at {
			s.off += int64(n)
		}
	}
	return n, err
}

// skip records n bytes that a kernel path (or a wrapper's WriteTo) moved
// from the holder directly: the range moves on, and so do the wrappers,
// so that the next path resumes at the exact next byte and the caller sees
// them advanced. A file read at its own offset has been advanced by the
// path itself.
func (s *source) skip(n int64) {
	if n <= 0 {
		return
	}
	s.remain -= n
	if s.at {
		s.off += n
	}
	if s.lr != nil {
		s.lr.N -= n
	}
	if s.sr != nil {
		_, _ = s.sr.Seek(n, io.SeekCurrent) // never fails for SeekCurrent
	}
}

// file is the holder as an *os.File, or nil.
func (s *source) file() *os.File {
	f, _ := s.holder.(*os.File)
	return f
}
