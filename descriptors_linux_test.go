//go:build linux

package zerocopy_test

import (
	"io"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/zerocopy-go/zerocopy"
	"github.com/zerocopy-go/zerocopy/internal/testutil"
)

// TestUnixDatagramNotStreamed: a datagram socket keeps message boundaries,
// so it never gets sendfile: each buffer read is one datagram, as with
// io.Copy.
func TestUnixDatagramNotStreamed(t *testing.T) {
	testutil.NoLeaks(t)
	data := testutil.Data(41, 3000)
	src := testutil.File(t, t.TempDir(), "src", data)
	a, b := testutil.UnixPair(t, "unixgram")
	var rep zerocopy.Report
	c := zerocopy.Copier{BufferSize: 1000, Observe: func(r zerocopy.Report) { rep = r }}
	n, err := c.Copy(bg, a, src)
	require.NoError(t, err)
	require.Equal(t, int64(len(data)), n)
	require.Equal(t, zerocopy.MethodBuffered, rep.Method)
	buf := make([]byte, 4096)
	for i := range 3 {
		k, err := b.Read(buf)
		require.NoError(t, err)
		require.Equal(t, 1000, k, "datagram %d keeps the buffer's boundary", i)
		testutil.RequireBytes(t, data[i*1000:(i+1)*1000], buf[:k])
	}
}

func TestDevFull(t *testing.T) {
	testutil.NoLeaks(t)
	data := testutil.Data(42, 100000)
	src := testutil.File(t, t.TempDir(), "src", data)
	full, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
	if err != nil {
		t.Skip(err)
	}
	t.Cleanup(func() { _ = full.Close() })
	var rep zerocopy.Report
	n, err := observed(&rep).Copy(bg, full, src)
	require.ErrorIs(t, err, syscall.ENOSPC)
	require.Zero(t, n)
	require.Zero(t, rep.Bytes)
	if zerocopy.FastPaths {
		// /dev/full has no splice_write: sendfile says EINVAL and the
		// buffered write meets the ENOSPC.
		require.ErrorIs(t, rep.Fallback, syscall.EINVAL)
	}
}

// TestDescriptorStaysNonBlocking: (*os.File).Fd switches a descriptor to
// blocking mode (golang/go#28330); zerocopy reaches fds through RawConn only.
func TestDescriptorStaysNonBlocking(t *testing.T) {
	testutil.NoLeaks(t)
	src := testutil.File(t, t.TempDir(), "src", testutil.Data(43, 70000))
	r, w := testutil.Pipe(t)
	got := testutil.Collect(t, r)
	_, err := zerocopy.SendFile(w, src, 0, -1)
	require.NoError(t, err)
	rc, err := w.SyscallConn()
	require.NoError(t, err)
	var fl int
	require.NoError(t, rc.Control(func(fd uintptr) { fl, err = unix.FcntlInt(fd, unix.F_GETFL, 0) }))
	require.NoError(t, err)
	require.NotZero(t, fl&unix.O_NONBLOCK, "the pipe is still non-blocking")
	require.NoError(t, w.Close())
	require.Len(t, got(), 70000)
}

// TestSourceGrows appends to the source while Copy streams it to a slow
// peer: Copy stops at an EOF somewhere between the old and the new size,
// and what arrived is exactly the file's prefix of that length.
func TestSourceGrows(t *testing.T) {
	testutil.NoLeaks(t)
	first := testutil.Data(44, 8<<20)
	more := testutil.Data(45, 8<<20)
	src := testutil.File(t, t.TempDir(), "src", first)
	c, s := slowPair(t)
	got := make(chan []byte)
	go func() {
		buf := make([]byte, 1<<20)
		k, _ := io.ReadFull(s, buf)
		app, err := os.OpenFile(src.Name(), os.O_WRONLY|os.O_APPEND, 0)
		if err == nil {
			_, _ = app.Write(more)
			_ = app.Close()
		}
		time.Sleep(10 * time.Millisecond)
		rest, _ := io.ReadAll(s)
		got <- append(buf[:k], rest...)
	}()
	n, err := zerocopy.Copy(c, src)
	require.NoError(t, err)
	require.NoError(t, c.CloseWrite())
	arrived := <-got
	require.Equal(t, n, int64(len(arrived)))
	require.GreaterOrEqual(t, n, int64(len(first)))
	all := append(append([]byte{}, first...), more...)
	testutil.RequireBytes(t, all[:n], arrived)
	require.Equal(t, n, testutil.Offset(t, src))
}
