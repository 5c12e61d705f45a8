package splicer_test

import (
	"errors"
	"io"
	"net"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/zerocopy-go/zerocopy/internal/splicer"
	"github.com/zerocopy-go/zerocopy/internal/sys"
	"github.com/zerocopy-go/zerocopy/internal/testutil"
)

// The invariants of the engine (doc.go, ARCHITECTURE.md), each checked on
// its own: ends described once, limits exact, a pipe held only while bytes
// are on their way, a pipe that may hold bytes closed and never pooled,
// and no consumed byte lost on a fallback.

func open(t *testing.T, v any, dst bool) splicer.End {
	t.Helper()
	e, err := splicer.Open(v, dst)
	require.NoError(t, err)
	return e
}

func TestOpen(t *testing.T) {
	c, s := testutil.TCPPair(t)
	ua, _ := testutil.UnixPair(t, "unix")
	da, _ := testutil.UnixPair(t, "unixgram")
	r, w := testutil.Pipe(t)
	file := testutil.File(t, t.TempDir(), "f", []byte("data"))
	appendFile, err := os.OpenFile(file.Name(), os.O_WRONLY|os.O_APPEND, 0)
	require.NoError(t, err)
	t.Cleanup(func() { _ = appendFile.Close() })
	devNull, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	require.NoError(t, err)
	t.Cleanup(func() { _ = devNull.Close() })
	closedFile := testutil.File(t, t.TempDir(), "closed", nil)
	require.NoError(t, closedFile.Close())
	closedConn, _ := testutil.TCPPair(t)
	require.NoError(t, closedConn.Close())

	for _, tc := range []struct {
		name     string
		v        any
		dst      bool
		kind     sys.Kind
		nonblock bool
		err      error // errors.Is target; nil: opens
	}{
		{"TCP source (no system call)", s, false, sys.KindStream, true, nil},
		{"TCP destination", c, true, sys.KindStream, true, nil},
		{"unix stream", ua, true, sys.KindStream, true, nil},
		{"pipe read end", r, false, sys.KindPipe, true, nil},
		{"pipe write end", w, true, sys.KindPipe, true, nil},
		{"regular file source", file, false, sys.KindFile, false, nil},
		{"regular file destination", file, true, sys.KindFile, false, nil},
		{"/dev/null destination", devNull, true, sys.KindChar, false, nil},
		{"/dev/null source", devNull, false, 0, false, errors.ErrUnsupported},
		{"unix datagram", da, true, 0, false, errors.ErrUnsupported},
		{"O_APPEND destination", appendFile, true, 0, false, splicer.ErrAppend},
		{"no descriptor", struct{ io.Writer }{c}, true, 0, false, splicer.ErrNoDescriptor},
		{"closed file", closedFile, false, 0, false, os.ErrClosed},
		{"closed conn", closedConn, true, 0, false, net.ErrClosed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, err := splicer.Open(tc.v, tc.dst)
			if tc.err != nil {
				require.ErrorIs(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			require.NotNil(t, e.RC)
			require.Equal(t, tc.kind, e.Kind)
			require.Equal(t, tc.nonblock, e.Nonblock)
			if tc.dst {
				require.Equal(t, tc.v, e.W, "a destination is its own Writer")
			} else {
				require.Nil(t, e.W)
			}
		})
	}
	require.ErrorIs(t, splicer.ErrNoDescriptor, errors.ErrUnsupported)
	require.ErrorIs(t, splicer.ErrAppend, errors.ErrUnsupported)
}

// TestTransferLimits: a limit is exact, the rest stays in the source, 0
// moves nothing, NoLimit runs to EOF; socket -> socket goes through a
// pooled pipe, pipe -> socket directly.
func TestTransferLimits(t *testing.T) {
	data := testutil.Data(1, 3<<20+11)
	for _, fromPipe := range []bool{false, true} {
		for _, limit := range []int64{0, 1, 65536, 1<<20 + 1, int64(len(data)), sys.NoLimit} {
			name := "socket"
			if fromPipe {
				name = "pipe"
			}
			t.Run(name, func(t *testing.T) {
				var src any
				var feeder io.Writer
				if fromPipe {
					r, w := testutil.Pipe(t)
					src, feeder = r, w
				} else {
					c, s := testutil.TCPPair(t)
					src, feeder = s, c
				}
				wait := testutil.Feed(feeder, data)
				a, b := testutil.TCPPair(t)
				got := testutil.Collect(t, b)
				res, err := splicer.Transfer(open(t, a, true), open(t, src, false), limit)
				require.NoError(t, err)
				want := min(limit, int64(len(data)))
				require.Equal(t, want, res.N)
				require.True(t, res.Done)
				require.NoError(t, res.Fallback)
				require.NoError(t, a.CloseWrite())
				testutil.RequireBytes(t, data[:want], got())
				rest, err := io.ReadAll(src.(io.Reader))
				require.NoError(t, err)
				require.NoError(t, wait())
				testutil.RequireBytes(t, data[want:], rest, "the rest is still in the source")
			})
		}
	}
}

// TestIdleTransferHoldsNoPipe: a transfer waiting for its source has given
// its pipe back; one with bytes in flight holds exactly one.
func TestIdleTransferHoldsNoPipe(t *testing.T) {
	splicer.Drop()
	c, s := testutil.TCPPair(t)
	a, b := testutil.TCPPair(t)
	require.NoError(t, a.SetWriteBuffer(16<<10))
	require.NoError(t, b.SetReadBuffer(16<<10))
	done := make(chan error, 1)
	go func() {
		_, err := splicer.Transfer(open(t, a, true), open(t, s, false), sys.NoLimit)
		done <- err
	}()
	held := func() int64 { _, h := splicer.Stats(); return h }
	_, err := c.Write([]byte("x"))
	require.NoError(t, err)
	one := make([]byte, 1)
	_, err = io.ReadFull(b, one)
	require.NoError(t, err)
	require.Eventually(t, func() bool { return held() == 0 }, 10*time.Second, time.Millisecond, "waiting for its source, it holds no pipe")
	// Now fill the destination, which nobody reads: bytes wait in the pipe.
	go func() { _, _ = c.Write(make([]byte, 8<<20)) }()
	require.Eventually(t, func() bool { return held() == 1 }, 10*time.Second, time.Millisecond, "bytes in flight hold one pipe")
	require.NoError(t, c.Close())
	require.NoError(t, b.Close())
	<-done
	require.Eventually(t, func() bool { return held() == 0 }, 10*time.Second, time.Millisecond)
}

// TestPipeWithBytesIsClosed: a transfer that fails with bytes in its pipe
// closes that pipe (the closed count moves) and never pools it: the next
// transfer carries only its own bytes.
func TestPipeWithBytesIsClosed(t *testing.T) {
	splicer.Drop()
	closedBefore, _ := splicer.Stats()
	c, s := testutil.TCPPair(t)
	wait := testutil.Feed(c, []byte("SECRET SECRET SECRET"))
	a, _ := testutil.TCPPair(t)
	testutil.Queued(t, s, 20)
	// The first call fills the pipe; the drain (the second call) fails.
	testutil.Inject(t, testutil.Splice, testutil.Fault{Call: 2, Errno: syscall.ECONNRESET})
	res, err := splicer.Transfer(open(t, a, true), open(t, s, false), sys.NoLimit)
	require.ErrorIs(t, err, syscall.ECONNRESET)
	require.Zero(t, res.N, "nothing reached the destination")
	closedAfter, held := splicer.Stats()
	require.Equal(t, closedBefore+1, closedAfter, "the pipe holding bytes was closed")
	require.Zero(t, held)
	_ = s.Close()
	_ = wait()
}

// TestFallbackRescuesThePipe: a drain that meets a fallback errno writes
// what the pipe holds with the destination's own Write: the count includes
// it and the source resumes at the exact next byte.
func TestFallbackRescuesThePipe(t *testing.T) {
	data := testutil.Data(2, 1<<20+3)
	c, s := testutil.TCPPair(t)
	wait := testutil.Feed(c, data)
	a, b := testutil.TCPPair(t)
	got := testutil.Collect(t, b)
	testutil.Queued(t, s, 4096) // the first fill moves 4096 bytes, not fewer
	testutil.Inject(t, testutil.Splice, testutil.Fault{Call: 2, Errno: syscall.EINVAL}, testutil.Fault{Short: 4096})
	res, err := splicer.Transfer(open(t, a, true), open(t, s, false), sys.NoLimit)
	require.NoError(t, err)
	require.False(t, res.Done)
	require.ErrorIs(t, res.Fallback, syscall.EINVAL)
	require.False(t, res.Missing)
	require.Equal(t, int64(4096), res.N, "the chunk in the pipe was written with Write")
	rest, err := io.ReadAll(s)
	require.NoError(t, err)
	require.NoError(t, wait())
	require.NoError(t, a.CloseWrite())
	arrived := got()
	testutil.RequireBytes(t, data[:res.N], arrived)
	testutil.RequireBytes(t, data[res.N:], rest, "the source resumes at the exact next byte")
}

// TestMissing: ENOSYS from splice is reported as Missing (the caller
// disables the method), with nothing consumed.
func TestMissing(t *testing.T) {
	c, s := testutil.TCPPair(t)
	wait := testutil.Feed(c, []byte("payload"))
	a, _ := testutil.TCPPair(t)
	testutil.Inject(t, testutil.Splice, testutil.Fault{Errno: syscall.ENOSYS})
	res, err := splicer.Transfer(open(t, a, true), open(t, s, false), sys.NoLimit)
	require.NoError(t, err)
	require.True(t, res.Missing)
	require.ErrorIs(t, res.Fallback, syscall.ENOSYS)
	require.Zero(t, res.N)
	rest, err := io.ReadAll(s)
	require.NoError(t, err)
	require.Equal(t, "payload", string(rest))
	require.NoError(t, wait())
}

// TestTeeCounts: both destinations get the same bytes, and the counts say
// so.
func TestTeeCounts(t *testing.T) {
	data := testutil.Data(3, 2<<20+9)
	c, s := testutil.TCPPair(t)
	wait := testutil.Feed(c, data)
	a, b := testutil.TCPPair(t)
	got := testutil.Collect(t, b)
	side := testutil.File(t, t.TempDir(), "side", nil)
	res, err := splicer.Tee(open(t, a, true), open(t, side, true), open(t, s, false), sys.NoLimit)
	require.NoError(t, err)
	require.NoError(t, wait())
	require.True(t, res.Done)
	require.Equal(t, int64(len(data)), res.N)
	require.Equal(t, res.N, res.Side)
	require.NoError(t, a.CloseWrite())
	testutil.RequireBytes(t, data, got())
	testutil.RequireBytes(t, data, testutil.ReadFile(t, side.Name()))
}
