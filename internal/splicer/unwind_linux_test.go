package splicer_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/zerocopy-go/zerocopy/internal/splicer"
	"github.com/zerocopy-go/zerocopy/internal/sys"
	"github.com/zerocopy-go/zerocopy/internal/testutil"
)

// TestUnwind: a transfer whose source has End.Unwind returns Result.Waiting
// when the source is empty, holding no pipe, with every byte it took
// delivered. After a small fill that emptied the source (an interactive
// message) it returns at once, without another fill that would only meet
// EAGAIN (the caller's wait asks poll(2) anyway): two splice calls per
// message, fill and drain (three before).
func TestUnwind(t *testing.T) {
	for _, size := range []int{1, 100, 64<<10 - 1} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			splicer.Drop()
			c, s := testutil.TCPPair(t)
			a, b := testutil.TCPPair(t)
			got := testutil.Collect(t, b)
			data := testutil.Data(uint64(size), size)
			_, err := c.Write(data)
			require.NoError(t, err)
			testutil.Queued(t, s, size)
			calls := testutil.Inject(t, testutil.Splice)
			src := open(t, s, false)
			src.Unwind = true
			res, err := splicer.Transfer(open(t, a, true), src, sys.NoLimit)
			require.NoError(t, err)
			require.True(t, res.Waiting, "the source is empty: wait for it")
			require.False(t, res.Done)
			require.Equal(t, int64(size), res.N)
			_, held := splicer.Stats()
			require.Zero(t, held, "waiting, it holds no pipe")
			require.Equal(t, 2, calls.Calls(), "a fill and a drain, no fill that meets EAGAIN")
			require.NoError(t, a.CloseWrite())
			testutil.RequireBytes(t, data, got())
		})
	}
}

// TestUnwindStream: a fill of 64 KiB or more is a stream catching up: the
// transfer fills again rather than returning (its next fill usually finds
// more), and every byte arrives over the transfers and waits the caller
// makes, as Relay makes them.
func TestUnwindStream(t *testing.T) {
	c, s := testutil.TCPPair(t)
	a, b := testutil.TCPPair(t)
	got := testutil.Collect(t, b)
	data := testutil.Data(9, 4<<20+3)
	wait := testutil.Feed(c, data)
	testutil.Queued(t, s, 64<<10)
	calls := testutil.Inject(t, testutil.Splice)
	src := open(t, s, false)
	src.Unwind = true
	dst := open(t, a, true)
	rc, err := s.SyscallConn()
	require.NoError(t, err)
	var n int64
	for first := true; ; first = false {
		res, err := splicer.Transfer(dst, src, sys.NoLimit)
		require.NoError(t, err)
		n += res.N
		if first {
			require.GreaterOrEqual(t, res.N, int64(64<<10))
			require.Greater(t, calls.Calls(), 2, "after a large fill, another fill")
		}
		if res.Done {
			break
		}
		require.True(t, res.Waiting)
		require.NoError(t, sys.WaitReadable(rc))
	}
	require.NoError(t, wait())
	require.Equal(t, int64(len(data)), n)
	require.NoError(t, a.CloseWrite())
	testutil.RequireBytes(t, data, got())
}

// TestUnwindThenEOF: a small message followed by EOF: the transfer returns
// Waiting after the message, the source reads as ready (its EOF), and the
// next transfer ends Done with nothing more; without Unwind (Copy) the same
// source ends Done in one transfer.
func TestUnwindThenEOF(t *testing.T) {
	for _, unwind := range []bool{true, false} {
		c, s := testutil.TCPPair(t)
		a, b := testutil.TCPPair(t)
		got := testutil.Collect(t, b)
		data := testutil.Data(7, 100)
		_, err := c.Write(data)
		require.NoError(t, err)
		require.NoError(t, c.CloseWrite())
		testutil.Queued(t, s, len(data))
		src := open(t, s, false)
		src.Unwind = unwind
		dst := open(t, a, true)
		res, err := splicer.Transfer(dst, src, sys.NoLimit)
		require.NoError(t, err)
		require.Equal(t, int64(len(data)), res.N)
		if unwind {
			require.True(t, res.Waiting)
			rc, err := s.SyscallConn()
			require.NoError(t, err)
			require.NoError(t, sys.WaitReadable(rc), "EOF is readable")
			res, err = splicer.Transfer(dst, src, sys.NoLimit)
			require.NoError(t, err)
			require.Zero(t, res.N)
		}
		require.True(t, res.Done, "unwind %v: the source's EOF", unwind)
		require.False(t, res.Waiting)
		require.NoError(t, a.CloseWrite())
		testutil.RequireBytes(t, data, got())
	}
}
