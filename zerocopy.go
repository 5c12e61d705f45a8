package zerocopy

import (
	"errors"
	"strconv"
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
	// which call ran. On Windows it is taken only where the stdlib uses
	// TransmitFile (server editions, see MethodTransmitFile); elsewhere its
	// ReadFrom would copy through a buffer itself, and Copy runs
	// MethodBuffered.
	MethodStdlib
	// MethodTransmitFile is Windows's TransmitFile at explicit offsets
	// (SendFile, or an *io.SectionReader over a file): a file on a disk to
	// a *net.TCPConn, read through a handle of the call's own, so the
	// file's position is never read or moved. Only on server editions of
	// Windows: client editions run at most two TransmitFile calls at a time
	// system-wide (golang/go#73746), so there the pread path runs and
	// Report.Fallback says why.
	MethodTransmitFile

	numMethods
)

var methodNames = [numMethods]string{
	MethodBuffered:      "buffered",
	MethodCopyFileRange: "copy_file_range",
	MethodSendfile:      "sendfile",
	MethodSplice:        "splice",
	MethodDirectIO:      "directio",
	MethodStdlib:        "stdlib",
	MethodTransmitFile:  "transmitfile",
}

// String returns the method's name: "buffered", "copy_file_range",
// "sendfile", "splice", "directio", "stdlib", "transmitfile".
func (m Method) String() string {
	if m < numMethods {
		return methodNames[m]
	}
	return "Method(" + strconv.Itoa(int(m)) + ")"
}

// Available reports whether this platform and kernel offer the method. It
// probes once per process and caches the answer; a path the kernel refuses
// later with ENOSYS is marked unavailable from then on (a per-file EPERM
// is not: that is the file's answer, not the kernel's). MethodBuffered is
// always available. On Linux the kernel paths are, as the probe finds
// them; MethodStdlib is not (Linux has paths of its own). On darwin,
// freebsd and Windows server editions MethodStdlib is available (the
// standard library's own fast paths, see MethodStdlib) and the Linux paths
// are not; MethodTransmitFile is available on Windows server editions
// only. Under the purego build tag only MethodBuffered is.
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
	// is the fast path that reached the end of the range or failed with
	// the call's error, or MethodBuffered.
	Method Method
	// Bytes counts every byte that reached the destination, by any path.
	Bytes int64
	// Fallback says why a fast path was not used for a pair that has
	// descriptors on both sides, or why it was abandoned part-way (the
	// syscall error, or several joined with errors.Join). A path the
	// one-time probe found refused (a seccomp profile) is named here on
	// every transfer that would have used it. A side without a descriptor
	// while the other side has one is named with its type: a wrapper that
	// Copy asked through its ReadFrom or WriteTo and that kept the bytes on
	// the buffered path ("dst *bufio.Writer: no descriptor"), or a wrapper
	// that hides the conn or file it holds ("dst struct { io.Writer }: no
	// descriptor"). It is nil when a fast path ran to the end, and when no
	// fast path could apply to the pair at all: neither side has a
	// descriptor, or one side is in memory (a *bytes.Buffer,
	// *bytes.Reader or *strings.Reader).
	Fallback error
}
