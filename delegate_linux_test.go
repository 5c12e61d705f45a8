//go:build linux

package zerocopy_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/zerocopy-go/zerocopy"
	"github.com/zerocopy-go/zerocopy/internal/testutil"
)

// TestCopyContextWakesThroughWrappers: a wrapper without a descriptor
// (bufio.Reader, bufio.Writer) has no deadlines, so CopyContext cannot
// wake the call through it; the conn the wrapper hands on must be woken
// instead, or the transfer waits on it forever.
func TestCopyContextWakesThroughWrappers(t *testing.T) {
	for _, tc := range []struct {
		name string
		run  func(t *testing.T, ctx func() context.Context) (n, arrived int64, err error)
	}{
		{
			// The peer sends 100 bytes and then nothing: the splice under
			// bufio.Reader's WriteTo waits for more.
			name: "src *bufio.Reader(idle TCP)",
			run: func(t *testing.T, ctx func() context.Context) (int64, int64, error) {
				c, s := testutil.TCPPair(t)
				_, err := c.Write(make([]byte, 100))
				require.NoError(t, err)
				br := bufio.NewReader(s)
				_, err = br.Peek(10)
				require.NoError(t, err)
				dst := testutil.File(t, t.TempDir(), "dst", nil)
				n, err := new(zerocopy.Copier).Copy(ctx(), dst, br)
				// The deadline set to wake the call is cleared again.
				require.NoError(t, s.SetReadDeadline(time.Time{}))
				_, werr := c.Write([]byte("x"))
				require.NoError(t, werr)
				b := make([]byte, 1)
				_, rerr := io.ReadFull(br, b)
				require.NoError(t, rerr, "the conn still reads after CopyContext")
				return n, int64(len(testutil.ReadFile(t, dst.Name()))), err
			},
		},
		{
			// The peer reads nothing: sendfile under bufio.Writer's
			// ReadFrom waits for room in the socket.
			name: "dst *bufio.Writer(TCP not read)",
			run: func(t *testing.T, ctx func() context.Context) (int64, int64, error) {
				a, _ := testutil.TCPPair(t)
				src := testutil.File(t, t.TempDir(), "src", testutil.Data(21, 64<<20))
				bw := bufio.NewWriter(a)
				n, err := new(zerocopy.Copier).Copy(ctx(), bw, src)
				return n, testutil.Offset(t, src), err
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, cancel := context.WithCancel(context.Background())
			defer cancel()
			ctx := func() context.Context { // the clock starts just before the call
				time.AfterFunc(200*time.Millisecond, cancel)
				return c
			}
			type res struct {
				n, arrived int64
				err        error
			}
			done := make(chan res, 1)
			go func() {
				n, arrived, err := tc.run(t, ctx)
				done <- res{n, arrived, err}
			}()
			select {
			case r := <-done:
				require.Positive(t, r.n, "bytes moved before the context ended")
				require.ErrorIs(t, r.err, context.Canceled)
				if zerocopy.FastPaths || tc.name == "src *bufio.Reader(idle TCP)" {
					require.Equal(t, r.arrived, r.n, "count: the bytes that moved")
				} else {
					// The buffered path (purego) has read a buffer's worth
					// more from the file than the socket took, as io.Copy.
					require.LessOrEqual(t, r.n, r.arrived, "count")
				}
			case <-time.After(20 * time.Second):
				t.Fatal("CopyContext did not return after its context ended: the wrapped conn was never woken")
			}
		})
	}
}

// errWrapper is a destination wrapper whose ReadFrom moves half through
// zerocopy.CopyN (the stand-in continues on the conn underneath) and
// then fails with an error of its own.
type errWrapper struct {
	c    *net.TCPConn
	half int64
}

var errWrapperFailed = errors.New("wrapper failed")

func (w *errWrapper) Write(p []byte) (int, error) { return w.c.Write(p) }
func (w *errWrapper) ReadFrom(r io.Reader) (int64, error) {
	n, err := zerocopy.CopyN(w.c, r, w.half)
	if err != nil {
		return n, err
	}
	return n, errWrapperFailed
}

// TestDelegatePartialFailure: a wrapper's ReadFrom that fails after
// partial progress gives the exact count, the wrapper's error, the source
// advanced by exactly that count (file offset, LimitedReader.N), and a
// Report that counts those bytes for the kernel path.
func TestDelegatePartialFailure(t *testing.T) {
	data := testutil.Data(22, 1<<20+7)
	half := int64(300<<10 + 1)
	for _, limited := range []bool{false, true} {
		t.Run("limited="+strconv.FormatBool(limited), func(t *testing.T) {
			a, b := testutil.TCPPair(t)
			got := testutil.Collect(t, b)
			f := testutil.File(t, t.TempDir(), "src", data)
			var src io.Reader = f
			lr := &io.LimitedReader{R: f, N: int64(len(data)) + 5}
			if limited {
				src = lr
			}
			var rep zerocopy.Report
			c := zerocopy.Copier{Observe: func(r zerocopy.Report) { rep = r }}
			n, err := c.Copy(bg, &errWrapper{c: a, half: half}, src)
			require.ErrorIs(t, err, errWrapperFailed)
			require.Equal(t, half, n, "count")
			require.Equal(t, half, testutil.Offset(t, f), "source offset")
			if limited {
				require.Equal(t, int64(len(data))+5-half, lr.N, "LimitedReader.N")
			}
			require.NoError(t, a.CloseWrite())
			testutil.RequireBytes(t, data[:half], got())
			require.Equal(t, half, rep.Bytes, "Report.Bytes")
			if zerocopy.FastPaths {
				require.Equal(t, zerocopy.MethodSendfile.String(), rep.Method.String())
			}
		})
	}
}

// TestBufferedBytesFirst: bytes a wrapper holds before the call go out
// before any byte the kernel writes to the descriptor beneath it.
func TestBufferedBytesFirst(t *testing.T) {
	data := testutil.Data(23, 1<<20+7)
	head := []byte("held-before-the-copy:")
	want := append(append([]byte{}, head...), data[4097:4097+300000]...)
	for _, tc := range []struct {
		name string
		run  func(t *testing.T, c *zerocopy.Copier) ([]byte, int64, error)
	}{
		{"SendFile into *bufio.Writer(TCP)", func(t *testing.T, c *zerocopy.Copier) ([]byte, int64, error) {
			a, b := testutil.TCPPair(t)
			got := testutil.Collect(t, b)
			bw := bufio.NewWriter(a)
			_, _ = bw.Write(head)
			f := testutil.File(t, t.TempDir(), "src", data)
			n, err := c.SendFile(bg, bw, f, 4097, 300000)
			require.NoError(t, bw.Flush())
			require.NoError(t, a.CloseWrite())
			return got(), n, err
		}},
		{"CopyN into *bufio.Writer(file)", func(t *testing.T, c *zerocopy.Copier) ([]byte, int64, error) {
			dst := testutil.File(t, t.TempDir(), "dst", nil)
			bw := bufio.NewWriter(dst)
			_, _ = bw.Write(head)
			f := testutil.File(t, t.TempDir(), "src", data)
			_, err := f.Seek(4097, io.SeekStart)
			require.NoError(t, err)
			n, err := c.CopyN(bg, bw, f, 300000)
			require.NoError(t, bw.Flush())
			return testutil.ReadFile(t, dst.Name()), n, err
		}},
		{"Copy into a ResponseWriter written to before", func(t *testing.T, c *zerocopy.Copier) ([]byte, int64, error) {
			f := testutil.File(t, t.TempDir(), "src", data)
			sr := io.NewSectionReader(f, 4097, 300000)
			type result struct {
				n   int64
				err error
			}
			done := make(chan result, 1)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Length", strconv.Itoa(len(want)))
				_, _ = w.Write(head)
				n, err := c.Copy(bg, w, sr)
				done <- result{n, err}
			}))
			defer srv.Close()
			resp, err := http.Get(srv.URL)
			require.NoError(t, err)
			got, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			require.NoError(t, resp.Body.Close())
			r := <-done
			return got[len(head):], r.n, r.err // the head is checked below
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var rep zerocopy.Report
			c := &zerocopy.Copier{Observe: func(r zerocopy.Report) { rep = r }}
			got, n, err := tc.run(t, c)
			require.NoError(t, err)
			require.Equal(t, int64(300000), n, "count")
			if len(got) == 300000 {
				got = append(append([]byte{}, head...), got...)
			}
			testutil.RequireBytes(t, want, got)
			require.Equal(t, n, rep.Bytes)
			if zerocopy.FastPaths {
				require.NotEqual(t, zerocopy.MethodBuffered.String(), rep.Method.String(), "the kernel path (fallback %v)", rep.Fallback)
			}
		})
	}
}

// valueConn is a conn wrapper with value receivers (no pointer to key
// on), no descriptor, and ReadFrom/WriteTo over the *net.TCPConn it
// holds: io.Copy reaches sendfile and splice through it.
type valueConn struct {
	c     *net.TCPConn
	calls *int
}

func (w valueConn) Read(p []byte) (int, error)           { return w.c.Read(p) }
func (w valueConn) Write(p []byte) (int, error)          { return w.c.Write(p) }
func (w valueConn) ReadFrom(r io.Reader) (int64, error)  { *w.calls++; return w.c.ReadFrom(r) }
func (w valueConn) WriteTo(dst io.Writer) (int64, error) { *w.calls++; return w.c.WriteTo(dst) }

// valueSelf's ReadFrom (a value receiver) wraps what it is given and
// calls Copy on a copy of itself: delegation must stop there too.
type valueSelf struct {
	buf   *bytes.Buffer
	calls *int
}

func (w valueSelf) Write(p []byte) (int, error) { return w.buf.Write(p) }
func (w valueSelf) ReadFrom(r io.Reader) (int64, error) {
	*w.calls++
	if *w.calls > 3 {
		panic("ReadFrom recursed")
	}
	return zerocopy.Copy(w, io.MultiReader(r))
}

// TestValueWrappers: wrappers that are values, not pointers, are asked
// as io.Copy asks them, and still never recursed into.
func TestValueWrappers(t *testing.T) {
	data := testutil.Data(24, 2<<20+3)
	for _, tc := range []struct {
		name string
		want zerocopy.Method
		run  func(t *testing.T, c *zerocopy.Copier, calls *int) ([]byte, int64, error)
	}{
		{"file -> value conn wrapper", zerocopy.MethodSendfile, func(t *testing.T, c *zerocopy.Copier, calls *int) ([]byte, int64, error) {
			a, b := testutil.TCPPair(t)
			got := testutil.Collect(t, b)
			n, err := c.Copy(bg, valueConn{c: a, calls: calls}, testutil.File(t, t.TempDir(), "src", data))
			require.NoError(t, a.CloseWrite())
			return got(), n, err
		}},
		{"value conn wrapper -> file", zerocopy.MethodSplice, func(t *testing.T, c *zerocopy.Copier, calls *int) ([]byte, int64, error) {
			a, b := testutil.TCPPair(t)
			wait := testutil.Feed(a, data)
			dst := testutil.File(t, t.TempDir(), "dst", nil)
			n, err := c.Copy(bg, dst, valueConn{c: b, calls: calls})
			require.NoError(t, wait())
			return testutil.ReadFile(t, dst.Name()), n, err
		}},
		{"file -> value ReadFrom calling Copy on itself", zerocopy.MethodBuffered, func(t *testing.T, c *zerocopy.Copier, calls *int) ([]byte, int64, error) {
			var buf bytes.Buffer
			n, err := c.Copy(bg, valueSelf{buf: &buf, calls: calls}, testutil.File(t, t.TempDir(), "src", data))
			return buf.Bytes(), n, err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var rep zerocopy.Report
			c := &zerocopy.Copier{Observe: func(r zerocopy.Report) { rep = r }}
			calls := 0
			got, n, err := tc.run(t, c, &calls)
			require.NoError(t, err)
			require.Equal(t, int64(len(data)), n)
			testutil.RequireBytes(t, data, got)
			require.Equal(t, n, rep.Bytes)
			require.Equal(t, 1, calls, "the wrapper is asked once")
			if zerocopy.FastPaths {
				require.Equal(t, tc.want.String(), rep.Method.String(), "fallback %v", rep.Fallback)
			}
		})
	}
}
