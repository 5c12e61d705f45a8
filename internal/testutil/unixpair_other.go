//go:build !unix && !windows

package testutil

import (
	"net"
	"testing"
)

// UnixPair skips the test: no socketpair(2) on this platform.
func UnixPair(t testing.TB, network string) (a, b *net.UnixConn) {
	t.Skip("UnixPair: no socketpair on this platform")
	return nil, nil
}
