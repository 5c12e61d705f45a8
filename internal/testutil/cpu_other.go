//go:build !linux

package testutil

import "testing"

// SenderCPU measures nothing here (no per-thread CPU time): benchmarks
// report no cpu-s/GiB.
func SenderCPU(b *testing.B, bytesPerOp int64) func() { return func() {} }
