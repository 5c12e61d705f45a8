//go:build linux && !purego

package splice_test

import (
	"errors"
	"io"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/zerocopy-go/zerocopy/internal/testutil"
	"github.com/zerocopy-go/zerocopy/splice"
)

// TestNoBusyLoopNonPollable: the destination is a pipe adopted while
// blocking (so the netpoller does not watch it) and then made non-blocking
// behind its back, the shape of golang/go#75304. Its reader stalls 600 ms:
// a transfer that spins on EAGAIN burns that much CPU, one that waits in
// poll(2) next to none.
func TestNoBusyLoopNonPollable(t *testing.T) {
	testutil.NoLeaks(t)
	r, w := testutil.NonPollablePipe(t)

	data := testutil.Data(60, 4<<20)
	c, s := testutil.TCPPair(t)
	feed := testutil.Feed(c, data)
	got := make(chan []byte)
	go func() {
		time.Sleep(600 * time.Millisecond)
		b, _ := io.ReadAll(r)
		got <- b
	}()
	before := testutil.ProcessCPU()
	n, err := splice.Splice(w, s, -1)
	used := testutil.ProcessCPU() - before
	require.NoError(t, err)
	require.Equal(t, int64(len(data)), n)
	require.NoError(t, w.Close())
	testutil.RequireBytes(t, data, <-got)
	require.NoError(t, feed())
	t.Logf("CPU while the reader stalled 600ms: %v", used)
	require.Less(t, used, 300*time.Millisecond, "a busy loop on EAGAIN burns the whole stall")
}

// TestPeerReset: the destination's peer resets mid-transfer; Splice
// returns the errno with the bytes the kernel accepted.
func TestPeerReset(t *testing.T) {
	testutil.NoLeaks(t)
	data := testutil.Data(61, 64<<20)
	c, s := testutil.TCPPair(t)
	feed := testutil.Feed(c, data)
	d1, d2 := testutil.TCPPair(t)
	require.NoError(t, d1.SetWriteBuffer(16<<10))
	require.NoError(t, d2.SetReadBuffer(16<<10))
	go func() {
		buf := make([]byte, 1<<20)
		_, _ = io.ReadFull(d2, buf)
		_ = d2.SetLinger(0) // close with RST
		_ = d2.Close()
	}()
	n, err := splice.Splice(d1, s, -1)
	require.Error(t, err)
	require.True(t, errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE), "got %v", err)
	require.GreaterOrEqual(t, n, int64(1<<20))
	require.Less(t, n, int64(len(data)))
	require.ErrorContains(t, err, "splice")
	_ = s.Close()
	_ = feed()
}
