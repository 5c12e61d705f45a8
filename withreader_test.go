package zerocopy_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/zerocopy-go/zerocopy"
	"github.com/zerocopy-go/zerocopy/internal/testutil"
)

// socksHello is a SOCKS-like handshake: the client sends a header line and
// its payload in one write, then half-closes; the server reads the header
// through a bufio.Reader, which takes part of the payload with it.
func socksHello(t *testing.T, client *net.TCPConn, payload []byte) {
	t.Helper()
	go func() {
		_, _ = client.Write(append([]byte("CONNECT upstream:443\n"), payload...))
		_ = client.CloseWrite()
	}()
}

// readHeader reads the header line through a bufio.Reader over c and
// returns it, with the reader holding whatever else arrived.
func readHeader(t *testing.T, c net.Conn) *bufio.Reader {
	t.Helper()
	br := bufio.NewReaderSize(c, 64<<10)
	line, err := br.ReadString('\n')
	require.NoError(t, err)
	require.Equal(t, "CONNECT upstream:443\n", line)
	return br
}

// TestWithReaderRead: the prefix, then the conn; a *bufio.Reader gives its
// buffered bytes only; other readers are read to EOF; writes, CloseWrite
// and addresses are the conn's.
func TestWithReaderRead(t *testing.T) {
	testutil.NoLeaks(t)
	for _, kind := range []string{"bufio", "bytes"} {
		t.Run(kind, func(t *testing.T) {
			client, server := testutil.TCPPair(t)
			payload := testutil.Data(30, 200_000)
			socksHello(t, client, payload)
			br := readHeader(t, server)
			var r io.Reader = br
			if kind == "bytes" {
				held, err := br.Peek(br.Buffered())
				require.NoError(t, err)
				r = bytes.NewReader(bytes.Clone(held))
				_, _ = br.Discard(len(held))
			}
			c := zerocopy.WithReader(server, r)
			require.Equal(t, server.LocalAddr(), c.LocalAddr())
			require.Equal(t, server.RemoteAddr(), c.RemoteAddr())
			_, isConn := c.(syscall.Conn)
			require.False(t, isConn, "the conn must not expose the descriptor: a reader must see the prefix")
			got := make([]byte, len(payload))
			_, err := io.ReadFull(c, got)
			require.NoError(t, err)
			testutil.RequireBytes(t, payload, got)
			// Writes and the half-close go to the conn.
			_, err = c.Write([]byte("ok"))
			require.NoError(t, err)
			require.NoError(t, c.(interface{ CloseWrite() error }).CloseWrite())
			back, err := io.ReadAll(client)
			require.NoError(t, err)
			require.Equal(t, "ok", string(back))
			require.NoError(t, c.Close())
		})
	}
	t.Run("nil reader", func(t *testing.T) {
		c, _ := testutil.TCPPair(t)
		require.Same(t, net.Conn(c), zerocopy.WithReader(c, nil))
	})
	t.Run("reader fails", func(t *testing.T) {
		c, _ := testutil.TCPPair(t)
		boom := errors.New("boom")
		_, err := zerocopy.WithReader(c, io.MultiReader(bytes.NewReader([]byte("ab")), &errReader{boom})).Read(make([]byte, 8))
		require.NoError(t, err) // "ab" first
		_, err = zerocopy.WithReader(c, &errReader{boom}).Read(make([]byte, 8))
		require.ErrorIs(t, err, boom)
		require.ErrorContains(t, err, "WithReader")
	})
}

type errReader struct{ err error }

func (e *errReader) Read([]byte) (int, error) { return 0, e.err }

// TestRelayWithReader: a SOCKS-like server reads its header with a
// bufio.Reader and relays WithReader(conn, br) to the upstream: the
// upstream gets every byte in order (the buffered ones exactly once), the
// counts include them, and so does a recording.
func TestRelayWithReader(t *testing.T) {
	for _, kind := range []string{"tcp", "nested", "tee", "tls-upstream"} {
		t.Run(kind, func(t *testing.T) {
			testutil.NoLeaks(t)
			client, conn := testutil.TCPPair(t)
			payload := testutil.Data(31, 3<<20+5)
			socksHello(t, client, payload)
			br := readHeader(t, conn)
			held := br.Buffered()
			require.Positive(t, held, "the bufio.Reader took part of the payload")
			a := zerocopy.WithReader(conn, br)
			if kind == "nested" {
				// A second parser took a few bytes from the first's conn.
				br2 := bufio.NewReaderSize(a, 16)
				_, err := br2.Peek(3)
				require.NoError(t, err)
				a = zerocopy.WithReader(a, br2)
			}
			var b, server net.Conn
			if kind == "tls-upstream" {
				b, server = clientSide(t, "tls")
			} else {
				b, server = testutil.TCPPair(t)
			}
			rl := zerocopy.Relayer{}
			var rec lockedBuffer
			if kind == "tee" {
				rl.TeeAToB = &rec
			}
			r := startRelay(context.Background(), rl, client, a, b, server)
			got := testutil.Collect(t, server)
			testutil.RequireBytes(t, payload, got(), "upstream")
			require.NoError(t, closeWrite(server))
			_, err := io.ReadAll(client)
			require.NoError(t, err)
			r.wait(t)
			require.NoError(t, r.err)
			require.Equal(t, int64(len(payload)), r.aToB, "the count includes the buffered bytes")
			if kind == "tee" {
				testutil.RequireBytes(t, payload, rec.b, "recording")
			}
		})
	}
}

// TestCopyWithReader: Copy and io.Copy from a WithReader conn send the
// buffered bytes once, then the conn's; Copy into one writes to the conn.
func TestCopyWithReader(t *testing.T) {
	for _, how := range []string{"Copy", "io.Copy", "into"} {
		t.Run(how, func(t *testing.T) {
			testutil.NoLeaks(t)
			client, conn := testutil.TCPPair(t)
			payload := testutil.Data(32, 2<<20+1)
			if how == "into" {
				// Copy into a WithReader conn: the bytes go to the conn.
				f := testutil.File(t, t.TempDir(), "src", payload)
				got := testutil.Collect(t, client)
				c := zerocopy.WithReader(conn, bytes.NewReader([]byte("unread")))
				n, err := zerocopy.Copy(c, f)
				require.NoError(t, err)
				require.Equal(t, int64(len(payload)), n)
				require.NoError(t, conn.CloseWrite())
				testutil.RequireBytes(t, payload, got())
				return
			}
			socksHello(t, client, payload)
			br := readHeader(t, conn)
			dst, sink := testutil.TCPPair(t)
			got := testutil.Collect(t, sink)
			var n int64
			var err error
			if how == "Copy" {
				n, err = zerocopy.Copy(dst, zerocopy.WithReader(conn, br))
			} else {
				n, err = io.Copy(dst, zerocopy.WithReader(conn, br))
			}
			require.NoError(t, err)
			require.Equal(t, int64(len(payload)), n)
			require.NoError(t, dst.CloseWrite())
			testutil.RequireBytes(t, payload, got())
		})
	}
}
