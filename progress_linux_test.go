//go:build linux && !purego

package zerocopy_test

import (
	"bufio"
	"context"
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/zerocopy-go/zerocopy"
	"github.com/zerocopy-go/zerocopy/internal/testutil"
)

// progressPath sets up one path: src and dst, and what arrived.
type progressPath struct {
	name   string
	method zerocopy.Method
	setup  func(t *testing.T, data []byte) (dst io.Writer, src io.Reader, got func() []byte)
}

func progressPaths() []progressPath {
	return []progressPath{
		{"file->file", zerocopy.MethodCopyFileRange, func(t *testing.T, data []byte) (io.Writer, io.Reader, func() []byte) {
			dst := testutil.File(t, t.TempDir(), "dst", nil)
			return dst, testutil.File(t, t.TempDir(), "src", data), func() []byte { return testutil.ReadFile(t, dst.Name()) }
		}},
		{"file->TCP", zerocopy.MethodSendfile, func(t *testing.T, data []byte) (io.Writer, io.Reader, func() []byte) {
			a, b := testutil.TCPPair(t)
			got := testutil.Collect(t, b)
			return a, testutil.File(t, t.TempDir(), "src", data), func() []byte { _ = a.CloseWrite(); return got() }
		}},
		{"TCP->file", zerocopy.MethodSplice, func(t *testing.T, data []byte) (io.Writer, io.Reader, func() []byte) {
			c, s := testutil.TCPPair(t)
			_ = testutil.Feed(c, data)
			dst := testutil.File(t, t.TempDir(), "dst", nil)
			return dst, s, func() []byte { return testutil.ReadFile(t, dst.Name()) }
		}},
		{"buffered", zerocopy.MethodBuffered, func(t *testing.T, data []byte) (io.Writer, io.Reader, func() []byte) {
			dst := testutil.File(t, t.TempDir(), "dst", nil)
			src := testutil.File(t, t.TempDir(), "src", data)
			return testutil.OnlyWriter{W: dst}, testutil.OnlyReader{R: src}, func() []byte { return testutil.ReadFile(t, dst.Name()) }
		}},
		{"file->*bufio.Writer(TCP)", zerocopy.MethodSendfile, func(t *testing.T, data []byte) (io.Writer, io.Reader, func() []byte) {
			a, b := testutil.TCPPair(t)
			got := testutil.Collect(t, b)
			bw := bufio.NewWriter(a)
			return bw, testutil.File(t, t.TempDir(), "src", data), func() []byte { _ = bw.Flush(); _ = a.CloseWrite(); return got() }
		}},
	}
}

// TestProgress: every path calls Progress at most once per
// ProgressInterval plus a final call, with counts that only grow and end
// at the total, without leaving the path.
func TestProgress(t *testing.T) {
	// Six bounded calls and a tail: 1 MiB calls (48 MiB+3 in the real 8 MiB
	// ones with ZEROCOPY_LONG=1).
	size := 48<<20 + 3
	if !testutil.Long() {
		defer zerocopy.SetProgressChunk(1 << 20)()
		size = 6<<20 + 3
	}
	data := testutil.Data(41, size)
	for _, p := range progressPaths() {
		t.Run(p.name, func(t *testing.T) {
			dst, src, got := p.setup(t, data)
			var calls []int64
			var rep zerocopy.Report
			c := zerocopy.Copier{
				Progress: func(done int64) { calls = append(calls, done) },
				Observe:  func(r zerocopy.Report) { rep = r },
			}
			start := time.Now()
			n, err := c.Copy(bg, dst, src)
			elapsed := time.Since(start)
			require.NoError(t, err)
			require.Equal(t, int64(len(data)), n)
			testutil.RequireBytes(t, data, got())
			require.Equal(t, p.method.String(), rep.Method.String(), "the path is kept (fallback %v)", rep.Fallback)
			require.NotEmpty(t, calls)
			require.Equal(t, n, calls[len(calls)-1], "the last call has the total")
			for i := 1; i < len(calls); i++ {
				require.Greater(t, calls[i], calls[i-1])
			}
			require.LessOrEqual(t, len(calls), int(elapsed/zerocopy.ProgressInterval)+2, "rate bound")
		})
	}
}

// TestCopyContextCancel: cancelled from the first progress report, every
// path stops at a chunk boundary with an exact count, the bytes before it
// intact, and context.Canceled.
func TestCopyContextCancel(t *testing.T) {
	data := testutil.Data(42, 64<<20+1)
	for _, p := range progressPaths() {
		t.Run(p.name, func(t *testing.T) {
			dst, src, got := p.setup(t, data)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			c := zerocopy.Copier{Progress: func(int64) { cancel() }}
			n, err := c.Copy(ctx, dst, src)
			require.ErrorIs(t, err, context.Canceled)
			require.Less(t, n, int64(len(data)), "stopped early")
			arrived := got()
			require.Equal(t, n, int64(len(arrived)), "the count is what arrived")
			testutil.RequireBytes(t, data[:n], arrived)
		})
	}
}

// TestCopyContextWakesWait: a transfer waiting on a silent socket wakes
// when the context ends, with the count exact; the deadline used to wake
// it is cleared afterwards, so the conn still works.
func TestCopyContextWakesWait(t *testing.T) {
	for _, dstKind := range []string{"file", "TCP"} {
		t.Run(dstKind, func(t *testing.T) {
			c, s := testutil.TCPPair(t)
			_, err := c.Write([]byte("first bytes"))
			require.NoError(t, err)
			var dst io.Writer
			var got func() []byte
			if dstKind == "file" {
				f := testutil.File(t, t.TempDir(), "dst", nil)
				dst, got = f, func() []byte { return testutil.ReadFile(t, f.Name()) }
			} else {
				a, b := testutil.TCPPair(t)
				g := testutil.Collect(t, b)
				dst, got = a, func() []byte { _ = a.CloseWrite(); return g() }
			}
			ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			defer cancel()
			n, err := new(zerocopy.Copier).Copy(ctx, dst, s)
			require.ErrorIs(t, err, context.DeadlineExceeded)
			require.Equal(t, int64(len("first bytes")), n)
			require.Equal(t, "first bytes", string(got()))
			// The deadline set to wake the wait is gone.
			_, err = c.Write([]byte("more"))
			require.NoError(t, err)
			buf := make([]byte, 4)
			_, err = io.ReadFull(s, buf)
			require.NoError(t, err)
			require.Equal(t, "more", string(buf))
		})
	}
	t.Run("already cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		dst := testutil.File(t, t.TempDir(), "dst", nil)
		n, err := new(zerocopy.Copier).Copy(ctx, dst, testutil.File(t, t.TempDir(), "src", []byte("x")))
		require.ErrorIs(t, err, context.Canceled)
		require.Zero(t, n)
	})
}
