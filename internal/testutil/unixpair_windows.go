package testutil

import (
	"net"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// UnixPair returns the two ends of a connected AF_UNIX stream socket
// (Windows 10 1803 and later have them; there is no socketpair, so a
// listener on a path in a temporary directory makes the pair), closed when
// the test ends. It skips, saying why, for "unixgram" (Windows has no
// datagram AF_UNIX sockets) and where AF_UNIX is missing (Wine 8:
// WSAEAFNOSUPPORT).
func UnixPair(t testing.TB, network string) (a, b *net.UnixConn) {
	t.Helper()
	if network != "unix" {
		t.Skipf("UnixPair: Windows has AF_UNIX stream sockets only, not %s", network)
	}
	path := filepath.Join(t.TempDir(), "s")
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Skipf("UnixPair: no AF_UNIX sockets here (Wine 8 has none): %v", err)
	}
	defer ln.Close()
	ch := make(chan *net.UnixConn, 1)
	go func() {
		c, err := ln.AcceptUnix()
		if err != nil {
			ch <- nil
			return
		}
		ch <- c
	}()
	a, err = net.DialUnix("unix", nil, &net.UnixAddr{Name: path, Net: "unix"})
	require.NoError(t, err)
	b = <-ch
	require.NotNil(t, b, "accept")
	t.Cleanup(func() { _ = a.Close(); _ = b.Close() })
	return a, b
}
