//go:build !linux

package zerocopy_test

import "time"

// threadCPU is not measured here; benchmarks then report no cpu-s/GiB.
func threadCPU() time.Duration { return 0 }
