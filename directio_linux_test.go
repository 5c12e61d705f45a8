//go:build linux && !purego

package zerocopy_test

import (
	"bytes"
	"fmt"
	"io"
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
