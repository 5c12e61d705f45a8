package directio

import (
	"errors"
	"fmt"
	"io"
	"os"
)

// Writer writes a file sequentially with direct I/O when the file was
// opened with it: it gathers bytes into aligned blocks and writes whole
// blocks. Close writes the unaligned tail with O_DIRECT dropped for that
// one write (fcntl F_SETFL, restored after), so the file ends at exactly the
// bytes written. A position or an O_APPEND end of file that is not aligned
// is handled the same way for the head. Without O_DIRECT it writes through
// the page cache and pushes out and drops what it wrote (sync_file_range,
// then POSIX_FADV_DONTNEED). It writes at f's offset, which it advances; f
// stays the caller's and is not closed. A Writer is for one goroutine.
type Writer struct {
	f      *os.File
	direct bool
	align  Alignment
	buf    []byte
	n      int   // bytes in buf
	off    int64 // file offset of buf[0]
	err    error // sticky
	closed bool
}

// NewWriter returns a Writer at f's current offset (its end, if f was
// opened O_APPEND).
func NewWriter(f *os.File) (*Writer, error) {
	if f == nil {
		return nil, errors.New("directio: NewWriter: nil *os.File")
	}
	w := &Writer{f: f, direct: isDirect(f), align: safeAlignment}
	if a, err := AlignmentOf(f); err == nil {
		w.align = a
	}
	off, err := f.Seek(0, io.SeekCurrent)
	if err != nil {
		return nil, fmt.Errorf("directio: NewWriter: %w", err)
	}
	if isAppend(f) {
		if off, err = f.Seek(0, io.SeekEnd); err != nil {
			return nil, fmt.Errorf("directio: NewWriter: %w", err)
		}
	}
	w.off = off
	w.buf = AlignedBuffer(roundUp(defaultBlock, w.align.Offset), max(w.align.Memory, 1))
	return w, nil
}

// Direct reports whether the Writer bypasses the page cache.
func (w *Writer) Direct() bool { return w.direct }

// Write buffers p and writes every whole block.
func (w *Writer) Write(p []byte) (int, error) {
	if w.closed {
		return 0, errWriterClosed
	}
	n := 0
	for len(p) > 0 {
		if w.err != nil {
			return n, w.err
		}
		k := copy(w.buf[w.n:], p)
		w.n += k
		n += k
		p = p[k:]
		if w.n == len(w.buf) {
			w.flush(false)
		}
	}
	return n, w.err
}

// ReadFrom reads r to EOF straight into the aligned buffer and writes it.
func (w *Writer) ReadFrom(r io.Reader) (int64, error) {
	if w.closed {
		return 0, errWriterClosed
	}
	var total int64
	for w.err == nil {
		k, err := io.ReadFull(r, w.buf[w.n:])
		w.n += k
		total += int64(k)
		if w.n == len(w.buf) {
			w.flush(false)
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return total, w.err
		}
		if err != nil {
			return total, err
		}
	}
	return total, w.err
}

var errWriterClosed = errors.New("directio: Writer is closed")

// flush writes what is buffered: whole aligned blocks directly, and (tail,
// or an unaligned head) with O_DIRECT dropped for that write.
func (w *Writer) flush(tail bool) {
	for w.n > 0 && w.err == nil {
		if !w.direct {
			w.write(w.buf[:w.n], false)
			continue
		}
		a := w.align.Offset
		if head := int(w.off % int64(a)); head != 0 {
			// Reach an aligned file offset first.
			w.write(w.buf[:min(a-head, w.n)], true)
			continue
		}
		whole := w.n / a * a
		if whole > 0 {
			w.write(w.buf[:whole], false)
			continue
		}
		if !tail {
			return // wait for more bytes
		}
		w.write(w.buf[:w.n], true)
	}
}

// write writes b at w.off and drops it from the buffer. unaligned asks for
// O_DIRECT off for this one write.
func (w *Writer) write(b []byte, unaligned bool) {
	if unaligned && w.direct {
		if err := setDirect(w.f, false); err != nil {
			w.err = fmt.Errorf("directio: clearing O_DIRECT for an unaligned write: %w", err)
			return
		}
		defer func() {
			if err := setDirect(w.f, true); err != nil && w.err == nil {
				w.err = fmt.Errorf("directio: restoring O_DIRECT: %w", err)
			}
		}()
	}
	k, err := w.f.Write(b)
	if k > 0 {
		if !w.direct {
			flushBehind(w.f, w.off, int64(k))
		}
		w.off += int64(k)
		w.n = copy(w.buf, w.buf[k:w.n])
	}
	if err != nil {
		w.err = fmt.Errorf("directio: %w", err)
	}
}

// Close writes the buffered tail; the file then ends at exactly the bytes
// written. It does not close f. A second Close does nothing.
func (w *Writer) Close() error {
	if w.closed {
		return w.err
	}
	w.closed = true
	w.flush(true)
	return w.err
}
