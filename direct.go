package zerocopy

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/zerocopy-go/zerocopy/directio"
)

// direct streams a regular-file source at least DirectIOThreshold bytes
// large through a direct-I/O Reader, and writes a regular-file destination
// with direct I/O too (directWriter), so that neither file passes through
// the page cache. handled is false, with nothing moved, when it does not
// apply (no threshold, a smaller or non-regular source, O_DIRECT refused
// at open, or the first direct read failed): the next tries run from the
// same byte, and the tally says why.
func (k *call) direct(dst io.Writer, s *source) (int64, bool, error) {
	r, err := k.directReader(s)
	if r == nil {
		k.t.note(err)
		return 0, false, nil
	}
	defer r.Close()
	w, end := k.directWriter(dst)
	rw := &recordWriter{w: w}
	n, err := r.WriteTo(&limitWriter{w: rw, left: s.remain})
	if err == errLimit {
		err = nil
	}
	if n == 0 && err != nil && rw.err == nil {
		// The O_DIRECT open succeeded but the first read failed (EINVAL,
		// EOPNOTSUPP or EIO: FUSE, some overlay and network filesystems
		// take O_DIRECT at open and refuse the reads). Nothing has moved
		// and the offsets are untouched: the next tries run from the same
		// byte, and report the error themselves if it is real.
		_, _ = end(0, nil)
		k.t.note(err)
		return 0, false, nil
	}
	n, err = end(n, err)
	k.t.add(MethodDirectIO, n)
	if err == nil {
		k.t.finish(MethodDirectIO)
	}
	if f := s.file(); !s.at && n > 0 {
		// Leave f's own offset after the bytes copied, as io.Copy does.
		if _, serr := f.Seek(r.start+n, io.SeekStart); serr != nil && err == nil {
			err = serr
		}
	}
	s.skip(n)
	return n, true, err
}

// directReader returns a direct-I/O Reader of s's range when the
// threshold applies to it; nil with the reason (or none) otherwise.
func (k *call) directReader(s *source) (*directReader, error) {
	f := s.file()
	if k.c.DirectIOThreshold <= 0 || f == nil || !largeFile(f, k.c.DirectIOThreshold) {
		return nil, nil
	}
	start := s.off
	if !s.at {
		var err error
		if start, err = f.Seek(0, io.SeekCurrent); err != nil {
			return nil, nil // not seekable after all: the next tries decide
		}
	}
	return openDirect(f, start)
}

// largeFile reports whether f is a regular file of at least size bytes.
func largeFile(f *os.File, size int64) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode().IsRegular() && fi.Size() >= size
}

// openDirect returns a direct-I/O Reader of f from off, on a descriptor of
// its own (the caller's flags and offset are untouched). The Reader owns
// that descriptor: closing it closes both.
func openDirect(f *os.File, off int64) (*directReader, error) {
	g, err := directio.ReopenDirect(f, os.O_RDONLY)
	if err != nil {
		return nil, err
	}
	if _, err := g.Seek(off, io.SeekStart); err != nil {
		_ = g.Close()
		return nil, err
	}
	r, err := directio.NewReader(g, nil)
	if err != nil {
		_ = g.Close()
		return nil, err
	}
	return &directReader{Reader: r, f: g, start: off}, nil
}

// directReader is a direct-I/O Reader with the descriptor it reads.
type directReader struct {
	*directio.Reader
	f     *os.File
	start int64 // the source offset it started at
}

func (r *directReader) Close() error { return errors.Join(r.Reader.Close(), r.f.Close()) }

// directWriter returns what a direct-I/O copy writes to, and the function
// that finishes the writes and returns, of the n bytes taken in, those
// that reached the destination. A regular file is written by a
// directio.Writer at its offset, on a descriptor of its file reopened with
// O_DIRECT, and left at its offset after the bytes written. Where that
// cannot be (O_DIRECT refused, an O_APPEND file: the reopened descriptor
// would not append, a platform that reopens no destination), the
// directio.Writer writes the file itself, through the page cache, and
// drops what it wrote; the tally says why. Any other destination is
// written as it is. Progress and a context count what the writer takes in.
func (k *call) directWriter(dst io.Writer) (io.Writer, func(n int64, err error) (int64, error)) {
	var w io.Writer = dst
	end := func(n int64, err error) (int64, error) { return n, err }
	if f, ok := dst.(*os.File); ok && regularFile(f) {
		dw, finish, err := directFile(f, directWritable(f))
		if dw != nil {
			w, end = dw, finish
		}
		k.t.note(err)
	}
	if k.prog != nil {
		w = &progressWriter{w: w, p: k.prog}
	}
	return w, end
}

func regularFile(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode().IsRegular()
}

// directFile returns a directio.Writer for f at f's offset, and the
// function that flushes it and counts what landed. why, if not nil, says
// why f is not to be reopened with O_DIRECT: the Writer then writes f
// itself and drops behind, and the error returned says so.
func directFile(f *os.File, why error) (*directio.Writer, func(int64, error) (int64, error), error) {
	start, err := f.Seek(0, io.SeekCurrent)
	if err != nil {
		return nil, nil, err
	}
	var g *os.File
	if why == nil {
		if g, why = directio.ReopenDirect(f, os.O_WRONLY); why == nil {
			if _, why = g.Seek(start, io.SeekStart); why != nil {
				_ = g.Close()
				g = nil
			}
		}
	}
	target := f
	if g != nil {
		target = g
	}
	dw, err := directio.NewWriter(target)
	if err != nil {
		if g != nil {
			_ = g.Close()
		}
		return nil, nil, err
	}
	finish := func(n int64, err error) (int64, error) {
		if cerr := dw.Close(); cerr != nil && err == nil {
			n, err = n-int64(dw.Buffered()), cerr // the tail that did not land
		}
		if g != nil {
			_ = g.Close()
			if _, serr := f.Seek(start+n, io.SeekStart); serr != nil && err == nil {
				err = serr
			}
		}
		return n, err
	}
	if why != nil {
		return dw, finish, fmt.Errorf("zerocopy: dst written through the page cache and dropped behind: %w", why)
	}
	return dw, finish, nil
}

// recordWriter passes writes on to w and keeps w's first error, so that a
// failure of the destination is told apart from a failure of the source.
type recordWriter struct {
	w   io.Writer
	err error
}

func (r *recordWriter) Write(p []byte) (int, error) {
	n, err := r.w.Write(p)
	if err != nil && r.err == nil {
		r.err = err
	}
	return n, err
}

// limitWriter passes on at most left bytes (noLimit: all), then stops the
// writer feeding it with errLimit.
type limitWriter struct {
	w    io.Writer
	left int64
}

var errLimit = errors.New("zerocopy: limit reached")

func (l *limitWriter) Write(p []byte) (int, error) {
	short := int64(len(p)) > l.left
	if short {
		p = p[:l.left]
	}
	n, err := l.w.Write(p)
	l.left -= int64(n)
	if err == nil && (short || l.left == 0) {
		err = errLimit
	}
	return n, err
}
