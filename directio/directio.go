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

// ErrUnsupported reports that direct I/O is not available for a file or on
// this platform. It satisfies errors.Is(err, errors.ErrUnsupported).
var ErrUnsupported = sys.ErrUnsupported

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
	if rem := int(uintptr(unsafe.Pointer(&b[0])) & uintptr(align-1)); rem != 0 {
		skip = align - rem
	}
	return b[skip : skip+size : skip+size]
}

// ReaderOptions tune a Reader. The zero value gives the defaults.
type ReaderOptions struct {
	// BlockSize is the bytes per read, rounded up to the file's alignment.
	// 0: 1 MiB.
	BlockSize int
	// Depth is the number of reads kept in flight ahead of the consumer,
	// each by its own goroutine. 0: 4.
	Depth int
}

const (
	defaultBlock = 1 << 20
	defaultDepth = 4
)

// Reader reads a file sequentially with direct I/O (when the file was
// opened with it) and Depth reads in flight ahead of the consumer. Without
// O_DIRECT it reads through the page cache and drops what it has consumed
// (POSIX_FADV_DONTNEED), so the cache is still spared. It starts at f's
// current offset, even an unaligned one. f stays the caller's; the Reader
// never closes it, and sets its offset after the bytes returned when it
// reaches EOF or is closed. A Reader is for one goroutine.
type Reader struct {
	f      *os.File
	direct bool
	align  Alignment
	bs     int
	depth  int
	pos    int64 // file offset of the next byte to return
	base   int64 // aligned file offset of block 0
	skip   int   // bytes of block 0 before the start

	slots  []slot
	done   chan struct{}
	wg     sync.WaitGroup
	next   int     // index of the block after cur
	cur    *result // block being consumed (nil: none)
	at     int     // read position in cur.buf
	err    error   // sticky: io.EOF or a read error
	closed bool
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
	r := &Reader{f: f, direct: isDirect(f), pos: pos, depth: o.Depth, bs: o.BlockSize}
	r.align = safeAlignment
	if a, err := AlignmentOf(f); err == nil {
		r.align = a
	}
	if r.depth == 0 {
		r.depth = defaultDepth
	}
	if r.bs == 0 {
		r.bs = defaultBlock
	}
	r.bs = roundUp(r.bs, r.align.Offset)
	r.base = pos &^ int64(r.align.Offset-1)
	r.skip = int(pos - r.base)
	r.done = make(chan struct{})
	r.slots = make([]slot, r.depth)
	for i := range r.slots {
		r.slots[i] = slot{results: make(chan result, 1), free: make(chan []byte, 1)}
		r.slots[i].free <- AlignedBuffer(r.bs, max(r.align.Memory, 1))
		r.wg.Add(1)
		go r.worker(i)
	}
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
func (r *Reader) Direct() bool { return r.direct }

// worker reads blocks i, i+depth, i+2*depth, ... into its slot's buffer.
func (r *Reader) worker(i int) {
	defer r.wg.Done()
	s := r.slots[i]
	for b := int64(i); ; b += int64(r.depth) {
		var buf []byte
		select {
		case buf = <-s.free:
		case <-r.done:
			return
		}
		off := r.base + b*int64(r.bs)
		n, err := r.readBlock(buf, off)
		select {
		case s.results <- result{buf: buf, n: n, err: err, off: off}:
		case <-r.done:
			return
		}
		if err != nil || n < len(buf) {
			return // EOF or an error: later blocks are never asked for
		}
	}
}

// readBlock fills buf from off. A direct read returns an unaligned count
// only at EOF; asking again at that unaligned offset would be EINVAL.
func (r *Reader) readBlock(buf []byte, off int64) (int, error) {
	n := 0
	for n < len(buf) {
		k, err := pread(r.f, buf[n:], off+int64(n))
		if err != nil {
			return n, fmt.Errorf("directio: read %s at %d: %w", r.f.Name(), off+int64(n), err)
		}
		if k == 0 {
			break
		}
		n += k
		if r.direct && n%r.align.Offset != 0 {
			break
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
	s := r.slots[r.next%r.depth]
	res := <-s.results
	r.next++
	if res.err != nil {
		r.err = res.err
		s.free <- res.buf
		return false
	}
	r.cur = &res
	r.at = 0
	if r.next == 1 {
		r.at = r.skip
	}
	if r.at >= res.n {
		r.release()
		r.err = io.EOF
		r.reposition()
		return false
	}
	return true
}

// release hands the current block's buffer back to its worker and, in
// buffered mode, drops the consumed range from the page cache.
func (r *Reader) release() {
	if r.cur == nil {
		return
	}
	if !r.direct {
		dropBehind(r.f, r.cur.off, int64(r.cur.n))
	}
	last := r.cur.n < len(r.cur.buf)
	r.slots[(r.next-1)%r.depth].free <- r.cur.buf
	r.cur = nil
	if last {
		r.err = io.EOF
		r.reposition()
	}
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
func (r *Reader) reposition() { _, _ = r.f.Seek(r.pos, io.SeekStart) }

// Close stops the read-ahead goroutines, frees the buffers and sets f's
// offset after the bytes returned. It does not close f.
func (r *Reader) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	close(r.done)
	r.wg.Wait()
	r.cur = nil
	r.slots = nil
	_, err := r.f.Seek(r.pos, io.SeekStart)
	return err
}
