//go:build unix

package zerocopy_test

import "golang.org/x/sys/unix"

func fcntlAppend(fd int) error {
	fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
	if err != nil {
		return err
	}
	_, err = unix.FcntlInt(uintptr(fd), unix.F_SETFL, fl|unix.O_APPEND)
	return err
}
