package testutil

import (
	"os"
	"slices"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// NoLeaks records the open descriptors (/proc/self/fd) and goroutines now,
// and when the test ends fails it if any descriptor opened since is still
// open, or any goroutine started since is still running. Call it first in a
// test, before anything else registers a Cleanup: cleanups run last-in
// first-out, so the test's own cleanups close their files before this runs.
// Not for parallel tests: descriptors are per process.
func NoLeaks(t *testing.T) {
	t.Helper()
	before := fds()
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() {
		t.Helper()
		dropPools()
		// Goroutines first: goleak waits for them to end, and a goroutine
		// ending may close a descriptor (net/http's transport closes a
		// connection from its read loop after the body's EOF).
		goleak.VerifyNone(t, ignore)
		if before == nil {
			return
		}
		var leaked []string
		for try := 0; try < 50; try++ {
			leaked = leaked[:0]
			for _, fd := range fds() {
				if !slices.Contains(before, fd) {
					target, _ := os.Readlink("/proc/self/fd/" + fd)
					leaked = append(leaked, fd+" -> "+target)
				}
			}
			if len(leaked) == 0 {
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
		t.Errorf("descriptors leaked: %v", leaked)
	})
}

// fds lists /proc/self/fd, or returns nil where there is no /proc.
func fds() []string {
	d, err := os.Open("/proc/self/fd")
	if err != nil {
		return nil
	}
	defer d.Close()
	// The listing includes the directory's own descriptor; it gets the same
	// number before and after unless a leak took that number.
	names, _ := d.Readdirnames(-1)
	return names
}
