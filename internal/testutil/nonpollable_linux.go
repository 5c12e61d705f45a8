package testutil

import (
	"os"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// NonPollablePipe returns a pipe whose write end the netpoller does not
// watch (os.NewFile adopted it while blocking) but which was then made
// non-blocking behind its back: the shape of golang/go#75304, where EAGAIN
// cannot be waited on through the netpoller. Both ends close with the test.
func NonPollablePipe(t testing.TB) (r, w *os.File) {
	t.Helper()
	var p [2]int
	require.NoError(t, unix.Pipe2(p[:], unix.O_CLOEXEC))
	r, w = os.NewFile(uintptr(p[0]), "r"), os.NewFile(uintptr(p[1]), "w")
	t.Cleanup(func() { _ = r.Close(); _ = w.Close() })
	rc, err := w.SyscallConn()
	require.NoError(t, err)
	require.NoError(t, rc.Control(func(fd uintptr) { err = unix.SetNonblock(int(fd), true) }))
	require.NoError(t, err)
	return r, w
}
