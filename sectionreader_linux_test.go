//go:build linux && !purego

package zerocopy_test

import (
	"io"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/zerocopy-go/zerocopy"
	"github.com/zerocopy-go/zerocopy/internal/testutil"
)

// TestSectionReaderBounds: the stdlib's readings of odd section bounds.
func TestSectionReaderBounds(t *testing.T) {
	data := testutil.Data(21, 10000)
	for _, tc := range []struct {
		name     string
		off, n   int64
		want     []byte
		errMatch string
	}{
		{name: "negative offset", off: -5, n: 10, errMatch: "negative offset"},
		{name: "overflowing n reads to EOF", off: 3, n: -7, want: data[3:]},
		{name: "n past EOF", off: 9000, n: 5000, want: data[9000:]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := testutil.File(t, t.TempDir(), "src", data)
			_, err := f.Seek(100, io.SeekStart)
			require.NoError(t, err)
			dst := testutil.File(t, t.TempDir(), "dst", nil)
			stdN, stdErr := io.Copy(io.Discard, io.NewSectionReader(f, tc.off, tc.n))
			n, err := zerocopy.Copy(dst, io.NewSectionReader(f, tc.off, tc.n))
			require.Equal(t, stdN, n, "io.Copy's count")
			if tc.errMatch != "" {
				require.ErrorContains(t, err, tc.errMatch)
				require.Equal(t, stdErr.Error(), err.Error(), "io.Copy's error")
				require.Zero(t, n)
			} else {
				require.NoError(t, err)
				require.NoError(t, stdErr)
			}
			testutil.RequireBytes(t, tc.want, testutil.ReadFile(t, dst.Name()))
			require.Equal(t, int64(100), testutil.Offset(t, f), "f's own offset is untouched")
		})
	}
}
