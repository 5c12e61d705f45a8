//go:build linux

package zerocopy_test

import (
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/zerocopy-go/zerocopy"
	"github.com/zerocopy-go/zerocopy/internal/testutil"
)

func TestDeadlineExpiredBefore(t *testing.T) {
	testutil.NoLeaks(t)
	data := testutil.Data(31, 1<<20)
	f := testutil.File(t, t.TempDir(), "src", data)
	for _, op := range []string{"SendFile", "Copy"} {
		t.Run(op, func(t *testing.T) {
			c, s := testutil.TCPPair(t)
			got := testutil.Collect(t, s)
			require.NoError(t, c.SetWriteDeadline(time.Now().Add(-time.Second)))
			var n int64
			var err error
			if op == "SendFile" {
				n, err = zerocopy.SendFile(c, f, 0, -1)
			} else {
				_, _ = f.Seek(0, io.SeekStart)
				n, err = zerocopy.Copy(c, f)
			}
			require.ErrorIs(t, err, os.ErrDeadlineExceeded)
			require.Zero(t, n)
			require.NoError(t, c.Close())
			require.Empty(t, got())
			if zerocopy.FastPaths && op == "Copy" {
				require.Zero(t, testutil.Offset(t, f), "no byte consumed")
			}
		})
	}
}

// slowPair is a TCP pair with small buffers, so a sender fills it quickly.
func slowPair(t *testing.T) (*net.TCPConn, *net.TCPConn) {
	c, s := testutil.TCPPair(t)
	require.NoError(t, c.SetWriteBuffer(16<<10))
	require.NoError(t, s.SetReadBuffer(16<<10))
	return c, s
}

func TestDeadlineMidTransfer(t *testing.T) {
	testutil.NoLeaks(t)
	data := testutil.Data(32, 32<<20)
	f := testutil.File(t, t.TempDir(), "src", data)
	c, s := slowPair(t)
	require.NoError(t, c.SetWriteDeadline(time.Now().Add(200*time.Millisecond)))
	// Nobody reads until SendFile returns: the deadline must stop it.
	n, err := zerocopy.SendFile(c, f, 0, -1)
	require.ErrorIs(t, err, os.ErrDeadlineExceeded)
	require.Greater(t, n, int64(0))
	require.Less(t, n, int64(len(data)))
	require.NoError(t, c.Close())
	got, rerr := io.ReadAll(s)
	require.NoError(t, rerr)
	require.Equal(t, n, int64(len(got)), "the count is exactly what the peer received")
	testutil.RequireBytes(t, data[:n], got)
}

func TestCloseWhileBlocked(t *testing.T) {
	testutil.NoLeaks(t)
	data := testutil.Data(33, 32<<20)
	f := testutil.File(t, t.TempDir(), "src", data)
	c, s := slowPair(t)
	closed := make(chan struct{})
	go func() {
		time.Sleep(200 * time.Millisecond)
		_ = c.Close()
		close(closed)
	}()
	n, err := zerocopy.SendFile(c, f, 0, -1)
	<-closed
	require.ErrorIs(t, err, net.ErrClosed)
	got, rerr := io.ReadAll(s)
	require.NoError(t, rerr)
	require.Equal(t, n, int64(len(got)))
	testutil.RequireBytes(t, data[:n], got)
}

// TestSlowReader fills a tiny send buffer over and over: sendfile meets real
// EAGAINs and waits in the netpoller each time.
func TestSlowReader(t *testing.T) {
	testutil.NoLeaks(t)
	data := testutil.Data(34, 4<<20+5)
	f := testutil.File(t, t.TempDir(), "src", data)
	c, s := slowPair(t)
	done := make(chan []byte)
	go func() {
		var got []byte
		buf := make([]byte, 4096)
		for i := 0; ; i++ {
			n, err := s.Read(buf)
			got = append(got, buf[:n]...)
			if err != nil {
				done <- got
				return
			}
			if i%64 == 0 {
				time.Sleep(time.Millisecond)
			}
		}
	}()
	var rep zerocopy.Report
	n, err := observed(&rep).SendFile(bg, c, f, 0, -1)
	require.NoError(t, err)
	require.Equal(t, int64(len(data)), n)
	require.NoError(t, c.CloseWrite())
	testutil.RequireBytes(t, data, <-done)
	require.Equal(t, fastOr(zerocopy.MethodSendfile), rep.Method)
}

// TestNoBusyLoopNonPollable writes into a pipe whose descriptor was made
// non-blocking behind the netpoller's back, the shape of golang/go#75304.
// The reader stalls for 600 ms; a sender that spins on EAGAIN calls
// sendfile all through it, one that waits in poll(2) makes a few calls
// before the stall and none during it. The calls are counted, not the CPU
// time, which is the scheduler's as much as the library's.
func TestNoBusyLoopNonPollable(t *testing.T) {
	if !zerocopy.FastPaths {
		t.Skip("the buffered path writes with (*os.File).Write, which returns EAGAIN for such a descriptor (stdlib behaviour)")
	}
	testutil.NoLeaks(t)
	r, w := testutil.NonPollablePipe(t)

	data := testutil.Data(35, 4<<20)
	f := testutil.File(t, t.TempDir(), "src", data)
	calls := testutil.Inject(t, testutil.Sendfile) // counts, changes nothing
	got := make(chan []byte)
	stalled := make(chan int, 1)
	go func() {
		time.Sleep(600 * time.Millisecond)
		stalled <- calls.Calls()
		b, _ := io.ReadAll(r)
		got <- b
	}()
	before := testutil.ProcessCPU()
	var rep zerocopy.Report
	n, err := observed(&rep).SendFile(bg, w, f, 0, -1)
	used := testutil.ProcessCPU() - before
	require.NoError(t, err)
	require.Equal(t, int64(len(data)), n)
	require.NoError(t, w.Close())
	testutil.RequireBytes(t, data, <-got)
	require.Equal(t, zerocopy.MethodSendfile, rep.Method)
	during := <-stalled
	t.Logf("sendfile calls until the reader woke after 600 ms: %d (of %d); CPU over the transfer: %v", during, calls.Calls(), used)
	require.Less(t, during, 50, "a busy loop on EAGAIN calls sendfile all through the stall")
}

// TestODirectDestinationCount: copy_file_range moves the aligned part into
// an O_DIRECT file, then the unaligned tail fails. io.Copy returned n=0
// here with 1 MiB on disk; the count must be what is on disk.
func TestODirectDestinationCount(t *testing.T) {
	testutil.NoLeaks(t)
	data := testutil.Data(36, 1<<20+100)
	src := testutil.File(t, t.TempDir(), "src", data)
	path := filepath.Join(t.TempDir(), "direct")
	dst, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|unix.O_DIRECT, 0o644)
	if err != nil {
		t.Skipf("O_DIRECT refused here: %v", err)
	}
	t.Cleanup(func() { _ = dst.Close() })
	var rep zerocopy.Report
	n, err := observed(&rep).Copy(bg, dst, src)
	got := testutil.ReadFile(t, path)
	t.Logf("n=%d err=%v method=%v fallback=%v", n, err, rep.Method, rep.Fallback)
	require.Equal(t, n, int64(len(got)), "the count is what is on disk")
	testutil.RequireBytes(t, data[:n], got)
	if err == nil {
		require.Equal(t, int64(len(data)), n)
	} else {
		require.ErrorIs(t, err, syscall.EINVAL)
	}
	if zerocopy.FastPaths {
		require.Equal(t, int64(1<<20), n, "the aligned MiB moved and was counted")
	}
}

func TestPeerReset(t *testing.T) {
	testutil.NoLeaks(t)
	data := testutil.Data(37, 64<<20)
	f := testutil.File(t, t.TempDir(), "src", data)
	c, s := slowPair(t)
	go func() {
		buf := make([]byte, 1<<20)
		_, _ = io.ReadFull(s, buf)
		_ = s.SetLinger(0) // close with RST
		_ = s.Close()
	}()
	n, err := zerocopy.SendFile(c, f, 0, -1)
	require.Error(t, err)
	require.True(t, errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE), "got %v", err)
	require.GreaterOrEqual(t, n, int64(1<<20))
	require.Less(t, n, int64(len(data)))
	if zerocopy.FastPaths {
		require.ErrorContains(t, err, "sendfile")
	}
}

// TestFileSizeLimit: RLIMIT_FSIZE lets a write through short, then EFBIG.
// Go ignores SIGXFSZ, so the process survives and sees the errno.
func TestFileSizeLimit(t *testing.T) {
	testutil.NoLeaks(t)
	const limit = 1<<20 + 100
	data := testutil.Data(38, 2<<20)
	src := testutil.File(t, t.TempDir(), "src", data)
	dst := testutil.File(t, t.TempDir(), "dst", nil)
	var old unix.Rlimit
	require.NoError(t, unix.Getrlimit(unix.RLIMIT_FSIZE, &old))
	require.NoError(t, unix.Setrlimit(unix.RLIMIT_FSIZE, &unix.Rlimit{Cur: limit, Max: old.Max}))
	n, err := zerocopy.Copy(dst, src)
	require.NoError(t, unix.Setrlimit(unix.RLIMIT_FSIZE, &old))
	require.ErrorIs(t, err, syscall.EFBIG)
	require.Equal(t, int64(limit), n)
	testutil.RequireBytes(t, data[:limit], testutil.ReadFile(t, dst.Name()))
}

// TestTruncatedMidTransfer shrinks the file while SendFile streams it to a
// slow reader: the bytes that arrived are counted and the call reports
// io.ErrUnexpectedEOF.
func TestTruncatedMidTransfer(t *testing.T) {
	testutil.NoLeaks(t)
	data := testutil.Data(39, 32<<20)
	f := testutil.File(t, t.TempDir(), "src", data)
	c, s := slowPair(t)
	got := make(chan []byte)
	go func() {
		buf := make([]byte, 1<<20)
		n, _ := io.ReadFull(s, buf)
		require.NoError(t, f.Truncate(2<<20))
		rest, _ := io.ReadAll(s)
		got <- append(buf[:n], rest...)
	}()
	n, err := zerocopy.SendFile(c, f, 0, int64(len(data)))
	require.ErrorIs(t, err, io.ErrUnexpectedEOF)
	require.NoError(t, c.CloseWrite())
	arrived := <-got
	require.Equal(t, n, int64(len(arrived)))
	require.Less(t, n, int64(len(data)))
	testutil.RequireBytes(t, data[:n], arrived)
}
