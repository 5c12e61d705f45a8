package mmap

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/zerocopy-go/zerocopy/internal/sys"
)

// Mode selects how a mapping shares its pages with the file.
type Mode int

const (
	// ReadOnly maps the file PROT_READ, MAP_SHARED.
	ReadOnly Mode = iota
	// ReadWrite maps it PROT_READ|PROT_WRITE, MAP_SHARED: writes reach the
	// file (and every other mapping of it); Sync makes them durable.
	ReadWrite
	// CopyOnWrite maps it PROT_READ|PROT_WRITE, MAP_PRIVATE: writes stay in
	// this process and never reach the file.
	CopyOnWrite
)

func (m Mode) String() string {
	switch m {
	case ReadOnly:
		return "ReadOnly"
	case ReadWrite:
		return "ReadWrite"
	case CopyOnWrite:
		return "CopyOnWrite"
	}
	return fmt.Sprintf("Mode(%d)", int(m))
}

// Advice is a hint to the kernel about how a mapping will be accessed
// (madvise(2)).
type Advice int

const (
	Normal     Advice = iota // no special treatment
	Sequential               // read ahead aggressively, drop pages soon after
	Random                   // no read-ahead
	WillNeed                 // read the pages in now
	DontNeed                 // the pages may be dropped; re-read from the file on access
)

var (
	// ErrClosed is returned by every method of a closed Mapping, and by a
	// second Close. It wraps os.ErrClosed: errors.Is(err, os.ErrClosed)
	// holds for it, as for a closed *os.File.
	ErrClosed error = closedError{}
	// ErrReadOnly is returned by WriteAt on a ReadOnly mapping.
	ErrReadOnly = errors.New("mmap: mapping is read-only")
	// ErrTruncated reports that the file shrank under the mapping: the
	// access touched a page past the file's new end.
	ErrTruncated = errors.New("mmap: file truncated under the mapping")
)

// closedError is ErrClosed: its own words, os.ErrClosed's identity.
type closedError struct{}

func (closedError) Error() string { return "mmap: mapping is closed" }
func (closedError) Unwrap() error { return os.ErrClosed }

// Mapping is a memory mapping of a range of a file. Its methods are safe for
// concurrent use; Close and Resize wait for the calls in progress.
type Mapping struct {
	mu      sync.RWMutex
	r       *region // nil once closed
	mode    Mode
	cleanup sys.Cleanup
}

// region is what a Mapping owns. It is separate from the Mapping so that a
// cleanup can release it when the Mapping is garbage-collected unclosed.
type region struct {
	file  *os.File // a duplicate of the caller's descriptor, owned here
	mem   []byte   // the mapping as made (page-aligned start); nil if none
	data  []byte   // the caller's window into mem
	off   int64    // file offset of data[0]
	delta int      // off minus the page-aligned offset mem starts at
	// exposed is set once Bytes has handed out the memory: from then on
	// only Close (or Resize) unmaps it, never the garbage collector.
	exposed atomic.Bool
}

// collected is the cleanup of a Mapping the garbage collector found
// unreachable without Close. It closes the descriptor, and unmaps the
// memory only if Bytes never handed it out: a slice from Bytes does not
// keep the Mapping reachable (the GC does not see into memory it did not
// allocate), so unmapping would leave the program holding a slice to
// nothing, and the next access would die of SIGSEGV.
func (r *region) collected() {
	if !r.exposed.Load() {
		_ = r.release()
		return
	}
	if r.file != nil {
		_ = r.file.Close()
		r.file = nil
	}
}

func (r *region) release() error {
	err := r.unmap()
	if r.file != nil {
		if cerr := r.file.Close(); err == nil {
			err = cerr
		}
		r.file = nil
	}
	return err
}

// Map maps length bytes of f starting at offset. A length of 0 maps to the
// end of the file. Any offset is accepted: page alignment is handled inside.
// A range that reaches past the end of the file (an offset past it, or
// offset+length beyond it) is refused with an error: Map never grows the
// file, and pages past its end would fault on access; grow the file first.
// An empty range (an empty file, or offset at EOF with length 0) gives a
// valid empty mapping without an mmap call.
//
// Map duplicates f's descriptor and the Mapping owns the duplicate, so the
// caller may close f at once; the Mapping holds one descriptor until Close.
// The bytes are shared by reference with the file (ReadOnly, ReadWrite) and
// with every other process mapping it: see the package's Caveats.
func Map(f *os.File, offset int64, length int, mode Mode) (*Mapping, error) {
	switch {
	case f == nil:
		return nil, errors.New("mmap: Map: nil *os.File")
	case offset < 0:
		return nil, fmt.Errorf("mmap: Map: negative offset %d", offset)
	case length < 0:
		return nil, fmt.Errorf("mmap: Map: negative length %d", length)
	case mode != ReadOnly && mode != ReadWrite && mode != CopyOnWrite:
		return nil, fmt.Errorf("mmap: Map: unknown %v", mode)
	case mode == ReadWrite && !supportsReadWrite:
		return nil, fmt.Errorf("mmap: Map: ReadWrite on %s: %w", runtime.GOOS, errors.ErrUnsupported)
	}
	length, err := mapLength(f, offset, length)
	if err != nil {
		return nil, fmt.Errorf("mmap: Map: %w", err)
	}
	dup, err := sys.Dup(f)
	if err != nil {
		return nil, fmt.Errorf("mmap: Map: %w", err)
	}
	r := &region{file: dup, off: offset}
	if length > 0 {
		if err := r.mapIn(mode, length); err != nil {
			_ = dup.Close()
			return nil, mapError("Map", f.Name(), mode, err)
		}
	}
	m := &Mapping{r: r, mode: mode}
	m.cleanup = sys.AddCleanup(m, (*region).collected, r)
	return m, nil
}

// mapLength checks that [offset, offset+length) lies inside the regular
// file f and returns the length to map (length 0: to the end of the file).
func mapLength(f *os.File, offset int64, length int) (int, error) {
	fi, err := statOpen(f)
	if err != nil {
		return 0, err
	}
	if !fi.Mode().IsRegular() {
		return 0, fmt.Errorf("%s is not a regular file (%v)", f.Name(), fi.Mode().Type())
	}
	size := fi.Size()
	switch {
	case offset > size:
		return 0, fmt.Errorf("offset %d is past the end of %s (%d bytes)", offset, f.Name(), size)
	case length == 0 && size-offset > int64(maxInt):
		return 0, fmt.Errorf("%d bytes from offset %d do not fit in an int", size-offset, offset)
	case length == 0:
		return int(size - offset), nil
	case int64(length) > size-offset:
		return 0, fmt.Errorf("range [%d, %d) is past the end of %s (%d bytes)", offset, offset+int64(length), f.Name(), size)
	}
	return length, nil
}

const maxInt = int(^uint(0) >> 1)

func mapError(op, name string, mode Mode, err error) error {
	if accessDenied(err) && mode == ReadWrite {
		return fmt.Errorf("mmap: %s: ReadWrite needs %s opened for reading and writing: %w", op, name, err)
	}
	return fmt.Errorf("mmap: %s %s: %w", op, name, err)
}

// Open maps the whole named file read-only. The file itself is closed
// before Open returns; the Mapping keeps its own descriptor.
func Open(name string) (*Mapping, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("mmap: Open: %w", err)
	}
	defer f.Close()
	return Map(f, 0, 0, ReadOnly)
}

// Bytes returns the mapped bytes, or nil after Close. Writing to the slice
// of a ReadOnly mapping faults; of a ReadWrite one writes the file.
//
// Access through Bytes is not protected: if the file shrinks under the
// mapping, touching a page past its new end raises SIGBUS, which kills the
// whole program unless that goroutine has called
// runtime/debug.SetPanicOnFault(true). ReadAt, WriteAt and WriteTo are
// protected and return ErrTruncated instead. The slice is invalid after
// Close or Resize.
//
// The slice does not keep the Mapping reachable. So that a program which
// keeps only the slice never crashes, a Mapping whose Bytes were handed
// out is never unmapped by the garbage collector: if it is dropped without
// Close, its descriptor is closed but the memory stays mapped until the
// process exits. Call Close when done with the slice.
func (m *Mapping) Bytes() []byte {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.r == nil {
		return nil
	}
	m.r.exposed.Store(true)
	return m.r.data
}

// Len returns the mapping's length in bytes (0 after Close).
func (m *Mapping) Len() int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.r == nil {
		return 0
	}
	return len(m.r.data)
}

// At returns the byte at index i of the mapping, as golang.org/x/exp/mmap's
// ReaderAt.At does. Like indexing a slice, it panics if i is out of range
// [0, Len()), and after Close (with an error wrapping ErrClosed). Unlike
// indexing the slice from Bytes, it is protected: if the file shrank under
// the mapping and byte i is no longer the file's, At panics with an error
// wrapping ErrTruncated, which recover can catch, instead of the SIGBUS
// that kills the program. For more than a few bytes, ReadAt costs less
// per byte.
func (m *Mapping) At(i int) byte {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.r == nil {
		panic(fmt.Errorf("mmap: At(%d): %w", i, ErrClosed))
	}
	data := m.r.data
	if uint(i) >= uint(len(data)) {
		panic(fmt.Sprintf("mmap: At: index %d out of range [0, %d)", i, len(data)))
	}
	b, fault := loadProtected(&data[i])
	if fault {
		panic(m.truncated("At", int64(i)))
	}
	return b
}

// ReadAt copies len(p) bytes from offset off of the mapping into p
// (io.ReaderAt). At the mapping's end it returns the bytes there and io.EOF.
// If the file shrank under the mapping and the read reached a missing
// page, it returns an error wrapping ErrTruncated and n counts the file's
// bytes only: the zero-filled rest of its last page is not counted (the
// file's size is read with fstat after the fault).
func (m *Mapping) ReadAt(p []byte, off int64) (int, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.r == nil {
		return 0, ErrClosed
	}
	if off < 0 {
		return 0, fmt.Errorf("mmap: ReadAt: negative offset %d", off)
	}
	data := m.r.data
	if off >= int64(len(data)) {
		if len(p) == 0 {
			return 0, nil
		}
		return 0, io.EOF
	}
	n, fault := copyProtected(p, data[off:], false)
	if fault {
		n = m.clamp(off, n)
		return n, m.truncated("ReadAt", off+int64(n))
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// WriteAt copies p into the mapping at offset off (io.WriterAt). A
// ReadOnly mapping returns ErrReadOnly. A range past the mapping's end is
// refused whole (Resize first). If the file shrank under the mapping, it
// returns an error wrapping ErrTruncated and n counts the bytes written
// within the file's new size (fstat after the fault).
func (m *Mapping) WriteAt(p []byte, off int64) (int, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.r == nil {
		return 0, ErrClosed
	}
	if m.mode == ReadOnly {
		return 0, ErrReadOnly
	}
	if off < 0 {
		return 0, fmt.Errorf("mmap: WriteAt: negative offset %d", off)
	}
	data := m.r.data
	if off > int64(len(data)) || int64(len(p)) > int64(len(data))-off {
		return 0, fmt.Errorf("mmap: WriteAt: range [%d, %d) is past the end of the %d-byte mapping (Resize first)", off, off+int64(len(p)), len(data))
	}
	n, fault := copyProtected(data[off:], p, true)
	if fault {
		n = m.clamp(off, n)
		return n, m.truncated("WriteAt", off+int64(n))
	}
	return n, nil
}

// fileEnd returns the offset in the mapping where the file ends now
// (fstat), at most the mapping's length; the mapping's length if fstat
// fails. The last page of a shrunk file is still mapped past that end,
// zero-filled by the kernel: bytes there are not the file's.
func (m *Mapping) fileEnd() int64 {
	end := int64(len(m.r.data))
	if fi, err := m.r.file.Stat(); err == nil {
		end = min(end, max(0, fi.Size()-m.r.off))
	}
	return end
}

// clamp returns n, the bytes moved from offset off of the mapping before a
// fault, less those past the file's end.
func (m *Mapping) clamp(off int64, n int) int {
	return int(max(0, min(int64(n), m.fileEnd()-off)))
}

func (m *Mapping) truncated(op string, at int64) error {
	return fmt.Errorf("mmap: %s: byte %d of the mapping (file offset %d): %w", op, at, m.r.off+at, ErrTruncated)
}

// WriteTo writes the whole mapping to w (io.WriterTo): the mmap+write path,
// one CPU copy fewer than read+write. A w with a descriptor (syscall.Conn)
// gets the mapped pages directly; any other w gets them through a small
// bounce buffer, so a fault never leaves w half-written. If the file shrank
// under the mapping, WriteTo returns an error wrapping ErrTruncated and the
// bytes written, which are the file's bytes only: w never gets the
// zero-filled rest of the file's last page. (Before each write of up to
// 1 MiB, WriteTo checks that the pages at its end are still the file's; a
// truncation racing with that one write(2) can still cost the guarantee
// for it.)
func (m *Mapping) WriteTo(w io.Writer) (int64, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.r == nil {
		return 0, ErrClosed
	}
	return m.writeFrom(w, 0)
}

// Sync flushes a ReadWrite mapping's changes to the file and waits for them
// (msync MS_SYNC; on Windows FlushViewOfFile, then FlushFileBuffers). It
// does nothing for the other modes.
func (m *Mapping) Sync() error {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.r == nil {
		return ErrClosed
	}
	if m.mode != ReadWrite || m.r.mem == nil {
		return nil
	}
	return m.r.sync()
}

// Advise passes a hint to the kernel (madvise). A kernel without madvise
// (ENOSYS) is not an error: advice is only advice. On Windows WillNeed
// prefetches (PrefetchVirtualMemory), DontNeed trims the working set,
// Normal does nothing, and Sequential and Random return an error wrapping
// errors.ErrUnsupported.
func (m *Mapping) Advise(a Advice) error {
	if a < Normal || a > DontNeed {
		return fmt.Errorf("mmap: Advise: unknown advice %d", int(a))
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.r == nil {
		return ErrClosed
	}
	if m.r.mem == nil {
		return nil
	}
	return m.r.advise(a)
}

// Lock keeps the mapping's pages in memory (mlock; VirtualLock on
// Windows). Past RLIMIT_MEMLOCK (Windows: the minimum working set) it
// returns an error naming the limit. A kernel without mlock (ENOSYS) is not
// an error. Where the mapping is the portable in-memory copy (platforms
// without mmap, and the purego build), Lock returns an error wrapping
// errors.ErrUnsupported and Unlock does nothing and returns nil.
func (m *Mapping) Lock() error {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.r == nil {
		return ErrClosed
	}
	if m.r.mem == nil {
		return nil
	}
	return m.r.lock()
}

// Unlock undoes Lock (munlock). On the portable in-memory copy it does
// nothing and returns nil.
func (m *Mapping) Unlock() error {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.r == nil {
		return ErrClosed
	}
	if m.r.mem == nil {
		return nil
	}
	return m.r.unlock()
}

// Resize changes the mapping's length, for a file that has grown (a log):
// grow the file first, then Resize. The range must lie within the file.
// It uses mremap on Linux and unmap+map elsewhere; either way the mapping
// may move, and every slice from an earlier Bytes is invalid afterwards.
func (m *Mapping) Resize(length int) error {
	if length < 0 {
		return fmt.Errorf("mmap: Resize: negative length %d", length)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	r := m.r
	if r == nil {
		return ErrClosed
	}
	if length == len(r.data) {
		return nil
	}
	fi, err := r.file.Stat()
	if err != nil {
		return fmt.Errorf("mmap: Resize: %w", err)
	}
	if int64(length) > fi.Size()-r.off {
		return fmt.Errorf("mmap: Resize: range [%d, %d) is past the end of %s (%d bytes): grow the file first", r.off, r.off+int64(length), r.file.Name(), fi.Size())
	}
	if length == 0 {
		return r.unmap()
	}
	if r.mem == nil {
		if err := r.mapIn(m.mode, length); err != nil {
			return mapError("Resize", r.file.Name(), m.mode, err)
		}
		return nil
	}
	if err := r.remap(m.mode, length); err != nil {
		return mapError("Resize", r.file.Name(), m.mode, err)
	}
	return nil
}

// Close unmaps the mapping and closes its descriptor. A second Close
// returns ErrClosed. Close waits for calls in progress on other goroutines.
func (m *Mapping) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.r == nil {
		return ErrClosed
	}
	sys.StopCleanup(m, m.cleanup)
	err := m.r.release()
	m.r = nil
	return err
}
