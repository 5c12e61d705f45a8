package directio

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"unsafe"

	"github.com/zerocopy-go/zerocopy/internal/sys"
)

// Alignment is what direct I/O requires of a file: buffer addresses must
// be multiples of Memory, file offsets and lengths multiples of Offset.
type Alignment struct{ Memory, Offset int }

// safeAlignment is used where the kernel does not report one: 4096 covers
// 512-byte and 4 KiB logical sectors alike.
var safeAlignment = Alignment{Memory: 4096, Offset: 4096}

// AlignedBuffer returns a slice of len size whose first byte's address is a
// multiple of align (a power of two). Go's make does not promise that (33
// of 100 5000-byte allocations were not 512-aligned here).
func AlignedBuffer(size, align int) []byte {
	if align <= 0 || align&(align-1) != 0 {
		panic(fmt.Sprintf("directio: AlignedBuffer: align %d is not a power of two", align))
	}
	if size < 0 {
		panic(fmt.Sprintf("directio: AlignedBuffer: negative size %d", size))
	}
	b := make([]byte, size+align)
	skip := 0
	// unsafe: only the address is read, to find the aligned start inside b;
	// the result is a subslice of b, so the GC keeps tracking the memory.
	if rem := int(uintptr(unsafe.Pointer(&b[0])) & uintptr(align-1)); rem != 0 {
		skip = align - rem
	}
	return b[skip : skip+size : skip+size]
}

// ReaderOptions tune a Reader. The zero value gives the defaults: 4 reads
// of 4 MiB in flight, 16 MiB of buffers per Reader, chosen from a sweep of
// block sizes and depths against fio (BENCHMARKS.md, "Cold read").
type ReaderOptions struct {
	// BlockSize is the bytes per read, rounded up to the file's alignment.
	// 0: 4 MiB. A regular file with fewer bytes after the start gets one
	// block of that size, rounded up.
	BlockSize int
	// Depth is the number of reads kept in flight ahead of the consumer,
	// each by its own goroutine, with its own BlockSize buffer. 0: 4. A
	// regular file gets no more than the blocks it has after the start.
	Depth int
}

const (
	defaultBlock = 4 << 20
	defaultDepth = 4
)

// Reader reads a file sequentially with direct I/O (when the file was
// opened with it) and Depth reads in flight ahead of the consumer. Without
// O_DIRECT it reads through the page cache and drops what it has consumed
// (POSIX_FADV_DONTNEED), so the cache is still spared. It starts at f's
// current offset, even an unaligned one. f stays the caller's; the Reader
// never closes it, and sets its offset after the bytes returned when it
// reaches EOF or is closed. A Reader is for one goroutine.
//
// A short or zero read before the end of the file that fstat reports is
// read again, never taken as the end; a file that shrinks while it is read
// gives an error wrapping io.ErrUnexpectedEOF that names the file and the
// offset.
//
// The read-ahead goroutines stop at EOF, at the first error and at Close.
// Call Close when done with a Reader that may not have reached EOF: it
// stops them at once, waits for the reads in flight and sets f's offset. A
// Reader dropped without Close has its goroutines stopped by a cleanup
// after the garbage collector finds it unreachable (f's offset is then not
// set); that is a safety net, not a substitute for Close.
type Reader struct {
	a       *ahead
	pos     int64   // file offset of the next byte to return
	next    int     // index of the block after cur
	cur     *result // block being consumed (nil: none)
	at      int     // read position in cur.buf
	err     error   // sticky: io.EOF or a read error
	closed  bool
	cleanup sys.Cleanup
}

// ahead is what the read-ahead goroutines share. It is apart from the
// Reader so that the goroutines do not keep the Reader reachable: a Reader
// dropped unclosed is collected, and its cleanup stops them.
type ahead struct {
	f        *os.File
	direct   bool
	align    Alignment
	bs       int
	depth    int
	base     int64 // aligned file offset of block 0
	skip     int   // bytes of block 0 before the start
	size     int64 // the file's size at NewReader (fstat; 0 if unknown)
	slots    []slot
	done     chan struct{}
	stopOnce sync.Once
	wg       sync.WaitGroup
}

type slot struct {
	results chan result
	free    chan []byte
}

type result struct {
	buf []byte
	n   int
	err error
	off int64
}

// NewReader returns a Reader for f from its current offset. opt may be nil.
func NewReader(f *os.File, opt *ReaderOptions) (*Reader, error) {
	if f == nil {
		return nil, errors.New("directio: NewReader: nil *os.File")
	}
	var o ReaderOptions
	if opt != nil {
		o = *opt
	}
	if o.BlockSize < 0 || o.Depth < 0 {
		return nil, fmt.Errorf("directio: NewReader: negative BlockSize %d or Depth %d", o.BlockSize, o.Depth)
	}
	pos, err := f.Seek(0, io.SeekCurrent)
	if err != nil {
		return nil, fmt.Errorf("directio: NewReader: %w", err)
	}
	a := &ahead{f: f, direct: isDirect(f), depth: o.Depth, bs: o.BlockSize}
	regular := false
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
		a.size, regular = fi.Size(), true
	}
	a.align = safeAlignment
	if al, err := AlignmentOf(f); err == nil {
		a.align = al
	}
	if a.depth == 0 {
		a.depth = defaultDepth
	}
	if a.bs == 0 {
		a.bs = defaultBlock
	}
	a.bs = roundUp(a.bs, a.align.Offset)
	a.base = pos &^ int64(a.align.Offset-1)
	a.skip = int(pos - a.base)
	if regular {
		// No more buffer than the file has bytes after the start: a small
		// file does not cost Depth x BlockSize. One that grows while it is
		// read is still read to its end, with these smaller reads.
		span := max(a.size-a.base, 1)
		if span < int64(a.bs) {
			a.bs = roundUp(int(span), a.align.Offset)
		}
		a.depth = int(min(int64(a.depth), (span+int64(a.bs)-1)/int64(a.bs)))
	}
	a.done = make(chan struct{})
	a.slots = make([]slot, a.depth)
	for i := range a.slots {
		a.slots[i] = slot{results: make(chan result, 1), free: make(chan []byte, 1)}
		a.slots[i].free <- AlignedBuffer(a.bs, max(a.align.Memory, 1))
		a.wg.Add(1)
		go a.worker(i)
	}
	r := &Reader{a: a, pos: pos}
	r.cleanup = sys.AddCleanup(r, (*ahead).stop, a)
	return r, nil
}

func roundUp(n, a int) int {
	if a <= 1 {
		return n
	}
	return (n + a - 1) / a * a
}

// Direct reports whether the Reader bypasses the page cache (O_DIRECT);
// false means buffered reads with drop-behind.
func (r *Reader) Direct() bool { return r.a.direct }

// stop tells the workers to return. It does not wait for them.
func (a *ahead) stop() { a.stopOnce.Do(func() { close(a.done) }) }

// worker reads blocks i, i+depth, i+2*depth, ... into its slot's buffer.
func (a *ahead) worker(i int) {
	defer a.wg.Done()
	s := a.slots[i]
	for b := int64(i); ; b += int64(a.depth) {
		var buf []byte
		select {
		case buf = <-s.free:
		case <-a.done:
			return
		}
		off := a.base + b*int64(a.bs)
		n, err := a.readBlock(buf, off)
		select {
		case s.results <- result{buf: buf, n: n, err: err, off: off}:
		case <-a.done:
			return
		}
		if err != nil || n < len(buf) {
			return // EOF or an error: later blocks are never asked for
		}
	}
}

// maxStalls bounds the reads in a row that make no progress although the
// file has bytes there.
const maxStalls = 3

// readBlock fills buf from off. A read that returns 0, or (direct) an
// unaligned count, ends the block only at the end of the file as fstat
// reports it then. Before that end it is read again (a direct read from the
// aligned offset at or before it: the next unaligned offset would be
// EINVAL), and reported after maxStalls reads without progress. A file that
// has become shorter than it was at NewReader is reported at once.
func (a *ahead) readBlock(buf []byte, off int64) (int, error) {
	n, stalls := 0, 0
	for n < len(buf) {
		k, err := pread(a.f, buf[n:], off+int64(n))
		if err != nil {
			return n, fmt.Errorf("directio: read %s at %d: %w", a.f.Name(), off+int64(n), err)
		}
		n += k
		if k > 0 && (!a.direct || n%a.align.Offset == 0) {
			stalls = 0
			continue
		}
		at := off + int64(n)
		fi, err := a.f.Stat()
		if err != nil {
			return n, fmt.Errorf("directio: read %s at %d: %w", a.f.Name(), at, err)
		}
		size := fi.Size()
		if at >= size {
			if at < a.size {
				return n, fmt.Errorf("directio: read %s at %d: the file shrank to %d bytes while being read (%d at the start): %w",
					a.f.Name(), at, size, a.size, io.ErrUnexpectedEOF)
			}
			return n, nil // the end of the file
		}
		if stalls++; stalls >= maxStalls {
			return n, fmt.Errorf("directio: read %s at %d: %d reads in a row stopped short (last %d bytes) before the end of the file (%d bytes): %w",
				a.f.Name(), at, stalls, k, size, io.ErrUnexpectedEOF)
		}
		if a.direct {
			n &^= a.align.Offset - 1
		}
	}
	return n, nil
}

// block makes r.cur the next block, or sets r.err.
func (r *Reader) block() bool {
	if r.err != nil {
		return false
	}
	if r.closed {
		r.err = errReaderClosed
		return false
	}
	s := r.a.slots[r.next%r.a.depth]
	res := <-s.results
	r.next++
	r.cur = &res
	r.at = 0
	if r.next == 1 {
		r.at = r.a.skip
	}
	if r.at >= res.n {
		r.release()
		return false
	}
	return true
}

// release hands the current block's buffer back to its worker and, in
// buffered mode, drops the consumed range from the page cache. After the
// last block (short, or read with an error: its bytes before the error are
// returned first) it records the end.
func (r *Reader) release() {
	if r.cur == nil {
		return
	}
	if !r.a.direct && r.cur.n > 0 {
		dropBehind(r.a.f, r.cur.off, int64(r.cur.n))
	}
	last := r.cur.n < len(r.cur.buf) || r.cur.err != nil
	err := r.cur.err
	r.a.slots[(r.next-1)%r.a.depth].free <- r.cur.buf
	r.cur = nil
	if last {
		r.end(err)
	}
}

// end records the end of the stream, io.EOF (f's offset then goes after
// the bytes returned) or err, and stops the workers.
func (r *Reader) end(err error) {
	if r.err == nil {
		if err != nil {
			r.err = err
		} else {
			r.err = io.EOF
			r.reposition()
		}
	}
	r.a.stop()
}

var errReaderClosed = errors.New("directio: Reader is closed")

// Read reads up to len(p) bytes. At the end of the file it returns io.EOF.
func (r *Reader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if r.cur == nil && !r.block() {
			break
		}
		k := copy(p[n:], r.cur.buf[r.at:r.cur.n])
		n += k
		r.at += k
		r.pos += int64(k)
		if r.at == r.cur.n {
			r.release()
		}
	}
	if n > 0 {
		return n, nil
	}
	return 0, r.err
}

// WriteTo writes the rest of the file to w, handing it whole blocks
// straight from the aligned buffers.
func (r *Reader) WriteTo(w io.Writer) (int64, error) {
	var written int64
	for {
		if r.cur == nil && !r.block() {
			if r.err == io.EOF {
				return written, nil
			}
			return written, r.err
		}
		k, err := w.Write(r.cur.buf[r.at:r.cur.n])
		written += int64(k)
		r.at += k
		r.pos += int64(k)
		if err != nil {
			return written, err
		}
		if r.at < r.cur.n {
			return written, io.ErrShortWrite
		}
		r.release()
	}
}

// reposition leaves f's offset after the bytes returned.
func (r *Reader) reposition() { _, _ = r.a.f.Seek(r.pos, io.SeekStart) }

// Close stops the read-ahead goroutines, waits for the reads in flight,
// frees the buffers and sets f's offset after the bytes returned. It does
// not close f. After Close returns, the Reader no longer touches f.
func (r *Reader) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	sys.StopCleanup(r, r.cleanup)
	r.a.stop()
	r.a.wg.Wait()
	r.cur = nil
	r.a.slots = nil
	_, err := r.a.f.Seek(r.pos, io.SeekStart)
	return err
}
