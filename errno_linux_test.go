//go:build linux && !purego

package zerocopy_test

import (
	"fmt"
	"io"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/zerocopy-go/zerocopy"
	"github.com/zerocopy-go/zerocopy/internal/testutil"
)

const (
	faultSize  = 1<<20 + 7
	faultChunk = 64 << 10 // every fast-path call is cut to this, so there are many
)

type faultCase struct {
	name  string
	fault testutil.Fault
	// fatal: the copy fails with this errno after exactly moved bytes.
	fatal syscall.Errno
	// fallback: Report.Fallback wraps this error.
	fallback error
}

// faultCases covers every errno of docs/RELIABILITY.md on the first call
// and on the third (after 2 chunks moved), plus short and zero returns.
// Each call has its own errno table: EXDEV is copy_file_range's "another
// filesystem", while sendfile never says it, so from sendfile it is final.
func faultCases(syscallName string) []faultCase {
	var cases []faultCase
	for _, call := range []int{1, 3} {
		for _, e := range []syscall.Errno{syscall.ENOSYS, syscall.EXDEV, syscall.EINVAL, syscall.EOPNOTSUPP, syscall.EPERM, syscall.EBADF} {
			c := faultCase{name: fmt.Sprintf("%s@%d", e, call), fault: testutil.Fault{Call: call, Errno: e}, fallback: e}
			if e == syscall.EXDEV && syscallName != "copy_file_range" {
				c.fallback, c.fatal = nil, e
			}
			cases = append(cases, c)
		}
		eio := faultCase{name: fmt.Sprintf("EIO@%d", call), fault: testutil.Fault{Call: call, Errno: syscall.EIO}}
		if call == 1 {
			eio.fallback = syscall.EIO // before any byte: fall back
		} else {
			eio.fatal = syscall.EIO // after progress: a real I/O error
		}
		cases = append(cases, eio,
			faultCase{name: fmt.Sprintf("EINTR@%d", call), fault: testutil.Fault{Call: call, Errno: syscall.EINTR}},
			faultCase{name: fmt.Sprintf("EAGAIN@%d", call), fault: testutil.Fault{Call: call, Errno: syscall.EAGAIN}},
			faultCase{name: fmt.Sprintf("ENOSPC@%d", call), fault: testutil.Fault{Call: call, Errno: syscall.ENOSPC}, fatal: syscall.ENOSPC},
			faultCase{name: fmt.Sprintf("short1@%d", call), fault: testutil.Fault{Call: call, Short: 1}},
			faultCase{name: fmt.Sprintf("zero@%d", call), fault: testutil.Fault{Call: call, Zero: true}, fallback: zerocopy.ErrZeroBeforeEOF},
		)
	}
	return cases
}

// movedBefore is what the faulted path moved before the fault.
func movedBefore(f testutil.Fault) int64 { return int64(f.Call-1) * faultChunk }

func TestFaultsCopyFileRange(t *testing.T) {
	testutil.NoLeaks(t)
	t.Cleanup(zerocopy.ResetRefused)
	data := testutil.Data(21, faultSize)
	for _, tc := range faultCases("copy_file_range") {
		t.Run(tc.name, func(t *testing.T) {
			t.Cleanup(zerocopy.ResetRefused)
			calls := testutil.Inject(t, testutil.CopyFileRange, tc.fault, testutil.Fault{Short: faultChunk})
			src := testutil.File(t, t.TempDir(), "src", data)
			dst := testutil.File(t, t.TempDir(), "dst", nil)
			var rep zerocopy.Report
			n, err := observed(&rep).Copy(bg, dst, src)
			got := testutil.ReadFile(t, dst.Name())
			require.Equal(t, n, int64(len(got)), "the count is what reached the file")
			require.Equal(t, n, testutil.Offset(t, src), "source offset at the exact next byte")
			require.Equal(t, n, testutil.Offset(t, dst))
			if tc.fatal != 0 {
				require.ErrorIs(t, err, tc.fatal)
				require.ErrorContains(t, err, "copy_file_range")
				require.Equal(t, movedBefore(tc.fault), n, "exact count after the failure")
				require.Equal(t, zerocopy.MethodCopyFileRange, rep.Method, "the path that failed, also before any byte")
				testutil.RequireBytes(t, data[:n], got)
				return
			}
			require.NoError(t, err)
			require.Equal(t, int64(faultSize), n)
			testutil.RequireBytes(t, data, got)
			require.Equal(t, n, rep.Bytes)
			if tc.fallback != nil {
				require.ErrorIs(t, rep.Fallback, tc.fallback)
				if tc.fault.Zero {
					// The buffered path takes the rest from the exact next byte.
					require.Equal(t, zerocopy.MethodBuffered, rep.Method)
				} else {
					require.Equal(t, zerocopy.MethodSendfile, rep.Method, "sendfile takes over at the next byte")
				}
			} else {
				require.NoError(t, rep.Fallback)
				require.Equal(t, zerocopy.MethodCopyFileRange, rep.Method)
				require.Greater(t, calls.Calls(), faultSize/faultChunk)
			}
		})
	}
}

func TestFaultsSendfile(t *testing.T) {
	testutil.NoLeaks(t)
	t.Cleanup(zerocopy.ResetRefused)
	data := testutil.Data(22, faultSize)
	for _, tc := range faultCases("sendfile") {
		t.Run(tc.name, func(t *testing.T) {
			t.Cleanup(zerocopy.ResetRefused)
			testutil.Inject(t, testutil.Sendfile, tc.fault, testutil.Fault{Short: faultChunk})
			src := testutil.File(t, t.TempDir(), "src", data)
			var dst io.Writer
			var got func() []byte
			if tc.fault.Errno == syscall.EAGAIN {
				// A made-up EAGAIN on a writable socket would wait for an
				// edge that never comes; a real one comes with a full buffer
				// (TestSlowReader). Here the destination is a regular file,
				// which the netpoller does not watch: the wait goes through
				// poll(2). copy_file_range is refused so sendfile runs.
				testutil.Inject(t, testutil.CopyFileRange, testutil.Fault{Errno: syscall.EXDEV})
				out := testutil.File(t, t.TempDir(), "dst", nil)
				dst, got = out, func() []byte { return testutil.ReadFile(t, out.Name()) }
			} else {
				c, s := testutil.TCPPair(t)
				collect := testutil.Collect(t, s)
				dst, got = c, func() []byte { testutil.CloseWrite(t, c); return collect() }
			}
			var rep zerocopy.Report
			n, err := observed(&rep).Copy(bg, dst, src)
			arrived := got()
			require.Equal(t, n, int64(len(arrived)), "the count is what reached the peer")
			require.Equal(t, n, testutil.Offset(t, src), "source offset at the exact next byte")
			if tc.fatal != 0 {
				require.ErrorIs(t, err, tc.fatal)
				require.ErrorContains(t, err, "sendfile")
				require.Equal(t, movedBefore(tc.fault), n)
				require.Equal(t, zerocopy.MethodSendfile, rep.Method, "the path that failed, also before any byte")
				testutil.RequireBytes(t, data[:n], arrived)
				return
			}
			require.NoError(t, err)
			require.Equal(t, int64(faultSize), n)
			testutil.RequireBytes(t, data, arrived)
			if tc.fallback != nil {
				require.ErrorIs(t, rep.Fallback, tc.fallback)
				moved := movedBefore(tc.fault)
				want := zerocopy.MethodBuffered
				if moved > faultSize-moved {
					want = zerocopy.MethodSendfile
				}
				require.Equal(t, want, rep.Method)
			} else {
				require.Equal(t, zerocopy.MethodSendfile, rep.Method)
			}
		})
	}
}

// TestFaultsChain: copy_file_range stops part-way, sendfile takes over and
// stops part-way too, and the buffered copy finishes; every byte once.
func TestFaultsChain(t *testing.T) {
	testutil.NoLeaks(t)
	data := testutil.Data(23, faultSize)
	testutil.Inject(t, testutil.CopyFileRange, testutil.Fault{Call: 3, Errno: syscall.EXDEV}, testutil.Fault{Short: faultChunk})
	testutil.Inject(t, testutil.Sendfile, testutil.Fault{Call: 4, Errno: syscall.EINVAL}, testutil.Fault{Short: 4097})
	src := testutil.File(t, t.TempDir(), "src", data)
	_, err := src.Seek(1, io.SeekStart)
	require.NoError(t, err)
	dst := testutil.File(t, t.TempDir(), "dst", nil)
	var rep zerocopy.Report
	n, err := observed(&rep).Copy(bg, dst, src)
	require.NoError(t, err)
	require.Equal(t, int64(faultSize-1), n)
	testutil.RequireBytes(t, data[1:], testutil.ReadFile(t, dst.Name()))
	require.ErrorIs(t, rep.Fallback, syscall.EXDEV)
	require.ErrorIs(t, rep.Fallback, syscall.EINVAL)
	require.Equal(t, zerocopy.MethodBuffered, rep.Method)
	require.Equal(t, int64(faultSize), testutil.Offset(t, src))
}

// TestRefusedIsRemembered: ENOSYS (a missing call, or seccomp's EPERM) marks
// the path unavailable for the rest of the process.
func TestRefusedIsRemembered(t *testing.T) {
	t.Cleanup(zerocopy.ResetRefused)
	require.True(t, zerocopy.MethodCopyFileRange.Available())
	testutil.Inject(t, testutil.CopyFileRange, testutil.Fault{Call: 1, Errno: syscall.ENOSYS})
	data := testutil.Data(24, 5000)
	src := testutil.File(t, t.TempDir(), "src", data)
	dst := testutil.File(t, t.TempDir(), "dst", nil)
	_, err := zerocopy.Copy(dst, src)
	require.NoError(t, err)
	require.False(t, zerocopy.MethodCopyFileRange.Available())
	testutil.RequireBytes(t, data, testutil.ReadFile(t, dst.Name()))
}

func TestAvailable(t *testing.T) {
	require.True(t, zerocopy.MethodBuffered.Available())
	require.True(t, zerocopy.MethodCopyFileRange.Available(), "Linux 5.3+ has copy_file_range")
	require.True(t, zerocopy.MethodSendfile.Available())
	require.True(t, zerocopy.MethodSplice.Available())
	require.False(t, zerocopy.Method(200).Available())
	require.Equal(t, "splice", zerocopy.MethodSplice.String())
	require.Equal(t, "Method(200)", zerocopy.Method(200).String())
}

// TestSpliceFallbackResumes: splice stops part-way (EINVAL on the drain);
// the bytes already in the pipe are written out, and the buffered path
// takes the rest of the socket from the exact next byte.
func TestSpliceFallbackResumes(t *testing.T) {
	testutil.NoLeaks(t)
	t.Cleanup(zerocopy.ResetRefused)
	for _, call := range []int{1, 2, 4, 7} {
		t.Run(fmt.Sprint(call), func(t *testing.T) {
			data := testutil.Data(25, 3<<20+1)
			testutil.Inject(t, testutil.Splice, testutil.Fault{Call: call, Errno: syscall.EINVAL}, testutil.Fault{Short: 64 << 10})
			c, s := testutil.TCPPair(t)
			feed := testutil.Feed(c, data)
			out := testutil.File(t, t.TempDir(), "dst", nil)
			lr := &io.LimitedReader{R: s, N: int64(len(data)) - 5}
			var rep zerocopy.Report
			n, err := observed(&rep).Copy(bg, out, lr)
			require.NoError(t, err)
			require.Equal(t, int64(len(data))-5, n)
			require.Zero(t, lr.N)
			testutil.RequireBytes(t, data[:n], testutil.ReadFile(t, out.Name()))
			require.ErrorIs(t, rep.Fallback, syscall.EINVAL)
			require.NoError(t, feed())
			rest, err := io.ReadAll(s)
			require.NoError(t, err)
			testutil.RequireBytes(t, data[n:], rest, "exactly the unasked-for bytes remain")
		})
	}
}

// TestSpliceFatalReport: a splice that fails for good names splice in the
// Report, also before any byte moved (it said "buffered", a path that
// never ran: found from outside, ENOMEM at the first fill), and the count
// is what reached the destination.
func TestSpliceFatalReport(t *testing.T) {
	testutil.NoLeaks(t)
	t.Cleanup(zerocopy.ResetRefused)
	for _, call := range []int{1, 4} {
		t.Run(fmt.Sprint(call), func(t *testing.T) {
			data := testutil.Data(26, 1<<20)
			c, s := testutil.TCPPair(t)
			feed := testutil.Feed(c, data)
			testutil.Queued(t, s, 64<<10) // call 1 is the first fill, not an EAGAIN on an empty socket
			testutil.Inject(t, testutil.Splice, testutil.Fault{Call: call, Errno: syscall.ENOMEM}, testutil.Fault{Short: 16 << 10})
			out := testutil.File(t, t.TempDir(), "dst", nil)
			var rep zerocopy.Report
			n, err := observed(&rep).Copy(bg, out, s)
			require.ErrorIs(t, err, syscall.ENOMEM)
			require.ErrorContains(t, err, "splice")
			got := testutil.ReadFile(t, out.Name())
			require.Equal(t, n, int64(len(got)), "the count is what reached the file")
			testutil.RequireBytes(t, data[:n], got)
			require.Equal(t, n, rep.Bytes)
			require.Equal(t, zerocopy.MethodSplice, rep.Method)
			_ = s.Close()
			_ = feed()
		})
	}
}
