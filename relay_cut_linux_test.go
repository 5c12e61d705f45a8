//go:build linux

package zerocopy_test

import (
	"context"
	"errors"
	"io"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/zerocopy-go/zerocopy"
	"github.com/zerocopy-go/zerocopy/internal/testutil"
)

// TestRelayTeeSpliceFails: a recording with a descriptor (tee(2) path)
// that fails part-way, as a full disk does: Relay returns the error, the
// count is b's (at least what the server read, a prefix of the stream),
// and both peers see a reset (issue 19: the upstream received 1,089,536
// bytes from a proxy recording to a full tmpfs, then a clean EOF).
func TestRelayTeeSpliceFails(t *testing.T) {
	if !zerocopy.FastPaths {
		t.Skip("no tee in this build")
	}
	cases := []struct {
		name string
		rec  func(t *testing.T) *os.File
		want error
	}{
		{"ENOSPC@2", func(t *testing.T) *os.File {
			f := testutil.File(t, t.TempDir(), "rec", nil)
			testutil.Inject(t, testutil.SpliceOn(testutil.FD(t, f)), testutil.Fault{Call: 2, Errno: syscall.ENOSPC})
			return f
		}, syscall.ENOSPC},
		{"EFBIG@1", func(t *testing.T) *os.File {
			f := testutil.File(t, t.TempDir(), "rec", nil)
			testutil.Inject(t, testutil.SpliceOn(testutil.FD(t, f)), testutil.Fault{Call: 1, Errno: syscall.EFBIG})
			return f
		}, syscall.EFBIG},
		{"/dev/full", func(t *testing.T) *os.File {
			f, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
			require.NoError(t, err)
			t.Cleanup(func() { _ = f.Close() })
			return f
		}, syscall.ENOSPC},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			testutil.NoLeaks(t)
			t.Cleanup(zerocopy.ResetRefused)
			rec := tc.rec(t)
			client, a := testutil.TCPPair(t)
			b, server := testutil.TCPPair(t)
			r := startRelay(context.Background(), zerocopy.Relayer{TeeAToB: rec}, client, a, b, server)
			got := collectCut(server)
			data := testutil.Data(4, 4<<20)
			wrote := make(chan error, 1)
			go func() { _, err := client.Write(data); wrote <- err }()
			r.wait(t)
			require.ErrorIs(t, r.err, tc.want)
			arrived, err := got()
			require.ErrorIs(t, err, syscall.ECONNRESET, "the server's stream was cut")
			require.LessOrEqual(t, int64(len(arrived)), r.aToB, "the count is what b accepted")
			testutil.RequireBytes(t, data[:len(arrived)], arrived)
			// The client learns it too: its write fails with the reset, or
			// (when the write was done before it came) its read does. The
			// kernel reports a reset once, to whichever call comes first.
			if werr := <-wrote; !errors.Is(werr, syscall.ECONNRESET) {
				require.NoError(t, werr)
				requireReset(t, client, "client")
			}
		})
	}
}

// readSlowly reads r in steps of step bytes, one every every, until EOF or
// an error: a client that keeps reading, slower than the relay can write.
// It returns what arrived and the error that ended the stream (nil: EOF).
func readSlowly(r io.Reader, step int, every time.Duration) ([]byte, error) {
	var got []byte
	buf := make([]byte, step)
	for {
		n, err := io.ReadFull(r, buf)
		got = append(got, buf[:n]...)
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return got, nil
		}
		if err != nil {
			return got, err
		}
		time.Sleep(every)
	}
}

// TestRelayIdleSlowReader: a client that reads 32 KiB every 100 ms is not
// idle, however long the relay takes to hand it a pipe's worth (issue 19:
// the idle timeout cut such a client after one drain, and the client took
// the cut for a clean EOF). Linux: the kernel counters that show a send
// queue draining are read there (under purego too).
func TestRelayIdleSlowReader(t *testing.T) {
	testutil.NoLeaks(t)
	size := 4 << 20
	if testing.Short() {
		size = 2 << 20
	}
	client, a := testutil.TCPPair(t)
	b, server := testutil.TCPPair(t)
	r := startRelay(context.Background(), zerocopy.Relayer{IdleTimeout: time.Second}, client, a, b, server)
	require.NoError(t, client.CloseWrite()) // the client only reads
	data := testutil.Data(19, size)
	sent := testutil.Feed(server, data)
	got, err := readSlowly(client, 32<<10, 100*time.Millisecond)
	require.NoError(t, err, "the client's stream ends cleanly")
	testutil.RequireBytes(t, data, got, "server -> client")
	require.NoError(t, sent())
	r.wait(t)
	require.NoError(t, r.err)
	require.Equal(t, int64(size), r.bToA)
}
