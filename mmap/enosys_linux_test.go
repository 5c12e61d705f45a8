//go:build linux && !purego

package mmap_test

import (
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/zerocopy-go/zerocopy/internal/sys"
	"github.com/zerocopy-go/zerocopy/internal/testutil"
	"github.com/zerocopy-go/zerocopy/mmap"
)

// TestAdviseLockENOSYS: a kernel without madvise or mlock (ENOSYS) is not
// an error; any other errno is, and names the call.
func TestAdviseLockENOSYS(t *testing.T) {
	f := testutil.File(t, t.TempDir(), "f", testutil.Data(30, 3*page))
	m, err := mmap.Map(f, 0, 0, mmap.ReadOnly)
	require.NoError(t, err)
	t.Cleanup(func() { _ = m.Close() })

	madvise, mlock, munlock := sys.Madvise, sys.Mlock, sys.Munlock
	t.Cleanup(func() { sys.Madvise, sys.Mlock, sys.Munlock = madvise, mlock, munlock })
	errno := syscall.ENOSYS
	sys.Madvise = func([]byte, int) error { return errno }
	sys.Mlock = func([]byte) error { return errno }
	sys.Munlock = func([]byte) error { return errno }
	require.NoError(t, m.Advise(mmap.WillNeed))
	require.NoError(t, m.Lock())
	require.NoError(t, m.Unlock())

	errno = syscall.EIO
	require.ErrorContains(t, m.Advise(mmap.WillNeed), "madvise")
	require.ErrorIs(t, m.Lock(), syscall.EIO)
	require.ErrorContains(t, m.Unlock(), "munlock")
}
