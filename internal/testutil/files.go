package testutil

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// File creates a file named name in dir holding data, opened for reading
// and writing at offset 0. It is closed when the test ends.
func File(t testing.TB, dir, name string, data []byte) *os.File {
	t.Helper()
	path := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(path, data, 0o644))
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	require.NoError(t, err)
	t.Cleanup(func() { _ = f.Close() })
	return f
}

// SparseFile creates a file in dir whose only data is data at offset off:
// everything before it is a hole, so offsets past 4 GiB cost no disk.
func SparseFile(t testing.TB, dir, name string, off int64, data []byte) *os.File {
	t.Helper()
	f := File(t, dir, name, nil)
	_, err := f.WriteAt(data, off)
	require.NoError(t, err)
	return f
}

// ReadFile returns the contents of the file at path.
func ReadFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return b
}

// Offset returns f's current file offset.
func Offset(t testing.TB, f *os.File) int64 {
	t.Helper()
	off, err := f.Seek(0, 1)
	require.NoError(t, err)
	return off
}

// TmpfsDir returns a fresh directory on tmpfs (/dev/shm), removed when the
// test ends, or skips the test where there is none.
func TmpfsDir(t testing.TB) string {
	t.Helper()
	if fi, err := os.Stat("/dev/shm"); err != nil || !fi.IsDir() {
		t.Skip("no /dev/shm on this machine")
	}
	dir, err := os.MkdirTemp("/dev/shm", "zerocopy-test-")
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	return dir
}

// WriteSized writes a file of size bytes of seeded data at path, in 4 MiB
// writes (for the large files of benchmarks and cache tests).
func WriteSized(t testing.TB, path string, size int64) {
	t.Helper()
	f, err := os.Create(path)
	require.NoError(t, err)
	chunk := Data(99, 4<<20)
	for left := size; left > 0; left -= int64(len(chunk)) {
		_, err := f.Write(chunk[:min(left, int64(len(chunk)))])
		require.NoError(t, err)
	}
	require.NoError(t, f.Close())
}
