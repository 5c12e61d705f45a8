//go:build linux && !purego

package zerocopy_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/zerocopy-go/zerocopy"
	"github.com/zerocopy-go/zerocopy/internal/testutil"
)

// TestReportNamesHiddenDescriptor: a wrapper that hides the conn or file it
// holds (no SyscallConn, no ReadFrom or WriteTo) keeps the pair on the
// buffered path; the Report names it with its side and type (issue 16:
// Copy(struct{io.Writer}{tcpConn}, file) reported nil).
func TestReportNamesHiddenDescriptor(t *testing.T) {
	data := testutil.Data(72, 1<<20+5)
	t.Run("dst", func(t *testing.T) {
		a, b := testutil.TCPPair(t)
		got := testutil.Collect(t, b)
		var rep zerocopy.Report
		n, err := observed(&rep).Copy(bg, struct{ io.Writer }{a}, testutil.File(t, t.TempDir(), "src", data))
		require.NoError(t, err)
		require.Equal(t, int64(len(data)), n)
		require.NoError(t, a.CloseWrite())
		testutil.RequireBytes(t, data, got())
		require.Equal(t, zerocopy.MethodBuffered, rep.Method)
		require.ErrorContains(t, rep.Fallback, "dst struct { io.Writer }: no descriptor")
		require.ErrorIs(t, rep.Fallback, zerocopy.ErrUnsupported)
	})
	t.Run("src", func(t *testing.T) {
		c, s := testutil.TCPPair(t)
		wait := testutil.Feed(c, data)
		dst := testutil.File(t, t.TempDir(), "dst", nil)
		var rep zerocopy.Report
		n, err := observed(&rep).Copy(bg, dst, struct{ io.Reader }{s})
		require.NoError(t, err)
		require.NoError(t, wait())
		require.Equal(t, int64(len(data)), n)
		testutil.RequireBytes(t, data, testutil.ReadFile(t, dst.Name()))
		require.ErrorContains(t, rep.Fallback, "src struct { io.Reader }: no descriptor")
	})
	t.Run("in memory: nothing to say", func(t *testing.T) {
		a, b := testutil.TCPPair(t)
		got := testutil.Collect(t, b)
		var rep zerocopy.Report
		n, err := observed(&rep).Copy(bg, a, bytes.NewReader(data))
		require.NoError(t, err)
		require.Equal(t, int64(len(data)), n)
		require.NoError(t, a.CloseWrite())
		testutil.RequireBytes(t, data, got())
		require.NoError(t, rep.Fallback)
	})
}

// TestReportResponseWriterCopiedBody: a small body into a ResponseWriter
// whose header was not written is copied by net/http itself (it sniffs the
// first 512 bytes); the Report says so, not "no descriptor".
func TestReportResponseWriterCopiedBody(t *testing.T) {
	data := testutil.Data(73, 100)
	src := testutil.File(t, t.TempDir(), "src", data)
	rep := make(chan zerocopy.Report, 1)
	c := &zerocopy.Copier{Observe: func(r zerocopy.Report) { rep <- r }}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = c.Copy(bg, w, src) }))
	t.Cleanup(srv.Close)
	testutil.RequireBytes(t, data, httpGet(t, srv.URL))
	r := <-rep
	require.Equal(t, zerocopy.MethodBuffered, r.Method)
	require.ErrorContains(t, r.Fallback, "net/http copied the body itself")
	require.NotContains(t, r.Fallback.Error(), "no descriptor")
}
