package zerocopy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
)

// Copier copies with the kernel's zero-copy paths where the pair of values
// allows it, and with a buffered copy everywhere else.
//
// The zero value is ready to use and is what the package-level functions
// use. A Copier holds no descriptors and no state between calls; it is safe
// for concurrent use, provided its fields are not changed while in use.
type Copier struct {
	// BufferSize is the size of the buffer the buffered path uses. Zero
	// picks a measured default: 1 MiB when the source is an *os.File, 256 KiB
	// for every other source (BENCHMARKS.md, "The fallback buffer"). Buffers
	// come from a pool per size and go back when the call returns.
	BufferSize int

	// Observe, if set, is called once when each transfer ends, successful
	// or not, on the goroutine that made the call.
	Observe func(Report)

	// DirectIOThreshold, if positive, makes Copy, CopyN and SendFile read a
	// regular-file source of at least this many bytes with direct I/O
	// (O_DIRECT) instead of sendfile or copy_file_range, honouring the
	// offset and count, and report MethodDirectIO. A regular-file
	// destination of such a copy is written with direct I/O too
	// (directio.Writer on a descriptor reopened with O_DIRECT: whole
	// aligned blocks, then the unaligned head and tail), and ends at
	// exactly the bytes copied, with its offset after them: after the copy
	// neither file is in the page cache. 0 means never.
	//
	// The trade: one CPU copy (the file is read into an aligned buffer and
	// written from there) buys a page cache that a huge file streamed once
	// does not flush. nginx makes the same choice with "sendfile on; aio on;
	// directio 1024m". Measured here: streaming 1 GiB in a 512 MiB memory
	// cgroup through the page cache evicted a 200 MiB hot file entirely;
	// with O_DIRECT it stayed resident. Each file is reopened through
	// /proc/self/fd with O_DIRECT (on Windows the source with ReOpenFile and
	// FILE_FLAG_NO_BUFFERING; descriptors of its own: the caller's flags
	// are untouched). Where the source refuses (a filesystem without
	// O_DIRECT; darwin and freebsd, which have no direct reopen) the usual
	// path runs and Report.Fallback says why. Where the destination
	// refuses, or is O_APPEND (a reopened descriptor would not append), it
	// is written through the page cache and what was written is dropped
	// from it behind the writes (sync_file_range, POSIX_FADV_DONTNEED);
	// Report.Fallback says why and the copy goes on. On Windows the
	// destination is written through the system cache, which has no
	// drop-behind.
	DirectIOThreshold int64

	// Progress, if set, is called with the bytes that have reached the
	// destination so far, on the goroutine that made the call: during the
	// transfer at most once per ProgressInterval (100 ms), and once at the
	// end with the final count if that call has not seen it. Every path
	// reports without being left: copy_file_range and sendfile move at
	// most 8 MiB per call while Progress or a context is set, splice
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
	return defaultCopier.Copy(context.Background(), dst, src)
}

// CopyBuffer is Copy with the buffer the buffered path uses, with
// io.CopyBuffer's contract: a nil buf means a pooled one, an empty non-nil
// buf panics. The kernel paths need no buffer and do not touch it.
func CopyBuffer(dst io.Writer, src io.Reader, buf []byte) (written int64, err error) {
	if buf != nil && len(buf) == 0 {
		panic("empty buffer in CopyBuffer") // io.CopyBuffer's words
	}
	return defaultCopier.copy(context.Background(), "CopyBuffer", dst, src, noLimit, buf)
}

// CopyN copies n bytes (or until an error) from src to dst, like io.CopyN.
// On return, written == n if and only if err == nil. If src ends first,
// err is io.EOF. CopyN with n <= 0 copies nothing and returns (0, nil), as
// io.CopyN does.
func CopyN(dst io.Writer, src io.Reader, n int64) (written int64, err error) {
	return defaultCopier.CopyN(context.Background(), dst, src, n)
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
	return defaultCopier.SendFile(context.Background(), dst, f, offset, count)
}

// Copy is the package-level Copy with this Copier's options, stopped by
// ctx.
//
// A context that is done ends the copy with the exact count of bytes that
// reached dst and an error for which errors.Is(err, ctx.Err()) holds
// (context.Canceled or context.DeadlineExceeded). Cancellation is looked
// at between bounded steps on every path: at most 8 MiB per
// copy_file_range or sendfile call (BENCHMARKS.md, "What bounded calls
// cost"), each pipe's worth of splice, each buffer of the buffered path.
//
// A transfer waiting on a descriptor wakes at once: while the call runs,
// the end of ctx sets a deadline in the past on src and dst where they
// take deadlines (sockets, pipes); those deadlines are cleared (set to the
// zero time) before the call returns. On Linux, a blocking pipe, FIFO or
// terminal that takes no deadline (a shell's stdin or stdout, an
// os.NewFile of an inherited descriptor), given to the call as an
// *os.File rather than behind a wrapper such as a bufio.Reader, is made
// non-blocking for the call and waited on through the runtime's poller,
// so it wakes too; its file status flags are restored on return
// (meanwhile, another user of the same pipe, in this process or another,
// sees it non-blocking). Elsewhere, behind a wrapper, and for a descriptor
// adopted by os.NewFile while blocking and made non-blocking later by
// someone else (golang/go#75304), such a wait ends only when the
// descriptor moves: the Go runtime cannot wake it. A regular file never
// waits.
//
// context.Background() (or any context that is never done) costs nothing:
// the calls are then as large as the kernel takes.
func (c *Copier) Copy(ctx context.Context, dst io.Writer, src io.Reader) (int64, error) {
	return c.copy(ctx, "Copy", dst, src, noLimit, nil)
}

// CopyN is the package-level CopyN with this Copier's options, stopped by
// ctx as Copy is.
func (c *Copier) CopyN(ctx context.Context, dst io.Writer, src io.Reader, n int64) (int64, error) {
	if n <= 0 {
		if err := checkArgs(ctx, "CopyN", dst, src == nil); err != nil {
			return 0, err
		}
		c.observe(&call{})
		return 0, nil
	}
	written, err := c.copy(ctx, "CopyN", dst, src, n, nil)
	if written == n {
		return n, nil
	}
	if written < n && err == nil {
		err = io.EOF // src stopped early, as io.CopyN reports it
	}
	return written, err
}

// SendFile is the package-level SendFile with this Copier's options,
// stopped by ctx as Copy is.
func (c *Copier) SendFile(ctx context.Context, dst io.Writer, f *os.File, offset, count int64) (written int64, err error) {
	switch err := checkArgs(ctx, "SendFile", dst, f == nil); {
	case err != nil:
		return 0, err
	case offset < 0:
		return 0, fmt.Errorf("zerocopy: SendFile: negative offset %d", offset)
	case count == 0:
		c.observe(&call{})
		return 0, nil
	case count < 0:
		count = noLimit
	}
	written, err = c.run(ctx, "SendFile", dst, fileSource(f, offset, count), nil)
	if err == nil && count != noLimit && written < count {
		err = fmt.Errorf("zerocopy: SendFile: %w: %d of %d bytes from offset %d of %s",
			io.ErrUnexpectedEOF, written, count, offset, f.Name())
	}
	return written, err
}

// checkArgs refuses a nil context, destination or source, naming op.
func checkArgs(ctx context.Context, op string, dst io.Writer, noSrc bool) error {
	switch {
	case ctx == nil:
		return errors.New("zerocopy: " + op + ": nil Context")
	case dst == nil:
		return errors.New("zerocopy: " + op + ": nil destination io.Writer")
	case noSrc && op == "SendFile":
		return errors.New("zerocopy: SendFile: nil *os.File")
	case noSrc:
		return errors.New("zerocopy: " + op + ": nil source io.Reader")
	}
	return nil
}

// copy is the entry of Copy, CopyN and CopyBuffer: src until EOF, or
// limit bytes.
func (c *Copier) copy(ctx context.Context, op string, dst io.Writer, src io.Reader, limit int64, buf []byte) (int64, error) {
	if err := checkArgs(ctx, op, dst, src == nil); err != nil {
		return 0, err
	}
	// A stand-in handed to a wrapper came back (a ReadFrom calling Copy on
	// its receiver, a WriteTo calling Copy(w, itself)): continue the
	// transfer it belongs to, which reports it.
	if s, ok := src.(*srcStandIn); ok {
		return s.copyTo(dst, limit)
	}
	if d, ok := dst.(*dstStandIn); ok {
		return d.copyFrom(src, limit)
	}
	return c.run(ctx, op, dst, newSource(src, limit), buf)
}

// run makes one call: it copies s to dst through the tries, under ctx,
// and reports.
func (c *Copier) run(ctx context.Context, op string, dst io.Writer, s source, buf []byte) (int64, error) {
	k := call{c: c, buf: buf, prog: c.newProgress(ctx)}
	if k.prog.context() == nil {
		n, err := k.copy(dst, &s)
		c.observe(&k)
		return n, err
	}
	if err := ctx.Err(); err != nil {
		c.observe(&k)
		return 0, &opError{op: op, err: err}
	}
	dst, s, restore := interruptible(dst, s)
	undo := wake(ctx, dst, s.holder)
	n, err := k.copy(dst, &s)
	undo()
	restore()
	c.observe(&k)
	return n, ctxErr(ctx, op, err)
}

// call is one call of Copy, CopyN, CopyBuffer or SendFile: what its tries
// share, including the transfers that stand-ins continue (delegate.go).
type call struct {
	c        *Copier
	prog     *progress // Progress and the context; nil: neither
	buf      []byte    // CopyBuffer's buffer; nil: a pooled one
	t        tally
	dstAsked bool // the destination's ReadFrom was asked (each side at most once)
	srcAsked bool // the source's WriteTo was asked
}

func (c *Copier) observe(k *call) {
	k.prog.finish()
	if c.Observe != nil {
		c.Observe(k.t.report())
	}
}

// copy moves s to dst. It is the whole policy: an ordered list of tries,
// as net.TCPConn's readFrom has (splice, then sendfile, then the generic
// copy). Each try returns (n, handled, err): handled means the transfer is
// over (the range moved, EOF, or err, which always comes handled);
// otherwise the next try continues at the exact next byte of s, which the
// try has moved past the n bytes it moved.
func (k *call) copy(dst io.Writer, s *source) (int64, error) {
	if s.remain <= 0 {
		return 0, nil
	}
	// The standard library's own fast path for its concrete pairs, off
	// Linux (stdlib.go).
	if n, handled, err := k.stdlib(dst, s); handled {
		return n, err
	}
	// A huge regular file, read with O_DIRECT (direct.go).
	if n, handled, err := k.direct(dst, s); handled {
		return n, err
	}
	// A wrapper without a descriptor, asked through its ReadFrom or
	// WriteTo with a stand-in for the other side (delegate.go).
	if n, handled, err := k.delegate(dst, s); handled {
		return n, err
	}
	// copy_file_range, sendfile, splice (kernel_linux.go); TransmitFile
	// on Windows (kernel_windows.go).
	n, handled, err := k.kernel(dst, s)
	if handled {
		return n, err
	}
	// The rest, from the exact next byte, through a buffer (buffered.go).
	m, _, err := k.buffered(dst, s)
	return n + m, err
}

var errZeroBeforeEOF = errors.New("zerocopy: the kernel returned 0 bytes before the end of the file")
