//go:build linux

package zerocopy

import (
	"io"
	"os"

	"github.com/zerocopy-go/zerocopy/internal/sys"
)

// interruptible makes the blocking descriptors of a call with a context
// wake when the context ends (golang/go has no deadline for them: a shell's
// stdin or stdout, an os.NewFile of an inherited pipe). A pipe, FIFO,
// terminal or socket *os.File in blocking mode is replaced for the call by
// a duplicate in non-blocking mode that the runtime's poller watches, so
// that wake's past deadlines reach it and the kernel paths wait through
// the poller. The open file description is shared with the original:
// O_NONBLOCK is set on it for the call and the flags are restored on
// return. Regular files never wait and are left alone. It returns the
// function that undoes it.
func interruptible(dst io.Writer, s source) (io.Writer, source, func()) {
	var undo [2]func()
	if f, ok := dst.(*os.File); ok {
		if g, u := pollable(f); g != nil {
			dst, undo[0] = g, u
		}
	}
	if f := s.file(); f != nil && !s.at {
		if g, u := pollable(f); g != nil {
			s.holder = g
			lr := s.lr
			if s.r == any(f) {
				s.r = g
			} else if lr != nil {
				lr.R = g // the caller's LimitedReader: put back below
			}
			undo[1] = func() {
				if lr != nil && lr.R == g {
					lr.R = f
				}
				u()
			}
		}
	}
	return dst, s, func() {
		for _, u := range undo {
			if u != nil {
				u()
			}
		}
	}
}

// pollable returns a duplicate of f that the poller watches, and the
// function that closes it and restores f's flags, when f is a blocking
// pipe, FIFO, terminal or socket; nil otherwise.
func pollable(f *os.File) (*os.File, func()) {
	rc, err := f.SyscallConn()
	if err != nil {
		return nil, nil
	}
	st, err := sys.Inspect(rc, true)
	if err != nil || st.Nonblock {
		return nil, nil
	}
	switch st.Kind {
	case sys.KindPipe, sys.KindChar, sys.KindStream:
	default:
		return nil, nil
	}
	fd, flags, err := sys.DupNonblock(rc)
	if err != nil {
		return nil, nil
	}
	g := os.NewFile(uintptr(fd), f.Name())
	return g, func() {
		_ = g.Close()
		sys.RestoreFlags(rc, flags)
	}
}
