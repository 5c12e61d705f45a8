package mmap

import (
	"errors"
	"fmt"
	"io"
)

// Reader reads a Mapping as a stream: io.Reader, io.Seeker, io.ReaderAt
// and io.WriterTo, with a position of its own that starts at 0. It is what
// a program written for golang.org/x/exp/mmap's Read and Seek needs.
//
// An io.SectionReader over the Mapping would read and seek as well; Reader
// adds WriteTo, so that io.Copy(conn, r) takes the mmap+write path from the
// current position (one CPU copy, the pages written straight from the
// mapping) instead of going through io.Copy's 32 KiB buffer. Every read is
// protected as ReadAt is (ErrTruncated, never SIGBUS).
//
// Any number of Readers may read one Mapping at once; one Reader, like a
// bytes.Reader, is for one goroutine at a time. The Mapping's length is
// read at each call, so a Reader follows Resize. After the Mapping is
// closed every method returns ErrClosed.
type Reader struct {
	m   *Mapping
	off int64
}

// NewReader returns a Reader of m from its first byte.
func NewReader(m *Mapping) *Reader { return &Reader{m: m} }

// Read reads up to len(p) bytes from the position and advances it
// (io.Reader). At the mapping's end it returns 0, io.EOF.
func (r *Reader) Read(p []byte) (int, error) {
	n, err := r.m.ReadAt(p, r.off)
	r.off += int64(n)
	if err == io.EOF && n > 0 {
		err = nil // the next Read reports the end
	}
	return n, err
}

// ReadAt reads at off without moving the position (io.ReaderAt): the
// Mapping's ReadAt.
func (r *Reader) ReadAt(p []byte, off int64) (int, error) { return r.m.ReadAt(p, off) }

// Seek sets the position for the next Read or WriteTo (io.Seeker). A
// position past the end is allowed (Read then returns io.EOF); a negative
// one is an error.
func (r *Reader) Seek(offset int64, whence int) (int64, error) {
	var base int64
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		base = r.off
	case io.SeekEnd:
		if r.m.closed() {
			return 0, ErrClosed
		}
		base = int64(r.m.Len())
	default:
		return 0, fmt.Errorf("mmap: Reader.Seek: invalid whence %d", whence)
	}
	pos := base + offset
	if (offset > 0 && pos < base) || pos < 0 {
		return 0, errors.New("mmap: Reader.Seek: negative position")
	}
	r.off = pos
	return pos, nil
}

// WriteTo writes the mapping from the position to its end to w and
// advances the position past what was written (io.WriterTo), as
// Mapping.WriteTo does for the whole mapping.
func (r *Reader) WriteTo(w io.Writer) (int64, error) {
	m := r.m
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.r == nil {
		return 0, ErrClosed
	}
	if r.off >= int64(len(m.r.data)) {
		return 0, nil
	}
	n, err := m.writeFrom(w, r.off)
	r.off += n
	return n, err
}

// Size returns the mapping's length (io.SectionReader's name for it).
func (r *Reader) Size() int64 { return int64(r.m.Len()) }

func (m *Mapping) closed() bool {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.r == nil
}
