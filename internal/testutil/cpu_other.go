//go:build !linux

package testutil

import (
	"testing"
	"time"
)

// SenderCPU measures nothing here (no per-thread CPU time): benchmarks
// report no cpu-s/GiB.
func SenderCPU(b *testing.B, bytesPerOp int64) func() { return func() {} }

// ProcessCPU is not measured here.
func ProcessCPU() time.Duration { return 0 }
