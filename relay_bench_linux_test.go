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
	_, held := splicer.Stats()
	return held
}

// fdLimit raises the descriptor limit toward want as far as allowed (the
// hard limit too, where the process may: root with CAP_SYS_RESOURCE) and
// returns the limit in force.
func fdLimit(want int) int {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 1024
	}
	if lim.Cur < uint64(want) {
		up := lim
		up.Cur = uint64(want)
		up.Max = max(up.Max, up.Cur)
		if syscall.Setrlimit(syscall.RLIMIT_NOFILE, &up) != nil && lim.Cur < lim.Max {
			up.Cur, up.Max = lim.Max, lim.Max
			_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &up)
		}
		_ = syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim)
	}
	return int(min(lim.Cur, 1<<30))
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
