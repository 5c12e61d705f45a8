//go:build !windows || purego

package mmap_test

import (
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/zerocopy-go/zerocopy/internal/testutil"
)

// truncateRefused: only Windows refuses to shrink a mapped file.
func truncateRefused(error) bool { return false }

// shrink truncates f to size under a mapping and returns true. Under a
// user-mode emulator whose SIGBUS comes without the fault address
// (qemu-aarch64), it skips t: no fault past the new end could be handled.
func shrink(t *testing.T, f *os.File, size int64) bool {
	t.Helper()
	testutil.SkipUnlessFaultAddresses(t)
	require.NoError(t, f.Truncate(size))
	return true
}
