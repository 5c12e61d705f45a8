//go:build linux && !purego

package splice_test

import (
	"errors"
	"io"
	"net"
	"os"
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
// a transfer that spins on EAGAIN makes splice calls all along (thousands;
// hundreds even if it slept a millisecond between them), one that waits in
// poll(2) makes a few before the stall and none during it. The calls are
// counted, not the CPU time, which is the scheduler's as much as the
// library's.
func TestNoBusyLoopNonPollable(t *testing.T) {
	testutil.NoLeaks(t)
	r, w := testutil.NonPollablePipe(t)

	data := testutil.Data(60, 4<<20)
	c, s := testutil.TCPPair(t)
	feed := testutil.Feed(c, data)
	calls := testutil.Inject(t, testutil.Splice) // counts, changes nothing
	got := make(chan []byte)
	stalled := make(chan int, 1)
	go func() {
		time.Sleep(600 * time.Millisecond)
		stalled <- calls.Calls()
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
	during := <-stalled
	t.Logf("splice calls until the reader woke after 600 ms: %d (of %d); CPU over the transfer: %v", during, calls.Calls(), used)
	require.Less(t, during, 50, "a busy loop on EAGAIN calls splice all through the stall")
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

// TestSpliceFaults injects errno values and short splices through the seam.
func TestSpliceFaults(t *testing.T) {
	testutil.NoLeaks(t)
	data := testutil.Data(42, 1<<20+7)
	for _, tc := range []struct {
		name     string
		fault    testutil.Fault
		fatal    bool
		fallback bool
	}{
		{"EINTR@1", testutil.Fault{Call: 1, Errno: syscall.EINTR}, false, false},
		{"EINTR@4", testutil.Fault{Call: 4, Errno: syscall.EINTR}, false, false},
		{"short1@2", testutil.Fault{Call: 2, Short: 1}, false, false},
		{"short1@3", testutil.Fault{Call: 3, Short: 1}, false, false},
		{"EINVAL@1", testutil.Fault{Call: 1, Errno: syscall.EINVAL}, false, true},
		{"EINVAL@4", testutil.Fault{Call: 4, Errno: syscall.EINVAL}, false, true},
		{"ENOSYS@1", testutil.Fault{Call: 1, Errno: syscall.ENOSYS}, false, true},
		{"EPIPE@2", testutil.Fault{Call: 2, Errno: syscall.EPIPE}, true, false},
		{"EIO@5", testutil.Fault{Call: 5, Errno: syscall.EIO}, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			testutil.Inject(t, testutil.Splice, tc.fault, testutil.Fault{Short: 64 << 10})
			c, s := testutil.TCPPair(t)
			feed := testutil.Feed(c, data)
			d1, d2 := testutil.TCPPair(t)
			got := testutil.Collect(t, d2)
			n, err := splice.Splice(d1, s, -1)
			require.NoError(t, d1.CloseWrite())
			arrived := got()
			require.Equal(t, n, int64(len(arrived)), "the count is what arrived")
			testutil.RequireBytes(t, data[:n], arrived)
			switch {
			case tc.fatal:
				require.ErrorIs(t, err, tc.fault.Errno)
				require.ErrorContains(t, err, "splice")
				_ = s.Close()
			case tc.fallback:
				// Everything taken from the source reached the destination:
				// a plain copy of the rest completes the stream.
				require.ErrorIs(t, err, errors.ErrUnsupported)
				require.ErrorIs(t, err, tc.fault.Errno)
				rest, rerr := io.ReadAll(s)
				require.NoError(t, rerr)
				testutil.RequireBytes(t, data[n:], rest, "the source resumes at the exact next byte")
			default:
				require.NoError(t, err)
				require.Equal(t, int64(len(data)), n)
			}
			_ = feed()
		})
	}
}

func TestDeadlines(t *testing.T) {
	testutil.NoLeaks(t)
	t.Run("source read deadline", func(t *testing.T) {
		c, s := testutil.TCPPair(t)
		d1, d2 := testutil.TCPPair(t)
		got := testutil.Collect(t, d2)
		_, err := c.Write([]byte("hello"))
		require.NoError(t, err)
		require.NoError(t, s.SetReadDeadline(time.Now().Add(100*time.Millisecond)))
		n, err := splice.Splice(d1, s, -1) // the peer never closes
		require.ErrorIs(t, err, os.ErrDeadlineExceeded)
		require.Equal(t, int64(5), n)
		require.NoError(t, d1.CloseWrite())
		require.Equal(t, "hello", string(got()))
	})
	t.Run("destination write deadline, expired before", func(t *testing.T) {
		c, s := testutil.TCPPair(t)
		d1, _ := testutil.TCPPair(t)
		_, err := c.Write([]byte("hello"))
		require.NoError(t, err)
		require.NoError(t, d1.SetWriteDeadline(time.Now().Add(-time.Second)))
		n, err := splice.Splice(d1, s, 5)
		require.ErrorIs(t, err, os.ErrDeadlineExceeded)
		require.Zero(t, n)
	})
	t.Run("destination write deadline, mid-transfer", func(t *testing.T) {
		data := testutil.Data(43, 32<<20)
		c, s := testutil.TCPPair(t)
		feed := testutil.Feed(c, data)
		d1, d2 := testutil.TCPPair(t)
		require.NoError(t, d1.SetWriteBuffer(16<<10))
		require.NoError(t, d2.SetReadBuffer(16<<10))
		require.NoError(t, d1.SetWriteDeadline(time.Now().Add(200*time.Millisecond)))
		n, err := splice.Splice(d1, s, -1) // nobody reads d2 until it returns
		require.ErrorIs(t, err, os.ErrDeadlineExceeded)
		require.Greater(t, n, int64(0))
		require.NoError(t, d1.Close())
		arrived, rerr := io.ReadAll(d2)
		require.NoError(t, rerr)
		require.Equal(t, n, int64(len(arrived)))
		testutil.RequireBytes(t, data[:n], arrived)
		_ = s.Close()
		_ = feed()
	})
}

// TestCloseWhileBlocked: Close from another goroutine, of either side,
// ends a blocked Splice with an error (golang/go#25985).
func TestCloseWhileBlocked(t *testing.T) {
	testutil.NoLeaks(t)
	for _, side := range []string{"source", "destination"} {
		t.Run(side, func(t *testing.T) {
			c, s := testutil.TCPPair(t)
			d1, d2 := testutil.TCPPair(t)
			require.NoError(t, d1.SetWriteBuffer(16<<10))
			require.NoError(t, d2.SetReadBuffer(16<<10))
			victim := s
			if side == "destination" {
				victim = d1
				// Keep the source busy so Splice blocks on the destination.
				go func() { _, _ = c.Write(testutil.Data(44, 16<<20)) }()
			}
			errc := make(chan error, 1)
			go func() { _, err := splice.Splice(d1, s, -1); errc <- err }()
			time.Sleep(150 * time.Millisecond)
			require.NoError(t, victim.Close())
			select {
			case err := <-errc:
				require.ErrorIs(t, err, net.ErrClosed)
			case <-time.After(5 * time.Second):
				t.Fatal("Splice still blocked 5s after Close")
			}
			_ = c.Close()
			_ = d1.Close()
		})
	}
}

// TestClosedEnds: a closed conn or file on any side gives the closed
// error a Read or Write would give, having moved nothing.
func TestClosedEnds(t *testing.T) {
	type endMaker func(t *testing.T) (v any, closedErr error)
	closedTCP := func(t *testing.T) (any, error) {
		c, _ := testutil.TCPPair(t)
		require.NoError(t, c.Close())
		return c, net.ErrClosed
	}
	closedFile := func(t *testing.T) (any, error) {
		f := testutil.File(t, t.TempDir(), "f", []byte("data"))
		require.NoError(t, f.Close())
		return f, os.ErrClosed
	}
	liveSrc := func(t *testing.T) io.Reader {
		c, s := testutil.TCPPair(t)
		_ = testutil.Feed(c, []byte("payload"))
		return s
	}
	liveDst := func(t *testing.T) io.Writer {
		a, b := testutil.TCPPair(t)
		_ = testutil.Collect(t, b)
		return a
	}
	for _, mk := range []struct {
		name string
		make endMaker
	}{{"TCP", closedTCP}, {"file", closedFile}} {
		for _, tc := range []struct {
			name string
			run  func(t *testing.T, v any) (int64, error)
		}{
			{"Splice src", func(t *testing.T, v any) (int64, error) { return splice.Splice(liveDst(t), v.(io.Reader), -1) }},
			{"Splice dst", func(t *testing.T, v any) (int64, error) { return splice.Splice(v.(io.Writer), liveSrc(t), -1) }},
			{"Tee src", func(t *testing.T, v any) (int64, error) { return splice.Tee(liveDst(t), liveDst(t), v.(io.Reader), -1) }},
			{"Tee dst", func(t *testing.T, v any) (int64, error) { return splice.Tee(v.(io.Writer), liveDst(t), liveSrc(t), -1) }},
			{"Tee side", func(t *testing.T, v any) (int64, error) { return splice.Tee(liveDst(t), v.(io.Writer), liveSrc(t), -1) }},
		} {
			t.Run(mk.name+"/"+tc.name, func(t *testing.T) {
				v, want := mk.make(t)
				n, err := tc.run(t, v)
				require.ErrorIs(t, err, want)
				require.NotErrorIs(t, err, errors.ErrUnsupported)
				require.Zero(t, n)
			})
		}
	}
}

// TestPipe2Refused: when no pipe can be made, Splice and Tee return an
// error wrapping ErrUnsupported having consumed nothing: every byte is
// still in the source for a plain copy.
func TestPipe2Refused(t *testing.T) {
	data := testutil.Data(31, 200<<10+1)
	for _, op := range []string{"Splice", "Tee"} {
		for _, errno := range []syscall.Errno{syscall.EMFILE, syscall.EPERM} {
			t.Run(op+"/"+errno.Error(), func(t *testing.T) {
				c, s := testutil.TCPPair(t)
				wait := testutil.Feed(c, data)
				dst := testutil.File(t, t.TempDir(), "dst", nil)
				testutil.Inject(t, testutil.Pipe2, testutil.Fault{Errno: errno})
				var n int64
				var err error
				if op == "Splice" {
					n, err = splice.Splice(dst, s, -1)
				} else {
					n, err = splice.Tee(dst, testutil.File(t, t.TempDir(), "side", nil), s, -1)
				}
				require.ErrorIs(t, err, errors.ErrUnsupported)
				require.ErrorIs(t, err, errors.ErrUnsupported)
				require.ErrorIs(t, err, errno)
				require.Zero(t, n)
				rest, rerr := io.ReadAll(s)
				require.NoError(t, rerr)
				require.NoError(t, wait())
				testutil.RequireBytes(t, data, rest, "nothing consumed")
			})
		}
	}
}
