//go:build linux && !purego

package zerocopy_test

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/zerocopy-go/zerocopy"
	"github.com/zerocopy-go/zerocopy/internal/testutil"
)

// wrapConn is a conn wrapper in the style of pires/go-proxyproto: it hides
// the descriptor (no SyscallConn) but implements ReadFrom and WriteTo by
// handing on to the *net.TCPConn it holds, as io.Copy expects.
type wrapConn struct{ c *net.TCPConn }

func (w *wrapConn) Read(p []byte) (int, error)           { return w.c.Read(p) }
func (w *wrapConn) Write(p []byte) (int, error)          { return w.c.Write(p) }
func (w *wrapConn) ReadFrom(r io.Reader) (int64, error)  { return w.c.ReadFrom(r) }
func (w *wrapConn) WriteTo(dst io.Writer) (int64, error) { return w.c.WriteTo(dst) }
func (w *wrapConn) CloseWrite() error                    { return w.c.CloseWrite() }

// wrapperCase is one source or destination wrapper from issue 11's table.
type wrapperCase struct {
	name   string
	method zerocopy.Method // what io.Copy's strace shows, checked with Observe
	// run copies data through the wrapper with copy and returns what
	// arrived at the far end; skip is the count of bytes of data the
	// wrapper consumed before the copy (a parsed header).
	run func(t *testing.T, copy copyFunc, data []byte) (got []byte, want []byte, n int64, err error)
	// fallback, if set, must appear in Report.Fallback.
	fallback string
	// limited is the method under CopyN when it differs: a source's
	// WriteTo reads to EOF, so with a limit only a *bufio.Reader is asked
	// (io.CopyN does not reach it either: io.LimitReader hides WriteTo).
	limited *zerocopy.Method
}

type copyFunc func(dst io.Writer, src io.Reader) (int64, error)

const wrapperSize = 4<<20 + 3

var buffered = zerocopy.MethodBuffered

func wrapperCases() []wrapperCase {
	return []wrapperCase{
		{
			// go-socks5, HTTP CONNECT proxies: parse a header with a
			// bufio.Reader, then copy the rest; the reader holds bytes of
			// the payload already.
			name: "src *bufio.Reader(TCP) after a header -> file", method: zerocopy.MethodSplice,
			run: func(t *testing.T, copy copyFunc, data []byte) ([]byte, []byte, int64, error) {
				c, s := testutil.TCPPair(t)
				wait := testutil.Feed(c, append([]byte("CONNECT x\n"), data...))
				br := bufio.NewReader(s)
				line, err := br.ReadString('\n')
				require.NoError(t, err)
				require.Equal(t, "CONNECT x\n", line)
				require.Positive(t, br.Buffered(), "payload bytes already buffered")
				dst := testutil.File(t, t.TempDir(), "dst", nil)
				n, err := copy(dst, br)
				require.NoError(t, wait())
				return testutil.ReadFile(t, dst.Name()), data, n, err
			},
		},
		{
			name: "src *bufio.Reader(TCP) -> TCP", method: zerocopy.MethodSplice,
			run: func(t *testing.T, copy copyFunc, data []byte) ([]byte, []byte, int64, error) {
				c, s := testutil.TCPPair(t)
				wait := testutil.Feed(c, data)
				br := bufio.NewReader(s)
				_, err := br.Peek(100)
				require.NoError(t, err)
				a, b := testutil.TCPPair(t)
				got := testutil.Collect(t, b)
				n, err := copy(a, br)
				require.NoError(t, a.CloseWrite())
				require.NoError(t, wait())
				return got(), data, n, err
			},
		},
		{
			name: "file -> dst *bufio.Writer(TCP) holding bytes", method: zerocopy.MethodSendfile,
			run: func(t *testing.T, copy copyFunc, data []byte) ([]byte, []byte, int64, error) {
				a, b := testutil.TCPPair(t)
				got := testutil.Collect(t, b)
				bw := bufio.NewWriter(a)
				_, _ = bw.WriteString("head:")
				src := testutil.File(t, t.TempDir(), "src", data)
				n, err := copy(bw, src)
				require.NoError(t, bw.Flush())
				require.NoError(t, a.CloseWrite())
				require.Equal(t, int64(len(data)), testutil.Offset(t, src), "source offset after the copy")
				return got(), append([]byte("head:"), data...), n, err
			},
		},
		{
			name: "file -> dst *bufio.Writer(file)", method: zerocopy.MethodCopyFileRange,
			run: func(t *testing.T, copy copyFunc, data []byte) ([]byte, []byte, int64, error) {
				dst := testutil.File(t, t.TempDir(), "dst", nil)
				bw := bufio.NewWriter(dst)
				src := testutil.File(t, t.TempDir(), "src", data)
				n, err := copy(bw, src)
				require.NoError(t, bw.Flush())
				return testutil.ReadFile(t, dst.Name()), data, n, err
			},
		},
		{
			name: "file -> dst *bufio.Writer(no descriptor)", method: zerocopy.MethodBuffered,
			fallback: "dst *bufio.Writer: no descriptor",
			run: func(t *testing.T, copy copyFunc, data []byte) ([]byte, []byte, int64, error) {
				var buf bytes.Buffer
				bw := bufio.NewWriter(testutil.OnlyWriter{W: &buf})
				src := testutil.File(t, t.TempDir(), "src", data)
				n, err := copy(bw, src)
				require.NoError(t, bw.Flush())
				return buf.Bytes(), data, n, err
			},
		},
		{
			name: "file -> conn wrapper with ReadFrom", method: zerocopy.MethodSendfile,
			run: func(t *testing.T, copy copyFunc, data []byte) ([]byte, []byte, int64, error) {
				a, b := testutil.TCPPair(t)
				got := testutil.Collect(t, b)
				src := testutil.File(t, t.TempDir(), "src", data)
				n, err := copy(&wrapConn{a}, src)
				require.NoError(t, a.CloseWrite())
				return got(), data, n, err
			},
		},
		{
			name: "conn wrapper with WriteTo -> file", method: zerocopy.MethodSplice, limited: &buffered,
			run: func(t *testing.T, copy copyFunc, data []byte) ([]byte, []byte, int64, error) {
				c, s := testutil.TCPPair(t)
				wait := testutil.Feed(c, data)
				dst := testutil.File(t, t.TempDir(), "dst", nil)
				n, err := copy(dst, &wrapConn{s})
				require.NoError(t, wait())
				return testutil.ReadFile(t, dst.Name()), data, n, err
			},
		},
		{
			name: "file -> http.ResponseWriter", method: zerocopy.MethodSendfile,
			run: func(t *testing.T, copy copyFunc, data []byte) ([]byte, []byte, int64, error) {
				src := testutil.File(t, t.TempDir(), "src", data)
				type res struct {
					n   int64
					err error
				}
				done := make(chan res, 1)
				srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Content-Length", strconv.Itoa(len(data)))
					n, err := copy(w, src)
					done <- res{n, err}
				}))
				t.Cleanup(srv.Close)
				got := httpGet(t, srv.URL)
				r := <-done
				return got, data, r.n, r.err
			},
		},
	}
}

func httpGet(t *testing.T, url string) []byte {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return b
}

// TestWrappers: Copy, CopyBuffer and CopyN reach the kernel path io.Copy
// reaches through wrappers' ReadFrom and WriteTo, with the bytes, the
// count and the method checked (the method through Observe, no strace).
func TestWrappers(t *testing.T) {
	data := testutil.Data(11, wrapperSize)
	for _, tc := range wrapperCases() {
		for _, how := range []string{"Copy", "BufferSize", "CopyN"} {
			t.Run(tc.name+"/"+how, func(t *testing.T) {
				var rep zerocopy.Report
				reports := 0
				c := &zerocopy.Copier{Observe: func(r zerocopy.Report) { rep = r; reports++ }}
				copy := func(dst io.Writer, src io.Reader) (int64, error) {
					switch how {
					case "BufferSize":
						small := *c
						small.BufferSize = 3000
						return small.Copy(bg, dst, src)
					case "CopyN":
						return c.CopyN(bg, dst, src, int64(len(data)))
					}
					return c.Copy(bg, dst, src)
				}
				got, want, n, err := tc.run(t, copy, data)
				require.NoError(t, err)
				require.Equal(t, int64(len(data)), n, "count")
				testutil.RequireBytes(t, want, got)
				require.Equal(t, 1, reports, "one Report per call")
				require.Equal(t, int64(len(data)), rep.Bytes, "Report.Bytes")
				method := tc.method
				if how == "CopyN" && tc.limited != nil {
					method = *tc.limited
				}
				require.Equal(t, method.String(), rep.Method.String(), "Report.Method (fallback %v)", rep.Fallback)
				if tc.fallback != "" {
					require.ErrorContains(t, rep.Fallback, tc.fallback)
					require.ErrorIs(t, rep.Fallback, zerocopy.ErrUnsupported)
				}
			})
		}
	}
}

// TestBufioReaderLimit: CopyN from a *bufio.Reader holding payload stops at
// exactly n; the bytes after it are still in the reader, in order.
func TestBufioReaderLimit(t *testing.T) {
	data := testutil.Data(12, 1<<20+9)
	for _, n := range []int64{1, 100, 4095, 4096, 4097, 64 << 10, 1 << 20} {
		t.Run(strconv.FormatInt(n, 10), func(t *testing.T) {
			c, s := testutil.TCPPair(t)
			wait := testutil.Feed(c, data)
			br := bufio.NewReaderSize(s, 4096)
			_, err := br.Peek(10)
			require.NoError(t, err)
			dst := testutil.File(t, t.TempDir(), "dst", nil)
			k, err := zerocopy.CopyN(dst, br, n)
			require.NoError(t, err)
			require.Equal(t, n, k)
			rest, err := io.ReadAll(br)
			require.NoError(t, err)
			require.NoError(t, wait())
			testutil.RequireBytes(t, data[:n], testutil.ReadFile(t, dst.Name()))
			testutil.RequireBytes(t, data[n:], rest)
		})
	}
}

// TestSendFileResponseWriter: SendFile into a ResponseWriter (HTTP/1.1 over
// TCP) uses sendfile at the explicit offset and leaves f's offset alone.
func TestSendFileResponseWriter(t *testing.T) {
	data := testutil.Data(13, 2<<20+5)
	f := testutil.File(t, t.TempDir(), "src", data)
	for _, tc := range []struct{ off, n int64 }{{0, int64(len(data))}, {1, 1000}, {4097, 1 << 20}, {int64(len(data)) - 3, 3}} {
		t.Run(strconv.FormatInt(tc.off, 10)+"+"+strconv.FormatInt(tc.n, 10), func(t *testing.T) {
			type res struct {
				n   int64
				err error
				rep zerocopy.Report
			}
			done := make(chan res, 1)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				var rep zerocopy.Report
				c := zerocopy.Copier{Observe: func(r zerocopy.Report) { rep = r }}
				w.Header().Set("Content-Length", strconv.FormatInt(tc.n, 10))
				n, err := c.SendFile(bg, w, f, tc.off, tc.n)
				done <- res{n, err, rep}
			}))
			defer srv.Close()
			got := httpGet(t, srv.URL)
			r := <-done
			require.NoError(t, r.err)
			require.Equal(t, tc.n, r.n)
			testutil.RequireBytes(t, data[tc.off:tc.off+tc.n], got)
			want := zerocopy.MethodSendfile
			if tc.n <= 1024 {
				want = zerocopy.MethodBuffered // net/http sniffs the first 512 bytes through Read
			}
			require.Equal(t, want.String(), r.rep.Method.String(), "fallback %v", r.rep.Fallback)
			require.Zero(t, testutil.Offset(t, f))
		})
	}
}

// readFromSelf's ReadFrom calls Copy on its own receiver: the guarantee
// that Copy never recurses into it.
type readFromSelf struct {
	buf   bytes.Buffer
	calls int
}

func (w *readFromSelf) Write(p []byte) (int, error) { return w.buf.Write(p) }
func (w *readFromSelf) ReadFrom(r io.Reader) (int64, error) {
	w.calls++
	if w.calls > 3 {
		panic("ReadFrom recursed")
	}
	return zerocopy.Copy(w, r)
}

// writeToSelf's WriteTo calls Copy(w, itself): the mirror.
type writeToSelf struct {
	r     io.Reader
	calls int
}

func (s *writeToSelf) Read(p []byte) (int, error) { return s.r.Read(p) }
func (s *writeToSelf) WriteTo(w io.Writer) (int64, error) {
	s.calls++
	if s.calls > 3 {
		panic("WriteTo recursed")
	}
	return zerocopy.Copy(w, s)
}

// wrapsStandIn's ReadFrom hides the value it is given inside a reader of
// its own before calling Copy on its receiver: still no recursion.
type wrapsStandIn struct {
	buf   bytes.Buffer
	calls int
}

func (w *wrapsStandIn) Write(p []byte) (int, error) { return w.buf.Write(p) }
func (w *wrapsStandIn) ReadFrom(r io.Reader) (int64, error) {
	w.calls++
	if w.calls > 3 {
		panic("ReadFrom recursed")
	}
	return zerocopy.Copy(w, io.MultiReader(r))
}

func TestRecursion(t *testing.T) {
	data := testutil.Data(14, 300<<10+1)
	src := func(t *testing.T) *os.File { return testutil.File(t, t.TempDir(), "src", data) }
	t.Run("ReadFrom calls Copy on its receiver", func(t *testing.T) {
		w := &readFromSelf{}
		n, err := zerocopy.Copy(w, src(t))
		require.NoError(t, err)
		require.Equal(t, int64(len(data)), n)
		testutil.RequireBytes(t, data, w.buf.Bytes())
		// Called directly, as io.Copy would.
		w2 := &readFromSelf{}
		n, err = w2.ReadFrom(src(t))
		require.NoError(t, err)
		require.Equal(t, int64(len(data)), n)
		testutil.RequireBytes(t, data, w2.buf.Bytes())
	})
	t.Run("ReadFrom wraps the stand-in and calls Copy", func(t *testing.T) {
		w := &wrapsStandIn{}
		n, err := zerocopy.Copy(w, src(t))
		require.NoError(t, err)
		require.Equal(t, int64(len(data)), n)
		testutil.RequireBytes(t, data, w.buf.Bytes())
	})
	t.Run("WriteTo calls Copy(w, itself)", func(t *testing.T) {
		dst := testutil.File(t, t.TempDir(), "dst", nil)
		s := &writeToSelf{r: bytes.NewReader(data)}
		n, err := zerocopy.Copy(dst, s)
		require.NoError(t, err)
		require.Equal(t, int64(len(data)), n)
		testutil.RequireBytes(t, data, testutil.ReadFile(t, dst.Name()))
		// Called directly, as io.Copy would.
		dst2 := testutil.File(t, t.TempDir(), "dst2", nil)
		s2 := &writeToSelf{r: bytes.NewReader(data)}
		n, err = s2.WriteTo(dst2)
		require.NoError(t, err)
		require.Equal(t, int64(len(data)), n)
		testutil.RequireBytes(t, data, testutil.ReadFile(t, filepath.Clean(dst2.Name())))
	})
	t.Run("WriteTo over a TCP stream to a ReadFrom-on-self", func(t *testing.T) {
		c, s := testutil.TCPPair(t)
		wait := testutil.Feed(c, data)
		w := &readFromSelf{}
		n, err := zerocopy.Copy(w, &writeToSelf{r: s})
		require.NoError(t, err)
		require.NoError(t, wait())
		require.Equal(t, int64(len(data)), n)
		testutil.RequireBytes(t, data, w.buf.Bytes())
	})
}

// TestCopyBuffer: io.CopyBuffer's contract.
func TestCopyBuffer(t *testing.T) {
	data := testutil.Data(15, 100<<10+3)
	buf := make([]byte, 777)
	var sizes []int
	w := writeFunc(func(p []byte) (int, error) {
		require.Same(t, &buf[0], &p[0], "the caller's buffer is the one written from")
		sizes = append(sizes, len(p))
		return len(p), nil
	})
	n, err := zerocopy.CopyBuffer(w, testutil.OnlyReader{R: bytes.NewReader(data)}, buf)
	require.NoError(t, err)
	require.Equal(t, int64(len(data)), n)
	for _, s := range sizes {
		require.LessOrEqual(t, s, len(buf))
	}
	require.PanicsWithValue(t, "empty buffer in CopyBuffer", func() {
		_, _ = zerocopy.CopyBuffer(w, bytes.NewReader(data), []byte{})
	})
	var out bytes.Buffer
	n, err = zerocopy.CopyBuffer(&out, bytes.NewReader(data), nil)
	require.NoError(t, err)
	require.Equal(t, int64(len(data)), n)
	testutil.RequireBytes(t, data, out.Bytes())
}

type writeFunc func(p []byte) (int, error)

func (f writeFunc) Write(p []byte) (int, error) { return f(p) }
