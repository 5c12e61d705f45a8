//go:build windows && !purego

package zerocopy

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"

	"github.com/zerocopy-go/zerocopy/internal/sys"
)

// The kernel try on Windows: TransmitFile at an explicit offset (SendFile,
// or an *io.SectionReader over a file), where Linux has sendfile.
//
// The stdlib's TransmitFile (through (*net.TCPConn).ReadFrom) reads a file
// from its own position and moves it, so SendFile could not use it for an
// offset without racing every other user of a shared *os.File. Here the
// file is opened again for the transfer (ReOpenFile: a file object of its
// own, so the caller's position is never read or moved, and any number of
// SendFile calls may share one *os.File), and each TransmitFile call names
// its offset in the OVERLAPPED. The socket is the caller's; the call runs
// inside its RawConn.Control, and its completion signals an event rather
// than the stdlib's completion port (see sys.Transmit): the goroutine parks
// until it completes, and a write deadline or a Close of the connection is
// noticed within half a second and cancels it.
//
// It applies to a *net.TCPConn destination and a file on a disk, and only
// where Windows does not limit TransmitFile (server editions): client
// editions run two at a time system-wide, which is why the stdlib does not
// use it there either (golang/go#73746). Where it does not apply the pread
// path runs, and Report.Fallback says why when the destination is a TCP
// connection.

// errTransmitLimited is the reason noted on client editions.
var errTransmitLimited = fmt.Errorf("zerocopy: TransmitFile not used: this Windows edition runs at most two at a time system-wide (golang/go#73746): %w", ErrUnsupported)

// transmitChunk bounds one TransmitFile call (the API's limit is 2^31-2).
const transmitChunk = 1 << 30

// available: TransmitFile is this build's one kernel path (server
// editions).
func available(m Method) bool { return m == MethodTransmitFile && sys.TransmitFileUnlimited() }

// kernel is TransmitFile at explicit offsets.
func (k *call) kernel(dst io.Writer, s *source) (int64, bool, error) { return k.transmitFile(dst, s) }

// transmitFile sends s's range, a file read at explicit offsets (SendFile,
// or an *io.SectionReader over a file), to a *net.TCPConn dst. handled is
// false when it did not apply and no byte moved: the next tries run from
// the same byte, and the tally says why where the pair could have used it.
// Once it has started the range is its to finish: n is every byte sent,
// and a short n with a nil error means the file ended.
func (k *call) transmitFile(dst io.Writer, s *source) (n int64, handled bool, err error) {
	tc, ok := dst.(*net.TCPConn)
	f := s.file()
	if !ok || tc == nil || f == nil || !s.at {
		return 0, false, nil
	}
	if !sys.TransmitFileUnlimited() {
		k.t.note(errTransmitLimited)
		return 0, false, nil
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return 0, false, nil
	}
	file, err := reopenForTransmit(f)
	if err != nil {
		k.t.note(err)
		return 0, false, nil
	}
	defer sys.CloseHandle(file)
	if err := k.prog.check(); err != nil {
		return 0, true, err
	}
	most := int64(transmitChunk)
	if k.prog != nil {
		most = int64(progressChunk) // progress and cancellation between calls
	}
	// A deadline passed or the connection closed: a zero-length Write
	// says so (net's own error), and costs nothing otherwise.
	check := func() error { _, err := tc.Write(nil); return err }
	off, want := s.off, s.remain // want: noLimit to the end of the file
	var terr error
	refused := false
	cerr := rc.Control(func(fd uintptr) {
		sock := syscall.Handle(fd)
		end, serr := fileSize(f)
		for serr == nil && n < want {
			left := end - (off + n)
			if left <= 0 {
				// The size read before is reached: the file may have
				// grown since.
				if end, serr = fileSize(f); serr == nil && off+n >= end {
					return
				}
				continue
			}
			left = min(left, want-n, most)
			c, err := sys.Transmit(sock, file, off+n, uint32(left), check)
			n += int64(c)
			if err != nil {
				if n == 0 && refusedTransmit(err) {
					refused = true
					k.t.note(os.NewSyscallError("TransmitFile", err))
					return
				}
				terr = wrapTransmitErr(err)
				return
			}
			if c == 0 {
				return // the file ended under the call
			}
			if err := k.prog.add(int64(c)); err != nil {
				terr = err
				return
			}
		}
		terr = serr
	})
	if cerr != nil || refused {
		// Control fails only before the call (a closed connection: the
		// next tries report it in net's words).
		return 0, false, nil
	}
	s.skip(n)
	k.t.add(MethodTransmitFile, n)
	if terr == nil {
		k.t.finish(MethodTransmitFile)
	}
	return n, true, terr
}

// reopenForTransmit opens f's file again, read-only with sequential-scan
// caching, for TransmitFile: a handle of this call's own.
func reopenForTransmit(f *os.File) (syscall.Handle, error) {
	var h syscall.Handle
	var rerr error
	if err := sys.Handle(f, func(fh syscall.Handle) {
		if !sys.FileIsDisk(fh) {
			rerr = fmt.Errorf("zerocopy: TransmitFile: %s is not a file on a disk: %w", f.Name(), ErrUnsupported)
			return
		}
		h, rerr = sys.ReOpenFile(fh, sys.GENERIC_READ, sys.FILE_SHARE_READ|sys.FILE_SHARE_WRITE|sys.FILE_SHARE_DELETE, sys.FILE_FLAG_SEQUENTIAL_SCAN)
		if rerr != nil {
			rerr = fmt.Errorf("zerocopy: TransmitFile: reopening %s: %w", f.Name(), os.NewSyscallError("ReOpenFile", rerr))
		}
	}); err != nil {
		return 0, err
	}
	return h, rerr
}

func fileSize(f *os.File) (int64, error) {
	fi, err := f.Stat()
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}

// refusedTransmit reports an error with which TransmitFile refused the
// pair before sending anything (not a stream socket, an operation the
// provider does not support, a parameter it rejects): the pread path runs
// instead.
func refusedTransmit(err error) bool {
	var errno syscall.Errno
	if !errors.As(err, &errno) {
		return false
	}
	switch errno {
	case syscall.Errno(sys.ERROR_NOT_SUPPORTED), syscall.Errno(sys.ERROR_INVALID_PARAMETER),
		syscall.Errno(sys.WSAEOPNOTSUPP), syscall.Errno(sys.WSAENOTSOCK), syscall.Errno(sys.WSAEINVAL):
		return true
	}
	return false
}

// wrapTransmitErr names the call, unless err is the connection's own
// error from the deadline check (a *net.OpError: net's words).
func wrapTransmitErr(err error) error {
	var op *net.OpError
	if errors.As(err, &op) {
		return err
	}
	return os.NewSyscallError("TransmitFile", err)
}

// On a client edition the stdlib's (*net.TCPConn).ReadFrom does not use
// TransmitFile either (golang/go#73746): it copies through a buffer of its
// own. So there the pair is not the stdlib's fast path, and Copy runs the
// buffered path and reports it (platform.go's table stays for the server
// editions).
func init() {
	if !sys.TransmitFileUnlimited() {
		stdlibPaths = nil
	}
}
