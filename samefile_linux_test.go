//go:build linux && !purego

package zerocopy_test

import (
	"io"
	"os"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/zerocopy-go/zerocopy"
	"github.com/zerocopy-go/zerocopy/internal/testutil"
)

// dupFile returns a second *os.File sharing f's open file description
// (and so its offset), made with dup(2) through the RawConn.
func dupFile(t *testing.T, f *os.File) *os.File {
	t.Helper()
	rc, err := f.SyscallConn()
	require.NoError(t, err)
	var nfd int
	var derr error
	require.NoError(t, rc.Control(func(fd uintptr) { nfd, derr = syscall.Dup(int(fd)) }))
	require.NoError(t, derr)
	g := os.NewFile(uintptr(nfd), f.Name())
	t.Cleanup(func() { _ = g.Close() })
	return g
}

// TestCopyFileItself is the stdlib's os.TestCopyFile/CopyFileItself: Copy
// of a file onto itself at one offset reads first and writes after, as
// io.Copy does: the file doubles and the count is 12.
func TestCopyFileItself(t *testing.T) {
	const data = "hello, world"
	for _, tc := range []struct {
		name string
		dst  func(t *testing.T, f *os.File) io.Writer
	}{
		{"same *os.File", func(t *testing.T, f *os.File) io.Writer { return f }},
		{"dup'd descriptor sharing the offset", func(t *testing.T, f *os.File) io.Writer { return dupFile(t, f) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := testutil.File(t, t.TempDir(), "f", []byte(data))
			_, err := f.Seek(0, io.SeekStart)
			require.NoError(t, err)
			var rep zerocopy.Report
			c := zerocopy.Copier{Observe: func(r zerocopy.Report) { rep = r }}
			n, err := c.Copy(bg, tc.dst(t, f), f)
			require.NoError(t, err)
			require.Equal(t, int64(len(data)), n)
			require.Equal(t, data+data, string(testutil.ReadFile(t, f.Name())))
			require.Equal(t, zerocopy.MethodBuffered, rep.Method)
			require.ErrorContains(t, rep.Fallback, "one file at one offset", "Report.Fallback says why")
			require.ErrorIs(t, rep.Fallback, zerocopy.ErrUnsupported)
		})
	}
}
