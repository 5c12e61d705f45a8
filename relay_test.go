package zerocopy_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/zerocopy-go/zerocopy"
	"github.com/zerocopy-go/zerocopy/internal/testutil"
)

// relayRun is a relay in progress between a client's conn and a server's.
type relayRun struct {
	client, server net.Conn // the peers' ends
	done           chan struct{}
	aToB, bToA     int64
	err            error
	mu             sync.Mutex
	reports        []zerocopy.RelayReport
}

func (r *relayRun) wait(t *testing.T) {
	t.Helper()
	select {
	case <-r.done:
	case <-time.After(30 * time.Second):
		t.Fatal("Relay did not return")
	}
}

// startRelay relays a (the client's peer) and b (the server's peer).
func startRelay(ctx context.Context, rl zerocopy.Relayer, client, a, b, server net.Conn) *relayRun {
	r := &relayRun{client: client, server: server, done: make(chan struct{})}
	rl.Observe = func(rep zerocopy.RelayReport) {
		r.mu.Lock()
		r.reports = append(r.reports, rep)
		r.mu.Unlock()
	}
	go func() {
		defer close(r.done)
		r.aToB, r.bToA, r.err = rl.Relay(ctx, a, b)
	}()
	return r
}

// withFD is a user's conn wrapper that exposes its descriptor but not
// CloseWrite (the embedded interface hides it).
type withFD struct {
	net.Conn
	tc *net.TCPConn
}

func (w withFD) SyscallConn() (syscall.RawConn, error) { return w.tc.SyscallConn() }

func closeWrite(c net.Conn) error {
	if cw, ok := c.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

func tlsConfigs(t testing.TB) (server, client *tls.Config) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), DNSNames: []string{"relay.test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}},
		&tls.Config{RootCAs: pool, ServerName: "relay.test"}
}

// clientSide returns the client's conn and the relay's conn a, of a kind.
func clientSide(t *testing.T, kind string) (client, a net.Conn) {
	switch kind {
	case "tcp":
		return testutil.TCPPair(t)
	case "unix":
		c, s := testutil.UnixPair(t, "unix")
		return c, s
	case "wrapper":
		c, s := testutil.TCPPair(t)
		return c, withFD{Conn: s, tc: s}
	case "tls":
		c, s := testutil.TCPPair(t)
		sc, cc := tlsConfigs(t)
		return tls.Client(c, cc), tls.Server(s, sc)
	case "nofd":
		c, s := net.Pipe()
		t.Cleanup(func() { _ = c.Close(); _ = s.Close() })
		return c, s
	}
	panic(kind)
}

func TestRelayBothWays(t *testing.T) {
	const size = 8 << 20
	cases := []struct {
		kind   string
		method zerocopy.Method
	}{
		{"tcp", zerocopy.MethodSplice},
		{"unix", zerocopy.MethodSplice},
		{"wrapper", zerocopy.MethodSplice},
		{"tls", zerocopy.MethodBuffered},
		{"nofd", zerocopy.MethodBuffered},
	}
	for _, tc := range cases {
		t.Run(tc.kind, func(t *testing.T) {
			testutil.NoLeaks(t)
			up := testutil.Data(1, size)
			down := testutil.Data(2, size+3)
			client, a := clientSide(t, tc.kind)
			b, server := testutil.TCPPair(t)
			r := startRelay(context.Background(), zerocopy.Relayer{}, client, a, b, server)

			// The server reads the request to EOF while it sends its answer.
			serverGot := testutil.Collect(t, server)
			serverSent := testutil.Feed(server, down)
			var clientGot []byte
			var wg sync.WaitGroup
			wg.Add(1)
			go func() {
				defer wg.Done()
				clientGot = make([]byte, len(down))
				_, err := io.ReadFull(client, clientGot)
				require.NoError(t, err)
			}()
			_, err := client.Write(up)
			require.NoError(t, err)
			wg.Wait()
			require.NoError(t, serverSent())
			require.NoError(t, server.CloseWrite())
			if tc.kind == "nofd" {
				require.NoError(t, client.Close()) // no half-close on a net.Pipe
			} else {
				require.NoError(t, closeWrite(client))
			}
			testutil.RequireBytes(t, up, serverGot(), "client -> server")
			testutil.RequireBytes(t, down, clientGot, "server -> client")
			r.wait(t)
			require.NoError(t, r.err)
			require.Equal(t, int64(len(up)), r.aToB)
			require.Equal(t, int64(len(down)), r.bToA)
			require.Len(t, r.reports, 2)
			for _, rep := range r.reports {
				want := tc.method
				if !zerocopy.FastPaths {
					want = zerocopy.MethodBuffered
				}
				require.Equal(t, want, rep.Method, "fallback: %v", rep.Fallback)
			}
		})
	}
}

// TestRelayHalfClose: the client sends and half-closes; the server reads to
// EOF, then answers and closes. Both get everything; Relay returns nil.
func TestRelayHalfClose(t *testing.T) {
	testutil.NoLeaks(t)
	client, a := testutil.TCPPair(t)
	b, server := testutil.TCPPair(t)
	r := startRelay(context.Background(), zerocopy.Relayer{}, client, a, b, server)
	req, resp := testutil.Data(3, 100_000), testutil.Data(4, 300_001)
	_, err := client.Write(req)
	require.NoError(t, err)
	require.NoError(t, client.CloseWrite())
	got, err := io.ReadAll(server)
	require.NoError(t, err)
	testutil.RequireBytes(t, req, got)
	_, err = server.Write(resp)
	require.NoError(t, err)
	require.NoError(t, server.Close())
	back, err := io.ReadAll(client)
	require.NoError(t, err)
	testutil.RequireBytes(t, resp, back)
	r.wait(t)
	require.NoError(t, r.err)
	require.Equal(t, int64(len(req)), r.aToB)
	require.Equal(t, int64(len(resp)), r.bToA)
}

func TestRelayCancelSilent(t *testing.T) {
	testutil.NoLeaks(t)
	for _, cause := range []string{"cancel", "deadline"} {
		t.Run(cause, func(t *testing.T) {
			client, a := testutil.TCPPair(t)
			b, server := testutil.TCPPair(t)
			var ctx context.Context
			var cancel context.CancelFunc
			if cause == "cancel" {
				ctx, cancel = context.WithCancel(context.Background())
				time.AfterFunc(50*time.Millisecond, cancel)
			} else {
				ctx, cancel = context.WithTimeout(context.Background(), 50*time.Millisecond)
			}
			defer cancel()
			r := startRelay(ctx, zerocopy.Relayer{}, client, a, b, server)
			<-ctx.Done()
			at := time.Now()
			r.wait(t)
			// Prompt: the conns are closed at once, not at the next byte
			// (none comes). The bound is loose: past a few milliseconds the
			// time is the scheduler's, and on a loaded machine it is late.
			require.Less(t, time.Since(at), 2*time.Second, "returns promptly after cancellation")
			require.ErrorIs(t, r.err, ctx.Err())
			require.NotContains(t, r.err.Error(), "use of closed")
			// Both streams were cut before their sources ended: each peer
			// sees a reset, never an EOF that would say its stream ended.
			requireReset(t, client, "client")
			requireReset(t, server, "server")
		})
	}
}

// TestRelayCancelMidTransfer: a one-way stream cancelled part-way. The
// server sees a reset after a prefix of the stream; the count is what b
// accepted, at least what the server read (the reset drops what b's send
// queue still held).
func TestRelayCancelMidTransfer(t *testing.T) {
	testutil.NoLeaks(t)
	client, a := testutil.TCPPair(t)
	b, server := testutil.TCPPair(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r := startRelay(ctx, zerocopy.Relayer{}, client, a, b, server)
	data := testutil.Data(5, 256<<20)
	go func() { _, _ = client.Write(data) }() // fails with a reset once Relay closes a
	got := collectCut(server)
	time.Sleep(100 * time.Millisecond)
	cancel()
	r.wait(t)
	require.ErrorIs(t, r.err, context.Canceled)
	arrived, err := got()
	testutil.RequireReset(t, err, "the server (its stream cut)")
	require.Positive(t, len(arrived))
	require.LessOrEqual(t, int64(len(arrived)), r.aToB, "the count is what b accepted")
	t.Logf("b accepted %d bytes, the server read %d before the reset", r.aToB, len(arrived))
	testutil.RequireBytes(t, data[:len(arrived)], arrived)
}

func TestRelayIdleTimeout(t *testing.T) {
	testutil.NoLeaks(t)
	t.Run("fires", func(t *testing.T) {
		client, a := testutil.TCPPair(t)
		b, server := testutil.TCPPair(t)
		start := time.Now()
		r := startRelay(context.Background(), zerocopy.Relayer{IdleTimeout: 200 * time.Millisecond}, client, a, b, server)
		_, err := client.Write([]byte("hello"))
		require.NoError(t, err)
		buf := make([]byte, 5)
		_, err = io.ReadFull(server, buf)
		require.NoError(t, err)
		r.wait(t)
		require.ErrorIs(t, r.err, os.ErrDeadlineExceeded)
		// Never before the timeout (timers do not fire early). The
		// documented 1.25 x IdleTimeout is counted in watch steps, which a
		// loaded machine runs late: the upper bound catches a watch an
		// order of magnitude late; closer than that is the scheduler's.
		require.GreaterOrEqual(t, time.Since(start), 200*time.Millisecond)
		require.Less(t, time.Since(start), 3*time.Second)
		require.Equal(t, int64(5), r.aToB)
	})
	t.Run("trickle keeps it alive", func(t *testing.T) {
		client, a := testutil.TCPPair(t)
		b, server := testutil.TCPPair(t)
		r := startRelay(context.Background(), zerocopy.Relayer{IdleTimeout: 200 * time.Millisecond}, client, a, b, server)
		got := testutil.Collect(t, server)
		var sent []byte
		for i := 0; i < 16; i++ { // 800 ms of one byte every 50 ms
			b := []byte{byte('a' + i)}
			_, err := client.Write(b)
			require.NoError(t, err)
			sent = append(sent, b...)
			time.Sleep(50 * time.Millisecond)
		}
		require.NoError(t, client.CloseWrite())
		testutil.RequireBytes(t, sent, got())
		require.NoError(t, server.CloseWrite())
		r.wait(t)
		require.NoError(t, r.err)
		require.Equal(t, int64(len(sent)), r.aToB)
	})
}

func TestRelayPeerReset(t *testing.T) {
	for _, side := range []string{"client", "server"} {
		t.Run(side, func(t *testing.T) {
			testutil.NoLeaks(t)
			client, a := testutil.TCPPair(t)
			b, server := testutil.TCPPair(t)
			r := startRelay(context.Background(), zerocopy.Relayer{}, client, a, b, server)
			_, err := client.Write([]byte("ping"))
			require.NoError(t, err)
			buf := make([]byte, 4)
			_, err = io.ReadFull(server, buf)
			require.NoError(t, err)
			victim := client
			if side == "server" {
				victim = server
			}
			other := server
			if side == "server" {
				other = client
			}
			require.NoError(t, victim.SetLinger(0))
			require.NoError(t, victim.Close()) // RST
			skipIfResetReadAsEOF(t, r, side == "client")
			r.wait(t)
			// A reset is ECONNRESET, and WSAECONNRESET on Windows: the
			// relay returns net's error as it is (see the README).
			require.True(t, testutil.IsReset(r.err), "want a reset, got %v", r.err)
			require.Equal(t, int64(4), r.aToB)
			// The reset is passed on: the other peer sees a reset, not a
			// clean EOF that would make a cut stream look complete.
			_, err = other.Read(make([]byte, 1))
			testutil.RequireReset(t, err, "the other peer")
		})
	}
}

// TestRelayMany runs 1,000 relays at once, then checks that no pipe,
// goroutine or descriptor is left.
func TestRelayMany(t *testing.T) {
	testutil.NoLeaks(t)
	const n = 1000
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	var wg sync.WaitGroup
	errs := make(chan error, 4*n)
	accept := func() net.Conn {
		c, err := ln.Accept()
		require.NoError(t, err)
		return c
	}
	for i := 0; i < n; i++ {
		client, err := net.Dial("tcp", ln.Addr().String())
		require.NoError(t, err)
		a := accept()
		b, err := net.Dial("tcp", ln.Addr().String())
		require.NoError(t, err)
		server := accept()
		wg.Add(3)
		go func() {
			defer wg.Done()
			x, y, err := zerocopy.Relay(context.Background(), a, b)
			if err == nil && (x != 20_000 || y != 10_000) {
				err = fmt.Errorf("counts %d, %d", x, y)
			}
			errs <- err
		}()
		go func() { // client: sends 20,000 bytes, expects 10,000 back
			defer wg.Done()
			defer client.Close()
			up := testutil.Data(uint64(i), 20_000)
			if _, err := client.Write(up); err != nil {
				errs <- err
				return
			}
			_ = client.(*net.TCPConn).CloseWrite()
			got, err := io.ReadAll(client)
			if err == nil && testutil.SHA(got) != testutil.SHA(testutil.Data(uint64(i)+n, 10_000)) {
				err = errors.New("client got other bytes")
			}
			errs <- err
		}()
		go func() { // server: echoes nothing, reads 20,000, sends 10,000
			defer wg.Done()
			defer server.Close()
			got, err := io.ReadAll(server)
			if err == nil && testutil.SHA(got) != testutil.SHA(testutil.Data(uint64(i), 20_000)) {
				err = errors.New("server got other bytes")
			}
			if err == nil {
				_, err = server.Write(testutil.Data(uint64(i)+n, 10_000))
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	requireNoPipesHeld(t)
}

// TestRelayIdleHoldsNoPipe: relays waiting for data hold no pipe and no
// descriptor beyond their conns, after pipes were used in both directions.
func TestRelayIdleHoldsNoPipe(t *testing.T) {
	testutil.NoLeaks(t)
	const n = 50
	pipesBefore := pipeFDs(t) // the test binary's own (stdout, stderr)
	type conns struct{ client, server net.Conn }
	var all []conns
	var runs []*relayRun
	for i := 0; i < n; i++ {
		client, a := testutil.TCPPair(t)
		b, server := testutil.TCPPair(t)
		runs = append(runs, startRelay(context.Background(), zerocopy.Relayer{}, client, a, b, server))
		all = append(all, conns{client, server})
	}
	for _, c := range all {
		_, err := c.client.Write([]byte("x"))
		require.NoError(t, err)
		_, err = c.server.Write([]byte("y"))
		require.NoError(t, err)
		buf := make([]byte, 1)
		_, err = io.ReadFull(c.server, buf)
		require.NoError(t, err)
		_, err = io.ReadFull(c.client, buf)
		require.NoError(t, err)
	}
	before := openFDs(t)
	requireNoPipesHeld(t)
	t.Logf("%d idle relays: %d descriptors open in the process (4 conns each = %d)", n, before, 4*n)
	require.Equal(t, pipesBefore, pipeFDs(t), "no pipe descriptor is open while relays idle")
	for _, c := range all {
		_ = c.client.(*net.TCPConn).CloseWrite()
		_ = c.server.(*net.TCPConn).CloseWrite()
	}
	for _, r := range runs {
		r.wait(t)
		require.NoError(t, r.err)
		require.Equal(t, int64(1), r.aToB)
		require.Equal(t, int64(1), r.bToA)
	}
}

func TestRelayNil(t *testing.T) {
	c, s := testutil.TCPPair(t)
	_, _, err := zerocopy.Relay(context.Background(), c, nil)
	require.ErrorContains(t, err, "nil")
	_, err = s.Read(make([]byte, 1))
	require.ErrorIs(t, err, io.EOF, "the conn given is closed")
}

// lockedBuffer is a recording target without a descriptor.
type lockedBuffer struct {
	mu sync.Mutex
	b  []byte
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.b = append(l.b, p...)
	return len(p), nil
}

// TestRelayTee records the a -> b stream while relaying it: into a file
// (tee(2), both directions still splice) and into a plain writer
// (buffered for that direction only).
func TestRelayTee(t *testing.T) {
	for _, target := range []string{"file", "buffer"} {
		t.Run(target, func(t *testing.T) {
			testutil.NoLeaks(t)
			var rec io.Writer
			var recorded func() []byte
			if target == "file" {
				f := testutil.File(t, t.TempDir(), "rec", nil)
				rec, recorded = f, func() []byte { return testutil.ReadFile(t, f.Name()) }
			} else {
				lb := &lockedBuffer{}
				rec, recorded = lb, func() []byte { lb.mu.Lock(); defer lb.mu.Unlock(); return lb.b }
			}
			client, a := testutil.TCPPair(t)
			b, server := testutil.TCPPair(t)
			methods := map[bool]zerocopy.Method{}
			var mu sync.Mutex
			rl := zerocopy.Relayer{TeeAToB: rec, Observe: func(r zerocopy.RelayReport) {
				mu.Lock()
				methods[r.AToB] = r.Method
				mu.Unlock()
			}}
			done := make(chan error, 1)
			var aToB, bToA int64
			go func() {
				var err error
				aToB, bToA, err = rl.Relay(context.Background(), a, b)
				done <- err
			}()
			up, down := testutil.Data(11, 3<<20+1), testutil.Data(12, 1<<20)
			got := testutil.Collect(t, server)
			back := testutil.Collect(t, client)
			_, err := client.Write(up)
			require.NoError(t, err)
			require.NoError(t, client.CloseWrite())
			_, err = server.Write(down)
			require.NoError(t, err)
			require.NoError(t, server.CloseWrite())
			testutil.RequireBytes(t, up, got(), "server")
			testutil.RequireBytes(t, down, back(), "client")
			require.NoError(t, <-done)
			testutil.RequireBytes(t, up, recorded(), "recording")
			require.Equal(t, int64(len(up)), aToB)
			require.Equal(t, int64(len(down)), bToA)
			want := map[bool]zerocopy.Method{true: zerocopy.MethodSplice, false: zerocopy.MethodSplice}
			if target == "buffer" {
				want[true] = zerocopy.MethodBuffered
			}
			if !zerocopy.FastPaths {
				want = map[bool]zerocopy.Method{true: zerocopy.MethodBuffered, false: zerocopy.MethodBuffered}
			}
			require.Equal(t, want, methods)
		})
	}
}
