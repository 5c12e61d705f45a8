package zerocopy_test

import (
	"bytes"
	"io"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/zerocopy-go/zerocopy"
	"github.com/zerocopy-go/zerocopy/internal/testutil"
)

// TestPlatformTable: the decision table of the stdlib's fast paths, per
// platform, for the stdlib's concrete types only.
func TestPlatformTable(t *testing.T) {
	f := testutil.File(t, t.TempDir(), "f", []byte("x"))
	g := testutil.File(t, t.TempDir(), "g", nil)
	tcp, _ := testutil.TCPPair(t)
	lr := &io.LimitedReader{R: f, N: 1}
	wrapped := testutil.Writer{C: tcp}
	for _, tc := range []struct {
		name     string
		dst, src any
		want     map[string]bool // platforms that delegate
	}{
		{"file->TCP", tcp, f, map[string]bool{"darwin": true, "freebsd": true, "windows": true}},
		{"LimitedReader(file)->TCP", tcp, lr, map[string]bool{"darwin": true, "freebsd": true, "windows": true}},
		{"file->file", g, f, map[string]bool{"freebsd": true}},
		{"TCP->file", g, tcp, nil},
		{"TCP->TCP", tcp, tcp, nil},
		{"file->user type over TCP", wrapped, f, nil},
		{"bytes->TCP", tcp, bytes.NewReader(nil), nil},
		{"file->bytes.Buffer", &bytes.Buffer{}, f, nil},
	} {
		for _, goos := range []string{"darwin", "freebsd", "windows", "linux", "plan9"} {
			t.Run(tc.name+"/"+goos, func(t *testing.T) {
				require.Equal(t, tc.want[goos], zerocopy.StdlibPair(goos, tc.dst, tc.src))
			})
		}
	}
}

// TestStdlibDelegation runs the darwin table on this machine: the pair
// goes through the stdlib's ReadFrom, the bytes and count are exact, a
// LimitedReader is lowered, and Report names MethodStdlib.
func TestStdlibDelegation(t *testing.T) {
	defer zerocopy.UseStdlibPaths("darwin")()
	data := testutil.Data(51, 1<<20+3)
	for _, limit := range []int64{-1, 1000, 1<<20 + 3} {
		a, b := testutil.TCPPair(t)
		got := testutil.Collect(t, b)
		src := testutil.File(t, t.TempDir(), "src", data)
		var rep zerocopy.Report
		c := zerocopy.Copier{Observe: func(r zerocopy.Report) { rep = r }}
		var n int64
		var err error
		want := data
		if limit < 0 {
			n, err = c.Copy(bg, a, src)
		} else {
			lr := &io.LimitedReader{R: src, N: limit + 5}
			n, err = c.CopyN(bg, a, lr, limit)
			want = data[:limit]
			require.Equal(t, int64(5), lr.N)
		}
		require.NoError(t, err)
		require.NoError(t, a.CloseWrite())
		require.Equal(t, int64(len(want)), n)
		testutil.RequireBytes(t, want, got())
		require.Equal(t, zerocopy.MethodStdlib, rep.Method)
		require.Equal(t, n, testutil.Offset(t, src))
	}
	_ = os.Stdout
}
