//go:build linux

package zerocopy_test

import (
	"context"
	"net"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/zerocopy-go/zerocopy"
	"github.com/zerocopy-go/zerocopy/internal/sys"
	"github.com/zerocopy-go/zerocopy/internal/testutil"
)

// spliceCounter counts the bytes splice(2) takes from descriptor fd until
// the test ends. Not for parallel tests.
func spliceCounter(t *testing.T, fd int) *atomic.Int64 {
	var n atomic.Int64
	orig := sys.Splice
	sys.Splice = func(rfd int, roff *int64, wfd int, woff *int64, k int, flags int) (int, error) {
		m, err := orig(rfd, roff, wfd, woff, k, flags)
		if rfd == fd && m > 0 {
			n.Add(int64(m))
		}
		return m, err
	}
	t.Cleanup(func() { sys.Splice = orig })
	return &n
}

// TestWithReaderSplices: after the bytes a bufio.Reader held, every byte
// of the conn moves by splice, through Relay and through Copy (issue 16's
// done-means: no read or write of the payload).
func TestWithReaderSplices(t *testing.T) {
	if !zerocopy.FastPaths {
		t.Skip("no splice in this build")
	}
	for _, how := range []string{"Relay", "Copy"} {
		t.Run(how, func(t *testing.T) {
			testutil.NoLeaks(t)
			client, conn := testutil.TCPPair(t)
			payload := testutil.Data(33, 4<<20+3)
			socksHello(t, client, payload)
			br := readHeader(t, conn)
			held := br.Buffered()
			spliced := spliceCounter(t, testutil.FD(t, conn))
			up, server := testutil.TCPPair(t)
			got := testutil.Collect(t, server)
			var rep zerocopy.Report
			var n int64
			var err error
			if how == "Relay" {
				rl := zerocopy.Relayer{Observe: func(r zerocopy.RelayReport) {
					if r.AToB {
						rep = r.Report
					}
				}}
				go func() { _ = server.CloseWrite() }()
				n, _, err = rl.Relay(context.Background(), zerocopy.WithReader(conn, br), up)
			} else {
				cp := zerocopy.Copier{Observe: func(r zerocopy.Report) { rep = r }}
				n, err = cp.Copy(context.Background(), up, zerocopy.WithReader(conn, br))
				require.NoError(t, up.CloseWrite())
			}
			require.NoError(t, err)
			testutil.RequireBytes(t, payload, got())
			require.Equal(t, int64(len(payload)), n)
			require.Equal(t, int64(len(payload)-held), spliced.Load(), "every byte after the %d buffered ones was spliced from the conn", held)
			require.Equal(t, zerocopy.MethodSplice, rep.Method, "fallback: %v", rep.Fallback)
			require.Equal(t, int64(len(payload)), rep.Bytes)
			_ = net.Conn(conn)
		})
	}
}
