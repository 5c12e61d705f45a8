package mmap

import (
	"errors"
	"io"
	"os"
	"runtime/debug"
	"sync"
	"syscall"
	"unsafe"

	"github.com/zerocopy-go/zerocopy/internal/sys"
)

var pageSize = os.Getpagesize()

// faultAddr is what the runtime panics with after SetPanicOnFault(true)
// when an access faults (SIGBUS on a page past a file's end).
type faultAddr interface{ Addr() uintptr }

// protect runs f with memory faults on this goroutine turned into panics,
// and reports whether f faulted. Any other panic goes on.
func protect(f func()) (fault bool) {
	defer unprotect(debug.SetPanicOnFault(true), &fault)
	f()
	return false
}

// unprotect, deferred, restores the goroutine's fault setting (old) and
// turns a memory fault into *fault = true. Any other panic goes on. A
// named function, not a closure: the cheapest defer there is.
func unprotect(old bool, fault *bool) {
	debug.SetPanicOnFault(old)
	if r := recover(); r != nil {
		if _, ok := r.(faultAddr); ok {
			*fault = true
			return
		}
		panic(r)
	}
}

// copyPage copies src into dst, which lie within one page of the mapped
// side, with a fault turned into a result: all of it or nothing moves (a
// page is there or not). The small reads' path (an index entry): no loop,
// no closure.
func copyPage(dst, src []byte) (n int, fault bool) {
	defer unprotect(debug.SetPanicOnFault(true), &fault)
	return copy(dst, src), false
}

// loadProtected loads *b with a fault turned into a result.
func loadProtected(b *byte) (v byte, fault bool) {
	defer unprotect(debug.SetPanicOnFault(true), &fault)
	return *b, false
}

// copyProtected copies min(len(dst), len(src)) bytes with faults turned into
// a result. It copies at most one page of the mapped side (dst if
// mappedDst, else src) at a time, so a fault loses no byte: n counts exactly
// the bytes copied before the first page that faulted.
func copyProtected(dst, src []byte, mappedDst bool) (n int, fault bool) {
	total := min(len(dst), len(src))
	if total == 0 {
		return 0, false
	}
	mapped := src
	if mappedDst {
		mapped = dst
	}
	// unsafe: only the address is read, as below.
	if int(uintptr(unsafe.Pointer(&mapped[0]))%uintptr(pageSize))+total <= pageSize {
		return copyPage(dst[:total], src[:total])
	}
	fault = protect(func() {
		for n < total {
			mapped := src
			if mappedDst {
				mapped = dst
			}
			// unsafe: only the address is read (to find the page boundary);
			// the copy itself goes through the slices, bounds-checked.
			c := pageSize - int(uintptr(unsafe.Pointer(&mapped[n]))%uintptr(pageSize))
			c = min(c, total-n)
			copy(dst[n:n+c], src[n:n+c])
			n += c
		}
	})
	return n, fault
}

// writeChunk bounds each write of WriteTo, so a slow peer sees progress and
// a fault inside a descriptor-less writer costs at most one bounce buffer.
const writeChunk = 64 << 10

// fdChunk bounds each write(2) of WriteTo to a descriptor: a fault costs a
// page-by-page retry of at most this much.
const fdChunk = 1 << 20

var bounce = sync.Pool{New: func() any { b := make([]byte, writeChunk); return &b }}

// writeFrom writes the mapping from byte start to its end to w and
// returns the bytes written.
func (m *Mapping) writeFrom(w io.Writer, start int64) (int64, error) {
	end, err := m.writeTo(w, start)
	return end - start, err
}

// writeTo writes the mapping from byte written to its end to w, and
// returns the offset in the mapping it reached.
func (m *Mapping) writeTo(w io.Writer, written int64) (int64, error) {
	if _, ok := sys.RawConn(w); ok {
		return m.writeDirect(w, written)
	}
	return m.writeBounced(w, written)
}

// writeDirect writes the mapping straight to a descriptor. The kernel
// reads the pages in write(2): a page past the file's end is EFAULT there,
// not SIGBUS, but the zero-filled rest of the file's last page is sent
// without complaint. So each chunk stops at the file's end (inFile).
// Protect anyway, for a syscall.Conn wrapper whose Write touches the bytes
// in Go.
func (m *Mapping) writeDirect(w io.Writer, written int64) (int64, error) {
	data := m.r.data
	for written < int64(len(data)) {
		end := m.inFile(written, min(int64(len(data)), written+fdChunk))
		if end <= written {
			return written, m.truncated("WriteTo", written)
		}
		chunk := data[written:end]
		var k int
		var werr error
		if protect(func() { k, werr = w.Write(chunk) }) {
			return written, m.truncated("WriteTo", written)
		}
		written += int64(k)
		switch {
		case errors.Is(werr, syscall.EFAULT):
			// The kernel may refuse a whole chunk for one missing page
			// (TCP copies in page-fragment units): send the rest of the
			// chunk page by page, up to the missing one.
			if written, werr = m.writePages(w, written, int64(len(chunk))-int64(k)); werr != nil {
				return written, werr
			}
		case werr != nil:
			return written, werr
		case k != len(chunk):
			return written, io.ErrShortWrite
		}
	}
	return written, nil
}

// writeBounced writes the mapping to a writer that reads it in Go, through
// a pooled buffer filled under fault protection.
func (m *Mapping) writeBounced(w io.Writer, written int64) (int64, error) {
	data := m.r.data
	bp := bounce.Get().(*[]byte)
	defer bounce.Put(bp)
	buf := *bp
	for written < int64(len(data)) {
		k, fault := copyProtected(buf, data[written:], false)
		if end := m.inFile(written, written+int64(k)); end < written+int64(k) {
			// The file now ends inside what was copied: the rest is the
			// kernel's zero fill of its last page.
			k, fault = int(end-written), true
		} else if fault {
			k = m.clamp(written, k)
		}
		if k > 0 {
			nw, werr := w.Write(buf[:k])
			written += int64(nw)
			if werr != nil {
				return written, werr
			}
			if nw != k {
				return written, io.ErrShortWrite
			}
		}
		if fault {
			return written, m.truncated("WriteTo", written)
		}
	}
	return written, nil
}

// inFile returns end, or less if the file now ends before byte end of the
// mapping. Pages past a file's end are missing from the first one on, and
// the last page is zero-filled past the end: if the page holding byte
// end-1 and the page after it can both be read, [start, end) is all the
// file's. Otherwise fstat tells where the file ends. Two loads per call,
// and a system call only once a page is missing.
func (m *Mapping) inFile(start, end int64) int64 {
	if end <= start {
		return end
	}
	data, ps, delta := m.r.data, int64(pageSize), int64(m.r.delta)
	next := (delta+end+ps-1)/ps*ps - delta // the first page boundary at or after end
	ok := !protect(func() { touch(&data[end-1]) })
	if ok && next < int64(len(data)) {
		ok = !protect(func() { touch(&data[next]) })
	}
	if ok {
		return end
	}
	return max(start, min(end, m.fileEnd()))
}

// touch loads *b: a fault there is the test. Not inlined, so the load is
// not optimized away.
//
//go:noinline
func touch(b *byte) byte { return *b }

// writePages writes the next left bytes of the mapping from written one page
// at a time (pages of the file, counted from the mapping's aligned start),
// up to the file's end as fstat reports it, until a page faults
// (ErrTruncated) or they are all written (nil: the caller goes on).
func (m *Mapping) writePages(w io.Writer, written, left int64) (int64, error) {
	data, ps, delta := m.r.data, int64(pageSize), int64(m.r.delta)
	want := written + left
	end := min(want, m.fileEnd())
	for written < end {
		next := ((delta+written)/ps+1)*ps - delta
		p := data[written:min(next, end)]
		var k int
		var werr error
		if protect(func() { k, werr = w.Write(p) }) {
			return written, m.truncated("WriteTo", written)
		}
		written += int64(k)
		if werr != nil {
			if errors.Is(werr, syscall.EFAULT) {
				return written, m.truncated("WriteTo", written)
			}
			return written, werr
		}
		if k != len(p) {
			return written, io.ErrShortWrite
		}
	}
	if written < want {
		return written, m.truncated("WriteTo", written) // the file ends here
	}
	return written, nil
}
