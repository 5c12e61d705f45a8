//go:build linux && !purego

package zerocopy

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/zerocopy-go/zerocopy/internal/splicer"
	"github.com/zerocopy-go/zerocopy/internal/sys"
)

var (
	probeOnce sync.Once
	probed    [numMethods]bool
	// refused marks a path the kernel later answered with ENOSYS or EPERM.
	refused [numMethods]atomic.Bool
)

func available(m Method) bool {
	probeOnce.Do(probe)
	return probed[m] && !refused[m].Load()
}

// probe asks the kernel whether each call exists: with invalid descriptors
// a present call fails with EBADF, a missing or filtered one with ENOSYS or
// EPERM. copy_file_range also needs Linux 5.3: before it, cross-filesystem
// copies always failed and some pseudo-files copied as empty.
func probe() {
	_, err := sys.CopyFileRange(-1, nil, -1, nil, 1, 0)
	probed[MethodCopyFileRange] = err == unix.EBADF && sys.KernelAtLeast(5, 3)
	_, err = sys.Sendfile(-1, -1, nil, 1)
	probed[MethodSendfile] = err == unix.EBADF
	_, err = sys.Splice(-1, nil, -1, nil, 1, 0)
	probed[MethodSplice] = err == unix.EBADF
	probed[MethodDirectIO] = true // O_DIRECT is per filesystem: a refusal falls back per call
}

var errAppend = fmt.Errorf("zerocopy: copy_file_range and sendfile cannot write to an O_APPEND file: %w", ErrUnsupported)

// fastCopy moves up to remain bytes (remain < 0: to EOF) from the regular
// file held by src to dst inside the kernel. off is the source offset, or
// -1 to use (and advance) src's own file offset.
//
// It returns the bytes moved, whether the range is finished (remain bytes
// moved, or EOF: nothing is left for the fallback) and an error. A non-nil
// error is final and is returned with the exact count. A nil error with
// done false means the caller continues with the buffered path at the exact
// next byte: the reason, if any, is in t.fallback. handled (something was
// consumed) is n > 0.
func fastCopy(dst io.Writer, src any, off, remain int64, t *tally) (n int64, done bool, err error) {
	if remain == 0 {
		return 0, true, nil
	}
	srcRC, ok := sys.RawConn(src)
	if !ok {
		return 0, false, nil
	}
	drc, ok := sys.RawConn(dst)
	if !ok {
		return 0, false, nil
	}
	if off < 0 {
		// A source read at its own offset may be anything (socket, pipe,
		// tty): only page-cache files feed sendfile and copy_file_range. A
		// file that reports size 0 may be a pseudo-file (/proc) that copies
		// as empty. Sources read at explicit offsets (SendFile, SectionReader)
		// skip this fstat: the kernel refuses a non-file source itself, and
		// a 0 return is checked against fstat before it is taken as EOF.
		sst, err := sys.Inspect(srcRC, false)
		if err != nil {
			return 0, false, nil
		}
		if sst.StreamSocket() || sst.Mode == unix.S_IFIFO {
			return spliceCopy(dst, drc, srcRC, sst.Mode == unix.S_IFIFO, remain, t)
		}
		if !sst.Regular() || sst.Size == 0 {
			return 0, false, nil
		}
	}
	var paths []Method
	if _, ok := dst.(*net.TCPConn); ok {
		paths = fileToStream // always a stream socket: no need to ask
	} else {
		dst, err := sys.Inspect(drc, true)
		switch {
		case err != nil:
			return 0, false, nil
		case dst.Regular():
			if dst.Append() {
				t.note(errAppend)
				return 0, false, nil
			}
			paths = fileToFile
		case dst.StreamSocket(), dst.Mode == unix.S_IFIFO, dst.Mode == unix.S_IFCHR:
			paths = fileToStream
		default:
			// Datagram sockets keep message boundaries; directories and
			// block devices are not destinations for these calls.
			return 0, false, nil
		}
	}

	x := transfers.Get().(*transfer)
	x.drc, x.paths, x.off, x.remain = drc, paths, off, remain
	cerr := srcRC.Control(x.ctl)
	n, done, err = x.total, x.done, x.err
	for m, b := range x.bytes {
		t.bytes[m] += b
	}
	if x.ran {
		t.finished, t.ran = x.finished, true
	}
	t.zero = t.zero || x.zero
	t.note(x.fallback)
	ctl, w := x.ctl, x.w // keep the callbacks bound once
	*x = transfer{ctl: ctl, w: w}
	transfers.Put(x)
	if cerr != nil && err == nil && n == 0 {
		return 0, false, nil // src closed under us: the plain path reports it
	}
	return n, done, err
}

var (
	fileToFile   = []Method{MethodCopyFileRange, MethodSendfile}
	fileToStream = []Method{MethodSendfile}
)

// transfer is the state of one fast-path transfer. It is pooled, and its
// callbacks are method values bound once, so a transfer allocates nothing.
type transfer struct {
	// inputs
	drc    syscall.RawConn
	paths  []Method
	off    int64 // next source offset; -1 until control reads it
	remain int64 // bytes wanted; -1: to EOF

	// the pump in progress
	sfd    int
	method Method
	left   int64 // bytes the pump may still move; -1: to EOF
	moved  bool  // earlier pumps of this transfer moved bytes
	n      int64
	why    stop
	perr   error

	// results
	total    int64
	done     bool
	err      error
	bytes    [numMethods]int64
	finished Method
	ran      bool
	zero     bool
	fallback error

	ctl func(uintptr)
	w   sys.Waiter
}

var transfers = sync.Pool{New: func() any {
	x := new(transfer)
	x.ctl = x.control
	x.w.Op = x.pump
	return x
}}

// control runs with the source descriptor held open by RawConn.Control.
func (x *transfer) control(sfd uintptr) {
	x.sfd = int(sfd)
	implicit := x.off < 0
	if implicit {
		off, err := sys.Seek(x.sfd, 0, io.SeekCurrent)
		if err != nil {
			return // not seekable: the plain path decides
		}
		x.off = off
	}
	x.total, x.done, x.err = x.pumpAll()
	if implicit && x.total > 0 {
		// Leave the file offset after the last byte moved, so io.Copy's
		// semantics hold and the fallback resumes at the next byte.
		if _, err := sys.Seek(x.sfd, x.off, io.SeekStart); err != nil && x.err == nil {
			x.err = os.NewSyscallError("lseek", err)
		}
	}
}

func (x *transfer) note(err error) {
	if x.fallback == nil {
		x.fallback = err
	} else {
		x.fallback = errors.Join(x.fallback, err)
	}
}

func (x *transfer) pumpAll() (n int64, done bool, err error) {
	for _, m := range x.paths {
		if !available(m) {
			continue
		}
		x.method, x.moved, x.n, x.why, x.perr = m, n > 0, 0, stopEnd, nil
		x.left = x.remain
		if x.remain >= 0 {
			x.left = x.remain - n
		}
		werr := x.w.Write(x.drc)
		n += x.n
		x.bytes[m] += x.n
		if werr != nil {
			// A netpoller error (deadline, close) goes back unchanged.
			return n, false, werr
		}
		switch x.why {
		case stopEnd:
			x.finished, x.ran = m, true
			return n, true, nil
		case stopZero:
			// 0 means EOF only where fstat agrees; pseudo-files used to
			// return 0 while holding data (Linux 5.3-5.18).
			var st unix.Stat_t
			if sys.Fstat(x.sfd, &st) == nil && st.Size > 0 && x.off >= st.Size {
				x.finished, x.ran = m, true
				return n, true, nil
			}
			x.zero = true
			return n, false, nil
		case stopFallback:
			if errno, ok := errors.Unwrap(x.perr).(syscall.Errno); ok && (errno == unix.ENOSYS || errno == unix.EPERM) {
				refused[m].Store(true)
			}
			x.note(x.perr)
		case stopFatal:
			return n, false, x.perr
		}
	}
	return n, false, nil
}

type stop uint8

const (
	stopEnd      stop = iota // the requested range has moved
	stopZero                 // the kernel returned 0: EOF, or a file that lies
	stopFallback             // this path cannot go on; perr says why
	stopFatal                // the transfer failed; perr is final
)

// pump is the Waiter's operation: it runs x.method on the destination
// descriptor until the range ends, the kernel returns 0, an error stops it
// (true), or the destination reports EAGAIN (false: wait and call again).
// It advances x.off past every byte moved.
func (x *transfer) pump(dfd int) bool {
	for x.left < 0 || x.n < x.left {
		chunk := sys.MaxChunk
		if x.left >= 0 && x.left-x.n < int64(chunk) {
			chunk = int(x.left - x.n)
		}
		var k int
		var e error
		if x.method == MethodCopyFileRange {
			k, e = sys.CopyFileRange(x.sfd, &x.off, dfd, nil, chunk, 0)
		} else {
			k, e = sys.Sendfile(dfd, x.sfd, &x.off, chunk)
		}
		if e == nil {
			if k <= 0 {
				x.why = stopZero
				return true
			}
			x.n += int64(k)
			continue
		}
		errno, _ := e.(syscall.Errno)
		switch sys.Classify(errno, x.moved || x.n > 0) {
		case sys.Retry:
			continue
		case sys.Wait:
			return false
		case sys.Fallback:
			x.why = stopFallback
		default:
			x.why = stopFatal
		}
		x.perr = os.NewSyscallError(x.method.String(), e)
		return true
	}
	x.why = stopEnd
	return true
}

// spliceCopy moves bytes from a stream socket or pipe to dst with splice(2)
// (internal/splicer). Bytes the kernel took into the pipe before a
// fallback errno have been written to dst with its Write: the buffered path
// resumes at the exact next byte of src.
func spliceCopy(dst io.Writer, drc, src syscall.RawConn, srcPipe bool, remain int64, t *tally) (int64, bool, error) {
	if !available(MethodSplice) {
		return 0, false, nil
	}
	d := splicer.End{RC: drc, W: dst}
	if _, ok := dst.(*net.TCPConn); !ok {
		switch splicer.Classify(drc, true) {
		case splicer.FIFO:
			d.Pipe = true
		case splicer.File:
			d.File = true
		case splicer.Stream, splicer.Char:
		default:
			if st, err := sys.Inspect(drc, true); err == nil && st.Regular() && st.Append() {
				t.note(errAppendSplice)
			}
			return 0, false, nil
		}
	}
	res, err := splicer.Transfer(d, splicer.End{RC: src, Pipe: srcPipe}, remain)
	t.bytes[MethodSplice] += res.N
	if res.Done && err == nil {
		t.finished, t.ran = MethodSplice, true
	}
	if res.Fallback != nil {
		if errno, ok := errors.Unwrap(res.Fallback).(syscall.Errno); ok && (errno == unix.ENOSYS || errno == unix.EPERM) {
			refused[MethodSplice].Store(true)
		}
		t.note(res.Fallback)
	}
	return res.N, res.Done, err
}

var errAppendSplice = fmt.Errorf("zerocopy: splice cannot write to an O_APPEND file: %w", ErrUnsupported)
