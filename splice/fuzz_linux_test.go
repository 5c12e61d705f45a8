//go:build linux && !purego

package splice_test

import (
	"io"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/zerocopy-go/zerocopy/internal/testutil"
	"github.com/zerocopy-go/zerocopy/splice"
)

// FuzzSplice checks Splice against a plain copy over random sizes and
// limits, for socket->socket (pooled pipe) and pipe->socket (direct).
func FuzzSplice(f *testing.F) {
	f.Add(uint32(0), int64(-1), false)
	f.Add(uint32(1), int64(0), true)
	f.Add(uint32(65537), int64(65536), false)
	f.Add(uint32(200000), int64(300000), true)
	f.Fuzz(func(t *testing.T, size uint32, n int64, fromPipe bool) {
		size %= 2 << 20
		data := testutil.Data(uint64(size)+3, int(size))
		var src io.Reader
		var feeder io.Writer
		if fromPipe {
			r, w := testutil.Pipe(t)
			src, feeder = r, w
		} else {
			c, s := testutil.TCPPair(t)
			src, feeder = s, c
		}
		feed := testutil.Feed(feeder, data)
		d1, d2 := testutil.TCPPair(t)
		got := testutil.Collect(t, d2)
		moved, err := splice.Splice(d1, src, n)
		// The oracle: io.CopyN / io.Copy semantics on the same data.
		want := int64(len(data))
		if n >= 0 && n < want {
			want = n
		}
		require.Equal(t, want, moved)
		if n > int64(len(data)) {
			require.ErrorIs(t, err, io.EOF)
		} else {
			require.NoError(t, err)
		}
		require.NoError(t, d1.CloseWrite())
		testutil.RequireBytes(t, data[:moved], got())
		require.NoError(t, feed())
		rest, err := io.ReadAll(src)
		require.NoError(t, err)
		testutil.RequireBytes(t, data[moved:], rest)
	})
}
