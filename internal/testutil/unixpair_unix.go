//go:build unix

package testutil

import (
	"net"
	"os"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
)

// UnixPair returns the two ends of a connected Unix socket of the given type
// ("unix" for SOCK_STREAM, "unixgram" for SOCK_DGRAM), closed when the test
// ends.
func UnixPair(t testing.TB, network string) (a, b *net.UnixConn) {
	t.Helper()
	typ := syscall.SOCK_STREAM
	if network == "unixgram" {
		typ = syscall.SOCK_DGRAM
	}
	syscall.ForkLock.RLock()
	fds, err := syscall.Socketpair(syscall.AF_UNIX, typ, 0)
	if err == nil {
		syscall.CloseOnExec(fds[0])
		syscall.CloseOnExec(fds[1])
	}
	syscall.ForkLock.RUnlock()
	require.NoError(t, err)
	conn := func(fd int) *net.UnixConn {
		f := os.NewFile(uintptr(fd), network)
		defer f.Close()
		c, err := net.FileConn(f)
		require.NoError(t, err)
		return c.(*net.UnixConn)
	}
	a, b = conn(fds[0]), conn(fds[1])
	t.Cleanup(func() { _ = a.Close(); _ = b.Close() })
	return a, b
}
