//go:build linux && !purego

package zerocopy_test

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/zerocopy-go/zerocopy"
	"github.com/zerocopy-go/zerocopy/internal/testutil"
)

// TestDirectIOThreshold: sources at or above the threshold go through
// direct I/O (bytes exact, offsets exact, the source's pages stay out of
// the cache); smaller ones keep their kernel path.
func TestDirectIOThreshold(t *testing.T) {
	testutil.NoLeaks(t)
	const size = 8<<20 + 123
	data := testutil.Data(70, size)
	for _, tc := range []struct {
		name      string
		threshold int64
		want      zerocopy.Method
	}{
		{"above", size - 1, zerocopy.MethodDirectIO},
		{"equal", size, zerocopy.MethodDirectIO},
		{"below", size + 1, zerocopy.MethodSendfile},
	} {
		for _, dstName := range []string{"tcp", "file", "buffer"} {
			t.Run(tc.name+"-"+dstName, func(t *testing.T) {
				src := testutil.File(t, t.TempDir(), "src", data)
				testutil.Evict(t, src.Name())
				_, err := src.Seek(7, io.SeekStart)
				require.NoError(t, err)
				var dst io.Writer
				var got func() []byte
				want := tc.want
				switch dstName {
				case "tcp":
					c, s := testutil.TCPPair(t)
					collect := testutil.Collect(t, s)
					dst, got = c, func() []byte { testutil.CloseWrite(t, c); return collect() }
				case "file":
					out := testutil.File(t, t.TempDir(), "dst", nil)
					dst, got = out, func() []byte { return testutil.ReadFile(t, out.Name()) }
					if want == zerocopy.MethodSendfile {
						want = zerocopy.MethodCopyFileRange
					}
				case "buffer":
					var b bytes.Buffer
					dst, got = &b, b.Bytes
					if want == zerocopy.MethodSendfile {
						want = zerocopy.MethodBuffered
					}
				}
				var rep zerocopy.Report
				c := zerocopy.Copier{DirectIOThreshold: tc.threshold, Observe: func(r zerocopy.Report) { rep = r }}
				n, err := c.Copy(bg, dst, src)
				require.NoError(t, err)
				require.Equal(t, int64(size-7), n)
				require.Equal(t, int64(size), testutil.Offset(t, src))
				testutil.RequireBytes(t, data[7:], got())
				require.Equal(t, want.String(), rep.Method.String(), "fallback: %v", rep.Fallback)
				res := testutil.Resident(t, src.Name())
				if want == zerocopy.MethodDirectIO {
					require.Less(t, res, 0.05, "the source did not pass through the page cache")
				}
				t.Logf("source resident afterwards: %.0f%%", res*100)
			})
		}
	}
}

func TestDirectIOSendFileAndLimits(t *testing.T) {
	testutil.NoLeaks(t)
	const size = 4<<20 + 5
	data := testutil.Data(71, size)
	f := testutil.File(t, t.TempDir(), "src", data)
	c := zerocopy.Copier{DirectIOThreshold: 1 << 20}
	for _, tc := range []struct{ off, count int64 }{{0, -1}, {1, 1}, {4097, 1 << 20}, {size - 10, 10}, {100, size}} {
		t.Run(fmt.Sprint(tc.off, "+", tc.count), func(t *testing.T) {
			var b bytes.Buffer
			var rep zerocopy.Report
			c.Observe = func(r zerocopy.Report) { rep = r }
			n, err := c.SendFile(bg, &b, f, tc.off, tc.count)
			want := data[tc.off:]
			if tc.count >= 0 && tc.count < int64(len(want)) {
				want = want[:tc.count]
			}
			if tc.count > int64(len(data))-tc.off {
				require.ErrorIs(t, err, io.ErrUnexpectedEOF)
			} else {
				require.NoError(t, err)
			}
			require.Equal(t, int64(len(want)), n)
			testutil.RequireBytes(t, want, b.Bytes())
			require.Equal(t, zerocopy.MethodDirectIO, rep.Method)
			require.Zero(t, testutil.Offset(t, f), "SendFile never moves f's offset")
		})
	}
	// CopyN and a LimitedReader through the direct path.
	lr := &io.LimitedReader{R: f, N: 3<<20 + 1}
	var b bytes.Buffer
	n, err := c.CopyN(bg, &b, lr, 2<<20+3)
	require.NoError(t, err)
	require.Equal(t, int64(2<<20+3), n)
	require.Equal(t, int64(3<<20+1-(2<<20+3)), lr.N)
	require.Equal(t, n, testutil.Offset(t, f))
	testutil.RequireBytes(t, data[:n], b.Bytes())
}

// TestDirectIOBothEnds: with DirectIOThreshold, a regular-file destination
// is written with direct I/O too, so that after the copy neither file is in
// the page cache (issue 17: the destination stayed whole in the cache).
// The file ends at exactly the bytes copied, the unaligned head and tail
// included, and both offsets end after them.
func TestDirectIOBothEnds(t *testing.T) {
	testutil.NoLeaks(t)
	const size = 32<<20 + 777
	data := testutil.Data(74, size)
	for _, tc := range []struct {
		name   string
		head   int // bytes already in dst, where the copy starts
		how    string
		append bool
	}{
		{"Copy", 0, "Copy", false},
		{"Copy at an unaligned offset", 1000, "Copy", false},
		{"CopyN", 4096, "CopyN", false},
		{"SendFile", 3, "SendFile", false},
		{"O_APPEND destination", 5, "Copy", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := testutil.File(t, t.TempDir(), "src", data)
			testutil.Evict(t, src.Name())
			head := testutil.Data(75, tc.head)
			dstPath := filepath.Join(t.TempDir(), "dst")
			require.NoError(t, os.WriteFile(dstPath, head, 0o644))
			flag := os.O_WRONLY
			if tc.append {
				flag |= os.O_APPEND
			}
			dst, err := os.OpenFile(dstPath, flag, 0)
			require.NoError(t, err)
			t.Cleanup(func() { _ = dst.Close() })
			_, err = dst.Seek(int64(tc.head), io.SeekStart)
			require.NoError(t, err)
			testutil.Evict(t, dstPath)

			var rep zerocopy.Report
			c := observed(&rep)
			c.DirectIOThreshold = 1
			var n int64
			switch tc.how {
			case "CopyN":
				n, err = c.CopyN(bg, dst, src, size)
			case "SendFile":
				n, err = c.SendFile(bg, dst, src, 0, -1)
			default:
				n, err = c.Copy(bg, dst, src)
			}
			require.NoError(t, err)
			require.Equal(t, int64(size), n)
			require.Equal(t, zerocopy.MethodDirectIO, rep.Method)
			// Residency first: reading the files back fills the cache.
			srcIn, dstIn := testutil.Resident(t, src.Name()), testutil.Resident(t, dstPath)
			t.Logf("resident after the copy: source %.2f%%, destination %.2f%%", 100*srcIn, 100*dstIn)
			require.Less(t, srcIn, 0.05, "the source stayed out of the page cache")
			if tc.append {
				// Written through the page cache and dropped behind.
				require.ErrorContains(t, rep.Fallback, "O_APPEND")
			} else {
				require.NoError(t, rep.Fallback)
			}
			require.Less(t, dstIn, 0.05, "the destination stayed out of the page cache")
			require.Equal(t, int64(tc.head+size), testutil.Offset(t, dst), "dst's offset after the bytes")
			if tc.how != "SendFile" {
				require.Equal(t, int64(size), testutil.Offset(t, src), "src's offset after the bytes")
			}
			testutil.RequireBytes(t, append(head, data...), testutil.ReadFile(t, dstPath))
		})
	}
}

// TestDirectIODestinationRefused: a destination whose filesystem refuses
// O_DIRECT (EINVAL at open, as tmpfs before Linux 6.6) is written through
// the page cache and dropped behind; the copy succeeds and the Report says
// why.
func TestDirectIODestinationRefused(t *testing.T) {
	const size = 8<<20 + 5
	data := testutil.Data(76, size)
	src := testutil.File(t, t.TempDir(), "src", data)
	dst := testutil.File(t, t.TempDir(), "dst", nil)
	opens := testutil.Inject(t, testutil.Open, testutil.Fault{Call: 2, Errno: syscall.EINVAL})
	var rep zerocopy.Report
	c := observed(&rep)
	c.DirectIOThreshold = 1
	n, err := c.Copy(bg, dst, src)
	require.NoError(t, err)
	require.Equal(t, int64(size), n)
	require.Equal(t, 2, opens.Calls(), "the source and the destination were reopened")
	require.Equal(t, zerocopy.MethodDirectIO, rep.Method)
	require.ErrorContains(t, rep.Fallback, "dst written through the page cache and dropped behind")
	require.ErrorIs(t, rep.Fallback, syscall.EINVAL)
	require.Less(t, testutil.Resident(t, dst.Name()), 0.05, "dropped behind")
	require.Equal(t, int64(size), testutil.Offset(t, dst))
	testutil.RequireBytes(t, data, testutil.ReadFile(t, dst.Name()))
}
