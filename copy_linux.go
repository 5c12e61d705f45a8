//go:build linux && !purego

package zerocopy

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"syscall"

	"golang.org/x/sys/unix"

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
// next byte: the reason, if any, is in t.fallback.
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
	sst, err := sys.Inspect(srcRC, false)
	// Only page-cache files feed sendfile and copy_file_range. A file that
	// reports size 0 may be a pseudo-file (/proc) that copies as empty.
	if err != nil || !sst.Regular() || sst.Size == 0 {
		return 0, false, nil
	}
	dstSt, err := sys.Inspect(drc, true)
	if err != nil {
		return 0, false, nil
	}
	var paths []Method
	switch {
	case dstSt.Regular():
		if dstSt.Append() {
			t.note(errAppend)
			return 0, false, nil
		}
		paths = fileToFile
	case dstSt.StreamSocket(), dstSt.Mode == unix.S_IFIFO, dstSt.Mode == unix.S_IFCHR:
		paths = fileToStream
	default:
		// Datagram sockets keep message boundaries; directories and block
		// devices are not destinations for these calls.
		return 0, false, nil
	}

	cerr := srcRC.Control(func(sfd uintptr) {
		n, done, err = pumpAll(paths, drc, int(sfd), off, remain, t)
	})
	if cerr != nil && err == nil && n == 0 {
		return 0, false, nil // src closed under us: the plain path reports it
	}
	return n, done, err
}

var (
	fileToFile   = []Method{MethodCopyFileRange, MethodSendfile}
	fileToStream = []Method{MethodSendfile}
)

func pumpAll(paths []Method, drc syscall.RawConn, sfd int, off, remain int64, t *tally) (n int64, done bool, err error) {
	implicit := off < 0
	if implicit {
		if off, err = sys.Seek(sfd, 0, io.SeekCurrent); err != nil {
			return 0, false, nil // not seekable: the plain path decides
		}
		defer func() {
			if n > 0 {
				if _, serr := sys.Seek(sfd, off, io.SeekStart); serr != nil && err == nil {
					err = os.NewSyscallError("lseek", serr)
				}
			}
		}()
	}
	for _, m := range paths {
		if !available(m) {
			continue
		}
		left := remain
		if remain >= 0 {
			left = remain - n
		}
		k, why, perr := pump(m, drc, sfd, &off, left, n > 0)
		n += k
		t.bytes[m] += k
		switch why {
		case stopEnd:
			t.finished, t.ran = m, true
			return n, true, nil
		case stopZero:
			// 0 means EOF only where fstat agrees; pseudo-files used to
			// return 0 while holding data (Linux 5.3-5.18).
			var st unix.Stat_t
			if sys.Fstat(sfd, &st) == nil && st.Size > 0 && off >= st.Size {
				t.finished, t.ran = m, true
				return n, true, nil
			}
			t.zero = true
			return n, false, nil
		case stopFallback:
			var errno syscall.Errno
			if errors.As(perr, &errno) && (errno == unix.ENOSYS || errno == unix.EPERM) {
				refused[m].Store(true)
			}
			t.note(perr)
		case stopFatal:
			return n, false, perr
		}
	}
	return n, false, nil
}

type stop uint8

const (
	stopEnd      stop = iota // the requested range has moved
	stopZero                 // the kernel returned 0: EOF, or a file that lies
	stopFallback             // this path cannot go on; err says why
	stopFatal                // the transfer failed; err is final
)

// pump runs one path until the range ends, the kernel returns 0 or an error
// stops it. It advances *off past every byte moved. moved reports whether
// earlier paths already moved bytes of this transfer.
func pump(m Method, drc syscall.RawConn, sfd int, off *int64, remain int64, moved bool) (n int64, why stop, err error) {
	werr := sys.Write(drc, func(dfd int) bool {
		for remain < 0 || n < remain {
			chunk := sys.MaxChunk
			if remain >= 0 && remain-n < int64(chunk) {
				chunk = int(remain - n)
			}
			var k int
			var e error
			if m == MethodCopyFileRange {
				k, e = sys.CopyFileRange(sfd, off, dfd, nil, chunk, 0)
			} else {
				k, e = sys.Sendfile(dfd, sfd, off, chunk)
			}
			if e == nil {
				if k <= 0 {
					why = stopZero
					return true
				}
				n += int64(k)
				continue
			}
			errno, _ := e.(syscall.Errno)
			switch sys.Classify(errno, moved || n > 0) {
			case sys.Retry:
				continue
			case sys.Wait:
				return false
			case sys.Fallback:
				why = stopFallback
			default:
				why = stopFatal
			}
			err = os.NewSyscallError(m.String(), e)
			return true
		}
		why = stopEnd
		return true
	})
	if werr != nil {
		// A netpoller error (deadline, close) goes back unchanged.
		return n, stopFatal, werr
	}
	return n, why, err
}
