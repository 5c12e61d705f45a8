//go:build linux

package zerocopy_test

import (
	"os"
	"strconv"
	"strings"
	"syscall"

	"github.com/zerocopy-go/zerocopy/internal/splicer"
)

// countFDs counts the process's open descriptors and, of those, pipes,
// after the splice pool's idle pipes (the process's, not any relay's) are
// dropped.
func countFDs() (fds, pipes int) {
	splicer.Drop()
	d, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return -1, -1
	}
	for _, e := range d {
		if target, err := os.Readlink("/proc/self/fd/" + e.Name()); err == nil && strings.HasPrefix(target, "pipe:") {
			pipes++
		}
	}
	return len(d), pipes
}

// pipesHeld is the count of pipes zerocopy's transfers hold right now.
func pipesHeld() int64 {
	_, _, held := splicer.Stats()
	return held
}

// raiseFDLimit makes sure the process may open n descriptors, raising the
// hard limit too where allowed (root).
func raiseFDLimit(n int) error {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return err
	}
	if lim.Cur >= uint64(n) {
		return nil
	}
	lim.Cur = uint64(n)
	if lim.Max < lim.Cur {
		lim.Max = lim.Cur
	}
	return syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
}

// kernelSlab is the kernel's Slab from /proc/meminfo in bytes (0: unknown).
func kernelSlab() int64 {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "Slab:" {
			if kb, err := strconv.ParseInt(f[1], 10, 64); err == nil {
				return kb << 10
			}
		}
	}
	return 0
}
