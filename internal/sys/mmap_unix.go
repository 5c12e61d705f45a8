//go:build linux || darwin || freebsd

package sys

import (
	"os"

	"golang.org/x/sys/unix"
)

// The memory-mapping calls, replaceable like the others. Each has one
// signature on every architecture.
var (
	Mmap    = unix.Mmap
	Munmap  = unix.Munmap
	Msync   = unix.Msync
	Madvise = unix.Madvise
	Mlock   = unix.Mlock
	Munlock = unix.Munlock
)

// Re-exported for the mmap package, which does not import
// golang.org/x/sys.
const (
	PROT_READ       = unix.PROT_READ
	PROT_WRITE      = unix.PROT_WRITE
	MAP_SHARED      = unix.MAP_SHARED
	MAP_PRIVATE     = unix.MAP_PRIVATE
	MS_SYNC         = unix.MS_SYNC
	MADV_NORMAL     = unix.MADV_NORMAL
	MADV_SEQUENTIAL = unix.MADV_SEQUENTIAL
	MADV_RANDOM     = unix.MADV_RANDOM
	MADV_WILLNEED   = unix.MADV_WILLNEED
	MADV_DONTNEED   = unix.MADV_DONTNEED
)

// MemlockLimit returns the soft RLIMIT_MEMLOCK in bytes, as a uint64 on
// every platform (freebsd's rlim_t is signed). Infinity is the largest
// uint64.
func MemlockLimit() (uint64, error) {
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_MEMLOCK, &lim); err != nil {
		return 0, err
	}
	return uint64(lim.Cur), nil
}

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
