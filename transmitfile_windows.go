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
func (k *call) transmitFile(dst io.Writer, s *source) (int64, bool, error) {
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
	tx := transmission{k: k, f: f, file: file, off: s.off, want: s.remain, most: transmitChunk}
	if k.prog != nil {
		tx.most = int64(progressChunk) // progress and cancellation between calls
	}
	// A deadline passed or the connection closed: a zero-length Write
	// says so (net's own error), and costs nothing otherwise.
	tx.check = func() error { _, err := tc.Write(nil); return err }
	cerr := rc.Control(func(fd uintptr) { tx.run(syscall.Handle(fd)) })
	if cerr != nil || tx.refused {
		// Control fails only before the call (a closed connection: the
		// next tries report it in net's words).
		return 0, false, nil
	}
	s.skip(tx.n)
	k.t.add(MethodTransmitFile, tx.n)
	if tx.err == nil {
		k.t.finish(MethodTransmitFile)
	}
	return tx.n, true, tx.err
}

// transmission is one transmitFile: the range of f (through its own
// handle file) from off, want bytes (noLimit: to the end of the file), at
// most most per call.
type transmission struct {
	k       *call
	f       *os.File
	file    syscall.Handle
	off     int64
	want    int64
	most    int64
	check   func() error
	n       int64 // bytes sent
	err     error
	refused bool // TransmitFile refused the pair before sending anything
}

// run sends the range on sock, in calls of at most most bytes, until it is
// sent, the file ends, or an error stops it.
func (tx *transmission) run(sock syscall.Handle) {
	end, err := fileSize(tx.f)
	for err == nil && tx.n < tx.want {
		left := end - (tx.off + tx.n)
		if left <= 0 {
			// The size read before is reached: the file may have grown
			// since.
			if end, err = fileSize(tx.f); err == nil && tx.off+tx.n >= end {
				return
			}
			continue
		}
		var done bool
		if done, err = tx.send(sock, min(left, tx.want-tx.n, tx.most)); done {
			break
		}
	}
	tx.err = err
}

// send makes one TransmitFile call of n bytes. done reports that the range
// ends here: refused (nothing sent), an error, or the file ended under the
// call.
func (tx *transmission) send(sock syscall.Handle, n int64) (done bool, err error) {
	c, err := sys.Transmit(sock, tx.file, tx.off+tx.n, uint32(n), tx.check)
	tx.n += int64(c)
	switch {
	case err != nil && tx.n == 0 && refusedTransmit(err):
		tx.refused = true
		tx.k.t.note(os.NewSyscallError("TransmitFile", err))
		return true, nil
	case err != nil:
		return true, wrapTransmitErr(err)
	case c == 0:
		return true, nil // the file ended under the call
	}
	return false, tx.k.prog.add(int64(c))
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
