//go:build windows && !purego

package zerocopy_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/zerocopy-go/zerocopy"
	"github.com/zerocopy-go/zerocopy/internal/sys"
	"github.com/zerocopy-go/zerocopy/internal/testutil"
)

// serverEdition makes this process take TransmitFile as a server edition
// of Windows would. Wine reports a client edition (workstation), where
// SendFile rightly does not use it (TestTransmitFileClientEdition).
func serverEdition(t *testing.T, on bool) {
	t.Helper()
	orig := sys.TransmitFileUnlimited
	t.Cleanup(func() { sys.TransmitFileUnlimited = orig })
	sys.TransmitFileUnlimited = func() bool { return on }
}

// sendFile runs c.SendFile(context.Background(), a, f, off, count) to a fresh TCP pair and returns
// the count, the report, what arrived and the error.
func sendFile(t *testing.T, c zerocopy.Copier, f *os.File, off, count int64) (int64, zerocopy.Report, []byte, error) {
	t.Helper()
	a, b := testutil.TCPPair(t)
	got := testutil.Collect(t, b)
	var rep zerocopy.Report
	c.Observe = func(r zerocopy.Report) { rep = r }
	n, err := c.SendFile(context.Background(), a, f, off, count)
	require.NoError(t, a.CloseWrite())
	return n, rep, got(), err
}

// TestTransmitFileOffsets: SendFile at explicit offsets runs TransmitFile,
// sends exactly the range, never moves f's own position, and says
// MethodTransmitFile.
func TestTransmitFileOffsets(t *testing.T) {
	serverEdition(t, true)
	const size = 3<<20 + 17
	data := testutil.Data(80, size)
	f := testutil.File(t, t.TempDir(), "src", data)
	_, err := f.Seek(123, io.SeekStart)
	require.NoError(t, err)
	for _, off := range []int64{0, 1, 4095, 65537, size - 1, size} {
		for _, count := range []int64{-1, 1, 4096, size - off} {
			if count == 0 && off < size {
				continue
			}
			t.Run(fmt.Sprintf("off=%d/count=%d", off, count), func(t *testing.T) {
				n, rep, got, err := sendFile(t, zerocopy.Copier{}, f, off, count)
				want := data[off:]
				if count >= 0 {
					want = data[off:min(size, off+count)]
				}
				if count >= 0 && off+count > size {
					require.ErrorIs(t, err, io.ErrUnexpectedEOF)
				} else {
					require.NoError(t, err)
				}
				require.Equal(t, int64(len(want)), n)
				testutil.RequireBytes(t, want, got)
				if n > 0 {
					require.Equal(t, zerocopy.MethodTransmitFile, rep.Method)
				}
				require.NoError(t, rep.Fallback)
				require.Equal(t, int64(123), testutil.Offset(t, f), "f's own position is never moved")
			})
		}
	}
	// Past the end: nothing, and io.ErrUnexpectedEOF for a count.
	n, _, got, err := sendFile(t, zerocopy.Copier{}, f, size+10, 5)
	require.ErrorIs(t, err, io.ErrUnexpectedEOF)
	require.Zero(t, n)
	require.Empty(t, got)
}

// TestTransmitFileConcurrent: many SendFile calls share one *os.File, each
// its own range to its own connection, at once.
func TestTransmitFileConcurrent(t *testing.T) {
	testutil.NoLeaks(t)
	serverEdition(t, true)
	const size = 4 << 20
	data := testutil.Data(81, size)
	f := testutil.File(t, t.TempDir(), "src", data)
	_, err := f.Seek(777, io.SeekStart)
	require.NoError(t, err)
	const senders = 12
	var wg sync.WaitGroup
	errs := make(chan error, senders)
	for i := range senders {
		off := int64(i) * 300007
		count := int64(size) - off - int64(i)*1001
		a, b := testutil.TCPPair(t)
		got := testutil.Collect(t, b)
		wg.Add(1)
		go func() {
			defer wg.Done()
			var rep zerocopy.Report
			c := zerocopy.Copier{Observe: func(r zerocopy.Report) { rep = r }}
			n, err := c.SendFile(context.Background(), a, f, off, count)
			_ = a.CloseWrite()
			arrived := got()
			switch {
			case err != nil:
				errs <- err
			case n != count || int64(len(arrived)) != count:
				errs <- fmt.Errorf("sender %d: n=%d arrived=%d want %d", i, n, len(arrived), count)
			case testutil.SHA(arrived) != testutil.SHA(data[off:off+count]):
				errs <- fmt.Errorf("sender %d: wrong bytes", i)
			case rep.Method != zerocopy.MethodTransmitFile:
				errs <- fmt.Errorf("sender %d: method %v", i, rep.Method)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	require.Equal(t, int64(777), testutil.Offset(t, f))
}

// TestTransmitFileClientEdition: a client edition of Windows (what Wine
// reports) runs SendFile on the pread path and says why; Copy does not
// claim the stdlib's TransmitFile either (its ReadFrom copies through a
// buffer there).
func TestTransmitFileClientEdition(t *testing.T) {
	serverEdition(t, false)
	data := testutil.Data(82, 1<<20+5)
	f := testutil.File(t, t.TempDir(), "src", data)
	n, rep, got, err := sendFile(t, zerocopy.Copier{}, f, 10, -1)
	require.NoError(t, err)
	require.Equal(t, int64(len(data)-10), n)
	testutil.RequireBytes(t, data[10:], got)
	require.Equal(t, zerocopy.MethodBuffered, rep.Method)
	require.ErrorIs(t, rep.Fallback, zerocopy.ErrUnsupported)
	require.ErrorContains(t, rep.Fallback, "golang/go#73746")
	require.False(t, zerocopy.MethodTransmitFile.Available())
	if !testutil.WindowsServer() {
		require.False(t, zerocopy.MethodStdlib.Available(), "the stdlib's ReadFrom copies through a buffer on a client edition")
	}
}

// TestTransmitFileOtherDestinations: TransmitFile needs a TCP connection;
// a file destination takes the pread path, with no Fallback to report
// (no fast path exists for the pair here).
func TestTransmitFileOtherDestinations(t *testing.T) {
	serverEdition(t, true)
	data := testutil.Data(83, 100000)
	dir := t.TempDir()
	f := testutil.File(t, dir, "src", data)
	dst := testutil.File(t, dir, "dst", nil)
	var rep zerocopy.Report
	c := zerocopy.Copier{Observe: func(r zerocopy.Report) { rep = r }}
	n, err := c.SendFile(context.Background(), dst, f, 5, 1000)
	require.NoError(t, err)
	require.Equal(t, int64(1000), n)
	require.Equal(t, zerocopy.MethodBuffered, rep.Method)
	require.NoError(t, rep.Fallback)
	testutil.RequireBytes(t, data[5:1005], testutil.ReadFile(t, dst.Name()))
}

// TestTransmitFileFaults injects TransmitFile's failures: a refusal before
// any byte hands over to the pread path with the reason; short calls
// resume at the exact next byte; a reset after bytes moved is returned
// with the exact count, in Windows's words (WSAECONNRESET).
func TestTransmitFileFaults(t *testing.T) {
	serverEdition(t, true)
	data := testutil.Data(84, 2<<20+3)
	f := testutil.File(t, t.TempDir(), "src", data)
	orig := sys.TransmitFile
	t.Cleanup(func() { sys.TransmitFile = orig })

	sys.TransmitFile = func(syscall.Handle, syscall.Handle, uint32, *syscall.Overlapped) error {
		return syscall.Errno(sys.WSAEOPNOTSUPP)
	}
	n, rep, got, err := sendFile(t, zerocopy.Copier{}, f, 7, -1)
	require.NoError(t, err)
	require.Equal(t, int64(len(data)-7), n)
	testutil.RequireBytes(t, data[7:], got)
	require.Equal(t, zerocopy.MethodBuffered, rep.Method)
	require.ErrorIs(t, rep.Fallback, syscall.Errno(sys.WSAEOPNOTSUPP))
	require.ErrorContains(t, rep.Fallback, "TransmitFile")

	calls := 0
	sys.TransmitFile = func(s, h syscall.Handle, k uint32, ov *syscall.Overlapped) error {
		calls++
		return orig(s, h, min(k, 100003), ov) // short calls
	}
	n, rep, got, err = sendFile(t, zerocopy.Copier{}, f, 9, -1)
	require.NoError(t, err)
	require.Equal(t, int64(len(data)-9), n)
	testutil.RequireBytes(t, data[9:], got)
	require.Equal(t, zerocopy.MethodTransmitFile, rep.Method)
	require.Equal(t, (len(data)-9+100002)/100003, calls)

	calls = 0
	sys.TransmitFile = func(s, h syscall.Handle, k uint32, ov *syscall.Overlapped) error {
		if calls++; calls == 3 {
			return syscall.Errno(sys.WSAECONNRESET)
		}
		return orig(s, h, min(k, 65536), ov)
	}
	n, rep, got, err = sendFile(t, zerocopy.Copier{}, f, 0, -1)
	require.ErrorIs(t, err, syscall.Errno(sys.WSAECONNRESET))
	require.True(t, testutil.IsReset(err))
	require.ErrorContains(t, err, "TransmitFile")
	require.Equal(t, int64(2*65536), n)
	testutil.RequireBytes(t, data[:n], got)
	require.Equal(t, zerocopy.MethodTransmitFile, rep.Method)
}

// TestTransmitFileDeadline: a peer that does not read holds a TransmitFile
// call until the connection's write deadline, which cancels it within the
// check interval; the count is exactly what the peer then reads.
func TestTransmitFileDeadline(t *testing.T) {
	serverEdition(t, true)
	data := testutil.Data(85, 64<<20)
	f := testutil.File(t, t.TempDir(), "src", data)
	a, b := testutil.TCPPair(t)
	require.NoError(t, a.SetWriteDeadline(time.Now().Add(300*time.Millisecond)))
	start := time.Now()
	var rep zerocopy.Report
	c := zerocopy.Copier{Observe: func(r zerocopy.Report) { rep = r }}
	n, err := c.SendFile(context.Background(), a, f, 0, -1)
	took := time.Since(start)
	require.ErrorIs(t, err, os.ErrDeadlineExceeded)
	var ne net.Error
	require.True(t, errors.As(err, &ne) && ne.Timeout(), "net's own timeout error: %v", err)
	require.Less(t, n, int64(len(data)), "the peer does not read: not everything fit")
	require.Less(t, took, 30*time.Second, "the deadline ended the call (%v)", took)
	t.Logf("deadline 300 ms: SendFile returned after %v with %d bytes", took, n)
	require.NoError(t, a.Close())
	got, err := io.ReadAll(b)
	require.NoError(t, err)
	require.Equal(t, n, int64(len(got)), "the count is what arrived")
	testutil.RequireBytes(t, data[:n], got)
	require.Equal(t, zerocopy.MethodTransmitFile, rep.Method)
}

// TestTransmitFileClose: closing the connection from another goroutine ends
// a TransmitFile call that a peer holds up.
func TestTransmitFileClose(t *testing.T) {
	serverEdition(t, true)
	data := testutil.Data(86, 64<<20)
	f := testutil.File(t, t.TempDir(), "src", data)
	a, _ := testutil.TCPPair(t)
	time.AfterFunc(300*time.Millisecond, func() { _ = a.Close() })
	start := time.Now()
	_, err := zerocopy.SendFile(a, f, 0, -1)
	require.ErrorIs(t, err, net.ErrClosed)
	require.Less(t, time.Since(start), 30*time.Second)
}

// TestTransmitFileProgress: with Progress, TransmitFile moves bounded chunks
// and the final count is reported.
func TestTransmitFileProgress(t *testing.T) {
	serverEdition(t, true)
	data := testutil.Data(87, 20<<20+1)
	f := testutil.File(t, t.TempDir(), "src", data)
	var last int64
	n, rep, got, err := sendFile(t, zerocopy.Copier{Progress: func(done int64) { last = done }}, f, 1, -1)
	require.NoError(t, err)
	require.Equal(t, int64(len(data)-1), n)
	require.Equal(t, n, last)
	testutil.RequireBytes(t, data[1:], got)
	require.Equal(t, zerocopy.MethodTransmitFile, rep.Method)
}

// TestDirectIOThresholdWindows: Copier.DirectIOThreshold reads through an
// unbuffered handle (ReopenDirect) and reports MethodDirectIO; f's own
// position is untouched.
func TestDirectIOThresholdWindows(t *testing.T) {
	data := testutil.Data(88, 3<<20+9)
	f := testutil.File(t, t.TempDir(), "src", data)
	n, rep, got, err := sendFile(t, zerocopy.Copier{DirectIOThreshold: 1 << 20}, f, 4097, -1)
	require.NoError(t, err)
	require.Equal(t, int64(len(data)-4097), n)
	testutil.RequireBytes(t, data[4097:], got)
	require.Equal(t, zerocopy.MethodDirectIO, rep.Method)
	require.Equal(t, int64(0), testutil.Offset(t, f))
}

// TestTransmitFileSection: Copy of an *io.SectionReader over a file into a
// TCP connection reads at the section's offsets with TransmitFile too, and
// leaves the section after the bytes copied and the file where it was.
func TestTransmitFileSection(t *testing.T) {
	serverEdition(t, true)
	data := testutil.Data(89, 1<<20+3)
	f := testutil.File(t, t.TempDir(), "src", data)
	a, b := testutil.TCPPair(t)
	got := testutil.Collect(t, b)
	sr := io.NewSectionReader(f, 1000, 500000)
	_, err := sr.Seek(10, io.SeekStart)
	require.NoError(t, err)
	var rep zerocopy.Report
	c := zerocopy.Copier{Observe: func(r zerocopy.Report) { rep = r }}
	n, err := c.Copy(context.Background(), a, sr)
	require.NoError(t, err)
	require.NoError(t, a.CloseWrite())
	require.Equal(t, int64(500000-10), n)
	testutil.RequireBytes(t, data[1010:1000+500000], got())
	require.Equal(t, zerocopy.MethodTransmitFile, rep.Method)
	pos, err := sr.Seek(0, io.SeekCurrent)
	require.NoError(t, err)
	require.Equal(t, int64(500000), pos)
	require.Zero(t, testutil.Offset(t, f))
}
