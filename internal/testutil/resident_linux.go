package testutil

import (
	"os"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// Resident returns the fraction of path's pages in the page cache
// (mincore over a read-only mapping).
func Resident(t testing.TB, path string) float64 {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	fi, err := f.Stat()
	require.NoError(t, err)
	if fi.Size() == 0 {
		return 1
	}
	var m []byte
	rc, err := f.SyscallConn()
	require.NoError(t, err)
	var merr error
	require.NoError(t, rc.Control(func(fd uintptr) {
		m, merr = unix.Mmap(int(fd), 0, int(fi.Size()), unix.PROT_READ, unix.MAP_SHARED)
	}))
	require.NoError(t, merr)
	defer unix.Munmap(m)
	page := os.Getpagesize()
	vec := make([]byte, (len(m)+page-1)/page)
	// x/sys has no Mincore wrapper on Linux. Safe: m and vec are live,
	// non-empty, and vec has one byte per page of m, as mincore(2) writes.
	if _, _, e := unix.Syscall(unix.SYS_MINCORE, uintptr(unsafe.Pointer(&m[0])), uintptr(len(m)), uintptr(unsafe.Pointer(&vec[0]))); e != 0 {
		require.NoError(t, e, "mincore")
	}
	in := 0
	for _, v := range vec {
		in += int(v & 1)
	}
	return float64(in) / float64(len(vec))
}

// Evict drops path's pages from the page cache (fsync, then
// POSIX_FADV_DONTNEED), so the next read of it is cold.
func Evict(t testing.TB, path string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	require.NoError(t, err)
	defer f.Close()
	require.NoError(t, f.Sync())
	rc, err := f.SyscallConn()
	require.NoError(t, err)
	var ferr error
	require.NoError(t, rc.Control(func(fd uintptr) { ferr = unix.Fadvise(int(fd), 0, 0, unix.FADV_DONTNEED) }))
	require.NoError(t, ferr)
}
