// Package sys is the one seam between zerocopy's packages and the kernel.
//
// Every raw system call a fast path makes is a package-level variable here,
// so that tests can replace it to inject faults (see internal/testutil).
// It also holds the helpers that reach a file descriptor through
// [syscall.RawConn]: no package of this module calls (*os.File).Fd, which
// would switch the descriptor to blocking mode (golang/go#28330).
//
// Nothing outside this package imports golang.org/x/sys for the fast paths.
package sys

import (
	"errors"
	"fmt"
	"syscall"
)

// ErrUnsupported is the one "not supported here" error of the module. Every
// public package re-exports it, so errors.Is(err, zerocopy.ErrUnsupported)
// and errors.Is(err, errors.ErrUnsupported) both hold.
var ErrUnsupported = fmt.Errorf("zerocopy: %w", errors.ErrUnsupported)

// RawConn returns the raw connection behind v when v implements
// [syscall.Conn]: *os.File, *net.TCPConn, *net.UnixConn, or any user type.
// It reports false when v has no descriptor or SyscallConn fails (a closed
// or nil file): the caller then takes the plain path, whose Read or Write
// reports the failure in the same words io.Copy would.
func RawConn(v any) (syscall.RawConn, bool) {
	sc, ok := v.(syscall.Conn)
	if !ok || sc == nil {
		return nil, false
	}
	rc, err := sc.SyscallConn()
	if err != nil || rc == nil {
		return nil, false
	}
	return rc, true
}
