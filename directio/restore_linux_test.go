//go:build linux && !purego

package directio_test

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/zerocopy-go/zerocopy/directio"
	"github.com/zerocopy-go/zerocopy/internal/sys"
	"github.com/zerocopy-go/zerocopy/internal/testutil"
)

// TestWriterRestoreFails: when O_DIRECT cannot be set again after an
// unaligned write (fcntl F_SETFL fails), the write has landed: the Writer
// goes on through the page cache instead of failing it, and the file ends
// exactly at the bytes written (found from outside: strace -e
// inject=fcntl:error=EINVAL failed a complete copy with "restoring
// O_DIRECT").
func TestWriterRestoreFails(t *testing.T) {
	testutil.NoLeaks(t)
	path := filepath.Join(t.TempDir(), "restore")
	f, err := directio.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if errors.Is(err, errors.ErrUnsupported) {
		t.Skip("no O_DIRECT on this filesystem")
	}
	require.NoError(t, err)
	t.Cleanup(func() { _ = f.Close() })
	head := testutil.Data(7, 100)
	_, err = f.Seek(int64(len(head)), io.SeekStart) // an unaligned start: the head is written without O_DIRECT
	require.NoError(t, err)
	w, err := directio.NewWriter(f)
	require.NoError(t, err)
	require.True(t, w.Direct())

	// Fail every F_SETFL that sets O_DIRECT again.
	real := sys.FileFlags
	t.Cleanup(func() { sys.FileFlags = real })
	refused := 0
	sys.FileFlags = func(fd, cmd, arg int) (int, error) {
		if cmd == syscall.F_SETFL && arg&syscall.O_DIRECT != 0 {
			refused++
			return 0, syscall.EINVAL
		}
		return real(fd, cmd, arg)
	}
	data := testutil.Data(8, 3<<20+5)
	n, err := w.Write(data)
	require.NoError(t, err, "the bytes landed: nothing failed")
	require.Equal(t, len(data), n)
	require.NoError(t, w.Close())
	require.Equal(t, 1, refused, "one restore tried, then the Writer went on without O_DIRECT")
	require.False(t, w.Direct(), "the file is left without O_DIRECT")
	fi, err := os.Stat(path)
	require.NoError(t, err)
	require.Equal(t, int64(len(head)+len(data)), fi.Size(), "the file ends exactly at the bytes written")
	got := testutil.ReadFile(t, path)
	testutil.RequireBytes(t, data, got[len(head):])
}
