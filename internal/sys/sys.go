// Package sys is the one seam between zerocopy's packages and the kernel.
//
// It is the only package of the module (tests and examples aside) that
// imports golang.org/x/sys. It holds:
//
//   - the raw system calls, each a package-level variable with one
//     signature on every architecture, so that tests can replace them to
//     inject faults (see internal/testutil);
//   - one errno table per call (errno_linux.go): what each errno means for
//     that call, with the kernel source or stdlib code behind each row;
//   - the one loop that makes a call on a descriptor (Loop): EINTR retry,
//     waiting on EAGAIN through the netpoller or poll(2), classification by
//     the call's table, and os.NewSyscallError wrapping;
//   - the one classification of descriptors (Kind, Stat, Inspect).
//
// Every descriptor is reached through [syscall.RawConn]: no package of
// this module calls (*os.File).Fd, which would switch the descriptor to
// blocking mode (golang/go#28330).
package sys

import (
	"errors"
	"math"
	"syscall"
)

// ErrUnsupported is what the module's "not supported here" errors wrap. It
// is errors.ErrUnsupported, which every public package exports as its
// ErrUnsupported, so errors.Is(err, zerocopy.ErrUnsupported) holds for all
// of them. Its text, "unsupported operation", ends messages that already
// name the package and the operation: it adds no "zerocopy:" of its own
// (a Relay report read "zerocopy: Relay: conn a (T): no descriptor:
// zerocopy: unsupported operation").
var ErrUnsupported = errors.ErrUnsupported

// NoLimit is a transfer without a byte limit, as the stdlib writes it
// (remain := int64(1<<63 - 1)): no count can reach it. Only public APIs
// take a negative count for "no limit", and turn it into this at once.
const NoLimit = math.MaxInt64

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
