//go:build linux || darwin || freebsd

package sys

import (
	"os"

	"golang.org/x/sys/unix"
)

// The memory-mapping calls, replaceable like the others.
var (
	Mmap    = unix.Mmap
	Munmap  = unix.Munmap
	Msync   = unix.Msync
	Madvise = unix.Madvise
	Mlock   = unix.Mlock
	Munlock = unix.Munlock
)

// Dup returns a new *os.File for a duplicate of f's descriptor (close-on-exec),
// reached through RawConn. The caller owns and closes the result; f stays
// the caller's.
func Dup(f *os.File) (*os.File, error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return nil, err
	}
	var nfd int
	var derr error
	if err := rc.Control(func(fd uintptr) {
		nfd, derr = unix.FcntlInt(fd, unix.F_DUPFD_CLOEXEC, 0)
	}); err != nil {
		return nil, err
	}
	if derr != nil {
		return nil, os.NewSyscallError("fcntl", derr)
	}
	return os.NewFile(uintptr(nfd), f.Name()), nil
}
