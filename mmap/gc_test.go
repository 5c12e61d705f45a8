package mmap_test

import (
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/zerocopy-go/zerocopy/internal/testutil"
	"github.com/zerocopy-go/zerocopy/mmap"
)

const gcEnv = "ZEROCOPY_MMAP_GC_CHILD"

// TestBytesOutlivesMapping: a program that keeps only the slice from Bytes
// and drops the Mapping must not crash when the garbage collector runs the
// Mapping's cleanup. It runs in a child process (the test binary again),
// because the failure is a SIGSEGV that would kill the whole test binary.
// The child waits until the cleanup has demonstrably run (the Mapping's
// descriptor is closed), collects garbage a few more times, then reads the
// whole slice and compares its SHA-256 with the file's.
func TestBytesOutlivesMapping(t *testing.T) {
	if dir := os.Getenv(gcEnv); dir != "" {
		gcChild(t, dir)
		return
	}
	cmd := testutil.Command(t, os.Args[0], "-test.run=^TestBytesOutlivesMapping$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), gcEnv+"="+t.TempDir())
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "the child died:\n%s", out)
	require.Contains(t, string(out), "--- PASS: TestBytesOutlivesMapping")
	for _, mode := range modes() {
		require.Contains(t, string(out), fmt.Sprintf("%v: slice intact after the cleanup", mode))
	}
}

func gcChild(t *testing.T, dir string) {
	data := testutil.Data(40, 1<<20+123)
	path := filepath.Join(dir, "f")
	require.NoError(t, os.WriteFile(path, data, 0o644))
	want := sha256.Sum256(data)
	for _, mode := range modes() {
		t.Run(mode.String(), func(t *testing.T) {
			before := openFDs(t)
			b, dup := bytesOnly(t, path, mode)
			if runtime.GOOS != "windows" { // Windows's handle count moves with the runtime's own handles
				require.Equal(t, before+1, openFDs(t), "the Mapping holds one descriptor")
			}
			ran := false
			for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
				runtime.GC()
				if isClosed(dup) {
					ran = true
					break
				}
				time.Sleep(5 * time.Millisecond)
			}
			require.True(t, ran, "the cleanup of the dropped Mapping ran (its descriptor was closed)")
			if runtime.GOOS != "windows" {
				require.Equal(t, before, openFDs(t), "the descriptor is closed")
			}
			for range 5 {
				runtime.GC()
			}
			require.Len(t, b, len(data))
			require.Equal(t, want, sha256.Sum256(b), "the slice still reads the file")
			fmt.Printf("%v: slice intact after the cleanup\n", mode)
		})
	}
}

// isClosed reports whether f has been closed (its RawConn refuses).
func isClosed(f *os.File) bool {
	rc, err := f.SyscallConn()
	return err != nil || rc.Control(func(uintptr) {}) != nil
}

// bytesOnly maps path and returns only the slice and the Mapping's own
// descriptor: the Mapping is unreachable once it returns.
func bytesOnly(t *testing.T, path string, mode mmap.Mode) ([]byte, *os.File) {
	flag := os.O_RDONLY
	if mode == mmap.ReadWrite {
		flag = os.O_RDWR
	}
	f, err := os.OpenFile(path, flag, 0)
	require.NoError(t, err)
	defer f.Close()
	m, err := mmap.Map(f, 0, 0, mode)
	require.NoError(t, err)
	return m.Bytes(), mmap.DupOf(m)
}

// openFDs counts the process's descriptors (/dev/fd; on Windows its
// handles).
func openFDs(t *testing.T) int {
	n, err := testutil.Descriptors()
	if err != nil {
		t.Fatalf("cannot count descriptors: %v", err)
	}
	return n
}
