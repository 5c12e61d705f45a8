package splicer

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"

	"github.com/zerocopy-go/zerocopy/internal/sys"
)

// End is one side of a transfer: a descriptor, what it is, and how to reach
// it. Open builds one; the root package's file paths (copy_file_range,
// sendfile) use the same description.
type End struct {
	RC syscall.RawConn
	// Stat describes the descriptor (sys.Inspect): its Kind (KindStream,
	// KindPipe, KindFile or KindChar), size and identity, O_APPEND, and
	// O_NONBLOCK: a transfer whose ends are both non-blocking sockets or
	// pipes makes its splice calls raw (sys.SpliceRaw).
	sys.Stat
	// W is the destination as an io.Writer: bytes already spliced into the
	// intermediate pipe when the drain meets a fallback errno are written
	// through it, so no consumed byte is lost.
	W io.Writer
	// Moved, if set on the destination, is called with the bytes that
	// reached it after each drain of the pipe (each direct splice); an
	// error ends the transfer there, with the pipe empty and Result.N
	// exact. Progress reporting and cancellation hook in here.
	Moved func(n int64) error
	// Stepped, if set on the destination, is called with the bytes each
	// single splice call moved into it, also in the middle of a drain:
	// draining a 1 MiB pipe into a slow reader's socket can take many
	// seconds of small steps, and a caller that watches for idleness
	// (Relay's idle timeout) must see them. It cannot stop the transfer.
	Stepped func(n int)
	// Unwind, if set on the source of a Transfer through a pipe of ours,
	// makes a fill that finds the source empty return Result.Waiting
	// (the pipe given back, nothing lost) instead of waiting for it. The
	// caller waits for the source with the shallow stack an idle
	// connection should hold (Relay: see sys.WaitReadable), then calls
	// Transfer again. A small fill (under 64 KiB) that took less than it
	// asked for also returns Waiting once drained, without the fill that
	// would only find the source empty. Tee ignores it.
	Unwind bool
}

var (
	// ErrNoDescriptor is Open's error for a value that has no descriptor
	// (it does not implement syscall.Conn). It wraps ErrUnsupported.
	ErrNoDescriptor = fmt.Errorf("no descriptor: %w", sys.ErrUnsupported)
	// ErrAppend is Open's error for an O_APPEND file as a destination:
	// splice, sendfile and copy_file_range all refuse to append (EINVAL,
	// EBADF), also when O_APPEND was set with fcntl after open
	// (golang/go#79660). It wraps ErrUnsupported.
	ErrAppend = fmt.Errorf("an O_APPEND file: the kernel's transfer calls cannot append: %w", sys.ErrUnsupported)
)

// Open describes v as the source (dst false) or the destination (dst true)
// of a transfer inside the kernel. It is the module's one builder of an
// end: Copy, Relay and the splice package all use it.
//
// v must implement syscall.Conn; its descriptor is classified once with
// sys.Inspect (a *net.TCPConn needs no system call: it is always a
// non-blocking stream socket). The errors: ErrNoDescriptor when v has no
// descriptor; the closed error a Read or Write would give (os.ErrClosed,
// net.ErrClosed) for a closed value; ErrAppend for an O_APPEND
// destination; an error wrapping ErrUnsupported naming the kind for a
// descriptor no transfer takes on that side (a datagram socket, a
// directory, a character device as a source). A destination that
// implements io.Writer gets it as W.
func Open(v any, dst bool) (End, error) {
	var e End
	if w, ok := v.(io.Writer); ok && dst {
		e.W = w
	}
	if c, ok := v.(*net.TCPConn); ok {
		// Always a non-blocking stream socket: no system call needed. An
		// empty Control still says net.ErrClosed for a closed conn.
		rc, err := c.SyscallConn()
		if err == nil {
			err = rc.Control(func(uintptr) {})
		}
		e.RC, e.Kind, e.Nonblock = rc, sys.KindStream, true
		return e, err
	}
	rc, ok := sys.RawConn(v)
	if !ok {
		if _, ok := v.(syscall.Conn); ok {
			return e, closedError(v, errors.New("SyscallConn failed"))
		}
		return e, ErrNoDescriptor
	}
	st, err := sys.Inspect(rc, true)
	if err != nil {
		return e, closedError(v, err)
	}
	e.RC, e.Stat = rc, st
	switch {
	case dst && st.Kind == sys.KindFile && st.Append:
		return e, ErrAppend
	case !Spliceable(st, dst):
		return e, fmt.Errorf("a %v: %w", st.Kind, sys.ErrUnsupported)
	}
	return e, nil
}

// closedError gives the error a closed value's own methods give: a closed
// *os.File's RawConn says "use of closed file" (internal/poll's
// ErrFileClosing) where its Read and Write say os.ErrClosed. (RawConn's
// Control fails only for a closed descriptor; a system call's own error
// comes as an *os.SyscallError.)
func closedError(v any, err error) error {
	var se *os.SyscallError
	if f, ok := v.(*os.File); ok && !errors.As(err, &se) {
		return &os.PathError{Op: "splice", Path: f.Name(), Err: os.ErrClosed}
	}
	return err // a closed conn: net.ErrClosed already
}

// Spliceable reports whether a descriptor described by st can be spliced
// from (dst false) or to (dst true). An O_APPEND regular file is refused as
// a destination (splice says EINVAL); a character device is a destination
// only (/dev/null).
func Spliceable(st sys.Stat, dst bool) bool {
	switch st.Kind {
	case sys.KindStream, sys.KindPipe:
		return true
	case sys.KindFile:
		return !(dst && st.Append)
	case sys.KindChar:
		return dst
	}
	return false
}

func (e End) stepped(n int) {
	if e.Stepped != nil {
		e.Stepped(n)
	}
}

func (e End) moved(n int64) error {
	if e.Moved == nil || n == 0 {
		return nil
	}
	return e.Moved(n)
}
