package zerocopy

import (
	"context"
	"errors"
	"io"
	"os"
)

// ErrUnsupported reports that a path or operation is not available for the
// values, platform or kernel at hand. It is errors.ErrUnsupported itself:
// every "not available here" error of this module and its packages wraps
// it, so errors.Is(err, zerocopy.ErrUnsupported) and
// errors.Is(err, errors.ErrUnsupported) say the same.
var ErrUnsupported = errors.ErrUnsupported

// Method names the path that moved a transfer's bytes.
type Method uint8

const (
	// MethodBuffered is the portable path: read into a user-space buffer,
	// write it out. It never calls ReadFrom or WriteTo.
	MethodBuffered Method = iota
	// MethodCopyFileRange is copy_file_range(2): regular file to regular
	// file inside the kernel, a reflink where the filesystem offers one.
	MethodCopyFileRange
	// MethodSendfile is sendfile(2) with an explicit source offset: a
	// regular file to a socket, pipe, character device or regular file.
	MethodSendfile
	// MethodSplice is splice(2): a stream socket or a pipe to a stream
	// socket, pipe, regular file or character device, through a pooled
	// pipe (or directly from a pipe).
	MethodSplice
	// MethodDirectIO reads a large regular file with O_DIRECT (see
	// Copier.DirectIOThreshold) and writes it out: one CPU copy, but the
	// file does not pass through the page cache.
	MethodDirectIO
	// MethodStdlib is the standard library's own fast path, taken off
	// Linux for a pair of its concrete types that has one there (sendfile
	// on darwin and freebsd, copy_file_range on freebsd, TransmitFile on
	// windows: see the README's Platforms section). The stdlib does not say
	// which call ran.
	MethodStdlib

	numMethods
)

var methodNames = [numMethods]string{
	MethodBuffered:      "buffered",
	MethodCopyFileRange: "copy_file_range",
	MethodSendfile:      "sendfile",
	MethodSplice:        "splice",
	MethodDirectIO:      "directio",
	MethodStdlib:        "stdlib",
}

// String returns the method's name: "buffered", "copy_file_range",
// "sendfile", "splice", "directio", "stdlib".
func (m Method) String() string {
	if m < numMethods {
		return methodNames[m]
	}
	return "Method(" + itoa(int(m)) + ")"
}

// Available reports whether this platform and kernel offer the method. It
// probes once per process and caches the answer; a path the kernel refuses
// later with ENOSYS or EPERM (a seccomp profile) is marked unavailable from
// then on. MethodBuffered is always available. Under the purego build tag
// and on platforms other than Linux only MethodBuffered is.
func (m Method) Available() bool {
	if m == MethodBuffered {
		return true
	}
	if m >= numMethods {
		return false
	}
	if m == MethodStdlib {
		return len(stdlibPaths) > 0
	}
	return available(m)
}

// Report describes one finished transfer. It is handed to Copier.Observe.
type Report struct {
	// Method is the path that moved the most bytes. When no byte moved it
	// is the fast path that reached the end of the range, or MethodBuffered.
	Method Method
	// Bytes counts every byte that reached the destination, by any path.
	Bytes int64
	// Fallback says why a fast path was not used for a pair that has
	// descriptors on both sides, or why it was abandoned part-way (the
	// syscall error, or several joined with errors.Join). A path the
	// one-time probe found refused (a seccomp profile) is named here on
	// every transfer that would have used it. A wrapper without a
	// descriptor (a *bufio.Writer over a bytes.Buffer, say) that Copy asked
	// through its ReadFrom or WriteTo and that kept the bytes on the
	// buffered path, while the other side has a descriptor, is named too:
	// "dst *bufio.Writer: no descriptor". It is nil when no fast path
	// applied to the pair at all, or when one ran to the end.
	Fallback error
}

// Copier copies with the kernel's zero-copy paths where the pair of values
// allows it, and with a buffered copy everywhere else.
//
// The zero value is ready to use and is what the package-level functions
// use. A Copier holds no descriptors and no state between calls; it is safe
// for concurrent use, provided its fields are not changed while in use.
type Copier struct {
	// BufferSize is the size of the buffer the fallback path uses. Zero
	// picks a measured default: 1 MiB when the source is an *os.File, 256 KiB
	// for every other source.
	//
	// Measured on the project machine (2 cores, Linux 6.18), buffered path
	// into a loopback TCP socket, 256 MiB per op, 6 rounds, benchstat
	// medians (go test -bench 'BufferSize/(file|tcp)/(64|256|1024)KiB'
	// -zc.stream 268435456 -benchtime 4x -count 6):
	//
	//	source  64 KiB        256 KiB       1 MiB
	//	file    2.49 GiB/s    2.41 GiB/s    2.57 GiB/s (0.37 CPU-s/GiB, least spread)
	//	TCP     1.07 GiB/s    1.41 GiB/s    1.77 GiB/s
	//
	// A stream source holds its buffer as long as the stream lasts (a proxy
	// holds one per connection), so streams get 256 KiB: 1.3x the rate of
	// 64 KiB at a quarter of the memory of 1 MiB. Buffers come from a pool
	// per size and go back when the call returns.
	BufferSize int

	// Observe, if set, is called once when each transfer ends, successful
	// or not, on the goroutine that made the call.
	Observe func(Report)

	// DirectIOThreshold, if positive, makes Copy, CopyN and SendFile read a
	// regular-file source of at least this many bytes with direct I/O
	// (O_DIRECT) instead of sendfile or copy_file_range, honouring the
	// offset and count, and report MethodDirectIO. 0 means never.
	//
	// The trade: one CPU copy (the file is read into an aligned buffer and
	// written from there) buys a page cache that a huge file streamed once
	// does not flush. nginx makes the same choice with "sendfile on; aio on;
	// directio 1024m". Measured here: streaming 1 GiB in a 512 MiB memory
	// cgroup through the page cache evicted a 200 MiB hot file entirely;
	// with O_DIRECT it stayed resident. The source is reopened through
	// /proc/self/fd with O_DIRECT (its own descriptor: the caller's flags
	// and offset are untouched); where that fails (a filesystem refusing
	// O_DIRECT, another platform) the usual path runs and Report.Fallback
	// says why.
	DirectIOThreshold int64

	// Progress, if set, is called with the bytes that have reached the
	// destination so far, on the goroutine that made the call: during the
	// transfer at most once per ProgressInterval (100 ms), and once at the
	// end with the final count if that call has not seen it. Every path
	// reports without being left: copy_file_range and sendfile move at
	// most 8 MiB per call while Progress is set (see CopyContext), splice
	// reports after each pipe's worth, the buffered path after each write.
	// Bytes a wrapper takes through its own buffer (see Copy) count when
	// the wrapper takes them.
	Progress func(done int64)
}

var defaultCopier Copier

// Copy copies from src to dst until EOF or an error, like io.Copy, and
// returns the number of bytes that reached dst. A successful Copy returns
// err == nil, not io.EOF.
//
// The fast paths apply to any value that implements syscall.Conn
// (*os.File, *net.TCPConn, *net.UnixConn or a type of your own) whose
// descriptor is a regular file on the source side. Such a value's Read and
// Write are taken to move the descriptor's bytes unchanged: a type that
// frames, encrypts or counts bytes in Write must not expose SyscallConn.
// Copy also looks through an *io.LimitedReader (honouring N and lowering it
// by the bytes copied) and an *io.SectionReader over a file (using the
// section's offsets, leaving it positioned after the bytes copied). For an
// *os.File on either side, Copy starts at the file's current offset and
// leaves it after the last byte copied, as io.Copy does.
//
// Wrappers. A destination without a descriptor that implements
// io.ReaderFrom (*bufio.Writer, net/http's ResponseWriter, a conn wrapper)
// or a source without one that implements io.WriterTo (*bufio.Reader, a
// conn wrapper) is asked to copy, as io.Copy asks it, but with a value of
// this package's own type standing in for the other side: its Read and
// Write serve a wrapper that copies through its buffer (bytes already
// buffered in a bufio.Reader are written first, exactly once), and its
// WriteTo and ReadFrom continue this transfer with the connection or file
// the wrapper hands on, on the kernel path. Passed back into Copy, the
// stand-in is unwrapped and continues the same transfer: a ReadFrom method
// may call Copy on its own receiver, and a WriteTo method may call
// Copy(w, itself), without recursing. Each side is asked at most once per
// transfer. With a limit (CopyN, an io.LimitedReader) a source's WriteTo is
// asked only for a *bufio.Reader, which keeps the bytes a short write
// refused.
func Copy(dst io.Writer, src io.Reader) (written int64, err error) {
	return defaultCopier.Copy(dst, src)
}

// CopyBuffer is Copy with the buffer the buffered path uses, with
// io.CopyBuffer's contract: a nil buf means a pooled one, an empty non-nil
// buf panics. The kernel paths need no buffer and do not touch it.
func CopyBuffer(dst io.Writer, src io.Reader, buf []byte) (written int64, err error) {
	return defaultCopier.CopyBuffer(dst, src, buf)
}

// CopyContext is Copy that stops when ctx is done, returning the exact
// count of bytes that reached dst and an error that satisfies
// errors.Is(err, ctx.Err()) (context.Canceled or
// context.DeadlineExceeded).
//
// Cancellation is looked at between bounded chunks on every path: at most
// 8 MiB per copy_file_range or sendfile call (measured against single 2 GiB
// calls: within noise, BenchmarkChunk), each pipe's worth of splice,
// each buffer of the buffered path. A transfer waiting on a descriptor
// wakes at once: while the call runs, ctx's end sets a deadline in the
// past on src and dst when they have SetReadDeadline and SetWriteDeadline
// (sockets, pipes); if that happened, those deadlines are cleared (set to
// the zero time) before CopyContext returns. A regular file never waits.
func CopyContext(ctx context.Context, dst io.Writer, src io.Reader) (written int64, err error) {
	return defaultCopier.CopyContext(ctx, dst, src)
}

// CopyN copies n bytes (or until an error) from src to dst, like io.CopyN.
// On return, written == n if and only if err == nil. If src ends first,
// err is io.EOF. CopyN with n <= 0 copies nothing and returns (0, nil), as
// io.CopyN does.
func CopyN(dst io.Writer, src io.Reader, n int64) (written int64, err error) {
	return defaultCopier.CopyN(dst, src, n)
}

// SendFile writes count bytes of f, starting at offset, to dst. A negative
// count means until EOF.
//
// It never reads or moves f's own file offset, so any number of goroutines
// may SendFile ranges of one shared *os.File at once. (This is Java's
// FileChannel.transferTo(position, count, target).) The caller keeps
// ownership of f and of dst; SendFile closes neither.
//
// If f ends before count bytes, SendFile returns the bytes written and an
// error wrapping io.ErrUnexpectedEOF; that also covers a file truncated
// during the transfer. A negative offset is an error. A dst without a
// descriptor (a bytes.Buffer, say) is served with pread-based reads.
//
// sendfile(2) passes pages by reference: bytes of f overwritten before the
// receiver has read them may arrive as the new bytes.
func SendFile(dst io.Writer, f *os.File, offset, count int64) (written int64, err error) {
	return defaultCopier.SendFile(dst, f, offset, count)
}

func itoa(v int) string {
	if v == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for v > 0 {
		i--
		b[i] = byte('0' + v%10)
		v /= 10
	}
	return string(b[i:])
}
