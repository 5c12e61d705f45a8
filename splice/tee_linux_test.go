//go:build linux && !purego

package splice_test

import (
	"errors"
	"fmt"
	"io"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/zerocopy-go/zerocopy/internal/testutil"
	"github.com/zerocopy-go/zerocopy/splice"
)

func TestTee(t *testing.T) {
	testutil.NoLeaks(t)
	for _, size := range []int{0, 1, 65537, 3<<20 + 5} {
		for _, lim := range limits(size) {
			t.Run(fmt.Sprintf("%d/n=%d", size, lim), func(t *testing.T) {
				data := testutil.Data(uint64(size)+7, size)
				c, s := testutil.TCPPair(t)
				feed := testutil.Feed(c, data)
				d1, d2 := testutil.TCPPair(t)
				got := testutil.Collect(t, d2)
				rec := testutil.File(t, t.TempDir(), "record", nil)
				n, err := splice.Tee(d1, rec, s, lim)
				want := int64(size)
				if lim >= 0 && lim < want {
					want = lim
				}
				require.Equal(t, want, n)
				if lim > int64(size) {
					require.ErrorIs(t, err, io.EOF)
				} else {
					require.NoError(t, err)
				}
				require.NoError(t, d1.CloseWrite())
				testutil.RequireBytes(t, data[:n], got(), "dst")
				testutil.RequireBytes(t, data[:n], testutil.ReadFile(t, rec.Name()), "side")
				require.NoError(t, feed())
				rest, err := io.ReadAll(s)
				require.NoError(t, err)
				testutil.RequireBytes(t, data[n:], rest, "the rest stays in the source")
			})
		}
	}
}

// TestTeeEAGAINErrno: tee(2) answering EAGAIN is reported as EAGAIN, not
// as an unrelated errno.
func TestTeeEAGAINErrno(t *testing.T) {
	c, s := testutil.TCPPair(t)
	_ = testutil.Feed(c, testutil.Data(32, 100<<10))
	testutil.Inject(t, testutil.Tee, testutil.Fault{Errno: syscall.EAGAIN})
	dst := testutil.File(t, t.TempDir(), "dst", nil)
	side := testutil.File(t, t.TempDir(), "side", nil)
	_, err := splice.Tee(dst, side, s, -1)
	require.ErrorIs(t, err, syscall.EAGAIN)
	require.NotErrorIs(t, err, syscall.EIO)
	require.ErrorContains(t, err, "tee")
}

// TestTeeFailureLosesNothing: tee(2) refusing (seccomp's EPERM, ENOSYS,
// EINVAL) after the source's bytes are in the first pipe: they still reach
// dst and side, Tee says ErrUnsupported with dst's count, and a plain copy
// to both finishes the stream with every byte once.
func TestTeeFailureLosesNothing(t *testing.T) {
	for _, errno := range []syscall.Errno{syscall.EPERM, syscall.ENOSYS, syscall.EINVAL} {
		for _, call := range []int{1, 3} {
			t.Run(fmt.Sprintf("%v@%d", errno, call), func(t *testing.T) {
				testutil.NoLeaks(t)
				data := testutil.Data(uint64(call)+uint64(errno), 3<<20+5)
				c, s := testutil.TCPPair(t)
				wait := testutil.Feed(c, data)
				testutil.Inject(t, testutil.Tee, testutil.Fault{Call: call, Errno: errno}, testutil.Fault{Short: 200 << 10})
				dst := testutil.File(t, t.TempDir(), "dst", nil)
				side := testutil.File(t, t.TempDir(), "side", nil)
				n, err := splice.Tee(dst, side, s, -1)
				require.ErrorIs(t, err, errors.ErrUnsupported)
				require.ErrorIs(t, err, errno)
				require.Positive(t, n, "the chunk in the pipe was delivered")
				testutil.RequireBytes(t, data[:n], testutil.ReadFile(t, dst.Name()), "dst so far")
				testutil.RequireBytes(t, data[:n], testutil.ReadFile(t, side.Name()), "side so far")
				m, err := io.Copy(io.MultiWriter(dst, side), s)
				require.NoError(t, err)
				require.NoError(t, wait())
				require.Equal(t, int64(len(data)), n+m)
				testutil.RequireBytes(t, data, testutil.ReadFile(t, dst.Name()), "dst")
				testutil.RequireBytes(t, data, testutil.ReadFile(t, side.Name()), "side")
			})
		}
	}
}

// TestTeeSideError: when side fails, Tee returns the bytes that reached
// dst (all of them, as dst's reader sees) and a *SideError with side's
// count.
func TestTeeSideError(t *testing.T) {
	data := testutil.Data(33, 4<<20+1)
	c, s := testutil.TCPPair(t)
	wait := testutil.Feed(c, data)
	a, b := testutil.TCPPair(t)
	got := testutil.Collect(t, b)
	pr, pw := testutil.Pipe(t)
	require.NoError(t, pr.Close()) // side's reader is gone: EPIPE
	n, err := splice.Tee(a, pw, s, -1)
	var se *splice.SideError
	require.ErrorAs(t, err, &se)
	require.ErrorIs(t, err, syscall.EPIPE)
	require.Zero(t, se.Side, "nothing reached side")
	require.NoError(t, a.CloseWrite())
	arrived := got()
	require.Equal(t, int64(len(arrived)), n, "the count is what reached dst")
	require.Positive(t, n)
	testutil.RequireBytes(t, data[:n], arrived)
	_ = c.Close()
	_ = wait()
}
