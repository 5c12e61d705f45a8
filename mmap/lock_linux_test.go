//go:build linux && !purego

package mmap_test

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/zerocopy-go/zerocopy/internal/testutil"
	"github.com/zerocopy-go/zerocopy/mmap"
)

const lockEnv = "ZEROCOPY_MMAP_LOCK_CHILD"

// TestLockOverLimit locks more than RLIMIT_MEMLOCK allows and expects an
// error naming the limit. Root is exempt from the limit (CAP_IPC_LOCK), so
// as root the test reruns itself as user nobody.
func TestLockOverLimit(t *testing.T) {
	if path := os.Getenv(lockEnv); path != "" {
		lockChild(t, path)
		return
	}
	dir, err := os.MkdirTemp("", "zerocopy-lock-")
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	require.NoError(t, os.Chmod(dir, 0o755))
	path := filepath.Join(dir, "f")
	require.NoError(t, os.WriteFile(path, make([]byte, 64<<20), 0o644))

	if os.Geteuid() != 0 {
		lockChild(t, path)
		return
	}
	// Copy the test binary where nobody can run it.
	bin := filepath.Join(dir, "mmap.test")
	copyFile(t, os.Args[0], bin)
	cmd := testutil.Command(t, bin, "-test.run=^TestLockOverLimit$", "-test.v")
	cmd.Env = append(os.Environ(), lockEnv+"="+path)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, string(out))
	require.Contains(t, string(out), "--- PASS: TestLockOverLimit")
}

func lockChild(t *testing.T, path string) {
	var lim unix.Rlimit
	require.NoError(t, unix.Getrlimit(unix.RLIMIT_MEMLOCK, &lim))
	if lim.Cur == unix.RLIM_INFINITY || lim.Cur >= 64<<20 {
		require.NoError(t, unix.Setrlimit(unix.RLIMIT_MEMLOCK, &unix.Rlimit{Cur: 1 << 20, Max: 1 << 20}))
	}
	m, err := mmap.Open(path)
	require.NoError(t, err)
	defer m.Close()
	err = m.Lock()
	require.Error(t, err)
	require.ErrorContains(t, err, "RLIMIT_MEMLOCK")
	require.ErrorContains(t, err, "mlock")
	fmt.Println("lock error:", err)
}

func copyFile(t *testing.T, from, to string) {
	in, err := os.Open(from)
	require.NoError(t, err)
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY, 0o755)
	require.NoError(t, err)
	_, err = io.Copy(out, in)
	require.NoError(t, err)
	require.NoError(t, out.Close())
}
