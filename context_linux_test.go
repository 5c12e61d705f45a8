//go:build linux

package zerocopy_test

import (
	"context"
	"io"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/zerocopy-go/zerocopy"
	"github.com/zerocopy-go/zerocopy/internal/testutil"
)

// blockingPipe is a pipe inherited the way a shell hands one over: both
// ends in blocking mode, adopted with os.NewFile, so the runtime's poller
// does not watch them and they take no deadline.
func blockingPipe(t *testing.T) (r, w *os.File) {
	t.Helper()
	var p [2]int
	require.NoError(t, unix.Pipe2(p[:], unix.O_CLOEXEC))
	r, w = os.NewFile(uintptr(p[0]), "|0"), os.NewFile(uintptr(p[1]), "|1")
	t.Cleanup(func() { _ = r.Close(); _ = w.Close() })
	require.ErrorIs(t, r.SetReadDeadline(time.Now()), os.ErrNoDeadline, "the poller does not watch it")
	return r, w
}

func nonblocking(t *testing.T, f *os.File) bool {
	t.Helper()
	rc, err := f.SyscallConn()
	require.NoError(t, err)
	var fl int
	require.NoError(t, rc.Control(func(fd uintptr) { fl, err = unix.FcntlInt(fd, unix.F_GETFL, 0) }))
	require.NoError(t, err)
	return fl&unix.O_NONBLOCK != 0
}

// copyWithin runs copy and fails the test if it has not returned after a
// generous guard (this is a hang check, not a speed claim).
func copyWithin(t *testing.T, copy func() (int64, error)) (int64, error) {
	t.Helper()
	type result struct {
		n   int64
		err error
	}
	done := make(chan result, 1)
	go func() { n, err := copy(); done <- result{n, err} }()
	select {
	case r := <-done:
		return r.n, r.err
	case <-time.After(20 * time.Second):
		t.Fatal("the copy ignored its context's deadline: still waiting after 20 s")
		return 0, nil
	}
}

// TestContextBlockingPipe: a context's deadline holds on a blocking pipe
// inherited from a shell, as source (nothing more to read) and as
// destination (nobody reading), on every path; the count is exact and the
// pipe is blocking again afterwards. (Issue 19: a 1 s deadline returned
// after 8 s.)
func TestContextBlockingPipe(t *testing.T) {
	testutil.NoLeaks(t)
	ctxFor := func(t *testing.T) context.Context {
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		t.Cleanup(cancel)
		return ctx
	}
	t.Run("source", func(t *testing.T) {
		for _, dstKind := range []string{"file", "TCP", "no descriptor"} {
			t.Run(dstKind, func(t *testing.T) {
				r, w := blockingPipe(t)
				_, err := w.Write([]byte("first bytes"))
				require.NoError(t, err)
				var dst io.Writer
				var got func() []byte
				switch dstKind {
				case "file":
					f := testutil.File(t, t.TempDir(), "dst", nil)
					dst, got = f, func() []byte { return testutil.ReadFile(t, f.Name()) }
				case "TCP":
					a, b := testutil.TCPPair(t)
					g := testutil.Collect(t, b)
					dst, got = a, func() []byte { _ = a.CloseWrite(); return g() }
				default:
					var buf writerOnly
					dst, got = &buf, func() []byte { return buf.b }
				}
				var rep zerocopy.Report
				n, err := copyWithin(t, func() (int64, error) { return observed(&rep).Copy(ctxFor(t), dst, r) })
				require.ErrorIs(t, err, context.DeadlineExceeded)
				require.Equal(t, int64(len("first bytes")), n)
				require.Equal(t, "first bytes", string(got()))
				require.False(t, nonblocking(t, r), "the pipe's flags are restored")
				// The pipe still works for the caller, blocking as before.
				_, err = w.Write([]byte("more"))
				require.NoError(t, err)
				buf := make([]byte, 4)
				_, err = io.ReadFull(r, buf)
				require.NoError(t, err)
				require.Equal(t, "more", string(buf))
			})
		}
	})
	t.Run("destination", func(t *testing.T) {
		for _, how := range []string{"Copy", "CopyN", "SendFile"} {
			t.Run(how, func(t *testing.T) {
				r, w := blockingPipe(t)
				data := testutil.Data(70, 4<<20)
				src := testutil.File(t, t.TempDir(), "src", data)
				c := new(zerocopy.Copier)
				n, err := copyWithin(t, func() (int64, error) {
					switch how {
					case "CopyN":
						return c.CopyN(ctxFor(t), w, src, int64(len(data)))
					case "SendFile":
						return c.SendFile(ctxFor(t), w, src, 0, -1)
					}
					return c.Copy(ctxFor(t), w, src)
				})
				require.ErrorIs(t, err, context.DeadlineExceeded)
				require.Positive(t, n, "the pipe took some")
				require.Less(t, n, int64(len(data)))
				require.False(t, nonblocking(t, w), "the pipe's flags are restored")
				require.NoError(t, w.Close())
				arrived, err := io.ReadAll(r)
				require.NoError(t, err)
				require.Equal(t, n, int64(len(arrived)), "the count is what arrived")
				testutil.RequireBytes(t, data[:n], arrived)
			})
		}
	})
}

type writerOnly struct{ b []byte }

func (w *writerOnly) Write(p []byte) (int, error) { w.b = append(w.b, p...); return len(p), nil }

// TestContextEveryCall: CopyN and SendFile stop on their context as Copy
// does, against a peer that stopped reading, with the count exact, and
// keep their own contracts (SendFile's io.ErrUnexpectedEOF on a short
// file).
func TestContextEveryCall(t *testing.T) {
	testutil.NoLeaks(t)
	data := testutil.Data(71, 32<<20)
	for _, how := range []string{"Copy", "CopyN", "SendFile"} {
		t.Run(how, func(t *testing.T) {
			src := testutil.File(t, t.TempDir(), "src", data)
			a, b := testutil.TCPPair(t)
			require.NoError(t, a.SetWriteBuffer(64<<10))
			require.NoError(t, b.SetReadBuffer(64<<10))
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(200*time.Millisecond, cancel)
			var rep zerocopy.Report
			c := observed(&rep)
			n, err := copyWithin(t, func() (int64, error) {
				switch how {
				case "CopyN":
					return c.CopyN(ctx, a, src, int64(len(data)))
				case "SendFile":
					return c.SendFile(ctx, a, src, 0, int64(len(data)))
				}
				return c.Copy(ctx, a, src)
			})
			require.ErrorIs(t, err, context.Canceled)
			require.Less(t, n, int64(len(data)))
			require.Equal(t, n, rep.Bytes)
			require.NoError(t, a.CloseWrite())
			arrived, rerr := io.ReadAll(b)
			require.NoError(t, rerr)
			require.Equal(t, n, int64(len(arrived)), "the count is what arrived")
			testutil.RequireBytes(t, data[:n], arrived)
		})
	}
	t.Run("SendFile short file", func(t *testing.T) {
		src := testutil.File(t, t.TempDir(), "src", data[:1000])
		a, b := testutil.TCPPair(t)
		got := testutil.Collect(t, b)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		n, err := new(zerocopy.Copier).SendFile(ctx, a, src, 100, 2000)
		require.ErrorIs(t, err, io.ErrUnexpectedEOF)
		require.Equal(t, int64(900), n)
		require.NoError(t, a.CloseWrite())
		testutil.RequireBytes(t, data[100:1000], got())
	})
	t.Run("nil context", func(t *testing.T) {
		//lint:ignore SA1012 the nil context is the bad input under test
		_, err := new(zerocopy.Copier).Copy(nil, io.Discard, src0{}) //nolint:staticcheck
		require.ErrorContains(t, err, "Copy: nil Context")
	})
}

type src0 struct{}

func (src0) Read([]byte) (int, error) { return 0, io.EOF }
