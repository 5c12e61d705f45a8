package testutil

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"testing"

	"github.com/stretchr/testify/require"
)

// TCPPair returns the two ends of a loopback TCP connection, closed when the
// test ends.
func TCPPair(t testing.TB) (client, server *net.TCPConn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	type res struct {
		c   net.Conn
		err error
	}
	ch := make(chan res, 1)
	go func() {
		c, err := ln.Accept()
		ch <- res{c, err}
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	require.NoError(t, err)
	r := <-ch
	require.NoError(t, r.err)
	t.Cleanup(func() { _ = c.Close(); _ = r.c.Close() })
	return c.(*net.TCPConn), r.c.(*net.TCPConn)
}

// Pipe returns an os.Pipe, both ends closed when the test ends.
func Pipe(t testing.TB) (r, w *os.File) {
	t.Helper()
	r, w, err := os.Pipe()
	require.NoError(t, err)
	t.Cleanup(func() { _ = r.Close(); _ = w.Close() })
	return r, w
}

// Collect reads r to EOF in a goroutine. The returned function waits for it
// and returns what arrived; a read error other than EOF fails the test.
func Collect(t testing.TB, r io.Reader) func() []byte {
	t.Helper()
	type res struct {
		b   []byte
		err error
	}
	ch := make(chan res, 1)
	go func() {
		var buf bytes.Buffer
		_, err := buf.ReadFrom(r)
		ch <- res{buf.Bytes(), err}
	}()
	return func() []byte {
		t.Helper()
		r := <-ch
		require.NoError(t, r.err)
		return r.b
	}
}

// Feed writes data to w in a goroutine, then closes the write side: w's
// CloseWrite if it has one, else Close. The returned function waits and
// returns the write error.
func Feed(w io.Writer, data []byte) func() error {
	ch := make(chan error, 1)
	go func() {
		_, err := w.Write(data)
		if cw, ok := w.(interface{ CloseWrite() error }); ok {
			_ = cw.CloseWrite()
		} else if c, ok := w.(io.Closer); ok {
			_ = c.Close()
		}
		ch <- err
	}()
	return func() error { return <-ch }
}

// CloseWrite ends the write side of w: CloseWrite where w has it, else Close.
func CloseWrite(t testing.TB, w any) {
	t.Helper()
	if cw, ok := w.(interface{ CloseWrite() error }); ok {
		require.NoError(t, cw.CloseWrite())
		return
	}
	require.NoError(t, w.(io.Closer).Close())
}

// Sink returns a TCP connection whose far end discards everything by
// io.Copy into /dev/null (a splice in the stdlib): the cheapest receiver
// for benchmarks. It is closed, and its reader waited for, when the test
// ends.
func Sink(t testing.TB) *net.TCPConn {
	t.Helper()
	c, s := TCPPair(t)
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	require.NoError(t, err)
	done := make(chan struct{})
	go func() {
		_, _ = io.Copy(null, s)
		close(done)
	}()
	t.Cleanup(func() { _ = c.Close(); <-done; _ = null.Close() })
	return c
}

// RequireReset fails the test unless err, the end of a read, is a
// connection reset: ECONNRESET (WSAECONNRESET on Windows, see IsReset).
// Under Wine 8 a reset that arrived before the read reads as a clean EOF
// (a nil error from io.Copy, io.EOF from Read): there the test is skipped,
// naming that limitation.
func RequireReset(t testing.TB, err error, who string) {
	t.Helper()
	if IsReset(err) {
		return
	}
	if Wine() && (err == nil || errors.Is(err, io.EOF)) {
		t.Skipf("%s: Wine 8 reads a reset that arrived before the read as EOF (reset after arrival cannot be tested under Wine)", who)
	}
	t.Fatalf("%s: want a reset, got %v", who, err)
}
