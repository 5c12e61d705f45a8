package directio

import (
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
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
//
// When the kernel shortens a direct write to an unaligned length and then
// refuses it (EINVAL: RLIMIT_FSIZE, or a filesystem limit, inside the
// block), the Writer writes the rest of that block with O_DIRECT dropped,
// as for a tail: the bytes the limit allows reach the file and the real
// error (EFBIG) is returned. If O_DIRECT cannot be set again after an
// unaligned write (fcntl fails), that write has landed: the Writer goes on
// through the page cache, dropping behind, and Direct reports false. After
// an error, the counts that Write and
// ReadFrom return are the bytes that reached the file.
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

// writerBlock is the Writer's block: the bytes per direct write (the
// Reader's BlockSize default was measured separately; the Writer's was not).
const writerBlock = 1 << 20

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
	w.buf = AlignedBuffer(roundUp(writerBlock, w.align.Offset), max(w.align.Memory, 1))
	return w, nil
}

// Buffered returns the bytes taken in by Write or ReadFrom that have not
// reached the file yet: the partial block waiting for Close (or, after
// Close failed, the bytes it could not write).
func (w *Writer) Buffered() int { return w.n }

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
			return w.landed(int64(n)), w.err
		}
		k := copy(w.buf[w.n:], p)
		w.n += k
		n += k
		p = p[k:]
		if w.n == len(w.buf) {
			w.flush(false)
		}
	}
	if w.err != nil {
		return w.landed(int64(n)), w.err
	}
	return n, nil
}

// landed returns how many of the last k bytes taken in reached the file:
// after an error, the w.n bytes still buffered are the latest ones.
func (w *Writer) landed(k int64) int {
	return int(k - min(int64(w.n), k))
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
		if w.err != nil {
			return int64(w.landed(total)), w.err
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return total, nil
		}
		if err != nil {
			return total, err
		}
	}
	return int64(w.landed(total)), w.err
}

var errWriterClosed = errors.New("directio: Writer is closed")

// errDirectLost: an unaligned write landed, but O_DIRECT could not be set
// on the file again after it (fcntl F_SETFL failed).
var errDirectLost = errors.New("restoring O_DIRECT")

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

// write writes b (the head of w.buf) at w.off and drops what was written
// from the buffer. unaligned asks for O_DIRECT off for this one write.
func (w *Writer) write(b []byte, unaligned bool) {
	k, err := w.writeOnce(b, unaligned)
	w.advance(k)
	if err != nil && w.direct && !unaligned && errors.Is(err, syscall.EINVAL) {
		// An aligned direct write refused: the kernel shortened it to an
		// unaligned length (RLIMIT_FSIZE inside the block) and then
		// rejected that. Without O_DIRECT the allowed bytes land and the
		// real error surfaces. w.buf has moved: the rest is at its head.
		k, err = w.writeOnce(w.buf[:len(b)-k], true)
		w.advance(k)
	}
	if err != nil {
		w.err = fmt.Errorf("directio: %w", err)
	}
}

// writeOnce writes b at w.off, which is f's offset, and leaves f's offset
// after the bytes written.
func (w *Writer) writeOnce(b []byte, unaligned bool) (k int, err error) {
	switch {
	case !w.direct:
		return w.f.Write(b)
	case unaligned:
		k, err = writeUnaligned(w.f, b, w.off)
		if errors.Is(err, errDirectLost) {
			// The bytes landed; f is left without O_DIRECT. Go on as a
			// Writer of such a file (through the cache, dropped behind)
			// rather than fail a write that succeeded.
			w.direct, err = false, nil
		}
		return k, err
	}
	return writeDirect(w.f, b, w.off)
}

// advance records k bytes written from the head of w.buf.
func (w *Writer) advance(k int) {
	if k <= 0 {
		return
	}
	if !w.direct {
		flushBehind(w.f, w.off, int64(k))
	}
	w.off += int64(k)
	w.n = copy(w.buf, w.buf[k:w.n])
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
