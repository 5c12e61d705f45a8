//go:build linux && !purego

package zerocopy

import "sync"

// fastPaths tells the portable tests which methods to expect.
const fastPaths = true

// ResetRefused forgets paths marked missing by an injected ENOSYS.
func ResetRefused() {
	for i := range missing {
		missing[i].Store(false)
	}
}

// Reprobe runs the one-time probe again (through whatever the test has
// injected into internal/sys).
func Reprobe() {
	probeOnce = sync.Once{}
	refusedBy = [numMethods]error{}
	probeOnce.Do(probe)
}

// RestoreProbe probes again after the test's injections are gone.
func RestoreProbe() {
	probeOnce = sync.Once{}
	refusedBy = [numMethods]error{}
	ResetRefused()
	probeOnce.Do(probe)
}

// SetProgressChunk sets the bounded call size until restore.
func SetProgressChunk(n int) (restore func()) {
	old := progressChunk
	progressChunk = n
	return func() { progressChunk = old }
}
