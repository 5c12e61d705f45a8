package zerocopy_test

import (
	"bytes"
	"context"
	"io"
	"net"
	"os"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/zerocopy-go/zerocopy"
	"github.com/zerocopy-go/zerocopy/internal/testutil"
)

// requireReset fails unless reading c to its end ends in a reset: the
// peer learns that its stream was cut, not that it ended.
func requireReset(t *testing.T, c net.Conn, who string) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(20 * time.Second))
	_, err := io.Copy(io.Discard, c)
	testutil.RequireReset(t, err, who)
}

// requireEOF fails unless reading c to its end ends in a clean EOF.
func requireEOF(t *testing.T, c net.Conn, who string) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(20 * time.Second))
	_, err := io.Copy(io.Discard, c)
	require.NoErrorf(t, err, "%s: want a clean EOF", who)
}

// collectCut reads r to its end in a goroutine, like testutil.Collect, but
// returns the error that ended the stream too (nil: a clean EOF).
func collectCut(r io.Reader) func() ([]byte, error) {
	type res struct {
		b   []byte
		err error
	}
	ch := make(chan res, 1)
	go func() {
		var buf bytes.Buffer
		_, err := buf.ReadFrom(r)
		ch <- res{buf.Bytes(), err}
	}()
	return func() ([]byte, error) {
		r := <-ch
		return r.b, r.err
	}
}

// failingWriter accepts its first ok bytes, then fails every write with
// err: a recording on a disk that fills up.
type failingWriter struct {
	mu  sync.Mutex
	ok  int
	got []byte
	err error
}

func (f *failingWriter) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.got)+len(p) > f.ok {
		return 0, f.err
	}
	f.got = append(f.got, p...)
	return len(p), nil
}

// TestRelayCutIsReset: whatever ends a relay part-way (the idle timeout, a
// cancelled context, a recording that fails), both peers see a reset, not
// an EOF: neither may take a cut stream for a complete one (issue 19).
func TestRelayCutIsReset(t *testing.T) {
	cases := []struct {
		name    string
		relayer func() zerocopy.Relayer
		trigger func(cancel context.CancelFunc)
		want    error
	}{
		{"idle", func() zerocopy.Relayer { return zerocopy.Relayer{IdleTimeout: 200 * time.Millisecond} }, nil, os.ErrDeadlineExceeded},
		{"cancel", func() zerocopy.Relayer { return zerocopy.Relayer{} }, func(cancel context.CancelFunc) { cancel() }, context.Canceled},
		{"tee fails", func() zerocopy.Relayer {
			return zerocopy.Relayer{TeeAToB: &failingWriter{ok: 1000, err: syscall.ENOSPC}}
		}, nil, syscall.ENOSPC},
	}
	for _, kind := range []string{"tcp", "tls"} {
		for _, tc := range cases {
			t.Run(kind+"/"+tc.name, func(t *testing.T) {
				testutil.NoLeaks(t)
				// tls: a *tls.Conn is cut with a reset on its TCP conn, never
				// with close_notify (a clean end at the TLS layer).
				client, a := clientSide(t, kind)
				b, server := testutil.TCPPair(t)
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				r := startRelay(ctx, tc.relayer(), client, a, b, server)
				// Each peer sends 2,000 bytes (the server first: the client's
				// bytes fail the recording); neither ends its stream.
				_, err := server.Write(testutil.Data(2, 2000))
				require.NoError(t, err)
				// A *tls.Conn writes its first records small (1,208 bytes):
				// the reset the first one causes can fail the second write.
				_, err = client.Write(testutil.Data(1, 2000))
				clientSaw := testutil.IsReset(err)
				if !clientSaw {
					require.NoError(t, err)
				}
				if tc.trigger != nil {
					buf := make([]byte, 2000)
					_, err = io.ReadFull(client, buf)
					require.NoError(t, err)
					tc.trigger(cancel)
				}
				r.wait(t)
				require.ErrorIs(t, r.err, tc.want)
				if !clientSaw {
					requireReset(t, client, "client")
				}
				requireReset(t, server, "server")
			})
		}
	}
}

// TestRelayTeeFailsCount: when the recording fails on the buffered path,
// the count is what b accepted (the bytes the server holds), not what the
// recording took, and the server sees a reset (issue 19: the count was the
// recording's, and the server saw a clean EOF).
func TestRelayTeeFailsCount(t *testing.T) {
	testutil.NoLeaks(t)
	client, a := testutil.TCPPair(t)
	b, server := testutil.TCPPair(t)
	rec := &failingWriter{ok: 32 << 10, err: syscall.ENOSPC}
	// A recording without a descriptor: the a -> b direction is buffered.
	r := startRelay(context.Background(), zerocopy.Relayer{TeeAToB: rec, BufferSize: 8 << 10}, client, a, b, server)
	data := testutil.Data(3, 64<<10)
	go func() { _, _ = client.Write(data) }()
	r.wait(t)
	require.ErrorIs(t, r.err, syscall.ENOSPC)
	require.ErrorContains(t, r.err, "TeeAToB")
	// The server reads only now: every byte b accepted reached its receive
	// queue (loopback, within the window), and the reset keeps them.
	got, err := collectCut(server)()
	testutil.RequireReset(t, err, "server")
	testutil.RequireBytes(t, data[:len(got)], got)
	require.Equal(t, int64(len(got)), r.aToB, "the count is b's")
	require.Greater(t, r.aToB, int64(len(rec.got)), "b took the chunk the recording refused")
	testutil.RequireBytes(t, data[:len(rec.got)], rec.got, "recording")
}

// TestRelayIdleSilent: a pair that moves nothing at all is cut between
// IdleTimeout and 1.25 x IdleTimeout, and both peers see a reset.
func TestRelayIdleSilent(t *testing.T) {
	testutil.NoLeaks(t)
	client, a := testutil.TCPPair(t)
	b, server := testutil.TCPPair(t)
	start := time.Now()
	r := startRelay(context.Background(), zerocopy.Relayer{IdleTimeout: time.Second}, client, a, b, server)
	r.wait(t)
	took := time.Since(start)
	t.Logf("cut after %v", took)
	require.ErrorIs(t, r.err, os.ErrDeadlineExceeded)
	require.GreaterOrEqual(t, took, time.Second)
	require.Less(t, took, 2*time.Second, "1.25 s and the scheduler's slack")
	requireReset(t, client, "client")
	requireReset(t, server, "server")
}
