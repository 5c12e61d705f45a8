package testutil

import (
	"runtime"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// ThreadCPU is the calling OS thread's user+system CPU time.
func ThreadCPU() time.Duration {
	var ru unix.Rusage
	if unix.Getrusage(unix.RUSAGE_THREAD, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// SenderCPU locks the calling goroutine to its OS thread and starts timing
// that thread's CPU. The returned function reports it as the metric
// "cpu-s/GiB" over b.N operations of bytesPerOp bytes, and unlocks. The
// receiver's work, on other threads, is not counted.
func SenderCPU(b *testing.B, bytesPerOp int64) func() {
	runtime.LockOSThread()
	start := ThreadCPU()
	return func() {
		used := ThreadCPU() - start
		runtime.UnlockOSThread()
		if gib := float64(b.N) * float64(bytesPerOp) / (1 << 30); used > 0 && gib > 0 {
			b.ReportMetric(used.Seconds()/gib, "cpu-s/GiB")
		}
	}
}

// ProcessCPU is the whole process's user+system CPU time.
func ProcessCPU() time.Duration {
	var ru unix.Rusage
	if unix.Getrusage(unix.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
