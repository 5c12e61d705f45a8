package sys

import (
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// DupNonblock duplicates the descriptor behind rc (close-on-exec) and sets
// O_NONBLOCK on the open file description the two share, so that an
// os.NewFile of the duplicate is watched by the runtime's poller. It
// returns the duplicate and the file status flags from before, for
// RestoreFlags. The caller owns the duplicate.
func DupNonblock(rc syscall.RawConn) (fd, flags int, err error) {
	fd = -1
	cerr := rc.Control(func(s uintptr) {
		if flags, err = FcntlInt(s, unix.F_GETFL, 0); err != nil {
			err = os.NewSyscallError("fcntl", err)
			return
		}
		if fd, err = FcntlInt(s, unix.F_DUPFD_CLOEXEC, 0); err != nil {
			fd, err = -1, os.NewSyscallError("fcntl", err)
			return
		}
		if _, err = FcntlInt(s, unix.F_SETFL, flags|unix.O_NONBLOCK); err != nil {
			_ = Close(fd)
			fd, err = -1, os.NewSyscallError("fcntl", err)
		}
	})
	if cerr != nil {
		return -1, 0, cerr
	}
	return fd, flags, err
}

// RestoreFlags sets the file status flags of the descriptor behind rc
// back to flags (from DupNonblock).
func RestoreFlags(rc syscall.RawConn, flags int) {
	_ = rc.Control(func(s uintptr) { _, _ = FcntlInt(s, unix.F_SETFL, flags) })
}
