package sys

import "golang.org/x/sys/unix"

// NoCache is fcntl(fd, F_NOCACHE, on): darwin's counterpart of O_DIRECT,
// replaceable like the other calls.
var NoCache = func(fd int, on bool) error {
	arg := 0
	if on {
		arg = 1
	}
	_, err := unix.FcntlInt(uintptr(fd), unix.F_NOCACHE, arg)
	return err
}
