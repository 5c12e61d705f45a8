//go:build !linux

package zerocopy_test

// countFDs: unknown here (no /proc/self/fd).
func countFDs() (fds, pipes int) { return -1, -1 }

// pipesHeld: zerocopy holds pipes on Linux only.
func pipesHeld() int64 { return 0 }

// fdLimit: not known here; the benchmark fails clearly if it runs out.
func fdLimit(want int) int { return want }

// kernelSlab: unknown here.
func kernelSlab() int64 { return 0 }
