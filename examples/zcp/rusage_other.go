//go:build !unix

package main

import "time"

// cpuTime is unknown here: zcp -v reports 0.
func cpuTime() time.Duration { return 0 }
