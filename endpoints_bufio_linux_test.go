//go:build linux

package zerocopy_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/zerocopy-go/zerocopy"
	"github.com/zerocopy-go/zerocopy/internal/testutil"
)

// wrappedSizes is a representative subset of matrixSizes for the wrapped
// variants: empty, one byte (all of it peeked into the bufio.Reader),
// just over 64 KiB, and just over 1 MiB.
var wrappedSizes = []int{0, 1, 64<<10 + 1, 1<<20 + 7}

// peekLen is what the bufio.Reader source has buffered before Copy (a
// parsed header's worth); bufio reads a whole 4 KiB buffer for it.
const peekLen = 100

// wrapping is one way of wrapping the matrix's sources and destinations.
type wrapping struct {
	name    string
	bufSrc  bool   // the source is read through a *bufio.Reader after a Peek
	dstWrap string // "": the destination as it is; "bufio": a *bufio.Writer over it; "http": an http.ResponseWriter over TCP
}

var wrappings = []wrapping{
	{name: "bufio.Reader", bufSrc: true},
	{name: "bufio.Writer", dstWrap: "bufio"},
	{name: "bufio.Reader-to-bufio.Writer", bufSrc: true, dstWrap: "bufio"},
	{name: "ResponseWriter", dstWrap: "http"},
	{name: "bufio.Reader-to-ResponseWriter", bufSrc: true, dstWrap: "http"},
}

// httpDst is the ResponseWriter variant's destination: a handler that
// copies into its http.ResponseWriter, as a file server does.
var httpDst = dstKind{name: "http", kind: "http"}

// readerFromDst reports whether the destination under a *bufio.Writer is
// an io.ReaderFrom: bufio.Writer.ReadFrom hands on only to one (as io.Copy
// finds it), else it copies through its own buffer.
func readerFromDst(d dstKind) bool {
	switch d.name {
	case "unix", "wrapper": // *net.UnixConn and testutil.Writer have no ReadFrom
		return false
	}
	return true
}

// expectWrapped is the method Copy must report for a wrapped pair: the
// unwrapped pair's, where io.Copy reaches the same kernel path through the
// wrappers' ReadFrom and WriteTo. fallback is true when the pair stays
// buffered because of the wrapper, and Report.Fallback must name it.
func expectWrapped(w wrapping, s srcKind, d dstKind, size int) (m zerocopy.Method, fallback bool) {
	if !zerocopy.FastPaths {
		return zerocopy.MethodBuffered, false
	}
	if w.dstWrap == "http" {
		// net/http copies the first 512 bytes through its buffer (content
		// sniffing) before it hands the body to the connection's ReadFrom:
		// 0 and 1 bytes never reach it.
		if size <= 1 || s.name == "bytes" {
			return zerocopy.MethodBuffered, false
		}
		if s.file {
			return zerocopy.MethodSendfile, false
		}
		return zerocopy.MethodSplice, false
	}
	if w.bufSrc && size == 1 {
		return zerocopy.MethodBuffered, false // the byte was in the bufio.Reader already
	}
	m = expectMethod(s, d, size)
	if w.dstWrap == "bufio" && !readerFromDst(d) {
		// The bufio.Writer copies through its buffer, as it does for
		// io.Copy; a source with a descriptor is reported.
		return zerocopy.MethodBuffered, s.name != "bytes" && size > 0
	}
	if w.dstWrap == "bufio" && d.kind == "plain" {
		return zerocopy.MethodBuffered, s.name != "bytes" && size > 0
	}
	return m, false
}

// TestCopyMatrixWrapped re-runs the matrix with the sources read through a
// *bufio.Reader holding bytes already (a Peek before Copy: they count and
// arrive once, first) and the destinations behind a *bufio.Writer
// (flushed after) or as the http.ResponseWriter of a handler over real
// TCP. Bytes (SHA-256), count, the source's state and the method
// (Observe) are checked for each.
func TestCopyMatrixWrapped(t *testing.T) {
	testutil.NoLeaks(t)
	for _, size := range wrappedSizes {
		data := testutil.Data(uint64(size)+100, size)
		for _, w := range wrappings {
			dsts := dstKinds
			if w.dstWrap == "http" {
				dsts = []dstKind{httpDst}
			}
			for _, s := range srcKinds {
				for _, d := range dsts {
					t.Run(fmt.Sprintf("%s/%s-to-%s/%d", w.name, s.name, d.name, size), func(t *testing.T) {
						src, checkSrc := s.make(t, data)
						if w.bufSrc {
							br := bufio.NewReader(src)
							peeked, err := br.Peek(min(peekLen, size))
							require.NoError(t, err)
							require.Equal(t, data[:len(peeked)], peeked)
							if size > 0 {
								require.Positive(t, br.Buffered(), "bytes buffered before Copy")
							}
							src = br
						}
						var rep zerocopy.Report
						reports := 0
						c := zerocopy.Copier{Observe: func(r zerocopy.Report) { rep = r; reports++ }}
						var n int64
						var got []byte
						if w.dstWrap == "http" {
							n, got = copyToResponse(t, &c, src, size)
						} else {
							dst, arrived := d.make(t)
							var bw *bufio.Writer
							if w.dstWrap == "bufio" {
								bw = bufio.NewWriter(dst)
								dst = bw
							}
							var err error
							n, err = c.Copy(bg, dst, src)
							require.NoError(t, err)
							if bw != nil {
								require.NoError(t, bw.Flush())
							}
							if arrived != nil {
								got = arrived(t, n)
							} else {
								got = data // /dev/null: only the count is checked
							}
						}
						require.Equal(t, int64(size), n, "count")
						checkSrc(t, n)
						testutil.RequireBytes(t, data, got)
						require.Equal(t, 1, reports, "one Report per call")
						require.Equal(t, n, rep.Bytes, "Report.Bytes")
						want, fallback := expectWrapped(w, s, d, size)
						require.Equal(t, want.String(), rep.Method.String(), "Report.Method (fallback: %v)", rep.Fallback)
						if fallback {
							require.ErrorContains(t, rep.Fallback, "dst *bufio.Writer: no descriptor")
							require.ErrorIs(t, rep.Fallback, zerocopy.ErrUnsupported)
						}
						if d.kind == "append" && zerocopy.FastPaths && s.name != "bytes" && size > 1 {
							require.ErrorIs(t, rep.Fallback, zerocopy.ErrUnsupported, "an O_APPEND destination is reported")
						}
					})
				}
			}
		}
	}
}

// copyToResponse serves one GET whose handler copies src into its
// http.ResponseWriter with c.Copy (Content-Length set, so HTTP/1.1 sends
// the body as it is), and returns the count and what the client read.
func copyToResponse(t *testing.T, c *zerocopy.Copier, src io.Reader, size int) (int64, []byte) {
	t.Helper()
	type result struct {
		n   int64
		err error
	}
	done := make(chan result, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(size))
		n, err := c.Copy(bg, w, src)
		done <- result{n, err}
	}))
	defer srv.Close()
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	defer client.CloseIdleConnections()
	resp, err := client.Get(srv.URL)
	require.NoError(t, err)
	var body bytes.Buffer
	_, err = io.Copy(&body, resp.Body)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	r := <-done
	require.NoError(t, r.err)
	return r.n, body.Bytes()
}
